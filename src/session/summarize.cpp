// wsdiag — the facts a WebSocket session hands to diag when its connection ends: TCP ending,
// close handshake, counters and capture findings (ConnectionSummary).
#include "session_internal.h"

#include "wsdiag/diag/tls_verdict.h"

namespace wsdiag::session {

void WsSession::finish_tcp_facts(const flow::Connection& c, diag::ConnectionSummary& s) {
  auto& t = s.tcp_end;
  const auto& ce = c.endpoint(Dir::c2s);
  const auto& se = c.endpoint(Dir::s2c);
  t.client_fin = ce.fin;
  t.server_fin = se.fin;
  t.client_rst = ce.rst;
  t.server_rst = se.rst;
  t.client_fin_at = ce.first_fin;
  t.server_fin_at = se.first_fin;
  t.client_rst_at = ce.first_rst;
  t.server_rst_at = se.first_rst;
  auto first_of = [](bool a, PacketRef pa, bool b, PacketRef pb, diag::Side& by, PacketRef& at) {
    if (a && (!b || pa.index <= pb.index)) {
      by = diag::Side::client;
      at = pa;
    } else {
      by = diag::Side::server;
      at = pb;
    }
  };
  diag::Side rst_by = diag::Side::none, fin_by = diag::Side::none;
  PacketRef rst_at{}, fin_at{};
  if (ce.rst || se.rst) first_of(ce.rst, ce.first_rst, se.rst, se.first_rst, rst_by, rst_at);
  if (ce.fin || se.fin) first_of(ce.fin, ce.first_fin, se.fin, se.first_fin, fin_by, fin_at);
  if (rst_by != diag::Side::none) {
    t.how = diag::TcpEndHow::rst;
    t.by = rst_by;
    t.at = rst_at;
  } else if (fin_by != diag::Side::none) {
    t.how = diag::TcpEndHow::fin;
    t.by = fin_by;
    t.at = fin_at;
  } else {
    t.how = diag::TcpEndHow::open;
    t.by = diag::Side::none;
    t.at = c.last_packet();
  }
  // The ending started with the first FIN or RST: a RST that only answers the peer's FIN does not
  // make its sender the cause.
  if (rst_by != diag::Side::none && (fin_by == diag::Side::none || rst_at.index <= fin_at.index)) {
    t.initiator = rst_by;
    t.initiated_at = rst_at;
    t.initiated_by_rst = true;
  } else if (fin_by != diag::Side::none) {
    t.initiator = fin_by;
    t.initiated_at = fin_at;
  }
  // Idle time: from the last payload either side sent before the ending packet.
  PacketRef last_data{};
  for (const auto* ep : {&ce, &se}) {
    if (ep->last_payload.index != 0 && ep->last_payload.index < t.initiated_at.index &&
        ep->last_payload.index > last_data.index) {
      last_data = ep->last_payload;
    }
  }
  if (t.how != diag::TcpEndHow::open) {
    const PacketRef from = last_data.index != 0 ? last_data : c.first_packet();
    t.idle_before_ms = ms_between(from, t.initiated_at);
  } else {
    // Still open: the time from the last payload either side sent to the end of the capture.
    const PacketRef from = ce.last_payload.index >= se.last_payload.index ? ce.last_payload : se.last_payload;
    if (from.index != 0) t.idle_before_ms = ms_between(from, c.last_packet());
  }
}

diag::ConnectionSummary WsSession::summarize(const flow::Connection& c) {
  for (int d = 0; d < 2; ++d) {
    // Bytes still held for recognition are judged with what there is.
    if (side_[d]->mode == Mode::recognize) recognize(static_cast<Dir>(d), Bytes(), side_[d]->resync_at, true);
  }
  if (probing_) reject_probe();  // too few frames to tell WebSocket from chance
  if (probe_rejected_) forget_probe();
  diag::ConnectionSummary s;
  s.id = c.id();
  s.client = c.client().to_string();
  s.server = c.server().to_string();
  s.websocket = websocket_;
  s.handshake_captured = !(forced_ && websocket_);
  s.tcp_handshake_seen = c.handshake_seen();
  s.history = c.history();
  s.tunnel.client = {c.encap(Dir::c2s), c.encap_packets(Dir::c2s), c.endpoint(Dir::c2s).packets};
  s.tunnel.server = {c.encap(Dir::s2c), c.encap_packets(Dir::s2c), c.endpoint(Dir::s2c).packets};
  s.first = c.first_packet();
  s.last = c.last_packet();
  s.packets = c.packets();
  s.c2s = side_[0]->counters;
  s.s2c = side_[1]->counters;
  s.client_path = c.path(Dir::c2s);
  s.server_path = c.path(Dir::s2c);
  finish_tcp_facts(c, s);
  s.events.kept = std::move(events_);
  s.events.kept.insert(s.events.kept.end(), ping_ring_.begin(), ping_ring_.end());
  std::stable_sort(s.events.kept.begin(), s.events.kept.end(),
                   [](const diag::WireEvent& a, const diag::WireEvent& b) { return a.at.index < b.at.index; });
  s.events.pings_pongs_not_kept = ring_dropped_;
  s.events.last_message = last_message_;
  if (!websocket_) return s;

  // Handshake facts.
  auto& h = s.handshake;
  h.request_seen = hs_.request.has_value();
  h.response_seen = hs_.response.has_value();
  if (hs_.response) h.status = hs_.status;
  h.reason_phrase = hs_.reason;
  h.ok = hs_.ok();
  if (hs_.request) h.method = hs_.request->method;
  h.path = hs_.path;
  h.host = hs_.host;
  h.origin = hs_.origin;
  h.user_agent = hs_.user_agent;
  h.server_software = hs_.server;
  h.via_request = hs_.via_request;
  h.via_response = hs_.via_response;
  h.forwarded_for = hs_.forwarded_for;
  for (const auto& p : hs_.subprotocols_offered) {
    if (!h.subprotocols_offered.empty()) h.subprotocols_offered += ", ";
    h.subprotocols_offered += p;
  }
  h.subprotocol = hs_.subprotocol;
  h.extensions_offered = hs_.extensions_offered;
  h.extensions = hs_.extensions_accepted;
  h.deflate = hs_.deflate.enabled;
  h.request_at = request_at_;
  h.response_at = response_at_;
  for (const auto& p : hs_.problems) {
    const auto rule = diag::rule_by_name(p.id());
    if (!rule) continue;
    if (std::find(h.problems.begin(), h.problems.end(), *rule) == h.problems.end()) h.problems.push_back(*rule);
    add_finding(*rule, diag::side_of(p.side), p.side == Dir::c2s ? request_at_ : response_at_, p.message);
  }

  s.close = close_;
  if (snap_switched_ && !hs_.response) {
    h.status = 101;
    h.response_seen = true;
    h.reason_phrase = "(cut by the snaplen)";
  }
  // Headers the snaplen cut cannot be checked: the handshake is not verifiable (not invalid).
  h.request_cut = request_snapped_ && !hs_.request;
  if (h.request_cut || (snap_switched_ && !hs_.response)) h.verifiable = false;
  const auto& t = s.tcp_end;
  const bool tcp_ended = t.how != diag::TcpEndHow::open;
  const char* end_by = t.by == diag::Side::client ? "client" : "server";

  if (!s.handshake_captured) {
    add_finding(RuleId::capture_started_midstream, diag::Side::none, c.first_packet(),
                "the WebSocket handshake was not captured: subprotocol, extensions (permessage-deflate) and the "
                "Sec-WebSocket-Accept check cannot be verified");
  }
  if (h.request_seen && !h.response_seen && tcp_ended) {
    add_finding(RuleId::no_response, diag::Side::server, t.at,
                fmt::format("no response to the Upgrade request (packet {}) before the {} ended the connection",
                            request_at_.index, end_by));
  }
  // How TCP ended, relative to the close handshake.
  if (t.how == diag::TcpEndHow::rst) {  // tcp_end's by/at are then the first RST's
    const auto rst_side = t.by;
    const PacketRef rst_at = t.at;
    std::string when;
    if (!close_.seen) {
      when = "with no Close frame sent by either side";
    } else if (close_.echoed && rst_at.index > close_.echo_at.index) {
      when = "after the close handshake completed";
    } else if (rst_at.index > close_.at.index) {
      when = "during the close handshake (the Close was not answered yet)";
    } else {
      when = "before any Close frame";
    }
    if (!t.initiated_by_rst && t.initiator != diag::Side::none) {
      when += fmt::format(", after the {}'s FIN", diag::to_string(t.initiator));
    }
    add_finding(RuleId::rst, rst_side, rst_at, fmt::format("the {} reset the connection {}", end_by, when));
  }
  // Established (101, a 101 cut by the snaplen, or frames without a captured handshake) and closed
  // with a FIN but no Close frame.
  const bool established = hs_.switched() || snap_switched_ || forced_;
  if (!close_.seen && (t.client_fin || t.server_fin) && established) {
    const bool cf = t.client_fin && (!t.server_fin || t.client_fin_at.index <= t.server_fin_at.index);
    const auto side = cf ? diag::Side::client : diag::Side::server;
    const PacketRef at = cf ? t.client_fin_at : t.server_fin_at;
    add_finding(RuleId::fin_without_close, side, at,
                fmt::format("the {} closed TCP (FIN) without sending a Close frame", cf ? "client" : "server"));
  }
  if (close_.seen && !close_.echoed && tcp_ended) {
    const auto peer = close_.initiator == diag::Side::client ? diag::Side::server : diag::Side::client;
    add_finding(RuleId::close_not_echoed, peer, t.at,
                fmt::format("the {} never answered the {}'s Close (packet {}); TCP ended by {} from the {} {:.0f} ms "
                            "later",
                            diag::to_string(peer), diag::to_string(close_.initiator), close_.at.index,
                            t.how == diag::TcpEndHow::rst ? "RST" : "FIN", end_by, ms_between(close_.at, t.at)));
  }
  if (close_.seen && close_.echoed && tcp_ended) {
    // §7.1.1: the server should close the TCP connection first.
    const bool client_first_fin = t.client_fin && (!t.server_fin || t.client_fin_at.index < t.server_fin_at.index);
    const bool client_first_rst = t.client_rst && (!t.server_fin || t.client_rst_at.index < t.server_fin_at.index) &&
                                  (!t.server_rst || t.client_rst_at.index < t.server_rst_at.index);
    if (client_first_fin || client_first_rst) {
      add_finding(RuleId::client_closed_tcp_first, diag::Side::client, t.at,
                  "after the close handshake the client closed TCP before the server did");
    }
  }
  if (!tcp_ended) {
    add_finding(RuleId::open_at_end, diag::Side::none, c.last_packet(), "the connection was still open when the capture ended");
  }
  // Pings never answered.
  for (int i = 0; i < 2; ++i) {
    const auto& sd = *side_[i];
    if (sd.n_pings == 0 && sd.pings_forgotten == 0) continue;
    const PacketRef end_at = tcp_ended ? t.at : c.last_packet();
    std::size_t stale = 0;
    PacketRef first{};
    for (std::size_t k = 0; k < sd.n_pings; ++k) {
      if (end_at.ts_ns - sd.pings[k].at.ts_ns >= kPingGraceNs) {
        if (stale == 0) first = sd.pings[k].at;
        ++stale;
      }
    }
    if (stale + sd.pings_forgotten == 0) continue;
    const Dir d = static_cast<Dir>(i);
    add_finding(RuleId::ping_unanswered, diag::side_of(other(d)), first.index != 0 ? first : end_at,
                fmt::format("{} Ping(s) from the {} never answered by a Pong{}", stale + sd.pings_forgotten,
                            side_name(d),
                            first.index != 0 ? fmt::format(" (first unanswered at packet {}, {:.1f} s before the end)",
                                                           first.index, ms_between(first, end_at) / 1000.0)
                                             : std::string()));
  }
  // Capture problems.
  for (int i = 0; i < 2; ++i) {
    const auto& sd = *side_[i];
    const Dir d = static_cast<Dir>(i);
    if (sd.gap_bytes > 0) {
      add_finding(RuleId::capture_gap, diag::side_of(d), sd.first_gap,
                  fmt::format("{} bytes from the {} missing from the capture in {} gap(s)", sd.gap_bytes, side_name(d),
                              sd.gaps));
    }
    if (sd.snaplen_bytes > 0) {
      add_finding(RuleId::snaplen_truncated, diag::side_of(d), sd.first_snaplen,
                  fmt::format("{} payload bytes from the {} cut off by the capture's snaplen", sd.snaplen_bytes,
                              side_name(d)));
    }
    if (c.stream(d).stats().limit_hits > 0) {
      add_finding(RuleId::limit_ooo_buffer, diag::side_of(d), c.last_packet(),
                  fmt::format("out-of-order buffer limit reached {} time(s) for the {}'s stream",
                              c.stream(d).stats().limit_hits, side_name(d)));
    }
  }
  if (c.end_reason() == reassembly::EndReason::evicted) {
    add_finding(RuleId::conn_evicted, diag::Side::none, c.last_packet(),
                "the connection table was full: tracking of this connection stopped early");
  } else if (c.end_reason() == reassembly::EndReason::idle_timeout) {
    add_finding(RuleId::idle_timeout, diag::Side::none, c.last_packet(), "idle past the timeout: reported and evicted");
  }
  std::stable_sort(findings_.begin(), findings_.end(),
                   [](const diag::Finding& a, const diag::Finding& b) { return a.at.index < b.at.index; });
  s.findings = std::move(findings_);
  findings_.clear();
  return s;
}

}  // namespace wsdiag::session
