// wsdiag — one connection's JSON object (schema "wsdiag.report/1", CLI.md `--format json` /
// `jsonl`), written straight into a string by JsonWriter: no tree, no per-field allocation.
//
// Contract fields come first in each object, in CLI.md's order and with its types (null exactly
// where CLI.md says `|null`, plus packet numbers/times that do not exist, e.g. close.packet when no
// Close was seen). Extra fields follow the contract ones of the same object.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "json_writer.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/report/describe.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/text_util.h"
#include "wsdiag/report/timeline.h"

namespace wsdiag::report {

using diag::Side;

namespace {

void side_value(JsonWriter& w, Side s) {
  const char* name = diag::to_string(s);
  if (name == nullptr || *name == '\0') {
    w.null();
  } else {
    w.string(name);
  }
}

void packet_value(JsonWriter& w, PacketRef at) {
  if (at.index == 0) {
    w.null();
  } else {
    w.number(static_cast<std::uint64_t>(at.index));
  }
}

void time_string(JsonWriter& w, std::int64_t ts_ns) {
  std::array<char, kIso8601Size> buf{};
  w.string(iso8601_utc(ts_ns, buf));
}

void time_value(JsonWriter& w, PacketRef at) {
  if (at.index == 0) {
    w.null();
  } else {
    time_string(w, at.ts_ns);
  }
}

// Milliseconds rounded to the microsecond: capture timestamps have no more precision than that.
double ms_json(double ms) { return std::round(ms * 1000.0) / 1000.0; }

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t len = utf8_sequence_length(s.substr(i));
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string hex(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (const char c : s) fmt::format_to(std::back_inserter(out), "{:02x}", static_cast<std::uint8_t>(c));
  return out;
}

void packet_or_null(JsonWriter& w, bool present, PacketRef at) {
  if (present) {
    packet_value(w, at);
  } else {
    w.null();
  }
}

void dir_object(JsonWriter& w, const diag::DirCounters& d) {
  w.begin_object();
  w.member("frames", d.frames);
  w.member("messages", d.messages);
  w.member("payload_bytes", d.payload_bytes);
  w.member("message_bytes", d.message_bytes);
  w.member("max_message", d.max_message);
  w.member("pings", d.pings);
  w.member("pongs", d.pongs);
  w.member("compressed_messages", d.compressed_messages);
  w.member("gap_bytes", d.gap_bytes);
  if (d.app.sent + d.app.answers != 0) {  // application heartbeats (session/heartbeat.h)
    w.key("app_heartbeats").begin_object();
    w.member("kind", diag::to_string(d.app.kind));
    w.member("sent", d.app.sent);
    w.member("answers", d.app.answers);
    w.key("first_packet");
    packet_value(w, d.app.first);
    w.key("last_packet");
    packet_value(w, d.app.last);
    w.key("last_answered_packet");
    packet_value(w, d.app.last_answered);
    w.end_object();
  }
  w.end_object();
}

void handshake_object(JsonWriter& w, const diag::ConnectionSummary& s, const diag::Verdict& v) {
  const auto& h = s.handshake;
  w.begin_object();
  w.member("seen", h.request_seen || h.response_seen);
  w.member("status", h.status);
  // null: cut by the snaplen, not verifiable; a 101 the client failed is not a handshake that succeeded
  w.key("ok");
  if (h.verifiable) {
    w.boolean(h.ok && !v.client_rejected_101);
  } else {
    w.null();
  }
  w.member("path", h.path);
  w.member("subprotocol", h.subprotocol);
  w.member("extensions", h.extensions);
  w.key("problems").begin_array();
  for (const auto id : h.problems) w.string(diag::rule_info(id).name);
  w.end_array();
  // extras
  w.member("request_seen", h.request_seen);
  w.member("response_seen", h.response_seen);
  w.key("request_packet");
  packet_or_null(w, h.request_seen, h.request_at);
  w.key("response_packet");
  packet_or_null(w, h.response_seen, h.response_at);
  w.member("reason_phrase", h.reason_phrase);
  w.member("method", h.method);
  w.member("host", h.host);
  w.member("origin", h.origin);
  w.member("user_agent", h.user_agent);
  w.member("server_software", h.server_software);
  w.member("subprotocols_offered", h.subprotocols_offered);
  w.member("extensions_offered", h.extensions_offered);
  w.member("deflate", h.deflate);
  w.end_object();
}

void close_object(JsonWriter& w, const diag::ConnectionSummary& s) {
  const auto& c = s.close;
  w.begin_object();
  w.key("initiator");
  if (c.seen) {
    side_value(w, c.initiator);
  } else {
    w.null();
  }
  w.key("code");
  if (c.seen && c.code) {
    w.value(*c.code);
  } else {
    w.null();
  }
  w.key("reason");
  if (c.seen) {
    w.string(c.reason);
  } else {
    w.null();
  }
  w.member("echoed", c.seen && c.echoed);
  w.key("echo_code");
  if (c.seen && c.echoed && c.echo_code) {
    w.value(*c.echo_code);
  } else {
    w.null();
  }
  const auto delay = echo_delay_ms(c);
  w.key("echo_delay_ms");
  if (delay) {
    w.number(ms_json(*delay));
  } else {
    w.null();
  }
  w.key("packet");
  packet_or_null(w, c.seen, c.at);
  // extras
  w.key("time");
  if (c.seen) {
    time_value(w, c.at);
  } else {
    w.null();
  }
  w.key("echo_packet");
  packet_or_null(w, c.seen && c.echoed, c.echo_at);
  if (c.seen && !valid_utf8(c.reason)) w.member("reason_hex", hex(c.reason));
  w.end_object();
}

void tcp_end_object(JsonWriter& w, const diag::ConnectionSummary& s) {
  const auto& t = s.tcp_end;
  const bool ended = t.how != diag::TcpEndHow::open;
  w.begin_object();
  w.member("how", diag::to_string(t.how));
  w.key("by");
  if (ended) {
    side_value(w, t.by);
  } else {
    w.null();
  }
  w.key("packet");
  packet_or_null(w, ended, t.at);
  w.key("idle_before_ms");
  if (t.idle_before_ms) {
    w.number(ms_json(*t.idle_before_ms));
  } else {
    w.null();
  }
  // extras
  w.key("time");
  if (ended) {
    time_value(w, t.at);
  } else {
    w.null();
  }
  w.key("initiator");
  if (ended) {
    side_value(w, t.initiator);
  } else {
    w.null();
  }
  w.key("initiated_packet");
  packet_or_null(w, ended, t.initiated_at);
  w.member("initiated_by_rst", ended && t.initiated_by_rst);
  w.key("fin").begin_object();
  w.key("client");
  packet_or_null(w, t.client_fin, t.client_fin_at);
  w.key("server");
  packet_or_null(w, t.server_fin, t.server_fin_at);
  w.end_object();
  w.key("rst").begin_object();
  w.key("client");
  packet_or_null(w, t.client_rst, t.client_rst_at);
  w.key("server");
  packet_or_null(w, t.server_rst, t.server_rst_at);
  w.end_object();
  w.end_object();
}

void id_or_null(JsonWriter& w, bool has, std::uint64_t id) {
  if (has) {
    w.value(id);
  } else {
    w.null();
  }
}

void encap_layer_object(JsonWriter& w, const EncapLayer& l) {
  w.begin_object();
  w.member("kind", to_string(l.kind));
  switch (l.kind) {
    case EncapKind::vxlan:
      w.member("vni", l.id);
      break;
    case EncapKind::geneve:
      w.member("vni", l.id);
      w.member("options_bytes", l.aux);
      break;
    case EncapKind::gre:
      w.key("key");
      id_or_null(w, l.has_id, l.id);
      w.member("protocol", fmt::format("{:#06x}", l.aux));
      break;
    case EncapKind::erspan2:
    case EncapKind::erspan3:
      w.key("session");
      id_or_null(w, l.has_id, l.id);
      break;
    case EncapKind::ip_in_ip:
      w.member("inner", l.inner_family == 6 ? "ipv6" : "ipv4");
      break;
    case EncapKind::gtpu:
      w.member("teid", l.id);
      break;
    case EncapKind::mpls:
      w.member("label", l.id);
      w.member("labels", l.aux);
      break;
    case EncapKind::pppoe:
      w.member("session", l.id);
      break;
    case EncapKind::none:
      break;
  }
  if (l.src.family != 0) {
    w.member("src", l.src.to_string());
    w.member("dst", l.dst.to_string());
  }
  w.member("text", encap_layer_text(l));
  w.end_object();
}

void tunnel_object(JsonWriter& w, const diag::TunnelSummary& t) {
  w.begin_object();
  for (const auto* side : {&t.client, &t.server}) {
    w.key(side == &t.client ? "client" : "server").begin_object();
    w.member("packets", side->packets);
    w.member("of", side->of);
    w.key("layers").begin_array();
    for (std::size_t i = 0; i < side->encap.depth && i < Encap::kMaxLayers; ++i) {
      encap_layer_object(w, side->encap.layers[i]);
    }
    w.end_array();
    w.end_object();
  }
  w.end_object();
}

void finding_object(JsonWriter& w, const diag::Finding& f) {
  const auto& info = diag::rule_info(f.rule);
  w.begin_object();
  w.member("rule", info.name);
  w.member("severity", diag::to_string(info.severity));
  w.key("side");
  side_value(w, f.side);
  w.key("packet");
  packet_value(w, f.at);
  w.key("time");
  time_value(w, f.at);
  w.member("message", f.message);
  // extras
  w.member("count", f.count);
  w.key("spec");
  if (info.spec.empty()) {
    w.null();
  } else {
    w.string(info.spec);
  }
  w.member("title", info.title);
  w.end_object();
}

void verdict_object(JsonWriter& w, const diag::Verdict& v) {
  w.begin_object();
  w.member("code", v.code);
  w.member("name", v.name);
  w.member("severity", diag::to_string(v.severity));
  w.key("side");
  side_value(w, v.side);
  w.member("summary", v.summary);
  w.member("cause", v.cause);
  w.member("advice", v.advice);
  w.end_object();
}

void cause_object(JsonWriter& w, const diag::CauseMatch& m) {
  w.begin_object();
  w.member("id", m.id);
  w.member("confidence", diag::to_string(m.confidence));
  w.member("evidence", m.evidence);
  w.member("fix", m.fix);
  w.end_object();
}

// TLS facts (wss://): what the ClientHello/ServerHello said, key status, records and alerts.
void alert_value(JsonWriter& w, const tls::AlertFact& a) {
  if (!a.seen) {
    w.null();
    return;
  }
  w.begin_object();
  w.member("encrypted", a.encrypted);
  if (!a.encrypted) {
    w.member("level", a.level == 2 ? "fatal" : "warning");
    w.member("description", tls::alert_name(a.description));
  }
  w.member("record_len", a.record_len);
  w.member("packet", a.at.index);
  w.end_object();
}

void tls_dir_object(JsonWriter& w, const tls::TlsDirFacts& d) {
  w.begin_object();
  w.member("records", d.records);
  w.member("app_records", d.app_records);
  w.member("app_bytes", d.app_bytes);
  w.member("plaintext_bytes", d.plaintext_bytes);
  w.key("last_record");
  if (d.last_record.index) {
    w.begin_object();
    w.member("packet", d.last_record.index);
    w.member("type", d.last_type);
    w.member("len", d.last_len);
    w.end_object();
  } else {
    w.null();
  }
  w.key("alert");
  alert_value(w, d.alert);
  w.member("close_notify", d.close_notify);
  w.member("undecrypted_records", d.undecrypted_records);
  w.end_object();
}

void tls_object(JsonWriter& w, const tls::TlsFacts& t) {
  w.begin_object();
  w.key("version");
  if (t.version) {
    w.string(tls::version_name(t.version));
  } else {
    w.null();
  }
  w.key("cipher");
  if (t.cipher) {
    w.string(tls::cipher_name(t.cipher));
  } else {
    w.null();
  }
  w.member("sni", t.sni);
  w.member("alpn_offered", t.alpn_offered);
  w.member("alpn", t.alpn);
  w.member("keys", tls::to_string(t.keys));
  w.key("client_hello_packet");
  id_or_null(w, t.client_hello, t.client_hello_at.index);
  w.key("server_hello_packet");
  id_or_null(w, t.server_hello, t.server_hello_at.index);
  w.member("hello_retry", t.hello_retry);
  w.member("resumed", t.psk_accepted);
  w.member("midstream", t.midstream);
  w.key("client");
  tls_dir_object(w, t.c2s);
  w.key("server");
  tls_dir_object(w, t.s2c);
  w.end_object();
}

// `timeline[]`: the Markdown diagram's steps (timeline.h).
void timeline_array(JsonWriter& w, const Timeline& t) {
  w.begin_array();
  for (const auto& st : t.steps) {
    w.begin_object();
    w.member("kind", to_string(st.kind));
    w.key("from");
    side_value(w, st.from);
    w.member("packet", st.at.index);
    w.key("time");
    time_string(w, st.at.ts_ns);
    w.member("offset_ms", ms_json(st.offset_ms));
    w.key("idle_before_ms");
    if (st.idle_before_ms) {
      w.number(ms_json(*st.idle_before_ms));
    } else {
      w.null();
    }
    w.member("text", st.text);
    if (st.kind == StepKind::messages) {
      w.member("client_messages", st.client_messages);
      w.member("server_messages", st.server_messages);
      w.member("pings_pongs", st.pings_pongs);
    }
    w.end_object();
  }
  w.end_array();
}

}  // namespace

void write_connection_json(std::string& out, const ConnReport& c, bool pretty, int base_depth) {
  const auto& s = c.summary;
  JsonWriter w(out, pretty, base_depth);
  w.begin_object();
  w.member("id", s.id);
  w.member("client", s.client);
  w.member("server", s.server);
  w.member("websocket", s.websocket);
  w.key("start");
  time_string(w, s.first.ts_ns);
  w.key("end");
  time_string(w, s.last.ts_ns);
  w.member("first_packet", s.first.index);
  w.member("last_packet", s.last.index);
  // extras
  w.member("packets", s.packets);
  w.member("duration_ms", ms_json(ms_between(s.first, s.last)));
  w.member("history", s.history);
  w.member("tcp_handshake_seen", s.tcp_handshake_seen);
  w.member("handshake_captured", s.handshake_captured);
  if (s.tunnel.any()) {  // extra, only when tunnelled
    w.key("tunnel");
    tunnel_object(w, s.tunnel);
  }
  w.key("handshake");
  handshake_object(w, s, c.verdict);
  w.key("frames").begin_object();
  w.member("client", s.c2s.frames);
  w.member("server", s.s2c.frames);
  w.end_object();
  w.key("messages").begin_object();
  w.member("client", s.c2s.messages);
  w.member("server", s.s2c.messages);
  w.end_object();
  w.key("traffic").begin_object();  // extra
  w.key("client");
  dir_object(w, s.c2s);
  w.key("server");
  dir_object(w, s.s2c);
  w.end_object();
  w.key("close");
  close_object(w, s);
  w.key("tcp_end");
  tcp_end_object(w, s);
  w.key("findings").begin_array();
  for (const auto& f : s.findings) finding_object(w, f);
  w.end_array();
  w.key("redacted").begin_array();  // extra: what redact.h hid in this connection
  for (const auto& r : c.redacted) w.string(r);
  w.end_array();
  w.key("verdict");
  verdict_object(w, c.verdict);
  if (c.cause) {
    w.key("cause");
    cause_object(w, *c.cause);
  }
  if (c.capture_point) {
    const auto& p = *c.capture_point;
    w.key("capture_point").begin_object();
    w.key("client_hops");
    id_or_null(w, p.client_hops >= 0, static_cast<std::uint64_t>(p.client_hops));
    w.key("server_hops");
    id_or_null(w, p.server_hops >= 0, static_cast<std::uint64_t>(p.server_hops));
    w.member("loopback", p.loopback);
    w.member("proxy", p.proxy);
    w.member("summary", p.line);
    w.end_object();
  }
  if (s.tls) {  // extra
    w.key("tls");
    tls_object(w, *s.tls);
  }
  w.key("timeline");  // extra: the Markdown diagram's steps (timeline.h)
  timeline_array(w, build_timeline(s));
  w.end_object();
}

}  // namespace wsdiag::report
