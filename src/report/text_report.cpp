// wsdiag — the terminal report: verdict table, one block per connection, a closing tally.
// Readable at 100 columns; ANSI colour only when asked (use_color); wire strings always escaped.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "wsdiag/report/describe.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/text_util.h"

namespace wsdiag::report {

using diag::Severity;

namespace {

constexpr const char* kBold = "1";
constexpr const char* kDim = "2";
constexpr std::size_t kLabelWidth = 9;               // "handshake"
constexpr std::size_t kIndent = 2 + kLabelWidth + 2;  // where field values start

const char* severity_sgr(Severity s) {
  switch (s) {
    case Severity::error: return "1;31";
    case Severity::warning: return "1;33";
    case Severity::info: return "32";
  }
  return "0";
}

class TextBuilder {
 public:
  explicit TextBuilder(const TextOptions& o)
      : o_(o), width_(o.width < 40 ? std::size_t{40} : static_cast<std::size_t>(o.width)) {}

  [[nodiscard]] std::string paint(std::string_view s, const char* sgr) const {
    if (!o_.color || s.empty()) return std::string(s);
    return fmt::format("\x1b[{}m{}\x1b[0m", sgr, s);
  }
  std::string& out() { return out_; }
  [[nodiscard]] std::size_t width() const { return width_; }

  void line(std::string_view s) {
    out_.append(s);
    out_ += '\n';
  }

  /// Prose wrapped at `indent` (already escaped, may contain colour).
  void wrapped(std::string_view first_prefix, std::string_view text, std::size_t indent) {
    const auto lines = wrap(text, indent, width_);
    bool first = true;
    for (const auto& l : lines) {
      if (first) {
        out_.append(first_prefix);
      } else {
        out_.append(indent, ' ');
      }
      line(l);
      first = false;
    }
    if (first && !first_prefix.empty()) line(first_prefix);
  }

  /// "  label      value" with every raw value line escaped and wrapped under the value column.
  void field(std::string_view label, const std::vector<std::string>& raw_lines) {
    std::string prefix = fmt::format("  {:<{}}  ", label, kLabelWidth);
    for (const auto& raw : raw_lines) {
      wrapped(prefix, escape_terminal(raw), kIndent);
      prefix.assign(kIndent, ' ');
    }
  }
  void field(std::string_view label, const std::string& raw) {
    field(label, std::vector<std::string>{raw});
  }

