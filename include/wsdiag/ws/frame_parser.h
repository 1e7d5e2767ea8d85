// wsdiag — WebSocket base framing, RFC 6455 §5.2 (frame layout) and §5.3 (client-to-server
// masking).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-------+-+-------------+-------------------------------+
//   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//   | |1|2|3|       |K|             |                               |
//   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//   |     Extended payload length continued, if payload len == 127  |
//   + - - - - - - - - - - - - - - - +-------------------------------+
//   |                               |Masking-key, if MASK set to 1  |
//   +-------------------------------+-------------------------------+
//   | Masking-key (continued)       |          Payload Data         |
//   +-------------------------------- - - - - - - - - - - - - - - - +
//
// Design note
// -----------
// FrameParser is a resumable push parser for the frames of ONE direction of one connection.
// - feed() takes chunks of any size (0 included), as reassembly delivers them. A header may be
// split
//   anywhere: the parser keeps at most a 14-byte header spill. When a chunk holds a whole header it
//   is decoded in place, without copying.
// - Payloads are never buffered. Unmasked payload is handed to the handler as a view into the
//   chunk; masked payload is unmasked a word at a time into a 4 KiB scratch buffer on the stack (so
//   the parser object itself stays ~64 bytes per direction) and delivered in pieces of at most
//   4 KiB. The mask phase is derived from the payload offset, so it survives chunk boundaries and
//   gaps. Every view passed to the handler lives only for that call.
// - Every event carries the PacketRef of the chunk that delivered it; on_frame_end's is the record
//   that held the frame's last byte (the "packet" column of --frames, as tshark numbers frames).
// - A 64-bit length (even with its most significant bit set) is only counted down: nothing is
//   allocated or reserved for it.
// - The parser decodes; it does not judge. Masking direction, RSV bits, reserved opcodes, control
//   frame rules and fragmentation are checked by the session layer from the FrameHeader facts
//   (length_not_minimal and length_msb_set included).
// - Capture gaps (gap()): inside a payload of known length the bytes are skipped (on_frame_gap) and
//   framing continues; a gap that reaches into a header loses framing: the parser becomes
//   `desynced` and ignores input until the layer above calls resync() at a boundary it trusts.
// - Close payloads: the parser does not collect control payloads (they arrive in pieces like any
//   payload). The session layer keeps the <= 125 bytes of a control frame and calls
//   parse_close_payload() on them once the frame ends.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/common/types.h"

namespace wsdiag::ws {

/// Opcodes (RFC 6455 §5.2, §11.8). 0x3-0x7 and 0xB-0xF are reserved.
namespace opcode {
inline constexpr std::uint8_t continuation = 0x0;
inline constexpr std::uint8_t text = 0x1;
inline constexpr std::uint8_t binary = 0x2;
inline constexpr std::uint8_t close = 0x8;
inline constexpr std::uint8_t ping = 0x9;
inline constexpr std::uint8_t pong = 0xA;
}  // namespace opcode

/// Control frames have the high bit of the opcode set (RFC 6455 §5.5).
constexpr bool is_control_opcode(std::uint8_t op) noexcept { return (op & 0x8) != 0; }
/// 0x3-0x7 and 0xB-0xF (RFC 6455 §5.2).
constexpr bool is_reserved_opcode(std::uint8_t op) noexcept {
  return (op >= 0x3 && op <= 0x7) || op >= 0xB;
}
/// "text", "binary", "close", ..., or "reserved".
const char* opcode_name(std::uint8_t op) noexcept;

/// RSV bits as a 3-bit value, the way tshark shows them.
namespace rsv_bit {
inline constexpr std::uint8_t rsv1 = 4;  ///< permessage-deflate's "compressed" bit (RFC 7692 §6)
inline constexpr std::uint8_t rsv2 = 2;
inline constexpr std::uint8_t rsv3 = 1;
}  // namespace rsv_bit

inline constexpr std::size_t kMaxFrameHeader = 14;

struct FrameHeader {
  bool fin = false;
  std::uint8_t rsv = 0;  ///< 3-bit value: RSV1 = 4, RSV2 = 2, RSV3 = 1
  std::uint8_t opcode = 0;
  bool masked = false;
  std::uint32_t mask_key = 0;  ///< the 4 key bytes, big-endian (first wire byte in bits 31..24)
  std::uint64_t payload_len = 0;
  std::uint8_t header_len = 2;       ///< 2..14
  std::uint8_t len_field_bytes = 0;  ///< 0, 2 or 8 (extended length size)
  bool length_not_minimal = false;   ///< a 16/64-bit length used where fewer bytes would do
  bool length_msb_set = false;       ///< 64-bit length with the most significant bit set
  friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

/// Header size (2..14) announced by the second header byte (MASK bit and 7-bit length).
constexpr std::size_t frame_header_size(std::uint8_t b1) noexcept {
  const std::uint8_t len7 = b1 & 0x7F;
  const std::size_t ext = len7 == 126 ? 2 : (len7 == 127 ? 8 : 0);
  return 2 + ext + ((b1 & 0x80) != 0 ? 4 : 0);
}

/// Decodes a frame header from the start of `in`. Returns the header length (2..14) and fills
/// `out`, or returns 0 (and leaves `out` alone) when `in` is too short to hold the whole header.
/// Every header that is complete decodes: there is no invalid header at this level.
std::size_t decode_frame_header(Bytes in, FrameHeader& out) noexcept;

class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  /// A complete header; `at` is the chunk that delivered its last byte.
  virtual void on_frame_header(const FrameHeader& h, PacketRef at) = 0;
  /// Payload bytes, already unmasked, never empty; `offset` = offset within the frame payload of
  /// unmasked[0]. The view is valid only during the call.
  virtual void on_frame_payload(const FrameHeader& h, Bytes unmasked, std::uint64_t offset,
                                PacketRef at) = 0;
  /// The frame is complete: its last payload byte was delivered (or, for an empty payload, its
  /// header), or a capture gap covered the rest of its payload (on_frame_gap comes first then).
  virtual void on_frame_end(const FrameHeader& h, PacketRef at) = 0;
  /// `len` payload bytes starting at `offset` will never be seen (capture gap); framing is kept.
  /// The default ignores it; a handler that validates payloads should mark the message
  /// unverifiable.
  virtual void on_frame_gap(const FrameHeader& h, std::uint64_t offset, std::uint64_t len,
                            PacketRef at) {
    (void)h;
    (void)offset;
    (void)len;
    (void)at;
  }
};

class FrameParser {
 public:
  /// Size of the on-stack scratch buffer masked payload is unmasked into (a multiple of 8).
  static constexpr std::size_t kScratchBytes = 4096;

