// wsdiag — Markdown report (GitHub-flavoured tables), to attach to a bug ticket (issue #13 §2):
// the verdicts (linked to the connections), the run's patterns, then each problem connection with
// a Mermaid sequence diagram (timeline.h), the healthy ones folded in a <details> table. The whole
// document stays under a size limit (a GitHub comment holds 65,536 characters): problem sections
// beyond it are summarised with their ids and how to see them. Every value is escaped with
// escape_markdown (escape_mermaid in diagrams), so wire bytes cannot break a table or inject markup.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "wsdiag/report/describe.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/text_util.h"
#include "wsdiag/report/timeline.h"
#include "wsdiag/diag/tls_verdict.h"

namespace wsdiag::report {

namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += "<br>";
    out += escape_markdown(l);
  }
  return out;
}

void row(std::string& out, std::string_view fact, std::string_view escaped_value) {
  fmt::format_to(std::back_inserter(out), "| {} | {} |\n", fact, escaped_value);
}

void connection_section(std::string& out, const ConnReport& c, std::span<const diag::Pattern> patterns) {
  const auto& s = c.summary;
  const auto& v = c.verdict;
  fmt::format_to(std::back_inserter(out), "### #{} {} → {}: {} ({})\n\n", s.id,
                 escape_markdown(s.client), escape_markdown(s.server),
                 escape_markdown(verdict_label(v, s)), diag::to_string(v.severity));
  if (!v.summary.empty()) fmt::format_to(std::back_inserter(out), "{}\n\n", escape_markdown(v.summary));
  if (!v.cause.empty()) {
    fmt::format_to(std::back_inserter(out), "**Cause.** {}\n\n", escape_markdown(v.cause));
  }
  if (!v.advice.empty()) {
    fmt::format_to(std::back_inserter(out), "**Advice.** {}\n\n", escape_markdown(v.advice));
  }

  out += "| fact | value |\n| --- | --- |\n";
  row(out, "client", escape_markdown(s.client));
  row(out, "server", escape_markdown(s.server));
  row(out, "start", iso8601_utc(s.first.ts_ns));
  row(out, "end", iso8601_utc(s.last.ts_ns));
  row(out, "packets", fmt::format("{} (#{} to #{})", s.packets, s.first.index, s.last.index));
  if (s.tunnel.any()) row(out, "tunnel", joined(describe_tunnel(s.tunnel)));
  row(out, "verdict code", v.code ? fmt::format("{}", *v.code) : std::string("none"));
  row(out, "caused by", escape_markdown(side_text(v.side)));
  if (c.cause) {
    row(out, "likely cause", escape_markdown(fmt::format("{} ({}): {}", c.cause->id,
                                                         diag::to_string(c.cause->confidence), c.cause->evidence)));
  }
  if (const diag::Pattern* g = pattern_of(patterns, s.id)) row(out, "pattern", escape_markdown(pattern_membership(*g)));
  if (c.capture_point) row(out, "capture point", escape_markdown(c.capture_point->line));
  row(out, "handshake", joined(describe_handshake(s, true)));
  const bool traffic = s.c2s.frames + s.s2c.frames != 0 || s.close.seen || s.handshake.ok;
  if (s.websocket && traffic) {
    row(out, "client traffic", escape_markdown(describe_direction(s.c2s, true)));
    row(out, "server traffic", escape_markdown(describe_direction(s.s2c, true)));
    row(out, "close", joined(describe_close(s)));
  }
  if (s.tls) row(out, "TLS", joined(describe_tls(s)));
  row(out, "TCP end", joined(describe_tcp_end(s, true)));
  row(out, "TCP history", s.history.empty() ? std::string("-") : escape_markdown(s.history));
  if (!c.redacted.empty()) {
    std::string hidden;
    for (const auto& what : c.redacted) hidden += (hidden.empty() ? "" : ", ") + what;
    row(out, "Redacted", escape_markdown(hidden));
  }
  out += '\n';

  if (s.findings.empty()) {
    out += "No findings.\n\n";
    return;
  }
  out += "#### Findings\n\n";
  out += "| severity | rule | side | packet | time | count | message | spec |\n";
  out += "| --- | --- | --- | ---: | --- | ---: | --- | --- |\n";
  for (const auto& f : s.findings) {
    const auto& info = diag::rule_info(f.rule);
    fmt::format_to(std::back_inserter(out), "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                   diag::to_string(info.severity), escape_markdown(info.name),
                   escape_markdown(side_text(f.side)),
                   f.at.index == 0 ? std::string("-") : fmt::format("{}", f.at.index),
                   f.at.index == 0 ? std::string("-") : iso8601_utc(f.at.ts_ns), f.count,
                   escape_markdown(f.message.empty() ? info.title : f.message),
                   info.spec.empty() ? std::string("-") : escape_markdown(info.spec));
  }
  out += '\n';
}

}  // namespace

