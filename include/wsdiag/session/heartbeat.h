// wsdiag — application heartbeats recognised in WebSocket data messages (issue #11 §3).
//
// Heartbeats are not only control-frame Pings: many libraries send their own in data messages.
// This recognises the known ones by their shape, gated by the handshake where a shape alone could
// be an ordinary message:
//   Engine.IO / Socket.IO  text "2" (ping) and "3" (pong); only when the request path carries
//                          EIO= (or no handshake was captured). EIO v4: the server pings and the
//                          client answers; v3 the reverse: the wire says which side did what.
//   STOMP                  a message that is just "\n" or "\r\n" (heart-beat EOL, one-way)
//   MQTT                   binary 0xC0 0x00 (PINGREQ) and 0xD0 0x00 (PINGRESP); only when the
//                          subprotocol is mqtt* (or no handshake was captured)
//   graphql-transport-ws   {"type":"ping"...} and {"type":"pong"...} (compact JSON, as graphql-ws sends)
//   subscriptions-transport-ws  {"type":"ka"} keep-alive (one-way, server to client)
// The matcher looks at a message's bytes as they arrive (after inflating), at most the length of
// the longest pattern: no copy, no allocation, four bytes of state per direction. The session
// records the facts (diag::AppHeartbeats); diag judges them.
#pragma once

#include <cstdint>
#include <string_view>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/diag/summary.h"

namespace wsdiag::session {

enum class HeartbeatRole : std::uint8_t { none, ping, pong, beat };

struct HeartbeatMatch {
  diag::AppHeartbeat kind = diag::AppHeartbeat::none;
  HeartbeatRole role = HeartbeatRole::none;
};

/// Which shapes a connection may carry heartbeats in, from its handshake.
struct HeartbeatContext {
  bool engine_io = false;  ///< the request path has EIO= (or no handshake was captured)
  bool mqtt = false;       ///< the subprotocol is mqtt* (or no handshake was captured)
};
HeartbeatContext heartbeat_context(std::string_view path, std::string_view subprotocol,
                                   bool handshake_captured) noexcept;

class HeartbeatMatcher {
 public:
  /// A data message with this opcode (text or binary) begins.
  void start(std::uint8_t opcode, const HeartbeatContext& ctx) noexcept;
  /// The message's next bytes (after inflating).
  void feed(Bytes data) noexcept;
  /// The message ended with this many bytes: the heartbeat it is, if any.
  [[nodiscard]] HeartbeatMatch finish(std::uint64_t message_len) const noexcept;

 private:
  std::uint16_t alive_ = 0;  ///< bit i: pattern i still matches every byte seen
  std::uint8_t pos_ = 0;     ///< bytes compared so far (at most the longest pattern)
};

}  // namespace wsdiag::session
