// wsdiag — plain-language descriptions of a connection's facts (RFC 6455 §4 handshake, §5.5.1/§7
// close handshake, TCP end), shared by the text and Markdown writers.
#include "wsdiag/report/describe.h"
#include "wsdiag/report/timeline.h"

#include <fmt/format.h>

#include <algorithm>

#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/text_util.h"

namespace wsdiag::report {

using diag::ConnectionSummary;
using diag::Side;

std::string side_text(Side side, const char* none_text) {
  const char* s = diag::to_string(side);
  return (s == nullptr || *s == '\0') ? std::string(none_text) : std::string(s);
}

std::string close_code_text(std::uint16_t code) {
  if (const auto info = diag::close_code_info(code); info && !info->name.empty()) {
    return fmt::format("{} {}", code, info->name);
  }
  return fmt::format("{}", code);
}

std::string verdict_label(const diag::Verdict& v, const ConnectionSummary& s) {
  if (v.code) {
    if (!v.name.empty()) return fmt::format("{} {}", *v.code, v.name);
    return close_code_text(*v.code);
  }
  if (!v.name.empty()) return v.name;
  return s.websocket ? "unknown" : "not websocket";
}

double offset_ms(const ConnectionSummary& s, PacketRef at) {
  if (at.index == 0) return 0.0;
  return ms_between(s.first, at);
}

std::optional<double> echo_delay_ms(const diag::CloseSummary& c) {
  if (!c.seen || !c.echoed || c.echo_at.index == 0) return std::nullopt;
  return ms_between(c.at, c.echo_at);
}

namespace {

std::string at_text(const ConnectionSummary& s, PacketRef at) {
  if (at.index == 0) return "";
  return fmt::format("packet {} (+{})", at.index, format_duration_ms(offset_ms(s, at)));
}

std::string other_side(Side side) {
  if (side == Side::client) return "server";
  if (side == Side::server) return "client";
  return "peer";
}

std::string rule_names(const std::vector<diag::RuleId>& ids) {
  std::string out;
  for (const auto id : ids) {
    if (!out.empty()) out += ", ";
    out += diag::rule_info(id).name;
  }
  return out;
}

}  // namespace

std::vector<std::string> describe_handshake(const ConnectionSummary& s, bool detail) {
  std::vector<std::string> lines;
  const auto& h = s.handshake;
  if (!h.request_seen && !h.response_seen) {
    if (!s.websocket) {
      lines.emplace_back("none (not a WebSocket connection)");
    } else if (!s.handshake_captured) {
      lines.emplace_back("not captured (the capture starts after the handshake)");
    } else {
      lines.emplace_back("not seen");
    }
    return lines;
  }
  std::string first;
  if (h.request_seen) {
    first = fmt::format("{} {}", h.method.empty() ? "?" : h.method, h.path.empty() ? "?" : h.path);
  } else {
    first = h.request_cut ? "(request cut by the snaplen)" : "(request not captured)";
  }
  if (h.status) {
    first += fmt::format(" -> {}", *h.status);
    if (!h.reason_phrase.empty()) first += " " + h.reason_phrase;
    if (*h.status == 101) {
      first += h.ok ? ", accepted" : !h.verifiable ? ", not verifiable (headers cut by the snaplen)" : ", but not valid";
    }
  } else {
    first += " -> no response";
  }
  if (detail) {
    if (h.request_seen) first += fmt::format("; request {}", at_text(s, h.request_at));
    if (h.response_seen) first += fmt::format("; response {}", at_text(s, h.response_at));
  }
  lines.push_back(std::move(first));

  std::string negotiated;
  if (!h.subprotocol.empty()) negotiated = "subprotocol " + h.subprotocol;
  if (!h.extensions.empty()) {
    if (!negotiated.empty()) negotiated += "; ";
    negotiated += "extensions " + h.extensions;
  }
  if (!negotiated.empty()) lines.push_back(std::move(negotiated));
  if (detail) {
    if (!h.host.empty()) lines.push_back("host " + h.host);
    if (!h.origin.empty()) lines.push_back("origin " + h.origin);
    if (!h.user_agent.empty()) lines.push_back("user agent " + h.user_agent);
    if (!h.server_software.empty()) lines.push_back("server " + h.server_software);
    if (!h.subprotocols_offered.empty()) {
      lines.push_back("client offered subprotocols " + h.subprotocols_offered);
    }
    if (!h.extensions_offered.empty()) {
      lines.push_back("client offered extensions " + h.extensions_offered);
    }
    if (h.deflate) lines.emplace_back("permessage-deflate in force");
  }
  if (!h.problems.empty()) lines.push_back("problems: " + rule_names(h.problems));
  return lines;
}

std::string describe_direction(const diag::DirCounters& d, bool detail) {
  std::string out = fmt::format("{} frame{}, {} message{}, {}", d.frames, d.frames == 1 ? "" : "s",
                                d.messages, d.messages == 1 ? "" : "s",
                                human_bytes(d.payload_bytes));
  if (d.pings != 0 || d.pongs != 0 || detail) {
    out += fmt::format(", {} ping{}, {} pong{}", d.pings, d.pings == 1 ? "" : "s", d.pongs,
                       d.pongs == 1 ? "" : "s");
  }
  if (d.app.sent + d.app.answers != 0) {
    out += fmt::format(", {} heartbeats: {} sent, {} answer{}", diag::to_string(d.app.kind), d.app.sent,
                       d.app.answers, d.app.answers == 1 ? "" : "s");
  }
  if (d.compressed_messages != 0) {
    out += fmt::format(", {} compressed ({} inflated)", d.compressed_messages,
                       human_bytes(d.message_bytes));
  }
  if (detail && d.messages != 0) out += fmt::format(", largest message {}", human_bytes(d.max_message));
  if (d.gap_bytes != 0) out += fmt::format(", {} missing from the capture", human_bytes(d.gap_bytes));
  return out;
}

std::vector<std::string> describe_close(const ConnectionSummary& s) {
  std::vector<std::string> lines;
  const auto& c = s.close;
  if (!c.seen) {
    lines.emplace_back("no Close frame");
    return lines;
  }
  std::string first = fmt::format("{} sent ", side_text(c.initiator, "?"));
  if (c.code) {
    first += "Close " + close_code_text(*c.code);
  } else {
    first += "an empty Close (no status code: 1005)";
  }
  if (!c.reason.empty()) first += fmt::format(" reason \"{}\"", c.reason);
  if (c.at.index != 0) first += ", " + at_text(s, c.at);
  lines.push_back(std::move(first));
  if (c.echoed) {
    std::string echo = fmt::format("{} echoed", other_side(c.initiator));
    if (c.echo_code) {
      echo += " " + close_code_text(*c.echo_code);
    } else {
      echo += " an empty Close";
    }
    if (const auto d = echo_delay_ms(c)) {
      echo += fmt::format(" after {} (packet {})", format_duration_ms(*d), c.echo_at.index);
    }
    lines.push_back(std::move(echo));
  } else {
    lines.push_back(fmt::format("not echoed by the {}", other_side(c.initiator)));
  }
  return lines;
}

std::vector<std::string> describe_tcp_end(const ConnectionSummary& s, bool detail) {
  std::vector<std::string> lines;
  const auto& t = s.tcp_end;
  std::string first;
  switch (t.how) {
    case diag::TcpEndHow::open:
      first = "still open when the capture ended";
      break;
    case diag::TcpEndHow::rst:
      first = fmt::format("RST by {}", side_text(t.by, "?"));
      if (t.by != Side::client && t.client_fin && t.client_fin_at.index <= t.at.index) {
        first += " after FIN by client";
      } else if (t.by != Side::server && t.server_fin && t.server_fin_at.index <= t.at.index) {
        first += " after FIN by server";
      }
      break;
    case diag::TcpEndHow::fin:
      if (t.client_fin && t.server_fin) {
        first = fmt::format("FIN from both sides, first by {}", side_text(t.by, "?"));
      } else {
        first = fmt::format("FIN by {} only", side_text(t.by, "?"));
      }
      break;
  }
  if (t.how != diag::TcpEndHow::open && t.at.index != 0) first += ", " + at_text(s, t.at);
  const bool other_start = t.how != diag::TcpEndHow::open && t.initiator != Side::none &&
                           t.initiated_at.index != 0 && !(t.initiated_at == t.at);
  if (t.idle_before_ms && !other_start) {
    if (t.how == diag::TcpEndHow::open) {
      first += fmt::format(", idle for the last {}", format_duration_ms(*t.idle_before_ms));
    } else {
      first += fmt::format(", {} idle before", format_duration_ms(*t.idle_before_ms));
    }
  }
  lines.push_back(std::move(first));
  if (other_start) {  // e.g. the client's FIN, answered by the server's RST
    std::string start = fmt::format("started by the {}'s {} at {}", side_text(t.initiator, "?"),
                                    t.initiated_by_rst ? "RST" : "FIN",
                                    at_text(s, t.initiated_at));
    if (t.idle_before_ms) {
      start += fmt::format(", {} idle before", format_duration_ms(*t.idle_before_ms));
    }
    lines.push_back(std::move(start));
  }
  if (detail) {
    const auto add = [&](bool seen, const char* what, PacketRef at) {
      if (seen) lines.push_back(fmt::format("{} at {}", what, at_text(s, at)));
    };
    add(t.client_fin, "client FIN", t.client_fin_at);
    add(t.server_fin, "server FIN", t.server_fin_at);
    add(t.client_rst, "client RST", t.client_rst_at);
    add(t.server_rst, "server RST", t.server_rst_at);
  }
  return lines;
}

std::vector<TimelineLine> timeline_lines(const ConnectionSummary& s) {
  std::vector<TimelineLine> out;
  for (const TimelineStep& st : build_timeline(s).steps) {
    std::string what;
    switch (st.kind) {
      case StepKind::syn: what = "client SYN"; break;
      case StepKind::request: what = "client sent " + st.text; break;
      case StepKind::response: what = "server answered " + st.text; break;
      case StepKind::messages: case StepKind::capture_end: what = st.text; break;
      default: what = fmt::format("{} sent {}", side_text(st.from, "?"), st.text); break;
    }
    if (st.idle_before_ms && *st.idle_before_ms >= kIdleShownMs) {
      what += fmt::format(" (after {} idle)", format_duration_ms(*st.idle_before_ms));
    }
    out.push_back({st.at, st.offset_ms, std::move(what)});
  }
  // The findings, between the steps of their packets (a step first when both share a packet).
  for (const auto& f : s.findings) {
    if (f.at.index == 0) continue;
    const auto& info = diag::rule_info(f.rule);
    std::string what = fmt::format("{} {}", diag::to_string(info.severity), info.name);
    if (f.side != Side::none) what += fmt::format(" ({})", side_text(f.side));
    if (!f.message.empty()) what += ": " + f.message;
    if (f.count > 1) what += fmt::format(" [first of {}]", f.count);
    out.push_back({f.at, offset_ms(s, f.at), std::move(what)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TimelineLine& a, const TimelineLine& b) { return a.at.index < b.at.index; });
  return out;
}

std::vector<std::string> describe_tls(const ConnectionSummary& s) {
  std::vector<std::string> lines;
  if (!s.tls) return lines;
  const auto& t = *s.tls;
  std::string first = t.version ? tls::version_name(t.version) : std::string("TLS (version not seen)");
  if (t.cipher) first += ", " + tls::cipher_name(t.cipher);
  if (!t.sni.empty()) first += ", SNI " + t.sni;
  if (!t.alpn.empty()) first += ", ALPN " + t.alpn;
  else if (!t.alpn_offered.empty()) first += ", ALPN offered " + t.alpn_offered;
  first += fmt::format("; keys: {}", tls::to_string(t.keys));
  if (t.hello_retry) first += "; HelloRetryRequest";
  if (t.psk_accepted) first += "; resumed (PSK)";
  if (t.midstream) first += "; handshake not captured";
  lines.push_back(std::move(first));
  for (const Dir d : {Dir::c2s, Dir::s2c}) {
    const auto& f = t.dir(d);
    std::string l = fmt::format("{}: {} records, {} application bytes", d == Dir::c2s ? "client" : "server",
                                f.records, f.app_bytes);
    if (f.plaintext_bytes) l += fmt::format(" ({} decrypted)", f.plaintext_bytes);
    if (f.alert.seen) {
      if (f.alert.encrypted) {
        l += fmt::format(", encrypted alert at packet {}", f.alert.at.index);
      } else {
        l += fmt::format(", {} alert {} at packet {}", f.alert.level == 2 ? "fatal" : "warning",
                         tls::alert_name(f.alert.description), f.alert.at.index);
      }
    }
    lines.push_back(std::move(l));
  }
  return lines;
}

void TlsTally::add(const ConnectionSummary& s) {
  if (!diag::tls_candidate(s)) return;
  ++not_decrypted;
  ++by_sni[s.tls->sni];
}

std::string TlsTally::line() const {
  if (not_decrypted == 0) return "";
  std::string sni;
  for (const auto& [name, n] : by_sni) {
    if (!sni.empty()) sni += ", ";
    sni += name.empty() ? std::string("(no SNI)") : name;
    if (n > 1) sni += fmt::format(" x{}", n);
  }
  return fmt::format("{} TLS connection{} not decrypted (to {}): its WebSocket traffic cannot be checked "
                     "without the TLS keys; see --tls-keylog.",
                     not_decrypted, not_decrypted == 1 ? "" : "s", sni);
}

const diag::Pattern* pattern_of(std::span<const diag::Pattern> patterns, std::uint64_t id) {
  for (const auto& p : patterns) {
    if (std::binary_search(p.members.begin(), p.members.end(), id)) return &p;
  }
  return nullptr;
}

std::string pattern_membership(const diag::Pattern& p) {
  return fmt::format("{} ({}): one of {} connections; {}", p.id, diag::to_string(p.confidence), p.members.size(),
                     p.summary);
}

}  // namespace wsdiag::report
