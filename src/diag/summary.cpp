// wsdiag — small helpers on the plain ConnectionSummary struct (summary.h).
#include "wsdiag/diag/summary.h"

namespace wsdiag::diag {

const char* to_string(TcpEndHow h) noexcept {
  switch (h) {
    case TcpEndHow::fin:
      return "fin";
    case TcpEndHow::rst:
      return "rst";
    case TcpEndHow::open:
      return "open";
  }
  return "open";
}

const char* to_string(AppHeartbeat h) noexcept {
  switch (h) {
    case AppHeartbeat::none: return "none";
    case AppHeartbeat::engine_io: return "engine.io";
    case AppHeartbeat::stomp: return "stomp";
    case AppHeartbeat::mqtt: return "mqtt";
    case AppHeartbeat::graphql_ws: return "graphql-transport-ws";
    case AppHeartbeat::graphql_ka: return "subscriptions-transport-ws";
  }
  return "none";
}

bool answered_kind(AppHeartbeat h) noexcept {
  return h == AppHeartbeat::engine_io || h == AppHeartbeat::mqtt || h == AppHeartbeat::graphql_ws;
}

const char* to_string(WireEventKind k) noexcept {
  switch (k) {
    case WireEventKind::ping:
      return "ping";
    case WireEventKind::pong:
      return "pong";
    case WireEventKind::close:
      return "close";
    case WireEventKind::fin:
      return "fin";
    case WireEventKind::rst:
      return "rst";
  }
  return "ping";
}

const Finding* ConnectionSummary::find(RuleId r) const noexcept {
  for (const Finding& f : findings) {
    if (f.rule == r) return &f;
  }
  return nullptr;
}

bool ConnectionSummary::has(RuleId r) const noexcept { return find(r) != nullptr; }

}  // namespace wsdiag::diag
