// wsdiag — per-connection causes (causes.h): an ordered table of pure predicates, first match wins.
//
//   heartbeat-unanswered  a Ping, or an application heartbeat that asks for an answer (Engine.IO
//                         "2", MQTT PINGREQ, graphql-transport-ws ping), went unanswered and the
//                         connection then failed
//   heartbeat-too-slow    Pings or application heartbeats were sent, but less often than the silence
//                         that preceded a teardown without Close: slower than an idle timeout on the path
//   idle-timeout          a teardown without Close (FIN/RST) after a silence of at least 1.5 s; likely
//                         when the silence matches a known default (known_timeouts.h)
//   max-lifetime          cut while busy at the age of a known maximum lifetime (lifetime.cpp)
//   app-close-code        a Close with an application code (3000-4999): certain when the negotiated
//                         subprotocol defines it (subprotocol_codes.cpp)
// A clean close (1000/1001 without a finding) has no cause. The path causes (middlebox-rst,
// blackhole, slow-consumer: causes_path.cpp) come first: they explain the others' symptoms.
// Encrypted connections that were not decrypted (tls_opaque) go through the same rows: a teardown
// is then any FIN/RST (no Close can be seen), and the silence before it means no TLS record at all
// crossed, so no Close just before.
#include "wsdiag/diag/causes.h"

#include <fmt/format.h>

#include <array>

#include "wsdiag/diag/causes_path.h"
#include "wsdiag/diag/heartbeats.h"
#include "wsdiag/diag/known_timeouts.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"
#include "lifetime.h"