bool is_problem(const ConnReport& c) {
  const auto& s = c.summary;
  if (!s.websocket && !diag::tls_candidate(s)) return false;  // --all: other TCP, listed with the healthy
  if (c.verdict.severity != diag::Severity::info) return true;
  if (!c.verdict.code || (*c.verdict.code != 1000 && *c.verdict.code != 1001)) return true;
  return std::any_of(s.findings.begin(), s.findings.end(), [](const diag::Finding& f) {
    return diag::rule_info(f.rule).severity != diag::Severity::info;
  });
}

namespace {

std::string anchor(std::uint64_t id) { return fmt::format("conn-{}", id); }

// "[#3](#conn-3)" when connection id has a section in the document, else "#3".
std::string conn_ref(std::uint64_t id, const std::set<std::uint64_t>& shown) {
  return shown.count(id) != 0 ? fmt::format("[#{}](#{})", id, anchor(id)) : fmt::format("#{}", id);
}

std::string id_list(const std::vector<std::uint64_t>& ids, const std::set<std::uint64_t>& shown, std::size_t cap) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < cap; ++i) out += (i ? " " : "") + conn_ref(ids[i], shown);
  if (ids.size() > cap) out += fmt::format(" and {} more", ids.size() - cap);
  return out;
}

// Rows of a table before the rest is summarised (verdict kinds, patterns, warnings, captures).
constexpr std::size_t kMaxRows = 40;
// Room kept for the notes (left-out problems, unlisted healthy connections, <details> framing).
constexpr std::size_t kNotesRoom = 3 * 1024;

void verdict_table(std::string& md, const Report& r, const std::set<std::uint64_t>& shown) {
  md += "## Verdicts\n\n";
  if (r.connections.empty()) {
    md += "No WebSocket connections found.\n\n";
    return;
  }
  struct Row {
    std::string label;
    diag::Severity severity;
    std::vector<std::uint64_t> ids;
  };
  std::map<std::pair<std::string, diag::Severity>, std::vector<std::uint64_t>> groups;
  for (const auto& c : r.connections) groups[{verdict_label(c.verdict, c.summary), c.verdict.severity}].push_back(c.summary.id);
  std::vector<Row> rows;
  for (auto& [k, ids] : groups) rows.push_back({k.first, k.second, std::move(ids)});
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::make_tuple(b.severity, b.ids.size()) < std::make_tuple(a.severity, a.ids.size());
  });
  md += "| verdict | severity | connections | ids |\n| --- | --- | ---: | --- |\n";
  for (std::size_t i = 0; i < rows.size() && i < kMaxRows; ++i) {
    const auto& row = rows[i];
    fmt::format_to(std::back_inserter(md), "| {} | {} | {} | {} |\n", escape_markdown(row.label),
                   diag::to_string(row.severity), row.ids.size(), id_list(row.ids, shown, 12));
  }
  if (rows.size() > kMaxRows) {
    fmt::format_to(std::back_inserter(md), "\n{} rarer verdicts not listed (see `--format table`).\n", rows.size() - kMaxRows);
  }
  md += '\n';
}