 private:
  const TextOptions& o_;
  std::size_t width_;
  std::string out_;
};

void findings_table(TextBuilder& b, const diag::ConnectionSummary& s) {
  if (s.findings.empty()) {
    b.field("findings", "none");
    return;
  }
  std::size_t rule_w = 0;
  std::size_t pkt_w = 0;
  bool counts = false;
  for (const auto& f : s.findings) {
    rule_w = std::max(rule_w, diag::rule_info(f.rule).name.size());
    pkt_w = std::max(pkt_w, fmt::formatted_size("#{}", f.at.index));
    counts = counts || f.count > 1;
  }
  std::size_t count_w = 0;
  if (counts) {
    for (const auto& f : s.findings) count_w = std::max(count_w, fmt::formatted_size("{}x", f.count));
  }
  bool first = true;
  for (const auto& f : s.findings) {
    const auto& info = diag::rule_info(f.rule);
    std::string row = first ? fmt::format("  {:<{}}  ", "findings", kLabelWidth)
                            : std::string(kIndent, ' ');
    first = false;
    row += b.paint(fmt::format("{:<7}", diag::to_string(info.severity)),
                   severity_sgr(info.severity));
    row += fmt::format("  {:<{}}  {:<6}  {:<{}}", info.name, rule_w, side_text(f.side),
                       f.at.index == 0 ? std::string("-") : fmt::format("#{}", f.at.index), pkt_w);
    if (counts) {
      row += fmt::format("  {:>{}}", f.count > 1 ? fmt::format("{}x", f.count) : std::string(),
                         count_w);
    }
    row += "  ";
    std::string text = escape_terminal(f.message.empty() ? info.title : f.message);
    if (!info.spec.empty()) text += fmt::format(" ({})", info.spec);
    const std::size_t used = display_width(row);
    if (used + 30 <= b.width()) {
      b.wrapped(row, text, used);
    } else {
      b.line(row);
      b.wrapped(std::string(kIndent + 2, ' '), text, kIndent + 2);
    }
  }
}

void rule_explanations(TextBuilder& b, const diag::ConnectionSummary& s) {
  std::set<diag::RuleId> done;
  bool first = true;
  for (const auto& f : s.findings) {
    if (!done.insert(f.rule).second) continue;
    const auto& info = diag::rule_info(f.rule);
    std::string head = fmt::format("{}", info.name);
    if (!info.spec.empty()) head += fmt::format(" ({})", info.spec);
    if (!info.title.empty()) head += fmt::format(": {}", info.title);
    const std::string prefix =
        first ? fmt::format("  {:<{}}  ", "rules", kLabelWidth) : std::string(kIndent, ' ');
    first = false;
    b.wrapped(prefix, b.paint(escape_terminal(head), kBold), kIndent);
    if (!info.cause.empty()) {
      b.wrapped(std::string(kIndent + 2, ' '), "cause: " + escape_terminal(info.cause), kIndent + 2);
    }
    if (!info.advice.empty()) {
      b.wrapped(std::string(kIndent + 2, ' '), "advice: " + escape_terminal(info.advice),
                kIndent + 2);
    }
  }
}

void connection_block(TextBuilder& b, const ConnReport& c, bool detail,
                      std::span<const diag::Pattern> patterns = {}) {
  const auto& s = c.summary;
  const auto& v = c.verdict;
  const char* sgr = severity_sgr(v.severity);
  b.line(fmt::format("{}  {} -> {}  {}  {}", b.paint(fmt::format("#{}", s.id), kBold),
                     escape_terminal(s.client), escape_terminal(s.server),
                     b.paint(escape_terminal(verdict_label(v, s)), sgr),
                     b.paint(fmt::format("[{}]", diag::to_string(v.severity)), sgr)));
  if (!v.summary.empty()) b.wrapped("  ", escape_terminal(v.summary), 2);
  if (c.cause) {
    b.field("why", fmt::format("{} ({}): {}", c.cause->id, diag::to_string(c.cause->confidence), c.cause->evidence));
  }
  if (const diag::Pattern* g = pattern_of(patterns, s.id)) {
    b.field("pattern", pattern_membership(*g));
  }
  if (c.capture_point) b.field("captured", c.capture_point->line);
  if (!v.cause.empty()) b.field("cause", v.cause);
  if (!v.advice.empty()) b.field("advice", v.advice);

  const double dur = ms_between(s.first, s.last);
  const std::string packets = fmt::format("{} packet{} (#{}-#{})", s.packets,
                                          s.packets == 1 ? "" : "s", s.first.index, s.last.index);
  if (detail) {
    b.field("time", {fmt::format("{} to {} ({})", iso8601_utc(s.first.ts_ns),
                                 iso8601_utc(s.last.ts_ns), format_duration_ms(dur)),
                     packets});
  } else {
    b.field("time", fmt::format("{}, lasted {}, {}", iso8601_utc(s.first.ts_ns),
                                format_duration_ms(dur), packets));
  }
  if (s.tunnel.any()) b.field("tunnel", describe_tunnel(s.tunnel));
  b.field("handshake", describe_handshake(s, detail));
  // After a failed handshake there is no WebSocket traffic to describe.
  const bool traffic = s.c2s.frames + s.s2c.frames != 0 || s.close.seen || s.handshake.ok;
  if (s.websocket && (traffic || detail)) {
    b.field("client", describe_direction(s.c2s, detail));
    b.field("server", describe_direction(s.s2c, detail));
    b.field("close", describe_close(s));
  }
  if (s.tls) b.field("tls", describe_tls(s));
  b.field("tcp end", describe_tcp_end(s, detail));
  findings_table(b, s);
  std::string hist = s.history.empty() ? std::string("-") : s.history;
  if (detail) {
    hist += s.tcp_handshake_seen ? " (client SYN captured)" : " (no SYN captured)";
  }
  b.field("history", hist);
  if (const std::string filter = wireshark_filter(s); !filter.empty()) b.field("wireshark", filter);
  if (!c.redacted.empty()) {
    std::string hidden;
    for (const auto& what : c.redacted) hidden += (hidden.empty() ? "" : ", ") + what;
    b.field("redacted", hidden + "; --no-redact shows them");
  }
  if (detail) {
    rule_explanations(b, s);
    const auto events = timeline_lines(s);
    std::size_t pkt_w = 0;
    for (const auto& e : events) pkt_w = std::max(pkt_w, fmt::formatted_size("#{}", e.at.index));
    bool first = true;
    for (const auto& e : events) {
      std::string prefix = first ? fmt::format("  {:<{}}  ", "timeline", kLabelWidth)
                                 : std::string(kIndent, ' ');
      first = false;
      prefix += fmt::format("{:<{}}  {:>10}  ", fmt::format("#{}", e.at.index), pkt_w,
                            "+" + format_duration_ms(e.offset_ms));
      b.wrapped(prefix, escape_terminal(e.what), display_width(prefix));
    }
  }
}

struct VerdictRow {
  std::string label;
  Severity severity;
  std::uint64_t count = 0;
};

std::vector<VerdictRow> verdict_rows(const Report& r) {
  std::map<std::pair<std::string, Severity>, std::uint64_t> counts;
  for (const auto& c : r.connections) ++counts[{verdict_label(c.verdict, c.summary), c.verdict.severity}];
  std::vector<VerdictRow> rows;
  for (const auto& [k, n] : counts) rows.push_back({k.first, k.second, n});
  std::stable_sort(rows.begin(), rows.end(), [](const VerdictRow& a, const VerdictRow& b) {
    return std::tie(b.severity, b.count) < std::tie(a.severity, a.count);
  });
  return rows;
}

std::string capture_line(const CaptureMeta& m) {
  std::string s = fmt::format("{}: {}, {} packet{}, {}", m.file,
                              m.link_type.empty() ? std::string("unknown link type") : m.link_type,
                              m.packets, m.packets == 1 ? "" : "s", human_bytes(m.bytes));
  if (m.packets != 0) {
    s += fmt::format(", {} to {} ({})", iso8601_utc(m.first_ts_ns), iso8601_utc(m.last_ts_ns),
                     format_duration_ms(ns_to_ms(m.last_ts_ns - m.first_ts_ns)));
  }
  if (m.truncated) s += ", file ends mid-record";
  return s;
}

// One run-level group: id, confidence, what it is, when, its members and the fix.
void pattern_block(TextBuilder& b, const diag::Pattern& p, std::string_view indent) {
  std::string ids;
  for (std::size_t i = 0; i < p.members.size(); ++i) ids += fmt::format("{}#{}", i ? " " : "", p.members[i]);
  b.wrapped(indent, escape_terminal(fmt::format("{} ({}): {}, {} to {}. Connections: {}. Fix: {}", p.id,
                                                diag::to_string(p.confidence), p.summary, iso8601_utc(p.first_ns),
                                                iso8601_utc(p.last_ns), ids, p.fix)),
            indent.size() + 2);
}

}  // namespace

std::string format_pattern_text(const diag::Pattern& p, const TextOptions& o) {
  TextBuilder b(o);
  pattern_block(b, p, "pattern ");
  return std::move(b.out());
}

std::string format_connection_text(const ConnReport& c, const TextOptions& o) {
  TextBuilder b(o);
  connection_block(b, c, o.detail);
  return std::move(b.out());
}

void write_text(std::FILE* out, const Report& r, const TextOptions& o) {
  TextBuilder b(o);
  std::uint64_t packets = 0;
  for (const auto& m : r.captures) packets += m.packets;
  std::uint64_t websocket = 0;
  for (const auto& c : r.connections) websocket += c.summary.websocket ? 1 : 0;

  std::string title = fmt::format("wsdiag {}: {} WebSocket connection{}", r.tool_version, websocket,
                                  websocket == 1 ? "" : "s");
  if (r.connections.size() != websocket) title += fmt::format(" ({} listed)", r.connections.size());
  title += fmt::format(" in {} capture{}, {} packets", r.captures.size(),
                       r.captures.size() == 1 ? "" : "s", packets);
  b.line(b.paint(title, kBold));
  for (const auto& m : r.captures) b.wrapped("  ", escape_terminal(capture_line(m)), 4);
  for (const auto& w : r.warnings) {
    b.wrapped("  " + b.paint("warning:", severity_sgr(Severity::warning)) + " ", escape_terminal(w),
              11);
  }
  if (!r.redaction.empty()) b.wrapped("  ", r.redaction, 4);
  b.line("");

  if (r.connections.empty()) {
    b.line("No WebSocket connections found.");
    if (r.stats.tcp_connections != 0) {
      b.wrapped("", fmt::format("{} TCP connection{} carried no WebSocket handshake. If the "
                                "handshake happened before the capture started, try --ws-port "
                                "PORT; --all lists every TCP connection.",
                                r.stats.tcp_connections, r.stats.tcp_connections == 1 ? "" : "s"),
                0);
    }
    const std::string s = std::move(b.out());
    std::fwrite(s.data(), 1, s.size(), out);
    return;
  }

  const auto rows = verdict_rows(r);
  std::size_t label_w = 7;  // "verdict"
  for (const auto& row : rows) label_w = std::max(label_w, display_width(escape_terminal(row.label)));
  b.line(b.paint(fmt::format("  {:<{}}  {:>11}  {}", "verdict", label_w, "connections", "severity"),
                 kDim));
  for (const auto& row : rows) {
    const std::string label = escape_terminal(row.label);
    const std::size_t pad = label_w - display_width(label);
    b.line(fmt::format("  {}{}  {:>11}  {}", label, std::string(pad, ' '), row.count,
                       b.paint(diag::to_string(row.severity), severity_sgr(row.severity))));
  }

  if (r.connections.size() > 1) {
    // The same verdict on the same server, path and cause: one line each, with the connection ids.
    const auto groups = group_connections(r);
    if (groups.size() < r.connections.size()) {
      b.line("");
      b.line(b.paint("groups (verdict, server, path, cause)", kBold));
      for (const auto& g : group_lines(groups, 20)) b.wrapped("  ", g, 4);
    }
  }

  if (!r.patterns.empty()) {
    b.line("");
    b.line(b.paint("patterns (causes that show across connections)", kBold));
    for (const auto& p : r.patterns) pattern_block(b, p, "  ");
  }

  for (const auto& c : r.connections) {
    b.line("");
    connection_block(b, c, o.detail, r.patterns);
    if (b.out().size() >= (std::size_t{1} << 20)) {
      // Written as it goes: a report of a million connections is not also held as one string.
      std::fwrite(b.out().data(), 1, b.out().size(), out);
      b.out().clear();
    }
  }

  std::uint64_t sev[3] = {0, 0, 0};
  for (const auto& c : r.connections) {
    const auto i = static_cast<std::size_t>(c.verdict.severity);
    if (i < 3) ++sev[i];
  }
  std::string tally;
  const auto add = [&](std::uint64_t n, Severity s, const char* word) {
    if (n == 0) return;
    if (!tally.empty()) tally += ", ";
    tally += b.paint(fmt::format("{} {}", n, word), severity_sgr(s));
  };
  add(sev[2], Severity::error, "error");
  add(sev[1], Severity::warning, "warning");
  add(sev[0], Severity::info, "info");
  b.line("");
  b.line(fmt::format("{} connection{}: {}", r.connections.size(),
                     r.connections.size() == 1 ? "" : "s", tally));
  TlsTally tls;
  for (const auto& c : r.connections) tls.add(c.summary);
  if (const std::string l = tls.line(); !l.empty()) b.wrapped("", l, 0);
  const std::string s = std::move(b.out());
  std::fwrite(s.data(), 1, s.size(), out);
}

}  // namespace wsdiag::report
