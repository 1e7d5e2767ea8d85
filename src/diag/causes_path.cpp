// wsdiag — causes on the path (causes_path.h): pure predicates over the flow layer's per-side facts.
//
// Evidence, after the forged-reset heuristics of Weaver, Sommer and Paxson (NDSS 2009) and RFC 5961:
// a box that injects an RST in an endpoint's name sends it from its own place in the network, so
// its TTL / hop limit differs from that endpoint's packets, and usually its IP ID (not the sender's
// counter), its window and options (none of the endpoint's TCP timestamps) too; an endpoint that
// goes on sending data after "its" RST did not send it. Only the TTL (or data after the RST)
// triggers the row: a real kernel answering for a closed socket also sends IP ID 0, window 0 and
// no options; those differences only add confidence.
#include "wsdiag/diag/causes_path.h"

#include <fmt/format.h>

#include <vector>

#include "wsdiag/decode/decoder.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag {
namespace {

Side other_side(Side s) { return s == Side::client ? Side::server : Side::client; }
const SideFacts& facts(const ConnectionSummary& s, Side side) {
  return side == Side::client ? s.client_path : s.server_path;
}

std::string ttl_range(const SideFacts& f) {
  return f.ttl_min == f.ttl_max ? fmt::format("{}", f.ttl_min) : fmt::format("{}-{}", f.ttl_min, f.ttl_max);
}

std::string ns_words(std::int64_t ns) { return format_duration_ms(ns_to_ms(ns)); }

// ---- middlebox-rst ------------------------------------------------------------------------------

/// The IP ID sequence of a side is a counter (>= 90% of >= 3 steps went up by a little).
bool ip_id_counts(const SideFacts& f) {
  return f.ip_version == 4 && f.ip_id_steps >= 3 && f.ip_id_small_steps * 10 >= f.ip_id_steps * 9;
}

std::optional<CauseMatch> forged_by(const ConnectionSummary& s, Side claimed) {
  const SideFacts& f = facts(s, claimed);
  const RstFacts& r = f.rst;
  if (r.at.index == 0 || r.earlier_packets == 0 || f.ttl_packets == 0) return std::nullopt;
  const bool ttl_differs = r.ttl < f.ttl_min || r.ttl > f.ttl_max;
  const bool data_after = r.data_packets_after > 0;
  if (!ttl_differs && !data_after) return std::nullopt;

  const char* who = side_name(claimed);
  std::vector<std::string> diffs;
  if (ttl_differs) {
    const int nearer = int{r.ttl} - int{f.ttl_max};
    diffs.push_back(fmt::format("{} {} where every earlier packet of the {} had {} (it came from {} {} {} the "
                                "capture point than the {})",
                                f.ip_version == 6 ? "hop limit" : "TTL", r.ttl, who, ttl_range(f),
                                nearer > 0 ? nearer : -nearer, (nearer == 1 || nearer == -1) ? "hop" : "hops",
                                nearer > 0 ? "nearer to" : "further from", who));
  }
  int corroborating = 0;
  if (ip_id_counts(f)) {
    const auto step = static_cast<std::uint16_t>(r.ip_id - r.earlier_ip_id);
    if (step < 1 || step > SideFacts::ip_id_small_step) {
      diffs.push_back(fmt::format("IP ID {:#06x}, not the next of the {}'s counter (last {:#06x})", r.ip_id, who,
                                  r.earlier_ip_id));
      ++corroborating;
    }
  }
  if ((f.options_all & decode::tcp_opt::timestamp) != 0 && (r.options & decode::tcp_opt::timestamp) == 0) {
    diffs.push_back(fmt::format("no TCP timestamps (every other packet of the {} had them)", who));
    ++corroborating;
  }
  if (r.window == 0 && f.zero_windows == 0) {
    diffs.push_back(fmt::format("window 0 (the {} never advertised a zero window)", who));
  }
  if (data_after) {
    diffs.push_back(fmt::format("the {} went on sending data after it ({} packet{})", who, r.data_packets_after,
                                r.data_packets_after == 1 ? "" : "s"));
  }
  if (r.peer_unacked > 0) {
    diffs.push_back(fmt::format("it raced {} bytes the {} had sent and the {} had not acknowledged", r.peer_unacked,
                                side_name(other_side(claimed)), who));
  }
  std::string list;
  for (std::size_t i = 0; i < diffs.size(); ++i) list += (i == 0 ? "" : "; ") + diffs[i];
  const bool strong = (ttl_differs && data_after) || (ttl_differs && corroborating >= 2);
  return CauseMatch{"middlebox-rst", strong ? Confidence::certain : Confidence::likely,
                    fmt::format("an RST in the name of the {} (packet {}) does not look like the {}'s packets: {}. "
                                "A box on the path (firewall, load balancer, NAT, IDS) sent it; the {} did not reset "
                                "the connection",
                                who, r.at.index, who, list, who),
                    kFixMiddleboxRst};
}

// ---- blackhole ------------------------------------------------------------------------------------

/// Re-sends of one sequence number, never acknowledged, with growing intervals (RTO back-off).
bool unanswered_run(const SideFacts& f) {
  return f.run_resends >= 3 && !f.run_acked && f.run_first_gap_ns > 0 &&
         f.run_last_gap_ns * 2 >= f.run_first_gap_ns * 3;
}

std::string gave_up(const ConnectionSummary& s, Side b, const SideFacts& f) {
  const TcpEndSummary& t = s.tcp_end;
  const bool rst = b == Side::client ? t.client_rst : t.server_rst;
  const PacketRef rst_at = b == Side::client ? t.client_rst_at : t.server_rst_at;
  if (rst && rst_at.index > f.run_last.index) return fmt::format("then the {} gave up and reset the connection (packet {})", side_name(b), rst_at.index);
  if (s.close.seen && s.close.initiator == b && s.close.at.index > f.run_first.index) {
    return fmt::format("then the {} gave up and closed (packet {})", side_name(b), s.close.at.index);
  }
  const bool fin = b == Side::client ? t.client_fin : t.server_fin;
  if (fin) return fmt::format("then the {} closed its side", side_name(b));
  if (t.how == TcpEndHow::open) return "then the capture ended with the connection still open";
  return fmt::format("then the connection ended ({})", to_string(t.how));
}

// ---- helpers for slow-consumer ------------------------------------------------------------------

bool closes_overloaded(const Verdict& v) {
  return v.code == std::optional<std::uint16_t>(1008) || v.code == std::optional<std::uint16_t>(1009) ||
         v.code == std::optional<std::uint16_t>(1011);
}

int initial_ttl(std::uint8_t seen) { return seen <= 64 ? 64 : seen <= 128 ? 128 : 255; }

bool loopback_address(const std::string& ep) { return ep.starts_with("127.") || ep.starts_with("[::1]:"); }

bool proxy_product(const std::string& server) {
  static constexpr std::string_view kProxies[] = {"nginx", "openresty", "haproxy", "envoy", "cloudflare", "awselb",
                                                  "traefik", "caddy", "varnish", "squid", "apache", "istio", "kong"};
  std::string lower;
  for (const char ch : server) lower += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  for (const auto p : kProxies) {
    if (lower.find(p) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::optional<CauseMatch> middlebox_rst(const ConnectionSummary& s, const Verdict& /*v*/) {
  // The connection's first RST first (the one that ended it), then the other side's.
  const Side first = s.tcp_end.how == TcpEndHow::rst && s.tcp_end.by != Side::none ? s.tcp_end.by : Side::client;
  for (const Side side : {first, other_side(first)}) {
    if (auto m = forged_by(s, side)) return m;
  }
  return std::nullopt;
}

std::optional<CauseMatch> blackhole(const ConnectionSummary& s, const Verdict& /*v*/) {
  const bool c = unanswered_run(s.client_path);
  const bool sv = unanswered_run(s.server_path);
  if (!c && !sv) return std::nullopt;
  // The side whose run started first is the one that noticed first.
  const Side b = c && (!sv || s.client_path.run_first.index <= s.server_path.run_first.index) ? Side::client
                                                                                                : Side::server;
  const SideFacts& f = facts(s, b);
  const char* peer = side_name(other_side(b));
  const std::string where =
      c && sv ? fmt::format("both sides' retransmissions pass the capture point and neither is acknowledged: the "
                            "break is at the capturing box itself (it sees packets before it drops them) or on both "
                            "sides of it")
              : fmt::format("the capture is on the {}'s side of the break: its retransmissions pass the capture point "
                            "and nothing from the {} acknowledges them, so they are lost between here and the {}",
                            side_name(b), peer, peer);
  return CauseMatch{
      "blackhole", Confidence::likely,
      fmt::format("the {} re-sent the same data {} times from packet {} with back-off ({} then {} between re-sends) "
                  "and the {} never acknowledged it; {}. The path stopped delivering (a NAT, load balancer or "
                  "firewall that lost the connection's state, or a network that went away); {}",
                  side_name(b), f.run_resends, f.run_first.index, ns_words(f.run_first_gap_ns),
                  ns_words(f.run_last_gap_ns), peer, gave_up(s, b, f), where),
      kFixBlackhole};
}

std::optional<CauseMatch> slow_consumer(const ConnectionSummary& s, const Verdict& v) {
  for (const Side reader : {Side::client, Side::server}) {
    const SideFacts& r = facts(s, reader);
    const Side sender = other_side(reader);
    const SideFacts& w = facts(s, sender);
    if (r.zero_windows == 0) continue;
    // The sender had data to send: it probed the zero window, or the window stayed shut a second.
    if (w.window_probes == 0 && r.zero_window_longest_ns < 1'000'000'000) continue;
    if (v.side != sender) continue;
    const bool torn = v.code == std::optional<std::uint16_t>(1006) && s.tcp_end.how != TcpEndHow::open;
    if (!closes_overloaded(v) && !torn) continue;
    const PacketRef end_at = s.close.seen ? s.close.at : s.tcp_end.initiated_at;
    if (end_at.index != 0 && end_at.index < r.zero_window_first.index) continue;
    const bool rst = torn && s.tcp_end.initiated_by_rst;
    const std::string how = closes_overloaded(v) ? fmt::format("closed with {} {}", *v.code, v.name)
                            : rst              ? std::string("reset the connection")
                                               : std::string("ended TCP without a Close");
    return CauseMatch{
        "slow-consumer", closes_overloaded(v) || rst ? Confidence::likely : Confidence::possible,
        fmt::format("the {} advertised a zero window {} time{} (from packet {}, shut for up to {}) while the {} had data "
                    "to send ({} window probe{}); then the {} {}: the {} stopped reading and the {}'s buffers filled",
                    side_name(reader), r.zero_windows, r.zero_windows == 1 ? "" : "s", r.zero_window_first.index,
                    ns_words(r.zero_window_longest_ns), side_name(sender), w.window_probes,
                    w.window_probes == 1 ? "" : "s", side_name(sender), how, side_name(reader), side_name(sender)),
        kFixSlowConsumer};
  }
  return std::nullopt;
}

std::optional<CapturePoint> capture_point(const ConnectionSummary& s, const std::optional<CauseMatch>& cause) {
  if (!cause || cause->id == "app-close-code") return std::nullopt;
  CapturePoint p;
  p.loopback = loopback_address(s.client) && loopback_address(s.server);
  const auto hops = [](const SideFacts& f, int& out, std::uint8_t& ttl) {
    if (f.ttl_packets == 0) return;
    ttl = f.ttl_max;
    out = initial_ttl(f.ttl_max) - f.ttl_max;
  };
  hops(s.client_path, p.client_hops, p.client_ttl);
  hops(s.server_path, p.server_hops, p.server_ttl);
  const HandshakeSummary& h = s.handshake;
  std::vector<std::string> marks;
  if (!h.server_software.empty() && proxy_product(h.server_software)) {
    marks.push_back(fmt::format("the response's Server header names a proxy ({})", h.server_software));
  }
  if (!h.via_response.empty()) marks.push_back(fmt::format("the response came through Via {}", h.via_response));
  if (!h.via_request.empty()) marks.push_back(fmt::format("the request came through Via {}", h.via_request));
  if (!h.forwarded_for.empty()) marks.push_back("the request carries X-Forwarded-For: the client here is a proxy");
  for (std::size_t i = 0; i < marks.size(); ++i) p.proxy += (i == 0 ? "" : "; ") + marks[i];

  std::string where;
  if (p.loopback) {
    where = "loopback: both ends on the capturing host, no network between them";
  } else if (p.client_hops >= 0 && p.server_hops >= 0) {
    const auto at = [](int n, int ttl) {
      return fmt::format("{} hop{} away (TTL {}{})", n, n == 1 ? "" : "s", ttl, n == 0 ? ": its own host or link" : "");
    };
    where = fmt::format("client {}, server {}", at(p.client_hops, p.client_ttl), at(p.server_hops, p.server_ttl));
    if (p.client_hops == 0 && p.server_hops > 0) {
      where += ": captured at the client's end; what the server did is seen only as it arrived here";
    } else if (p.server_hops == 0 && p.client_hops > 0) {
      where += ": captured at the server's end";
    } else if (p.client_hops > 0 && p.server_hops > 0) {
      where += ": captured in the middle of the path";
    } else {
      where += ": both ends are the capturing host or on its links (a box between them, such as a proxy)";
    }
  } else {
    return std::nullopt;
  }
  p.line = where;
  if (!p.proxy.empty()) {
    p.line += "; " + p.proxy + ": \"the server\" in this capture may be that proxy, not the application";
  }
  return p;
}

}  // namespace wsdiag::diag
