// wsdiag — JSON report, schema "wsdiag.report/1" (CLI.md `--format json` / `jsonl`): the document
// around the connection objects (json_connection.cpp writes those), the summary tally, the spill.
#include <fmt/format.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "json_spill.h"
#include "json_writer.h"
#include "wsdiag/report/describe.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/timeline.h"

#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/report/text_util.h"

namespace wsdiag::report {

using Json = nlohmann::ordered_json;
using diag::Side;

namespace {

std::string dump(const Json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace

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

// A tree of the connection object, parsed from its text (tests and API users; the writers use
// write_connection_json directly).
Json to_json(const ConnReport& c) { return Json::parse(json_line(c)); }

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

namespace {
// Connection objects sit at depth 2 of the document ("connections": [ {...} ]).
constexpr int kConnDepth = 2;
// Every stored object starts with the separator and indentation before it in the array; the
// first one printed skips the comma.
constexpr std::string_view kSeparator = ",\n    ";
constexpr std::size_t kWaitingOverhead = 64;  // a map node and its string, roughly

// How a connection object's text opens: to_json() puts the id first.
std::string id_opening(std::uint64_t id) {
  return fmt::format("{}{{\n      \"id\": {},", kSeparator, id);
}
}  // namespace

struct JsonDocument::Stream {
  explicit Stream(std::size_t budget) : store(std::make_unique<SpillStore>(budget)) {}
  std::unique_ptr<SpillStore> store;
  std::uint64_t next = 1;                    ///< the next provisional id in order
  std::map<std::uint64_t, Waiting> waiting;  ///< ended before `next`, by id
  std::size_t waiting_bytes = 0;
};

JsonDocument::JsonDocument(std::size_t memory_budget, unsigned streams) : budget_(memory_budget) {
  const unsigned n = std::max(1u, streams);
  const std::size_t each = memory_budget / n / 2;  // half for the stores, half for waiting objects
  for (unsigned k = 0; k < n; ++k) {
    streams_.emplace_back(each);
    streams_.back().next = k + 1;
  }
}

JsonDocument::~JsonDocument() = default;

void JsonDocument::render(std::string& out, const ConnReport& c) {
  out.clear();
  out.append(kSeparator);
  write_connection_json(out, c, true, kConnDepth);
}

bool JsonDocument::add(const ConnReport& c) {
  static thread_local std::string buf;
  render(buf, c);
  return add_rendered(c, buf);
}

bool JsonDocument::store(Stream& st, std::uint64_t id, std::string_view text) {
  const auto k = static_cast<std::uint32_t>(&st - streams_.data());
  const std::uint64_t off = st.store->size();
  if (text.size() > UINT32_MAX || !st.store->append(text)) return false;
  index_.push_back(Entry{id, id, off, static_cast<std::uint32_t>(text.size()), k});
  return true;
}

// Stores the waiting objects that are now next in order.
bool JsonDocument::drain(Stream& st) {
  const auto n = static_cast<std::uint64_t>(streams_.size());
  bool ok = true;
  while (!st.waiting.empty() && st.waiting.begin()->first == st.next) {
    auto node = st.waiting.extract(st.waiting.begin());
    Waiting& w = node.mapped();
    st.waiting_bytes -= w.text.size() + kWaitingOverhead;
    if (!w.text.empty() && !store(st, w.id, w.text)) ok = false;
    st.next += n;
  }
  return ok;
}

// Stores every waiting object, in id order, without waiting for the missing ids before them.
bool JsonDocument::stop_waiting(Stream& st) {
  bool ok = true;
  while (!st.waiting.empty()) {
    st.next = st.waiting.begin()->first;
    ok = drain(st) && ok;
  }
  if (!ok) failed_ = true;
  return ok;
}

bool JsonDocument::add_rendered(const ConnReport& c, std::string_view text) {
  tally_.add(c);
  const std::uint64_t id = c.summary.id;
  const auto n = static_cast<std::uint64_t>(streams_.size());
  Stream& st = streams_[static_cast<std::size_t>((id - 1) % n)];
  if (id < st.next) return store(st, id, text);  // after its stream gave up waiting for it
  if (id > st.next) {
    st.waiting_bytes += text.size() + kWaitingOverhead;
    st.waiting[id] = Waiting{id, std::string(text)};
    if (st.waiting_bytes <= budget_ / n / 2) return true;
    // Over the budget: stop waiting for the ids before the first waiting one.
    st.next = st.waiting.begin()->first;
    return drain(st);
  }
  const bool ok = store(st, id, text);
  st.next += n;
  return drain(st) && ok;
}

bool JsonDocument::skip(std::uint64_t id) {
  if (id == 0) return true;
  const auto n = static_cast<std::uint64_t>(streams_.size());
  Stream& st = streams_[static_cast<std::size_t>((id - 1) % n)];
  if (id < st.next) return true;
  if (id > st.next) {
    st.waiting_bytes += kWaitingOverhead;
    st.waiting[id] = Waiting{id, std::string()};
    if (st.waiting_bytes <= budget_ / n / 2) return true;
    st.next = st.waiting.begin()->first;
  } else {
    st.next += n;
  }
  return drain(st);
}

void JsonDocument::renumber(const std::function<std::uint64_t(std::uint64_t)>& map) {
  for (auto& st : streams_) stop_waiting(st);  // what still waits is stored under its old id
  for (auto& e : index_) e.id = map(e.id);
}

bool JsonDocument::write(std::FILE* out, const Report& meta) {
  bool ok = !failed_;
  for (auto& st : streams_) ok = stop_waiting(st) && ok;
  // Objects stored in id order need no sort, the usual case with one thread.
  if (!std::is_sorted(index_.begin(), index_.end(), [](const Entry& a, const Entry& b) { return a.id < b.id; })) {
    std::stable_sort(index_.begin(), index_.end(), [](const Entry& a, const Entry& b) { return a.id < b.id; });
  }
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
  if (index_.empty()) {
    std::fputs("[]", out);
  } else {
    std::fputc('[', out);
    // Runs of objects that lie one after another in the same store, under their own ids, are
    // copied as one range.
    std::size_t i = 0;
    while (ok && i < index_.size()) {
      const Entry& first = index_[i];
      SpillStore& store = *streams_[first.stream].store;
      const std::uint64_t skip = i == 0 ? 1 : 0;  // the first object has no comma before it
      if (first.id != first.text_id) {
        // Renumbered: the object opens with its id (to_json's first member).
        const std::string_view text = store.read(first.off, first.len);
        const std::string was = id_opening(first.text_id);
        if (text.size() != first.len || text.substr(0, was.size()) != was) {
          ok = false;
          break;
        }
        const std::string now = id_opening(first.id);
        std::fwrite(now.data() + skip, 1, now.size() - skip, out);
        std::fwrite(text.data() + was.size(), 1, text.size() - was.size(), out);
        ++i;
        continue;
      }
      std::uint64_t end = first.off + first.len;
      std::size_t j = i + 1;
      while (j < index_.size() && index_[j].stream == first.stream && index_[j].off == end &&
             index_[j].id == index_[j].text_id) {
        end += index_[j].len;
        ++j;
      }
      if (!store.copy_to(out, first.off + skip, end - first.off - skip)) ok = false;
      i = j;
    }
    std::fputs("\n  ]", out);
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

std::string json_line(const ConnReport& c) {
  std::string out;
  out.reserve(2048);
  write_connection_json(out, c, false, 0);
  return out;
}

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
