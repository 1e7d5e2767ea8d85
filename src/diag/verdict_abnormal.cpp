// wsdiag — verdict rows abnormal-1006 (RFC 6455 §7.1.5: no Close frame, TCP ended) and open (no
// Close, TCP still open at the end of the capture). The texts state the evidence (who ended TCP,
// how, after how much silence, a 101 the client had to reject, an unanswered Ping) and offer the
// usual cause as such.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "verdict_text.h"
#include "wsdiag/diag/known_timeouts.h"
#include "wsdiag/diag/heartbeats.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag::rows {
namespace {
using namespace vtext;  // NOLINT(google-build-using-namespace)

constexpr double kLongIdleSeconds = 25.0;

}  // namespace

bool applies_abnormal(const ConnectionSummary& s) { return !s.close.seen && s.tcp_end.how != TcpEndHow::open; }

Verdict make_abnormal(const ConnectionSummary& s) {
  const TcpEndSummary& tcp = s.tcp_end;
  const HandshakeSummary& h = s.handshake;
  // Blame whoever started the ending (a RST that only answers a FIN is not the cause).
  struct {
    Side by;
    PacketRef at;
  } const t{tcp.initiator != Side::none ? tcp.initiator : tcp.by,
            tcp.initiator != Side::none ? tcp.initiated_at : tcp.at};
  const bool rst = tcp.initiator != Side::none ? tcp.initiated_by_rst : tcp.how == TcpEndHow::rst;
  const char* what = rst ? "RST" : "FIN";

  Verdict v;
  v.code = 1006;
  v.name = "Abnormal Closure";
  v.severity = Severity::error;
  v.side = t.by;

  const std::string who = the_side(t.by);
  std::string ending;
  if (t.by == Side::none) {
    ending = rst ? "the connection was reset" : "TCP was closed";
  } else {
    ending = rst ? who + " reset the connection" : who + " closed TCP";
  }
  const std::optional<double> idle_ms = tcp.idle_before_ms;
  const double idle_s = idle_ms ? *idle_ms / 1000.0 : 0.0;
  // A 101 the client must reject (RFC 6455 §4.1): it fails the connection, no Close frame.
  std::optional<RuleId> bad_101;
  if (h.response_seen && h.status == 101) {
    for (RuleId r : {RuleId::handshake_accept, RuleId::handshake_subprotocol,
                     RuleId::handshake_extension}) {
      if (has_problem(s, r)) {
        bad_101 = r;
        break;
      }
    }
  }
  const bool bad_accept = bad_101 == RuleId::handshake_accept;
  const Finding* ping = s.find(RuleId::ping_unanswered);
  const bool lossy = s.has(RuleId::capture_gap) || s.has(RuleId::snaplen_truncated) ||
                     s.has(RuleId::ws_desync) || s.has(RuleId::limit_ooo_buffer);

  // Summary line.
  if (bad_accept) {
    v.summary = fmt::format("abnormal closure (1006): the server's Sec-WebSocket-Accept did not "
                            "match the key, and {} without a Close frame",
                            ending);
  } else if (bad_101) {
    v.summary = fmt::format("abnormal closure (1006): the server's 101 was invalid ({}), and {} "
                            "without a Close frame",
                            rule_info(*bad_101).name, ending);
  } else {
    v.summary = fmt::format("abnormal closure (1006): {} without a Close frame", ending);
    if (idle_ms && idle_s >= 1.0) {
      v.summary += fmt::format(" after {} idle", format_duration_ms(*idle_ms));
    }
  }
  if (ping) v.summary += "; a Ping went unanswered";

  // Cause: the evidence first.
  v.cause = fmt::format("No Close frame was seen in either direction; {} {}", ending,
                        tagged(what, t.at));
  if (idle_ms) {
    v.cause += fmt::format(", {} after the last data", format_duration_ms(*idle_ms));
  }
  v.cause += ". Endpoints report this as 1006 Abnormal Closure (RFC 6455 §7.1.5).";

  if (bad_accept) {
    v.cause += fmt::format(
        " The server answered 101{} but its Sec-WebSocket-Accept was not derived from the "
        "client's Sec-WebSocket-Key, so a compliant client must fail the connection without a "
        "Close frame (RFC 6455 §4.1, §7.1.7){}.",
        at_packet(h.response_at),
        t.by == Side::client ? ", which is what the client did" : "");
  } else if (bad_101) {
    v.cause += fmt::format(" The server answered 101{} but broke {} ({}): {}. A compliant client "
                           "must fail the connection without a Close frame (RFC 6455 §4.1, "
                           "§7.1.7){}.",
                           at_packet(h.response_at), rule_info(*bad_101).spec,
                           rule_info(*bad_101).name, rule_info(*bad_101).title,
                           t.by == Side::client ? ", which is what the client did" : "");
  }

  const std::string timeout = idle_ms ? known_timeouts_text(idle_s, TimeoutKind::idle) : std::string();
  const bool long_idle = idle_ms && idle_s >= kLongIdleSeconds;
  if (!timeout.empty()) {
    v.cause += fmt::format(" The {} of silence before the end matches the default of {}: a proxy, load "
                           "balancer or server closing idle connections looks exactly like "
                           "this.",
                           format_duration_ms(*idle_ms), timeout);
  } else if (long_idle) {
    v.cause += fmt::format(" {} of silence before the end is typical of an idle timeout in a "
                           "proxy, load balancer, NAT or firewall (common defaults: 30, 60, 100 "
                           "and 120 s).",
                           capitalised(format_duration_ms(*idle_ms)));
  }
  if (long_idle || !timeout.empty()) {
    v.cause += fmt::format(" Note that \"{}\" here is whoever holds that address in this capture, "
                           "which may be a proxy in between.",
                           t.by == Side::none ? "the sender" : who);
  }

  if (ping) {
    v.cause += fmt::format(" {} never answered a Ping{}{}.",
                           ping->side == Side::none ? std::string("The peer")
                                                    : capitalised(the_side(ping->side)),
                           at_packet(ping->at),
                           ping->message.empty()
                               ? std::string()
                               : fmt::format(" ({})", printable(ping->message)));
  } else if (long_idle && !any_heartbeat(s)) {
    v.cause += " No Ping frames or application heartbeats were seen, so nothing kept the connection "
               "active during that gap.";
  }

  if (!bad_101 && !long_idle && timeout.empty()) {
    if (t.by == Side::server) {
      v.cause += rst ? " A server-side RST without a Close usually means the process died or was "
                       "killed (crash, OOM kill, restart), closed the socket with unread data, or "
                       "a load balancer or firewall reset the flow."
                     : " A server-side FIN without a Close usually means the process exited or "
                       "restarted without closing its WebSockets, the handler closed the raw "
                       "socket, or a proxy timed the connection out.";
    } else if (t.by == Side::client) {
      v.cause += " A client ending TCP without a Close usually means the app, tab or process was "
                 "killed, the device slept or changed networks, or client code destroyed the "
                 "socket instead of calling close().";
    }
  }
  if (lossy) {
    v.cause += " The capture lost bytes on this connection, so a Close frame may have been sent "
               "and not captured.";
  }

  // Advice.
  if (bad_101) {
    v.advice = std::string(rule_info(*bad_101).advice);
  } else if (!timeout.empty() || long_idle) {
    v.advice = "Send Pings (or application heartbeats) more often than the shortest idle timeout "
               "on the path, e.g. every 20-30 s, or raise that timeout (nginx "
               "proxy_read_timeout/proxy_send_timeout, AWS ALB idle_timeout.timeout_seconds, "
               "your LB's equivalent). Let clients reconnect with backoff.";
  } else if (t.by == Side::server) {
    v.advice = "Check the server's (or proxy's) logs, restarts and OOM kills at the time of the "
               "end; make shutdown paths send Close 1001 before exiting, and let clients "
               "reconnect with backoff.";
  } else if (t.by == Side::client) {
    v.advice = "Call close(1000) on normal exits (page unload, app shutdown) so the server can "
               "tell intended disconnects from failures; on mobile expect network changes and "
               "reconnect with backoff.";
  } else {
    v.advice = std::string(close_code_info(1006)->advice);
  }
  if (ping) {
    v.advice += " Look at why the Ping went unanswered: blocking work on the peer's event loop, "
                "or a path that was already dead.";
  }
  if (lossy) v.advice += " Re-capture without loss to confirm.";
  return v;
}

bool applies_open(const ConnectionSummary& s) { return s.tcp_end.how == TcpEndHow::open; }

Verdict make_open(const ConnectionSummary& s) {
  Verdict v;
  v.name = "open";
  v.severity = Severity::info;
  v.side = Side::none;
  const std::optional<double> idle_ms = s.tcp_end.idle_before_ms;
  v.summary = idle_ms ? fmt::format("still open when the capture ended, {} since the last data "
                                    "(open-at-end)",
                                    format_duration_ms(*idle_ms))
                      : std::string("still open when the capture ended (open-at-end)");
  v.cause = fmt::format("Neither a Close frame nor a TCP FIN/RST was seen up to the connection's "
                        "last captured packet{}, so how the connection ends is not in this "
                        "capture.",
                        at_packet(s.last));
  v.advice = fmt::format("{} In live mode (-i) wsdiag reports a connection when it ends.",
                         rule_info(RuleId::open_at_end).advice);
  return v;
}

}  // namespace wsdiag::diag::rows