std::string problem_section(const ConnReport& c, std::span<const diag::Pattern> patterns) {
  std::string out = fmt::format("<a id=\"{}\"></a>\n\n", anchor(c.summary.id));
  connection_section(out, c, patterns);
  // The diagram follows the facts' heading, before the tables (timeline.h builds its steps).
  const auto t = build_timeline(c.summary);
  std::string diagram = "```mermaid\n" + mermaid_sequence(c.summary, t) + "```\n\n";
  const auto pos = out.find("| fact | value |");
  out.insert(pos == std::string::npos ? out.size() : pos, diagram);
  return out;
}

std::string healthy_row(const ConnReport& c) {
  const auto& s = c.summary;
  std::string hidden;
  for (const auto& what : c.redacted) hidden += (hidden.empty() ? "" : ", ") + what;
  return fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", s.id, escape_markdown(s.client), escape_markdown(s.server),
                     escape_markdown(s.handshake.path.empty() ? std::string("-") : s.handshake.path),
                     escape_markdown(verdict_label(c.verdict, s)),
                     format_duration_ms(ms_between(s.first, s.last)),
                     hidden.empty() ? std::string("-") : escape_markdown(hidden));
}

}  // namespace

void write_markdown(std::FILE* out, const Report& r) { write_markdown(out, r, kMarkdownLimit); }

