// wsdiag — one decoded WebSocket frame, as `--frames` lists it (CLI.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wsdiag/common/types.h"

namespace wsdiag::session {

struct FrameRecord {
  PacketRef at;           ///< the record that delivered the frame's last byte
  std::uint64_t conn = 0; ///< connection id
  Dir dir = Dir::c2s;
  bool fin = false;
  std::uint8_t rsv = 0;   ///< 3-bit value, RSV1 = 4
  std::uint8_t opcode = 0;
  bool masked = false;
  std::uint64_t payload_len = 0;
  std::optional<std::uint16_t> close_code;  ///< Close frames with a code only
  std::string close_reason;                 ///< Close frames only (raw bytes, may be invalid UTF-8)
  /// On the frame that ends a data message: the message's size after inflating (the wire size
  /// when it was not compressed); nullopt on other frames and when the size is unknown (gap, error).
  std::optional<std::uint64_t> message_len;
  /// On the frame that ends a text message: its first bytes (up to 80 characters, as tshark shows).
  std::string text_preview;
};

/// Receives frames as they complete, in capture order (for --frames).
class FrameListener {
 public:
  virtual ~FrameListener() = default;
  virtual void on_frame(const FrameRecord& f) = 0;
};

}  // namespace wsdiag::session
