// wsdiag — a way through big captures (issue #13 §3): `--format table` (a line per connection),
// the groups of connections with the same verdict, server, path and cause, and the Wireshark
// display filter of a connection.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <tuple>

#include "wsdiag/report/describe.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/text_util.h"

namespace wsdiag::report {

namespace {

// Cuts `s` (already escaped) to `width` columns, ending with "…" when cut.
std::string fit(const std::string& s, std::size_t width) {
  if (display_width(s) <= width) return s;
  std::string out;
  std::size_t cols = 0, i = 0;
  while (i < s.size() && cols + 1 < width) {
    const std::size_t len = std::max<std::size_t>(1, utf8_sequence_length(std::string_view(s).substr(i)));
    out.append(s, i, len);
    i += len;
    ++cols;
  }
  return out + "…";
}

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

std::string duration_of(const diag::ConnectionSummary& s) {
  return format_duration_ms(ms_between(s.first, s.last));
}

// Splits "ip:port" / "[v6]:port" into address and port; false if it is neither.
bool split_endpoint(std::string_view ep, std::string& addr, std::string& port) {
  const auto colon = ep.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= ep.size()) return false;
  port = std::string(ep.substr(colon + 1));
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  std::string_view a = ep.substr(0, colon);
  if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  addr = std::string(a);
  return !addr.empty();
}

bool is_ip(const std::string& a, bool& v6) {
  v6 = a.find(':') != std::string::npos;
  return std::all_of(a.begin(), a.end(), [v6](char c) {
    return (c >= '0' && c <= '9') || c == '.' || (v6 && (c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
  });
}

}  // namespace

std::string wireshark_filter(const diag::ConnectionSummary& s) {
  std::string ca, cp, sa, sp;
  if (!split_endpoint(s.client, ca, cp) || !split_endpoint(s.server, sa, sp)) return "";
  std::string ports = cp == sp ? fmt::format("tcp.port=={}", cp) : fmt::format("tcp.port=={} && tcp.port=={}", cp, sp);
  bool cv6 = false, sv6 = false;
  if (!is_ip(ca, cv6) || !is_ip(sa, sv6) || cv6 != sv6) return ports;  // pseudonyms (--anonymize): ports only
  const char* field = cv6 ? "ipv6.addr" : "ip.addr";
  if (ca == sa) return fmt::format("{}=={} && {}", field, ca, ports);
  return fmt::format("{}=={} && {}=={} && {}", field, ca, field, sa, ports);
}

std::vector<ConnGroup> group_connections(const Report& r) {
  std::map<std::tuple<std::string, int, std::string, std::string, std::string>, ConnGroup> groups;
  for (const auto& c : r.connections) {
    const auto& s = c.summary;
    const std::string label = verdict_label(c.verdict, s);
    const std::string cause = c.cause ? std::string(c.cause->id) : std::string();
    auto& g = groups[{label, static_cast<int>(c.verdict.severity), s.server, s.handshake.path, cause}];
    if (g.ids.empty()) {
      g.verdict = label;
      g.severity = c.verdict.severity;
      g.server = s.server;
      g.path = s.handshake.path;
      g.cause = cause;
    }
    g.ids.push_back(s.id);
  }
  std::vector<ConnGroup> out;
  out.reserve(groups.size());
  for (auto& [k, g] : groups) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(), [](const ConnGroup& a, const ConnGroup& b) {
    return std::make_tuple(b.severity, b.ids.size()) < std::make_tuple(a.severity, a.ids.size());
  });
  return out;
}

std::vector<std::string> group_lines(const std::vector<ConnGroup>& groups, std::size_t max_ids) {
  std::size_t wv = 0, ws = 0, wp = 0, wc = 0;
  std::vector<std::array<std::string, 4>> cells;
  for (const auto& g : groups) {
    cells.push_back({escape_terminal(g.verdict), escape_terminal(g.server),
                     fit(escape_terminal(g.path.empty() ? std::string("-") : g.path), 40),
                     g.cause.empty() ? std::string("-") : escape_terminal(g.cause)});
    wv = std::max(wv, display_width(cells.back()[0]));
    ws = std::max(ws, display_width(cells.back()[1]));
    wp = std::max(wp, display_width(cells.back()[2]));
    wc = std::max(wc, display_width(cells.back()[3]));
  }
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto& g = groups[i];
    std::string ids;
    for (std::size_t k = 0; k < g.ids.size() && k < max_ids; ++k) ids += fmt::format("{}#{}", k ? " " : "", g.ids[k]);
    if (g.ids.size() > max_ids) ids += fmt::format(" and {} more", g.ids.size() - max_ids);
    lines.push_back(fmt::format("{}  {}  {}  {}  x{}: {}", pad(cells[i][0], wv), pad(cells[i][1], ws),
                                pad(cells[i][2], wp), pad(cells[i][3], wc), g.ids.size(), ids));
  }
  return lines;
}

void write_table(std::FILE* out, const Report& r) {
  static constexpr std::array<const char*, 9> kHead = {"id", "client", "server", "path", "verdict",
                                                       "side", "duration", "idle-end", "cause"};
  std::vector<std::array<std::string, 9>> rows;
  rows.reserve(r.connections.size());
  for (const auto& c : r.connections) {
    const auto& s = c.summary;
    rows.push_back({fmt::format("{}", s.id), escape_terminal(s.client), escape_terminal(s.server),
                    fit(escape_terminal(s.handshake.path.empty() ? std::string("-") : s.handshake.path), 40),
                    escape_terminal(verdict_label(c.verdict, s)), side_text(c.verdict.side), duration_of(s),
                    s.tcp_end.idle_before_ms ? format_duration_ms(*s.tcp_end.idle_before_ms) : std::string("-"),
                    c.cause ? std::string(c.cause->id) : std::string("-")});
  }
  std::array<std::size_t, 9> w{};
  for (std::size_t i = 0; i < kHead.size(); ++i) w[i] = display_width(kHead[i]);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], display_width(row[i]));
  }
  std::string text;
  const auto line = [&](const auto& cells) {
    std::string l;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string cell = cells[i];
      // numbers right-aligned (id, duration, idle), the rest left
      const bool right = i == 0 || i == 6 || i == 7;
      const std::size_t fill = w[i] - std::min(w[i], display_width(cell));
      if (right) l += std::string(fill, ' ') + cell;
      else l += i + 1 == cells.size() ? cell : cell + std::string(fill, ' ');
      if (i + 1 != cells.size()) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    text += l + '\n';
  };
  line(kHead);
  for (const auto& row : rows) line(row);
  if (rows.empty()) text += "(no WebSocket connections)\n";
  const auto groups = group_connections(r);
  if (!groups.empty()) {
    text += fmt::format("\n{} group{} (verdict, server, path, cause):\n", groups.size(), groups.size() == 1 ? "" : "s");
    for (const auto& g : group_lines(groups, 20)) text += "  " + g + '\n';
  }
  std::fwrite(text.data(), 1, text.size(), out);
}

}  // namespace wsdiag::report