void write_markdown(std::FILE* out, const Report& r, std::size_t limit) {
  std::vector<const ConnReport*> problems, healthy;
  // One connection (--conn, or a capture of one): its full section and diagram, whatever its verdict.
  const bool single = r.connections.size() == 1;
  for (const auto& c : r.connections) (single || is_problem(c) ? problems : healthy).push_back(&c);
  std::stable_sort(problems.begin(), problems.end(), [](const ConnReport* a, const ConnReport* b) {
    return a->verdict.severity > b->verdict.severity;  // errors first, then by id
  });

  const auto head = [&](const std::set<std::uint64_t>& shown) {
    std::string md = "# wsdiag report\n\n";
    std::uint64_t websocket = 0;
    for (const auto& c : r.connections) websocket += c.summary.websocket ? 1 : 0;
    fmt::format_to(std::back_inserter(md),
                   "Generated by wsdiag {}: {} WebSocket connection{} in {} capture{}; {} with a problem, {} "
                   "other.\n\n",
                   escape_markdown(r.tool_version), websocket, websocket == 1 ? "" : "s", r.captures.size(),
                   r.captures.size() == 1 ? "" : "s", problems.size(), healthy.size());
    for (std::size_t i = 0; i < r.warnings.size() && i < kMaxRows; ++i) {
      fmt::format_to(std::back_inserter(md), "> **Warning:** {}\n\n", escape_markdown(r.warnings[i]));
    }
    if (r.warnings.size() > kMaxRows) {
      fmt::format_to(std::back_inserter(md), "> {} more warnings (see the text or JSON report).\n\n",
                     r.warnings.size() - kMaxRows);
    }
    if (!r.redaction.empty()) fmt::format_to(std::back_inserter(md), "> {}\n\n", escape_markdown(r.redaction));
    verdict_table(md, r, shown);
    if (!r.patterns.empty()) {
      md += "## Patterns\n\nCauses that show across connections, largest group first.\n\n";
      md += "| pattern | confidence | what | connections | fix |\n| --- | --- | --- | --- | --- |\n";
      for (std::size_t i = 0; i < r.patterns.size() && i < kMaxRows; ++i) {
        const auto& p = r.patterns[i];
        fmt::format_to(std::back_inserter(md), "| {} | {} | {} | {} | {} |\n", p.id, diag::to_string(p.confidence),
                       escape_markdown(p.summary), id_list(p.members, shown, 20), escape_markdown(p.fix));
      }
      if (r.patterns.size() > kMaxRows) {
        fmt::format_to(std::back_inserter(md), "\n{} smaller patterns not listed (see the JSON report).\n",
                       r.patterns.size() - kMaxRows);
      }
      md += '\n';
    }
    return md;
  };
  std::string tail = "## Captures\n\n| file | link type | packets | bytes | first packet | last packet | truncated |\n"
                     "| --- | --- | ---: | ---: | --- | --- | --- |\n";
  for (std::size_t i = 0; i < r.captures.size() && i < kMaxRows; ++i) {
    const auto& m = r.captures[i];
    fmt::format_to(std::back_inserter(tail), "| {} | {} | {} | {} | {} | {} | {} |\n", escape_markdown(m.file),
                   escape_markdown(m.link_type), m.packets, m.bytes,
                   m.packets != 0 ? iso8601_utc(m.first_ts_ns) : std::string("-"),
                   m.packets != 0 ? iso8601_utc(m.last_ts_ns) : std::string("-"), m.truncated ? "yes" : "no");
  }
  if (r.captures.size() > kMaxRows) {
    fmt::format_to(std::back_inserter(tail), "\n{} more capture files.\n", r.captures.size() - kMaxRows);
  }

  // Problem sections, in order, while the document stays within `limit` with room kept for the
  // rest; the head is measured with every link in place (its longest form).
  std::set<std::uint64_t> all_shown;
  for (const auto* c : problems) all_shown.insert(c->summary.id);
  const std::size_t fixed = head(all_shown).size() + tail.size() + kNotesRoom;
  const std::size_t budget = limit > fixed ? limit - fixed : 0;
  std::vector<std::string> sections;
  std::set<std::uint64_t> shown;
  std::vector<std::uint64_t> left_out;
  std::size_t used = 0;
  for (const auto* c : problems) {
    if (!left_out.empty()) {
      left_out.push_back(c->summary.id);
      continue;
    }
    std::string sec = problem_section(*c, r.patterns);
    if (used + sec.size() > budget) {
      left_out.push_back(c->summary.id);
      continue;
    }
    used += sec.size();
    shown.insert(c->summary.id);
    sections.push_back(std::move(sec));
  }
  std::string md = head(shown);

  if (!problems.empty()) {
    md += single && !is_problem(*problems.front()) ? "## Connection\n\n" : "## Problem connections\n\n";
    for (const auto& sec : sections) md += sec;
    if (!left_out.empty()) {
      std::vector<std::uint64_t> sorted = left_out;
      std::sort(sorted.begin(), sorted.end());
      fmt::format_to(std::back_inserter(md),
                     "**{} more problem connection{} left out** to keep this report under {} characters: {}. "
                     "Show one with `wsdiag --format markdown --conn ID`, or some with `--only` (e.g. `--only "
                     "1006`, `--only error`).\n\n",
                     left_out.size(), left_out.size() == 1 ? "" : "s", limit, id_list(sorted, shown, 40));
    }
  }

  // The healthy (and, with --all, the other TCP) connections: one row each, folded, as room allows.
  if (!healthy.empty()) {
    const std::size_t room = limit > md.size() + tail.size() + kNotesRoom ? limit - md.size() - tail.size() - kNotesRoom : 0;
    std::string rows;
    std::size_t listed = 0;
    for (const auto* c : healthy) {
      std::string row = healthy_row(*c);
      if (rows.size() + row.size() > room) break;
      rows += row;
      ++listed;
    }
    fmt::format_to(std::back_inserter(md),
                   "## Other connections\n\n<details>\n<summary>{} connection{} closed cleanly or not WebSocket"
                   "</summary>\n\n| id | client | server | path | verdict | duration | Redacted |\n| ---: | --- | --- | --- | "
                   "--- | --- | --- |\n{}",
                   healthy.size(), healthy.size() == 1 ? "" : "s", rows);
    if (listed < healthy.size()) {
      fmt::format_to(std::back_inserter(md), "\n{} more not listed here; `--format table` lists every connection.\n",
                     healthy.size() - listed);
    }
    md += "\n</details>\n\n";
  }
  md += tail;
  // Nothing above can pass the limit unless the limit is smaller than the head itself.
  std::fwrite(md.data(), 1, md.size(), out);
}

}  // namespace wsdiag::report
