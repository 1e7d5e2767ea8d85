// wsdiag — JSON report, schema "wsdiag.report/1" (CLI.md `--format json` / `jsonl`).
//
// Contract fields come first in each object, in CLI.md's order and with its types (null exactly
// where CLI.md says `|null`, plus packet numbers/times that do not exist, e.g. close.packet when no
// Close was seen). Extra fields follow the contract ones of the same object.
#include <fmt/format.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "wsdiag/report/describe.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/timeline.h"

#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/report/text_util.h"

namespace wsdiag::report {

using Json = nlohmann::ordered_json;
using diag::Side;

namespace {

Json side_json(Side s) {
  const char* name = diag::to_string(s);
  if (name == nullptr || *name == '\0') return nullptr;
  return name;
}

Json packet_json(PacketRef at) {
  if (at.index == 0) return nullptr;
  return at.index;
}

Json time_json(PacketRef at) {
  if (at.index == 0) return nullptr;
  return iso8601_utc(at.ts_ns);
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

Json dir_json(const diag::DirCounters& d) {
  Json j = Json::object();
  j["frames"] = d.frames;
  j["messages"] = d.messages;
  j["payload_bytes"] = d.payload_bytes;
  j["message_bytes"] = d.message_bytes;
  j["max_message"] = d.max_message;
  j["pings"] = d.pings;
  j["pongs"] = d.pongs;
  j["compressed_messages"] = d.compressed_messages;
  j["gap_bytes"] = d.gap_bytes;
  if (d.app.sent + d.app.answers != 0) {  // application heartbeats (session/heartbeat.h)
    Json a = Json::object();
    a["kind"] = diag::to_string(d.app.kind);
    a["sent"] = d.app.sent;
    a["answers"] = d.app.answers;
    a["first_packet"] = d.app.first.index != 0 ? Json(d.app.first.index) : Json(nullptr);
    a["last_packet"] = d.app.last.index != 0 ? Json(d.app.last.index) : Json(nullptr);
    a["last_answered_packet"] = d.app.last_answered.index != 0 ? Json(d.app.last_answered.index) : Json(nullptr);
    j["app_heartbeats"] = std::move(a);
  }
  return j;
}

Json handshake_json(const diag::ConnectionSummary& s, const diag::Verdict& v) {
  const auto& h = s.handshake;
  Json j = Json::object();
  j["seen"] = h.request_seen || h.response_seen;
  j["status"] = h.status ? Json(*h.status) : Json(nullptr);
  // null: cut by the snaplen, not verifiable; a 101 the client failed is not a handshake that succeeded
  j["ok"] = h.verifiable ? Json(h.ok && !v.client_rejected_101) : Json(nullptr);
  j["path"] = h.path;
  j["subprotocol"] = h.subprotocol;
  j["extensions"] = h.extensions;
  Json problems = Json::array();
  for (const auto id : h.problems) problems.push_back(diag::rule_info(id).name);
  j["problems"] = std::move(problems);
  // extras
  j["request_seen"] = h.request_seen;
  j["response_seen"] = h.response_seen;
  j["request_packet"] = h.request_seen ? packet_json(h.request_at) : Json(nullptr);
  j["response_packet"] = h.response_seen ? packet_json(h.response_at) : Json(nullptr);
  j["reason_phrase"] = h.reason_phrase;
  j["method"] = h.method;
  j["host"] = h.host;
  j["origin"] = h.origin;
  j["user_agent"] = h.user_agent;
  j["server_software"] = h.server_software;
  j["subprotocols_offered"] = h.subprotocols_offered;
  j["extensions_offered"] = h.extensions_offered;
  j["deflate"] = h.deflate;
  return j;
}

Json close_json(const diag::ConnectionSummary& s) {
  const auto& c = s.close;
  Json j = Json::object();
  j["initiator"] = c.seen ? side_json(c.initiator) : Json(nullptr);
  j["code"] = c.seen && c.code ? Json(*c.code) : Json(nullptr);
  j["reason"] = c.seen ? Json(c.reason) : Json(nullptr);
  j["echoed"] = c.seen && c.echoed;
  j["echo_code"] = c.seen && c.echoed && c.echo_code ? Json(*c.echo_code) : Json(nullptr);
  const auto delay = echo_delay_ms(c);
  j["echo_delay_ms"] = delay ? Json(ms_json(*delay)) : Json(nullptr);
  j["packet"] = c.seen ? packet_json(c.at) : Json(nullptr);
  // extras
  j["time"] = c.seen ? time_json(c.at) : Json(nullptr);
  j["echo_packet"] = c.seen && c.echoed ? packet_json(c.echo_at) : Json(nullptr);
  if (c.seen && !valid_utf8(c.reason)) j["reason_hex"] = hex(c.reason);
  return j;
}

Json tcp_end_json(const diag::ConnectionSummary& s) {
  const auto& t = s.tcp_end;
  const bool ended = t.how != diag::TcpEndHow::open;
  Json j = Json::object();
  j["how"] = diag::to_string(t.how);
  j["by"] = ended ? side_json(t.by) : Json(nullptr);
  j["packet"] = ended ? packet_json(t.at) : Json(nullptr);
  j["idle_before_ms"] = t.idle_before_ms ? Json(ms_json(*t.idle_before_ms)) : Json(nullptr);
  // extras
  j["time"] = ended ? time_json(t.at) : Json(nullptr);
  j["initiator"] = ended ? side_json(t.initiator) : Json(nullptr);
  j["initiated_packet"] = ended ? packet_json(t.initiated_at) : Json(nullptr);
  j["initiated_by_rst"] = ended && t.initiated_by_rst;
  j["fin"] = Json{{"client", t.client_fin ? packet_json(t.client_fin_at) : Json(nullptr)},
                  {"server", t.server_fin ? packet_json(t.server_fin_at) : Json(nullptr)}};
  j["rst"] = Json{{"client", t.client_rst ? packet_json(t.client_rst_at) : Json(nullptr)},
                  {"server", t.server_rst ? packet_json(t.server_rst_at) : Json(nullptr)}};
  return j;
}

Json encap_layer_json(const EncapLayer& l) {
  Json j = Json::object();
  j["kind"] = to_string(l.kind);
  switch (l.kind) {
    case EncapKind::vxlan:
      j["vni"] = l.id;
      break;
    case EncapKind::geneve:
      j["vni"] = l.id;
      j["options_bytes"] = l.aux;
      break;
    case EncapKind::gre:
      j["key"] = l.has_id ? Json(l.id) : Json(nullptr);
      j["protocol"] = fmt::format("{:#06x}", l.aux);
      break;
    case EncapKind::erspan2:
    case EncapKind::erspan3:
      j["session"] = l.has_id ? Json(l.id) : Json(nullptr);
      break;
    case EncapKind::ip_in_ip:
      j["inner"] = l.inner_family == 6 ? "ipv6" : "ipv4";
      break;
    case EncapKind::gtpu:
      j["teid"] = l.id;
      break;
    case EncapKind::mpls:
      j["label"] = l.id;
      j["labels"] = l.aux;
      break;
    case EncapKind::pppoe:
      j["session"] = l.id;
      break;
    case EncapKind::none:
      break;
  }
  if (l.src.family != 0) {
    j["src"] = l.src.to_string();
    j["dst"] = l.dst.to_string();
  }
  j["text"] = encap_layer_text(l);
  return j;
}

Json tunnel_json(const diag::TunnelSummary& t) {
  Json j = Json::object();
  for (const auto* side : {&t.client, &t.server}) {
    Json layers = Json::array();
    for (std::size_t i = 0; i < side->encap.depth && i < Encap::kMaxLayers; ++i) {
      layers.push_back(encap_layer_json(side->encap.layers[i]));
    }
    j[side == &t.client ? "client" : "server"] =
        Json{{"packets", side->packets}, {"of", side->of}, {"layers", std::move(layers)}};
  }
  return j;
}

Json finding_json(const diag::Finding& f) {
  const auto& info = diag::rule_info(f.rule);
  Json j = Json::object();
  j["rule"] = info.name;
  j["severity"] = diag::to_string(info.severity);
  j["side"] = side_json(f.side);
  j["packet"] = packet_json(f.at);
  j["time"] = time_json(f.at);
  j["message"] = f.message;
  // extras
  j["count"] = f.count;
  j["spec"] = info.spec.empty() ? Json(nullptr) : Json(info.spec);
  j["title"] = info.title;
  return j;
}

Json verdict_json(const diag::Verdict& v) {
  Json j = Json::object();
  j["code"] = v.code ? Json(*v.code) : Json(nullptr);
  j["name"] = v.name;
  j["severity"] = diag::to_string(v.severity);
  j["side"] = side_json(v.side);
  j["summary"] = v.summary;
  j["cause"] = v.cause;
  j["advice"] = v.advice;
  return j;
}

std::string dump(const Json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace

Json cause_json(const diag::CauseMatch& m) {
  Json j = Json::object();
  j["id"] = m.id;
  j["confidence"] = diag::to_string(m.confidence);
  j["evidence"] = m.evidence;
  j["fix"] = m.fix;
  return j;
}

static Json pattern_json(const diag::Pattern& p) {
  Json j = Json::object();
  j["id"] = p.id;
  j["confidence"] = diag::to_string(p.confidence);
  j["summary"] = p.summary;
  j["members"] = p.members;
  j["first"] = iso8601_utc(p.first_ns);
  j["last"] = iso8601_utc(p.last_ns);
  j["fix"] = p.fix;
  return j;
}

Json patterns_json(const Report& r) {
  Json out = Json::array();
  for (const auto& p : r.patterns) out.push_back(pattern_json(p));
  return out;
}

// TLS facts (wss://): what the ClientHello/ServerHello said, key status, records and alerts.
static Json tls_json(const tls::TlsFacts& t) {
  auto alert = [](const tls::AlertFact& a) -> Json {
    if (!a.seen) return nullptr;
    Json j = Json::object();
    j["encrypted"] = a.encrypted;
    if (!a.encrypted) {
      j["level"] = a.level == 2 ? "fatal" : "warning";
      j["description"] = tls::alert_name(a.description);
    }
    j["record_len"] = a.record_len;
    j["packet"] = a.at.index;
    return j;
  };
  auto dir = [&](const tls::TlsDirFacts& d) {
    Json j = Json::object();
    j["records"] = d.records;
    j["app_records"] = d.app_records;
    j["app_bytes"] = d.app_bytes;
    j["plaintext_bytes"] = d.plaintext_bytes;
    j["last_record"] = d.last_record.index ? Json(Json{{"packet", d.last_record.index}, {"type", d.last_type},
                                                       {"len", d.last_len}})
                                           : Json(nullptr);
    j["alert"] = alert(d.alert);
    j["close_notify"] = d.close_notify;
    j["undecrypted_records"] = d.undecrypted_records;
    return j;
  };
  Json j = Json::object();
  j["version"] = t.version ? Json(tls::version_name(t.version)) : Json(nullptr);
  j["cipher"] = t.cipher ? Json(tls::cipher_name(t.cipher)) : Json(nullptr);
  j["sni"] = t.sni;
  j["alpn_offered"] = t.alpn_offered;
  j["alpn"] = t.alpn;
  j["keys"] = tls::to_string(t.keys);
  j["client_hello_packet"] = t.client_hello ? Json(t.client_hello_at.index) : Json(nullptr);
  j["server_hello_packet"] = t.server_hello ? Json(t.server_hello_at.index) : Json(nullptr);
  j["hello_retry"] = t.hello_retry;
  j["resumed"] = t.psk_accepted;
  j["midstream"] = t.midstream;
  j["client"] = dir(t.c2s);
  j["server"] = dir(t.s2c);
  return j;
}

Json to_json(const ConnReport& c) {
  const auto& s = c.summary;
  Json j = Json::object();
  j["id"] = s.id;
  j["client"] = s.client;
  j["server"] = s.server;
  j["websocket"] = s.websocket;
  j["start"] = iso8601_utc(s.first.ts_ns);
  j["end"] = iso8601_utc(s.last.ts_ns);
  j["first_packet"] = s.first.index;
  j["last_packet"] = s.last.index;
  // extras
  j["packets"] = s.packets;
  j["duration_ms"] = ms_json(ms_between(s.first, s.last));
  j["history"] = s.history;
  j["tcp_handshake_seen"] = s.tcp_handshake_seen;
  j["handshake_captured"] = s.handshake_captured;
  if (s.tunnel.any()) j["tunnel"] = tunnel_json(s.tunnel);  // extra, only when tunnelled

  j["handshake"] = handshake_json(s, c.verdict);
  j["frames"] = Json{{"client", s.c2s.frames}, {"server", s.s2c.frames}};
  j["messages"] = Json{{"client", s.c2s.messages}, {"server", s.s2c.messages}};
  j["traffic"] = Json{{"client", dir_json(s.c2s)}, {"server", dir_json(s.s2c)}};  // extra
  j["close"] = close_json(s);
  j["tcp_end"] = tcp_end_json(s);
  Json findings = Json::array();
  for (const auto& f : s.findings) findings.push_back(finding_json(f));
  j["findings"] = std::move(findings);
  j["redacted"] = c.redacted;  // extra: what redact.h hid in this connection
  j["verdict"] = verdict_json(c.verdict);
  if (c.cause) j["cause"] = cause_json(*c.cause);
  if (c.capture_point) {
    const auto& p = *c.capture_point;
    auto hops = [](int n) { return n < 0 ? Json(nullptr) : Json(n); };
    j["capture_point"] = Json{{"client_hops", hops(p.client_hops)}, {"server_hops", hops(p.server_hops)},
                              {"loopback", p.loopback}, {"proxy", p.proxy}, {"summary", p.line}};
  }
  if (s.tls) j["tls"] = tls_json(*s.tls);  // extra
  j["timeline"] = timeline_json(build_timeline(s));  // extra: the Markdown diagram's steps (timeline.h)
  return j;
}

namespace {

Json captures_json(const Report& r) {
  Json captures = Json::array();
  for (const auto& m : r.captures) {
    Json c = Json::object();
    c["file"] = m.file;
    c["link_type"] = m.link_type;
    c["packets"] = m.packets;
    c["bytes"] = m.bytes;
    c["truncated"] = m.truncated;
    c["first"] = m.packets != 0 ? Json(iso8601_utc(m.first_ts_ns)) : Json(nullptr);
    c["last"] = m.packets != 0 ? Json(iso8601_utc(m.last_ts_ns)) : Json(nullptr);
    captures.push_back(std::move(c));
  }
  return captures;
}

Json stats_json(const Report& r) {  // extra
  return Json{{"tcp_connections", r.stats.tcp_connections},
              {"tcp_segments", r.stats.tcp_segments},
              {"not_tcp", r.stats.not_tcp},
              {"malformed", r.stats.malformed},
              {"payload_truncated", r.stats.payload_truncated},
              {"connections_evicted", r.stats.connections_evicted}};
}

// `text` (a dump with 2-space indentation) as if it were nested `depth` levels deeper: every line
// but the first is indented by `depth` levels, so it can follow a key at that depth.
std::string indented(std::string_view text, int depth) {
  const std::string pad(static_cast<std::size_t>(depth) * 2, ' ');
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const auto end = nl == std::string_view::npos ? text.size() : nl + 1;
    if (pos != 0) out += pad;
    out.append(text.data() + pos, end - pos);
    pos = end;
  }
  return out;
}

void put_indented(std::FILE* out, std::string_view text, int depth) {
  const std::string s = indented(text, depth);
  std::fwrite(s.data(), 1, s.size(), out);
}

}  // namespace

void JsonTally::add(const ConnReport& c) {
  ++connections;
  if (c.summary.websocket) ++websocket;
  if (diag::tls_candidate(c.summary)) {
    ++tls_not_decrypted;
    ++tls_sni[c.summary.tls->sni];
  }
  ++by_verdict[verdict_key(c.verdict)];
  const auto sev = static_cast<std::size_t>(c.verdict.severity);
  if (sev < 3) ++by_severity[sev];
  std::vector<std::string_view> seen;
  for (const auto& f : c.summary.findings) {
    const std::string_view name = diag::rule_info(f.rule).name;
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    ++by_rule[std::string(name)];
  }
}

nlohmann::ordered_json JsonTally::summary_json(const Report& r) const {
  Json summary = Json::object();
  summary["connections"] = connections;
  summary["websocket"] = websocket;
  Json bv = Json::object();
  for (const auto& [k, n] : by_verdict) bv[k] = n;
  summary["by_verdict"] = std::move(bv);
  // extras
  summary["by_severity"] = Json{{"error", by_severity[2]},
                                {"warning", by_severity[1]},
                                {"info", by_severity[0]}};
  Json br = Json::object();
  for (const auto& [k, n] : by_rule) br[k] = n;
  summary["by_rule"] = std::move(br);
  summary["tcp_connections"] = r.stats.tcp_connections;
  summary["all"] = r.all;
  if (tls_not_decrypted != 0) {  // only when TLS connections were listed undecrypted
    Json sni = Json::object();
    for (const auto& [k, n] : tls_sni) sni[k] = n;
    summary["tls_not_decrypted"] = Json{{"connections", tls_not_decrypted}, {"by_sni", std::move(sni)}};
  }
  return summary;
}

Json to_json(const Report& r) {
  Json j = Json::object();
  j["schema"] = kSchema;
  j["tool"] = Json{{"name", "wsdiag"}, {"version", r.tool_version}};  // extra
  j["redaction"] = r.redaction;                                        // extra (redact.h)
  j["captures"] = captures_json(r);
  if (!r.patterns.empty()) j["patterns"] = patterns_json(r);  // only when the run shows one
  Json conns = Json::array();
  JsonTally tally;
  for (const auto& c : r.connections) {
    conns.push_back(to_json(c));
    tally.add(c);
  }
  j["connections"] = std::move(conns);
  j["summary"] = tally.summary_json(r);
  j["stats"] = stats_json(r);  // extra
  j["warnings"] = r.warnings;
  return j;
}

// ---------------------------------------------------------------------------------------------
// JsonDocument: the same document as dump(to_json(r), 2), built without holding the connections.

JsonDocument::JsonDocument() = default;

JsonDocument::~JsonDocument() {
  if (spill_ != nullptr) std::fclose(spill_);
}

namespace {
// Connection objects sit at depth 2 of the document ("connections": [ {...} ]).
constexpr int kConnDepth = 2;

// How a connection object's text opens: to_json() puts the id first.
std::string id_opening(std::uint64_t id) { return indented(fmt::format("{{\n  \"id\": {},", id), kConnDepth); }
}  // namespace

std::string JsonDocument::render(const ConnReport& c) { return indented(dump(to_json(c), 2), kConnDepth); }

bool JsonDocument::add(const ConnReport& c) { return add_rendered(c, render(c)); }

bool JsonDocument::add_rendered(const ConnReport& c, const std::string& text) {
  tally_.add(c);
  if (spill_ == nullptr) {
    spill_ = std::tmpfile();
    if (spill_ == nullptr) return false;
  }
  const long off = std::ftell(spill_);
  if (off < 0 || std::fwrite(text.data(), 1, text.size(), spill_) != text.size()) return false;
  index_.push_back(Entry{c.summary.id, c.summary.id, off, text.size()});
  return true;
}

void JsonDocument::renumber(const std::function<std::uint64_t(std::uint64_t)>& map) {
  for (auto& e : index_) e.id = map(e.id);
}

bool JsonDocument::write(std::FILE* out, const Report& meta) {
  std::stable_sort(index_.begin(), index_.end(),
                   [](const Entry& a, const Entry& b) { return a.id < b.id; });
  std::fputs("{\n  \"schema\": ", out);
  put_indented(out, dump(Json(kSchema), 2), 1);
  std::fputs(",\n  \"tool\": ", out);
  put_indented(out, dump(Json{{"name", "wsdiag"}, {"version", meta.tool_version}}, 2), 1);
  std::fputs(",\n  \"redaction\": ", out);
  put_indented(out, dump(Json(meta.redaction), 2), 1);
  std::fputs(",\n  \"captures\": ", out);
  put_indented(out, dump(captures_json(meta), 2), 1);
  if (!meta.patterns.empty()) {
    std::fputs(",\n  \"patterns\": ", out);
    put_indented(out, dump(patterns_json(meta), 2), 1);
  }
  std::fputs(",\n  \"connections\": ", out);
  bool ok = true;
  if (index_.empty()) {
    std::fputs("[]", out);
  } else {
    std::fputs("[\n", out);
    std::string buf;
    for (std::size_t i = 0; i < index_.size(); ++i) {
      const auto& e = index_[i];
      buf.resize(e.len);
      if (std::fseek(spill_, e.off, SEEK_SET) != 0 || std::fread(buf.data(), 1, e.len, spill_) != e.len) {
        ok = false;
        break;
      }
      if (e.id != e.text_id) {
        // Renumbered: the object opens with its id (to_json's first member).
        const std::string was = id_opening(e.text_id);
        if (buf.compare(0, was.size(), was) == 0) {
          buf.replace(0, was.size(), id_opening(e.id));
        } else {
          ok = false;
          break;
        }
      }
      std::fputs("    ", out);
      std::fwrite(buf.data(), 1, buf.size(), out);  // indented when spilled
      std::fputs(i + 1 < index_.size() ? ",\n" : "\n", out);
    }
    std::fputs("  ]", out);
  }
  std::fputs(",\n  \"summary\": ", out);
  put_indented(out, dump(tally_.summary_json(meta), 2), 1);
  std::fputs(",\n  \"stats\": ", out);
  put_indented(out, dump(stats_json(meta), 2), 1);
  std::fputs(",\n  \"warnings\": ", out);
  put_indented(out, dump(Json(meta.warnings), 2), 1);
  std::fputs("\n}\n", out);
  return ok;
}

void write_json(std::FILE* out, const Report& r) {
  JsonDocument doc;
  for (const auto& c : r.connections) doc.add(c);
  doc.write(out, r);
}

std::string json_line(const ConnReport& c) { return dump(to_json(c), -1); }

std::string pattern_json_line(const diag::Pattern& p) {
  Json j = Json::object();
  j["type"] = "pattern";
  j["pattern"] = pattern_json(p);
  return dump(j, -1);
}

void write_json_line(std::FILE* out, const ConnReport& c) {
  const std::string s = json_line(c);
  std::fwrite(s.data(), 1, s.size(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

}  // namespace wsdiag::report
