// wsdiag — permessage-deflate decompression (RFC 7692 §7.2.2), one direction of one connection.
//
// Design note. Each compressed message is inflated as its payload arrives, chunk by chunk, into a
// fixed on-stack buffer: the output is handed to a sink (UTF-8 validation, counting, a preview)
// and discarded, so a whole message is never held and a decompression bomb costs no memory. At
// the end of the message the 4 octets 0x00 0x00 0xff 0xff that the sender removed are fed back
// (§7.2.2). The LZ77 window carries over to the next message exactly when the sender's context
// takeover is in force; with *_no_context_takeover the stream is reset per message. The window is
// the negotiated *_max_window_bits of the sender, so a back-reference past it is an error, as it
// would be for the real peer. Inflated bytes per message are capped (Limits): past the cap the
// message is abandoned (and, with context takeover, so is the direction's context).
//
// Memory and speed (issue #15). A direction with context takeover keeps only what the next message
// may refer to: the last inflated bytes, at most 2^window_bits (its negotiated window). Between
// messages that is a plain byte history; the decoder state (zlib's, ~7 KiB plus its window) is taken
// from a per-thread pool at a message's first byte, primed with the history (inflateSetDictionary),
// and returned when the message ends, so idle directions hold no decoder. Once a direction's history
// reaches 8 KiB (or its whole window, if smaller) it keeps a decoder of its own instead (7 KiB plus
// 2^window_bits), so a long-lived chatty connection does not copy its history in per message.
// Context takeover always uses zlib: on chat-sized messages it measured ~3x faster than ISA-L (whose
// streaming decoder moves its whole 32 KiB history on every call and is 85 KiB per state). Without
// context takeover the state is borrowed per message from the same kind of pool: ISA-L's when
// the build has it (fast on large messages), else zlib's.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/ws/deflate_walk.h"

namespace wsdiag::ws {

class InflateSink {
 public:
  virtual ~InflateSink() = default;
  /// Inflated bytes, in order; the view lives for the call only.
  virtual void on_inflated(Bytes data) = 0;
};

class Inflater {
 public:
  enum class Status : std::uint8_t {
    ok,
    error,          ///< corrupt data, or a reference past the window (inflate-error)
    over_limit,     ///< the message inflated past the cap (message-too-big)
    no_context,     ///< the context was lost earlier (error or cap): cannot inflate (unverifiable)
  };

  /// window_bits: the sender's negotiated max window (8..15); no_context_takeover: reset per message.
  Inflater(int window_bits, bool no_context_takeover, std::uint64_t max_message_bytes);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Starts a compressed message.
  void begin_message() noexcept;
  /// Inflates the next compressed payload bytes of the message.
  Status feed(Bytes compressed, InflateSink& sink) noexcept;
  /// The message's last frame ended: feeds the removed 00 00 ff ff tail and finishes the message.
  Status end_message(InflateSink& sink) noexcept;

  [[nodiscard]] std::uint64_t message_bytes() const noexcept { return out_; }
  [[nodiscard]] Status status() const noexcept { return status_; }
  [[nodiscard]] const char* error_text() const noexcept { return error_; }
  /// A context-takeover stream that was picked up mid-way (handshake not captured) starts with an
  /// empty window: a reference to earlier messages then fails. Such failures mean "unverifiable",
  /// not "corrupt"; the caller decides with this flag.
  [[nodiscard]] bool context_takeover() const noexcept { return !no_context_takeover_; }
  /// The library doing the work: "isa-l" or "zlib" (chosen at build time).
  [[nodiscard]] static const char* backend() noexcept;

 private:
  Status run(Bytes in, InflateSink& sink) noexcept;
  /// Counts inflated bytes against the cap and passes them on; false (over_limit) past the cap.
  bool deliver(Bytes data, InflateSink& sink) noexcept;
  /// The message is corrupt: error status, the stream (and its input) reset.
  void fail(const char* why) noexcept;
  [[nodiscard]] bool at_block_boundary() const noexcept;
  /// ISA-L backend: hands on what the decoder holds (false past the cap) and keeps its history.
  bool drain(InflateSink& sink) noexcept;
  /// ISA-L backend: re-runs a call that met an error on a young stream from the state saved before
  /// it, a byte at a time, so exactly what preceded the error is handed on (always fails).
  bool replay_exact(InflateSink& sink) noexcept;
  void reset_stream() noexcept;
  struct Z;   ///< ISA-L's state (ISA-L builds; directions without context takeover)
  struct ZS;  ///< a zlib stream
  [[nodiscard]] bool use_isal() const noexcept;
  Status run_isal(Bytes in, InflateSink& sink) noexcept;
  Status run_zlib(Bytes in, InflateSink& sink) noexcept;
  /// Takes the ISA-L state (from this thread's spares, else new) when the stream has none.
  void acquire() noexcept;
  /// Gives the ISA-L state back to this thread's spares (or frees it).
  void release() noexcept;
  static std::vector<std::unique_ptr<Z>>& spares() noexcept;
  /// zlib: a decoder for this message (pooled, reset, primed with the history); false when none
  /// could be had (out of memory).
  bool zacquire() noexcept;
  /// zlib: returns a pooled decoder (an owned one stays) at the end of a message.
  void zrelease() noexcept;
  /// zlib: forgets the context (decoder, history): after an error or the cap.
  void zdrop() noexcept;
  static std::vector<std::unique_ptr<ZS>>& zspares() noexcept;
  /// Keeps inflated bytes as the history of a context-takeover direction (at most the window).
  void remember(Bytes data) noexcept;
  std::unique_ptr<Z> z_;
  std::unique_ptr<ZS> zs_;
  /// The last inflated bytes (at most 2^window_bits) while no decoder is owned.
  std::vector<std::uint8_t> hist_;
  bool owned_ = false;  ///< zs_ is this direction's for good (its history outgrew hist_)
  /// zlib, windows under 32 KiB only: the message's blocks walked ahead of zlib to refuse a
  /// distance past the window wherever the cuts fall (deflate_walk.h); made at first use (~5 KiB).
  std::unique_ptr<DeflateWalk> zwalk_;
  int window_bits_;
  bool no_context_takeover_;
  std::uint64_t max_;
  std::uint64_t out_ = 0;
  Status status_ = Status::ok;
  bool context_lost_ = false;
  const char* error_ = "";
};

}  // namespace wsdiag::ws