  explicit FrameParser(FrameHandler& h) noexcept : handler_(&h) {}

  /// Parses the next bytes of the stream. Any size, including 0. Ignored while desynced().
  void feed(Bytes chunk, PacketRef at) noexcept;
  /// `len` bytes of the stream will never come (capture gap). Inside a payload of known length
  /// they are skipped (on_frame_gap, then on_frame_end if the frame is over) and framing continues;
  /// if any of them falls on a header (even the very first byte of the next one) framing is lost
  /// and the parser becomes desynced. A gap of 0 bytes does nothing.
  void gap(std::uint64_t len, PacketRef at) noexcept;

  [[nodiscard]] bool desynced() const noexcept { return desynced_; }
  /// Leaves the desynced state: the next byte fed is taken as the first byte of a frame header.
  void resync() noexcept;

  /// A header or payload is in progress (for "capture ended mid-frame").
  [[nodiscard]] bool mid_frame() const noexcept { return in_payload_ || spill_len_ != 0; }
  /// Frames completed (on_frame_end calls).
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }
  /// The header of the frame whose payload is in progress (meaningful when mid_frame() and the
  /// header is complete, i.e. in_payload()).
  [[nodiscard]] bool in_payload() const noexcept { return in_payload_; }
  [[nodiscard]] const FrameHeader& current_header() const noexcept { return hdr_; }
  /// Payload bytes of the current frame still to come.
  [[nodiscard]] std::uint64_t payload_remaining() const noexcept { return remaining_; }
  /// Header bytes held in the spill (0..13).
  [[nodiscard]] std::size_t header_bytes_pending() const noexcept { return spill_len_; }

 private:
  void start_payload(PacketRef at) noexcept;
  void end_frame(PacketRef at) noexcept;
  void deliver(Bytes payload, PacketRef at) noexcept;

  FrameHandler* handler_;
  FrameHeader hdr_{};
  std::uint64_t remaining_ = 0;       // payload bytes of hdr_ still to come
  std::uint64_t payload_offset_ = 0;  // payload bytes of hdr_ already passed (delivered or gap)
  std::uint64_t frames_ = 0;
  std::uint8_t spill_[kMaxFrameHeader] = {};
  std::uint8_t spill_len_ = 0;
  bool in_payload_ = false;
  bool desynced_ = false;
};

/// The start of a Close frame payload (RFC 6455 §5.5.1): empty, or a 2-byte status code followed by
/// a UTF-8 reason. A 1-byte payload has no code and is `malformed` (rule close-payload-1).
struct ClosePayload {
  bool has_code = false;
  std::uint16_t code = 0;
  bool malformed = false;  ///< exactly 1 byte
  Bytes reason;            ///< view into the input, after the code; not validated here
};
/// Parses a complete (collected, unmasked) Close payload. Code validity (rule close-code-invalid)
/// and reason UTF-8 (close-reason-utf8) are for the caller to judge.
ClosePayload parse_close_payload(Bytes payload) noexcept;

}  // namespace wsdiag::ws
