// wsdiag — heartbeat judgement (heartbeats.h).
#include "wsdiag/diag/heartbeats.h"

#include <fmt/format.h>

#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag {
namespace {

std::optional<double> interval_s(std::uint64_t n, const PacketRef& first, const PacketRef& last) {
  if (n < 2 || first.index == 0 || last.index == 0) return std::nullopt;
  return static_cast<double>(last.ts_ns - first.ts_ns) / 1e9 / static_cast<double>(n - 1);
}

double seconds_between(const PacketRef& a, const PacketRef& b) {
  return static_cast<double>(b.ts_ns - a.ts_ns) / 1e9;
}

/// When the connection ended, for "how long after": TCP's end, else the last packet.
PacketRef end_of(const ConnectionSummary& s) {
  return s.tcp_end.how != TcpEndHow::open && s.tcp_end.at.index != 0 ? s.tcp_end.at : s.last;
}

}  // namespace

std::string_view heartbeat_name(AppHeartbeat kind) noexcept {
  switch (kind) {
    case AppHeartbeat::engine_io: return "an Engine.IO ping (\"2\")";
    case AppHeartbeat::stomp: return "a STOMP heart-beat (EOL)";
    case AppHeartbeat::mqtt: return "an MQTT PINGREQ";
    case AppHeartbeat::graphql_ws: return "a graphql-transport-ws ping";
    case AppHeartbeat::graphql_ka: return "a subscriptions-transport-ws keep-alive (\"ka\")";
    case AppHeartbeat::none: break;
  }
  return "a heartbeat";
}

std::optional<SideHeartbeat> heartbeat_of(const DirCounters& d) {
  const auto pings = interval_s(d.pings, d.first_ping, d.last_ping);
  const auto app = interval_s(d.app.sent, d.app.first, d.app.last);
  if (pings && (!app || *pings <= *app)) return SideHeartbeat{"a Ping", d.pings, *pings};
  if (app) return SideHeartbeat{std::string(heartbeat_name(d.app.kind)), d.app.sent, *app};
  return std::nullopt;
}

bool any_app_heartbeat(const ConnectionSummary& s) noexcept { return s.c2s.app.sent + s.s2c.app.sent != 0; }

bool any_heartbeat(const ConnectionSummary& s) noexcept {
  return s.c2s.pings + s.s2c.pings != 0 || any_app_heartbeat(s);
}

std::optional<UnansweredHeartbeat> unanswered_app_heartbeat(const ConnectionSummary& s) noexcept {
  const PacketRef end = end_of(s);
  std::optional<UnansweredHeartbeat> best;
  for (const auto* d : {&s.c2s, &s.s2c}) {
    const AppHeartbeats& hb = d->app;
    if (!answered_kind(hb.kind) || hb.last.index == 0 || hb.last_answered == hb.last) continue;
    const double before = seconds_between(hb.last, end);
    if (before < kHeartbeatGraceSeconds) continue;
    if (best && best->at.index < hb.last.index) continue;
    best = UnansweredHeartbeat{d == &s.c2s ? Side::client : Side::server, hb.kind, hb.last, hb.last_answered, before};
  }
  return best;
}

std::string ending_after(const ConnectionSummary& s, const PacketRef& at) {
  if (s.close.seen && s.close.at.index > at.index) {
    const std::string code = s.close.code ? fmt::format("code {}", *s.close.code) : "an empty Close, 1005";
    return fmt::format("the {} closed the connection {} later ({})", side_name(s.close.initiator),
                       format_duration_ms(seconds_between(at, s.close.at) * 1000.0), code);
  }
  const TcpEndSummary& t = s.tcp_end;
  if (t.how != TcpEndHow::open) {
    const Side by = t.initiator != Side::none ? t.initiator : t.by;
    const PacketRef when = t.initiator != Side::none ? t.initiated_at : t.at;
    const bool rst = t.initiator != Side::none ? t.initiated_by_rst : t.how == TcpEndHow::rst;
    return fmt::format("TCP was torn down by the {} ({}) {} later, with no Close frame", side_name(by),
                       rst ? "RST" : "FIN", format_duration_ms(seconds_between(at, when) * 1000.0));
  }
  return fmt::format("the connection was still open {} later, when the capture ended",
                     format_duration_ms(seconds_between(at, s.last) * 1000.0));
}

}  // namespace wsdiag::diag