namespace wsdiag::diag {
namespace {

constexpr double kMinIdleSeconds = 1.5;  // below this a teardown is not "after a silence"

/// How the ending began: TCP's first FIN/RST, or a TLS closing alert that came before it
/// (tls_ending: a proxy timing out a wss:// connection says close_notify first).
struct Teardown {
  Side by = Side::none;
  bool rst = false;
  std::string tls_alert;          ///< the TLS alert that began it ("" when TCP did)
  std::optional<double> idle_ms;  ///< silence before it
};

Teardown teardown_of(const ConnectionSummary& s) {
  const TcpEndSummary& t = s.tcp_end;
  Teardown d{t.initiator != Side::none ? t.initiator : t.by,
             t.initiator != Side::none ? t.initiated_by_rst : t.how == TcpEndHow::rst, {}, t.idle_before_ms};
  if (auto te = tls_ending(s)) {
    d.by = te->by;
    d.rst = false;
    d.tls_alert = std::move(te->what);
    d.idle_ms = te->idle_ms;
  }
  return d;
}

/// No valid Close, TCP ended: the connection was torn down (verdict 1006), or TCP ended on a TLS
/// connection whose plaintext is not seen (tls_opaque).
bool torn_down(const ConnectionSummary& s, const Verdict& v) {
  if (s.tcp_end.how == TcpEndHow::open) return false;
  return v.code == std::optional<std::uint16_t>(1006) || tls_opaque(s);
}

std::optional<double> idle_seconds(const ConnectionSummary& s) {
  const auto ms = teardown_of(s).idle_ms;
  if (!ms) return std::nullopt;
  return *ms / 1000.0;
}

std::string teardown_words(const ConnectionSummary& s, double idle) {
  const Teardown t = teardown_of(s);
  return fmt::format("torn down by the {} ({}) after {} of silence, {}", side_name(t.by),
                     !t.tls_alert.empty() ? t.tls_alert + " first" : t.rst ? "RST" : "FIN",
                     format_duration_ms(idle * 1000.0),
                     s.websocket ? "with no Close frame"
                                 : "with no TLS record either way in that time (not decrypted: a WebSocket Close "
                                   "just before would have been a record)");
}

// ---- rows -------------------------------------------------------------------------------------

constexpr std::string_view kFixHeartbeatUnanswered =
    "Find out why the peer stopped answering Pings: a blocked event loop, a stopped or suspended process, or a "
    "path that died (then the library's timeout is doing its job). Keep the timeout, and let clients reconnect "
    "with backoff.";
constexpr std::string_view kFixHeartbeatSlow =
    "Send Pings (or application heartbeats) more often than the shortest idle timeout on the path: at most half "
    "of it (e.g. every 20-25 s for a 60 s proxy timeout), or raise the proxy's timeout.";
constexpr std::string_view kFixIdle =
    "Send Pings or application heartbeats more often than the idle timeout of every proxy and load balancer on "
    "the path (nginx proxy_read_timeout, HAProxy timeout tunnel, AWS ALB idle timeout, ...), or raise that "
    "timeout; let clients reconnect with backoff.";
constexpr std::string_view kFixAppCode =
    "The application closed the connection on purpose: look up the code in the subprotocol's or the "
    "application's documentation and fix what it names (the request, the credentials, the timing).";

std::optional<CauseMatch> heartbeat_unanswered(const ConnectionSummary& s, const Verdict& v) {
  if (v.code == std::optional<std::uint16_t>(1000)) return std::nullopt;
  const Finding* f = s.find(RuleId::ping_unanswered);
  if (f == nullptr) {
    const auto u = unanswered_app_heartbeat(s);
    if (!u) return std::nullopt;
    const Side peer = u->pinger == Side::client ? Side::server : Side::client;
    return CauseMatch{"heartbeat-unanswered", Confidence::likely,
                      fmt::format("the {} sent {} at packet {} that the {} never answered{}; {}", side_name(u->pinger),
                                  heartbeat_name(u->kind), u->at.index, side_name(peer),
                                  u->answered.index != 0
                                      ? fmt::format(" (it had answered the one at packet {})", u->answered.index)
                                      : std::string(),
                                  ending_after(s, u->at)),
                      kFixHeartbeatUnanswered};
  }
  const Side pinger = f->side == Side::client ? Side::server : f->side == Side::server ? Side::client : Side::none;
  return CauseMatch{"heartbeat-unanswered", Confidence::likely,
                    fmt::format("the {} sent a Ping (packet {}) that the {} never answered, and the connection then "
                                "ended ({})",
                                side_name(pinger), f->at.index, side_name(f->side), v.name),
                    kFixHeartbeatUnanswered};
}

std::optional<CauseMatch> heartbeat_too_slow(const ConnectionSummary& s, const Verdict& v) {
  const auto idle = idle_seconds(s);
  if (!torn_down(s, v) || !idle || *idle < kMinIdleSeconds) return std::nullopt;
  for (const auto* d : {&s.c2s, &s.s2c}) {
    const auto hb = heartbeat_of(*d);
    if (!hb || hb->every_s <= *idle) continue;
    const Side pinger = d == &s.c2s ? Side::client : Side::server;
    return CauseMatch{"heartbeat-too-slow", Confidence::likely,
                      fmt::format("the {} sent {} every {}, but the connection was {}: the heartbeat is slower "
                                  "than an idle timeout on the path",
                                  side_name(pinger), hb->what, format_duration_ms(hb->every_s * 1000.0),
                                  teardown_words(s, *idle)),
                      kFixHeartbeatSlow};
  }
  return std::nullopt;
}

std::optional<CauseMatch> idle_timeout(const ConnectionSummary& s, const Verdict& v) {
  const auto idle = idle_seconds(s);
  if (!torn_down(s, v) || !idle || *idle < kMinIdleSeconds) return std::nullopt;
  const KnownTimeout* known = match_known_timeout(*idle, TimeoutKind::idle);
  std::string evidence = teardown_words(s, *idle);
  if (known != nullptr) {
    evidence += fmt::format("; that matches the {}{}", known->who,
                            known->silent.empty() ? std::string() : fmt::format(" ({})", known->silent));
  } else {
    evidence += ": an idle timeout on the path (a proxy, load balancer, NAT or firewall), or the peer going away "
                "at that moment";
  }
  return CauseMatch{"idle-timeout", known != nullptr ? Confidence::likely : Confidence::possible, std::move(evidence),
                    kFixIdle};
}

std::optional<CauseMatch> app_close_code(const ConnectionSummary& s, const Verdict& v) {
  if (!v.code || *v.code < 3000 || *v.code > 4999) return std::nullopt;
  const auto known = subprotocol_code(s.handshake.subprotocol, *v.code);
  if (known) {
    return CauseMatch{"app-close-code", Confidence::certain,
                      fmt::format("the {} closed with {} {} of the {} subprotocol: {}", side_name(v.side), *v.code,
                                  known->name, known->subprotocol, known->meaning),
                      kFixAppCode};
  }
  return CauseMatch{"app-close-code", Confidence::possible,
                    fmt::format("the {} closed with the application-defined code {}{}", side_name(v.side), *v.code,
                                s.handshake.subprotocol.empty()
                                    ? std::string()
                                    : fmt::format(" (subprotocol {}, which wsdiag has no table for)",
                                                  s.handshake.subprotocol)),
                    kFixAppCode};
}

constexpr std::array<CauseRow, 8> kCauses{{
    kMiddleboxRstRow, kBlackholeRow, kSlowConsumerRow,  // causes_path.cpp: facts of the path come first
    {"heartbeat-unanswered", "a Ping went unanswered, then the connection failed", kFixHeartbeatUnanswered,
     heartbeat_unanswered},
    {"heartbeat-too-slow", "the heartbeat is slower than the idle timeout that tore the connection down",
     kFixHeartbeatSlow, heartbeat_too_slow},
    {"idle-timeout", "torn down without a Close after a silence", kFixIdle, idle_timeout},
    {"max-lifetime", lifetime::kTitle, lifetime::kFix, lifetime::cause},
    {"app-close-code", "the application closed with its own code", kFixAppCode, app_close_code},
}};

}  // namespace

const char* to_string(Confidence c) noexcept {
  switch (c) {
    case Confidence::possible: return "possible";
    case Confidence::likely: return "likely";
    case Confidence::certain: return "certain";
  }
  return "possible";
}

std::span<const CauseRow> cause_table() noexcept { return kCauses; }

std::optional<CauseMatch> likely_cause(const ConnectionSummary& s, const Verdict& v) {
  if (!s.websocket && !tls_opaque(s)) return std::nullopt;
  for (const CauseRow& row : kCauses) {
    if (auto m = row.match(s, v)) return m;
  }
  return std::nullopt;
}

}  // namespace wsdiag::diag
