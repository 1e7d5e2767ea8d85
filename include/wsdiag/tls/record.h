// wsdiag — TLS record reassembly (RFC 8446 §5.1, RFC 5246 §6.2.1), one direction.
//
// Design note. A TLS record is a 5-byte header (type, legacy version, length) and a body of at
// most 2^14 + 2048 bytes. TCP splits and coalesces records freely, so the assembler takes the
// reassembled byte stream in any pieces and calls the handler once per complete record:
//   - a record wholly inside one piece is handed over as a view into it (no copy);
//   - a record split across pieces is copied into one buffer, grown at most to
//     Limits::tls_record_bytes and reused (no allocation per record once it has grown);
//   - a record whose body the handler does not need (wants_body() false: encrypted records with no
//     key) is skipped without copying: only its length and the packet of its last byte are passed.
// Every record is attributed to the packet that delivered its last byte (as tshark does).
// A header that cannot be a TLS record, or a length over the limit, stops the direction: the
// status says which, and nothing after it is parsed (bounded memory, no guessing).
// Callable on a plain byte buffer (fuzz target: feed() the input in chunks).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/common/types.h"

namespace wsdiag::tls {

namespace content {
inline constexpr std::uint8_t change_cipher_spec = 20;
inline constexpr std::uint8_t alert = 21;
inline constexpr std::uint8_t handshake = 22;
inline constexpr std::uint8_t application_data = 23;
inline constexpr std::uint8_t heartbeat = 24;
}  // namespace content

/// Largest record body TLS allows (TLSCiphertext, RFC 5246 §6.2.3: 2^14 + 2048).
inline constexpr std::size_t kMaxRecordBody = (1u << 14) + 2048;

struct RecordHeader {
  std::uint8_t type = 0;
  std::uint16_t version = 0;
  std::uint16_t length = 0;
};

/// Is this a plausible TLS record header (type 20-24, version 0x0300-0x0304, length <= 2^14+2048)?
bool plausible_header(const RecordHeader& h) noexcept;
/// Decodes the 5-byte header at the start of b (false if fewer than 5 bytes).
bool decode_header(Bytes b, RecordHeader& h) noexcept;
/// Do these bytes start with TLS records? The first header must be plausible and, if the chunk
/// holds the whole record and more, the next header too. Used to recognise TLS on any port.
bool looks_like_records(Bytes b) noexcept;
/// Do these bytes start with a TLS handshake record holding a ClientHello?
bool looks_like_client_hello(Bytes b) noexcept;

class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  /// Whether the body of a record of this header is needed (false: skipped, not buffered).
  virtual bool wants_body(const RecordHeader& h) = 0;
  /// One complete record. body is empty when wants_body() said no; valid for this call only.
  virtual void on_record(const RecordHeader& h, Bytes body, PacketRef at) = 0;
};

class RecordAssembler {
 public:
  enum class Status : std::uint8_t { ok, malformed, too_long };

  explicit RecordAssembler(std::size_t max_record_bytes) noexcept : max_(max_record_bytes) {}

  /// Feeds the next bytes of the stream. Returns the status (sticky once not ok).
  Status feed(Bytes bytes, PacketRef at, RecordHandler& h);
  [[nodiscard]] Status status() const noexcept { return status_; }
  /// The record length that was refused (too_long) or the header bytes that were not TLS.
  [[nodiscard]] std::uint16_t bad_length() const noexcept { return bad_len_; }
  /// Bytes of a record are pending (the stream stopped inside a record).
  [[nodiscard]] bool mid_record() const noexcept { return hdr_len_ != 0 || in_body_; }
  /// Bytes missing from the stream. When they fall inside the body of a record that is being
  /// skipped anyway (not buffered), framing is kept and true is returned (the record is then
  /// delivered with `truncated` facts to the handler as usual); otherwise parsing stops (false).
  bool skip_gap(std::uint64_t len, PacketRef at, RecordHandler& h);
  /// Stops parsing (after a gap: record boundaries are lost).
  void stop() noexcept { stopped_ = true; }
  [[nodiscard]] bool stopped() const noexcept { return stopped_ || status_ != Status::ok; }
  /// Frees the buffer (direction ended).
  void release() noexcept { buf_ = std::vector<std::uint8_t>(); }
  [[nodiscard]] std::size_t buffered_capacity() const noexcept { return buf_.capacity(); }

 private:
  std::size_t max_;
  Status status_ = Status::ok;
  bool stopped_ = false;
  std::array<std::uint8_t, 5> hdr_{};
  std::size_t hdr_len_ = 0;
  bool in_body_ = false;
  bool keep_ = false;          // body being copied into buf_
  RecordHeader cur_{};
  std::size_t body_got_ = 0;
  std::vector<std::uint8_t> buf_;
  std::uint16_t bad_len_ = 0;
};

}  // namespace wsdiag::tls
