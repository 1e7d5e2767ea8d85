// wsdiag — application heartbeat recognition (heartbeat.h): a table of patterns matched against
// a message's first bytes as they arrive.
#include "wsdiag/session/heartbeat.h"

#include <array>

#include "wsdiag/ws/frame_parser.h"

namespace wsdiag::session {
namespace {

using diag::AppHeartbeat;

enum Gate : std::uint8_t { any, engine_io, mqtt };
enum Opcodes : std::uint8_t { text = 1, binary = 2, both = 3 };

struct Pattern {
  std::string_view bytes;
  bool prefix;  ///< the message may go on after these bytes (JSON with more members)
  Opcodes opcodes;
  Gate gate;
  AppHeartbeat kind;
  HeartbeatRole role;
};

using R = HeartbeatRole;
using namespace std::string_view_literals;

// The order is the order of preference when two patterns match (none of these overlap).
constexpr std::array<Pattern, 11> kPatterns{{
    {"2"sv, false, text, engine_io, AppHeartbeat::engine_io, R::ping},
    {"3"sv, false, text, engine_io, AppHeartbeat::engine_io, R::pong},
    {"\n"sv, false, both, any, AppHeartbeat::stomp, R::beat},
    {"\r\n"sv, false, both, any, AppHeartbeat::stomp, R::beat},
    {"\xC0\x00"sv, false, binary, mqtt, AppHeartbeat::mqtt, R::ping},
    {"\xD0\x00"sv, false, binary, mqtt, AppHeartbeat::mqtt, R::pong},
    {R"({"type":"ping"})"sv, false, text, any, AppHeartbeat::graphql_ws, R::ping},
    {R"({"type":"ping",)"sv, true, text, any, AppHeartbeat::graphql_ws, R::ping},
    {R"({"type":"pong"})"sv, false, text, any, AppHeartbeat::graphql_ws, R::pong},
    {R"({"type":"pong",)"sv, true, text, any, AppHeartbeat::graphql_ws, R::pong},
    {R"({"type":"ka"})"sv, false, text, any, AppHeartbeat::graphql_ka, R::beat},
}};
static_assert(kPatterns.size() <= 16, "alive_ has 16 bits");

constexpr std::size_t longest() {
  std::size_t n = 0;
  for (const Pattern& p : kPatterns) n = p.bytes.size() > n ? p.bytes.size() : n;
  return n;
}
constexpr std::size_t kLongest = longest();
static_assert(kLongest < 256, "pos_ is 8 bits");

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

HeartbeatContext heartbeat_context(std::string_view path, std::string_view subprotocol,
                                   bool handshake_captured) noexcept {
  HeartbeatContext c;
  if (!handshake_captured) {
    c.engine_io = c.mqtt = true;  // mid-stream: shapes alone
    return c;
  }
  const auto q = path.find('?');
  if (q != std::string_view::npos) {
    const std::string_view query = path.substr(q + 1);
    for (std::size_t at = 0; at < query.size();) {
      const auto amp = query.find('&', at);
      const std::string_view param = query.substr(at, amp == std::string_view::npos ? query.npos : amp - at);
      if (param.starts_with("EIO=")) c.engine_io = true;
      if (amp == std::string_view::npos) break;
      at = amp + 1;
    }
  }
  c.mqtt = starts_with_ci(subprotocol, "mqtt");
  return c;
}

void HeartbeatMatcher::start(std::uint8_t opcode, const HeartbeatContext& ctx) noexcept {
  pos_ = 0;
  alive_ = 0;
  const unsigned want = opcode == ws::opcode::text ? 1u : opcode == ws::opcode::binary ? 2u : 0u;
  for (std::size_t i = 0; i < kPatterns.size(); ++i) {
    const Pattern& p = kPatterns[i];
    const bool gate_ok = p.gate == any || (p.gate == engine_io && ctx.engine_io) || (p.gate == mqtt && ctx.mqtt);
    if (gate_ok && (static_cast<unsigned>(p.opcodes) & want) != 0) alive_ = static_cast<std::uint16_t>(alive_ | (1u << i));
  }
}

void HeartbeatMatcher::feed(Bytes data) noexcept {
  for (std::size_t k = 0; k < data.size() && alive_ != 0 && pos_ < kLongest; ++k, ++pos_) {
    const auto byte = static_cast<char>(data[k]);
    for (std::size_t i = 0; i < kPatterns.size(); ++i) {
      if ((alive_ & (1u << i)) == 0) continue;
      const Pattern& p = kPatterns[i];
      // Past its end an exact pattern dies (the message is longer); a prefix pattern stays matched.
      const bool keep = pos_ < p.bytes.size() ? p.bytes[pos_] == byte : p.prefix;
      if (!keep) alive_ = static_cast<std::uint16_t>(alive_ & ~(1u << i));
    }
  }
}

HeartbeatMatch HeartbeatMatcher::finish(std::uint64_t message_len) const noexcept {
  for (std::size_t i = 0; i < kPatterns.size(); ++i) {
    if ((alive_ & (1u << i)) == 0) continue;
    const Pattern& p = kPatterns[i];
    const bool all_seen = pos_ >= p.bytes.size();
    const bool len_ok = p.prefix ? message_len >= p.bytes.size() : message_len == p.bytes.size();
    if (all_seen && len_ok) return HeartbeatMatch{p.kind, p.role};
  }
  return {};
}

}  // namespace wsdiag::session
