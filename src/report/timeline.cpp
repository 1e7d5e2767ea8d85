// wsdiag — a connection's timeline (timeline.h): built once, drawn as Mermaid and listed in JSON.
#include "wsdiag/report/timeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "wsdiag/report/describe.h"
#include "wsdiag/report/text_util.h"

namespace wsdiag::report {

using diag::Side;
using diag::WireEvent;
using diag::WireEventKind;

const char* to_string(StepKind k) noexcept {
  switch (k) {
    case StepKind::syn: return "syn";
    case StepKind::request: return "request";
    case StepKind::response: return "response";
    case StepKind::messages: return "messages";
    case StepKind::ping: return "ping";
    case StepKind::pong: return "pong";
    case StepKind::close: return "close";
    case StepKind::fin: return "fin";
    case StepKind::rst: return "rst";
    case StepKind::capture_end: return "capture_end";
  }
  return "messages";
}

namespace {


// Totals of the traffic counters at some point of the connection.
struct Counts {
  std::uint64_t messages[2] = {0, 0};
  std::uint64_t pings_pongs = 0;
};

Counts counts_of(const WireEvent& e) {
  Counts c;
  c.messages[0] = e.messages[0];
  c.messages[1] = e.messages[1];
  c.pings_pongs = e.pings[0] + e.pings[1] + e.pongs[0] + e.pongs[1];
  return c;
}

Counts totals_of(const diag::ConnectionSummary& s) {
  Counts c;
  c.messages[0] = s.c2s.messages;
  c.messages[1] = s.s2c.messages;
  c.pings_pongs = s.c2s.pings + s.s2c.pings + s.c2s.pongs + s.s2c.pongs;
  return c;
}

// Each side's first FIN and RST, from the TCP facts (the flow layer's, which every report shares).
void add_missing_tcp_ends(const diag::ConnectionSummary& s, std::vector<WireEvent>& ev) {
  const auto& t = s.tcp_end;
  const auto add = [&](bool seen, WireEventKind kind, Side by, PacketRef at) {
    if (!seen || at.index == 0) return;
    for (const auto& e : ev) {
      if (e.kind == kind && e.by == by) return;
    }
    WireEvent e;
    e.kind = kind;
    e.by = by;
    e.at = at;
    ev.push_back(e);
  };
  add(t.client_fin, WireEventKind::fin, Side::client, t.client_fin_at);
  add(t.server_fin, WireEventKind::fin, Side::server, t.server_fin_at);
  add(t.client_rst, WireEventKind::rst, Side::client, t.client_rst_at);
  add(t.server_rst, WireEventKind::rst, Side::server, t.server_rst_at);
}

std::string close_text(const diag::ConnectionSummary& s, const WireEvent& e) {
  std::string text = "Close";
  text += e.code ? " " + close_code_text(*e.code) : std::string(" (no code)");
  // The reason is known for the first Close (the summary keeps it); an echo shows its code only.
  if (s.close.seen && s.close.at == e.at && !s.close.reason.empty()) text += fmt::format(" \"{}\"", s.close.reason);
  return text;
}

}  // namespace

Timeline build_timeline(const diag::ConnectionSummary& s) {
  Timeline t;
  t.handshake_captured = s.handshake_captured;
  const auto push = [&](TimelineStep st) {
    st.offset_ms = offset_ms(s, st.at);
    if (!t.steps.empty() && st.kind != StepKind::messages) {
      st.idle_before_ms = std::max(0.0, st.offset_ms - t.steps.back().offset_ms);
    }
    t.steps.push_back(std::move(st));
  };
  if (s.tcp_handshake_seen && s.first.index != 0) push({StepKind::syn, Side::client, s.first, 0, {}, "SYN"});
  const auto& h = s.handshake;
  if (h.request_seen) {
    push({StepKind::request, Side::client, h.request_at, 0, {},
          fmt::format("{} {}", h.method.empty() ? std::string("GET") : h.method, h.path)});
  }
  if (h.response_seen) {
    std::string text = h.status ? fmt::format("{}", *h.status) : std::string("response");
    if (!h.reason_phrase.empty()) text += " " + h.reason_phrase;
    push({StepKind::response, Side::server, h.response_at, 0, {}, std::move(text)});
  }

  std::vector<WireEvent> ev = s.events.kept;
  add_missing_tcp_ends(s, ev);
  std::stable_sort(ev.begin(), ev.end(), [](const WireEvent& a, const WireEvent& b) { return a.at.index < b.at.index; });

  Counts prev;  // counts at the previous step
  const auto span = [&](const Counts& now, PacketRef last) {
    TimelineStep st;
    st.kind = StepKind::messages;
    st.client_messages = now.messages[0] - std::min(now.messages[0], prev.messages[0]);
    st.server_messages = now.messages[1] - std::min(now.messages[1], prev.messages[1]);
    st.pings_pongs = now.pings_pongs - std::min(now.pings_pongs, prev.pings_pongs);
    if (st.client_messages + st.server_messages + st.pings_pongs == 0) return;
    std::string text;
    if (st.client_messages + st.server_messages != 0) {
      text = fmt::format("{} message{}: {} from client, {} from server", st.client_messages + st.server_messages,
                         st.client_messages + st.server_messages == 1 ? "" : "s", st.client_messages,
                         st.server_messages);
    }
    if (st.pings_pongs != 0) {
      text += fmt::format("{}{} Ping/Pong frame{}", text.empty() ? "" : "; ", st.pings_pongs,
                          st.pings_pongs == 1 ? "" : "s");
    }
    st.text = std::move(text);
    // The span ends at its last message when that is known and later than the previous step.
    const PacketRef prev_at = t.steps.empty() ? s.first : t.steps.back().at;
    st.at = last.index > prev_at.index ? last : prev_at;
    push(std::move(st));
  };

  for (const auto& e : ev) {
    if (e.kind == WireEventKind::fin || e.kind == WireEventKind::rst) {
      // The messages not yet drawn are put before the first FIN or RST (after a side's FIN only its
      // peer may still send: drawn before it, such messages are the rare approximation here).
      span(totals_of(s), s.events.last_message);
      prev = totals_of(s);
    } else {
      span(counts_of(e), e.last_message);
      prev = counts_of(e);
    }
    TimelineStep st;
    st.from = e.by;
    st.at = e.at;
    switch (e.kind) {
      case WireEventKind::ping: st.kind = StepKind::ping; st.text = "Ping"; break;
      case WireEventKind::pong: st.kind = StepKind::pong; st.text = "Pong"; break;
      case WireEventKind::close: st.kind = StepKind::close; st.text = close_text(s, e); break;
      case WireEventKind::fin: st.kind = StepKind::fin; st.text = "FIN"; break;
      case WireEventKind::rst: st.kind = StepKind::rst; st.text = "RST"; break;
    }
    // A Ping or Pong is a step; the counts after it must not count it again.
    if (e.kind == WireEventKind::ping || e.kind == WireEventKind::pong) ++prev.pings_pongs;
    push(std::move(st));
  }
  span(totals_of(s), s.events.last_message);
  if (s.tcp_end.how == diag::TcpEndHow::open && s.last.index != 0) {
    push({StepKind::capture_end, Side::none, s.last, 0, {}, "capture ended, connection still open"});
  }
  return t;
}

namespace {

// Participant ids: C (client), S (server).
const char* pid(Side s) { return s == Side::server ? "S" : "C"; }
const char* peer_pid(Side s) { return s == Side::server ? "C" : "S"; }

std::string at_label(const TimelineStep& st) { return "+" + format_duration_ms(st.offset_ms); }

}  // namespace

std::string mermaid_sequence(const diag::ConnectionSummary& s, const Timeline& t) {
  std::string out = "sequenceDiagram\n";
  fmt::format_to(std::back_inserter(out), "    participant C as client {}\n", escape_mermaid(s.client));
  std::string server = "server " + s.server;
  if (!s.handshake.server_software.empty()) server += " (" + s.handshake.server_software + ")";
  fmt::format_to(std::back_inserter(out), "    participant S as {}\n", escape_mermaid(server));
  if (!t.handshake_captured) out += "    Note over C,S: opening handshake not captured\n";
  for (const auto& st : t.steps) {
    if (st.idle_before_ms && *st.idle_before_ms >= kIdleShownMs) {
      fmt::format_to(std::back_inserter(out), "    Note over C,S: {} idle\n", escape_mermaid(format_duration_ms(*st.idle_before_ms)));
    }
    const std::string when = escape_mermaid(at_label(st));
    switch (st.kind) {
      case StepKind::messages:
        fmt::format_to(std::back_inserter(out), "    Note over C,S: {} (until {})\n", escape_mermaid(st.text), when);
        break;
      case StepKind::capture_end:
        fmt::format_to(std::back_inserter(out), "    Note over C,S: {} ({})\n", escape_mermaid(st.text), when);
        break;
      case StepKind::fin:
        fmt::format_to(std::back_inserter(out), "    {}-){}: FIN ({})\n", pid(st.from), peer_pid(st.from), when);
        break;
      case StepKind::rst:
        fmt::format_to(std::back_inserter(out), "    {}-x{}: RST ({})\n", pid(st.from), peer_pid(st.from), when);
        break;
      case StepKind::pong:
        fmt::format_to(std::back_inserter(out), "    {}-->>{}: Pong ({})\n", pid(st.from), peer_pid(st.from), when);
        break;
      default:
        fmt::format_to(std::back_inserter(out), "    {}->>{}: {} ({})\n", pid(st.from), peer_pid(st.from),
                       escape_mermaid(st.text), when);
        break;
    }
  }
  if (const auto n = s.events.pings_pongs_not_kept; n != 0) {
    fmt::format_to(std::back_inserter(out), "    Note over C,S: {} earlier Ping/Pong frame{} counted, not drawn\n", n,
                   n == 1 ? "" : "s");
  }
  return out;
}

}  // namespace wsdiag::report
