// wsdiag — verdict row closed (RFC 6455 §7.1.5, §7.4): a Close frame was seen; the verdict is its
// code (1005 when empty), as sent, with the reply and how TCP ended after it. What each code means
// is data (close_codes.cpp).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "verdict_text.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag::rows {
namespace {
using namespace vtext;  // NOLINT(google-build-using-namespace)

// Extension names of a Sec-WebSocket-Extensions value ("permessage-deflate; x=1, foo" ->
// {"permessage-deflate", "foo"}).
std::vector<std::string> extension_names(const std::string& header) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= header.size()) {
    const auto comma = header.find(',', pos);
    std::string item = header.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item = item.substr(0, item.find(';'));
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) {
      std::string name = item.substr(b, e - b + 1);
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// For 1010 (RFC 6455 §7.4.1): the extensions the client offered that the server's 101 did not
// accept, as "a, b"; empty if the handshake does not show any.
std::string missing_extensions(const ConnectionSummary& s) {
  std::string out;
  const auto accepted = extension_names(s.handshake.extensions);
  for (const auto& name : extension_names(s.handshake.extensions_offered)) {
    if (std::find(accepted.begin(), accepted.end(), name) != accepted.end()) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

bool applies_closed(const ConnectionSummary& s) { return s.close.seen; }

Verdict make_closed(const ConnectionSummary& s) {
  const CloseSummary& c = s.close;
  const TcpEndSummary& t = s.tcp_end;
  const bool empty = !c.code;
  const std::uint16_t code = c.code.value_or(1005);
  const bool valid = empty || close_code_valid_on_wire(code);
  const auto info = close_code_info(code);
  // A 1-byte payload also has no code (close-payload-1): it is malformed, not empty.
  const Finding* one = empty ? s.find(RuleId::close_payload_1) : nullptr;
  const bool one_byte = one != nullptr && (one->side == c.initiator || one->at == c.at);

  Verdict v;
  v.code = code;
  v.name = valid && info ? std::string(info->name) : fmt::format("invalid close code {}", code);
  v.severity = close_code_severity(code, empty);
  v.side = c.initiator;

  const std::string by = c.initiator == Side::none
                             ? std::string()
                             : c.initiator == Side::both ? std::string(" by both sides at once")
                                                         : " by " + the_side(c.initiator);
  const std::string reason =
      c.reason.empty() ? std::string() : fmt::format(", reason \"{}\"", printable(c.reason));
  if (!empty && code == 1000) {
    v.summary = fmt::format("closed normally (1000){}{}", by, reason);
  } else if (empty) {
    v.summary = fmt::format("closed{} with {} Close frame (1005 No Status Received)", by,
                            one_byte ? "a malformed 1-byte" : "an empty");
  } else if (code == 1010 && c.initiator == Side::client) {
    // Name the extension the client required (the reason should list it, §7.4.1; else the offer
    // minus what the 101 accepted).
    const std::string missing = missing_extensions(s);
    const std::string needed = !c.reason.empty() ? printable(c.reason) : missing;
    v.summary = fmt::format("closed by the client with 1010 Mandatory Extension: it required {}{}", 
                            needed.empty() ? std::string("an extension") : needed,
                            needed.empty() ? std::string() : std::string(", which the server did not accept"));
  } else {
    v.summary = fmt::format("closed{} with {}{}", by, code_label(c.code), reason);
  }

  if (!c.echoed && t.how != TcpEndHow::open) {
    v.summary += fmt::format("; {} never answered it (close-not-echoed)", peer_of(c.initiator));
  }

  // Evidence: who, what, where.
  const std::string who = c.initiator == Side::none || c.initiator == Side::both
                              ? std::string("A Close frame was sent")
                              : capitalised(the_side(c.initiator)) + " sent a Close frame";
  if (empty) {
    v.cause = fmt::format("{} with no status code{}.", who, at_packet(c.at));
  } else {
    v.cause = fmt::format("{} with {}{}{}.", who, code_label(c.code),
                          c.reason.empty() ? "" : fmt::format(" and reason \"{}\"",
                                                              printable(c.reason)),
                          at_packet(c.at));
  }

  // The reply.
  const std::string peer = peer_of(c.initiator);
  if (c.echoed) {
    std::string reply;
    if (c.echo_code == c.code) {
      reply = c.echo_code ? fmt::format("its own Close ({})", *c.echo_code)
                          : std::string("an empty Close");
    } else {
      reply = c.echo_code ? fmt::format("a Close with a different code, {}, which is allowed",
                                        *c.echo_code)
                          : std::string("an empty Close, which is allowed");
    }
    const auto delay = known_ms_between(c.at, c.echo_at);
    v.cause += fmt::format(" {} answered{} with {}{}.", capitalised(peer),
                           delay ? fmt::format(" {} later", format_duration_ms(*delay)) : "",
                           reply, at_packet(c.echo_at));
  } else if (t.how != TcpEndHow::open) {
    v.cause += fmt::format(" {} never answered with its own Close before TCP ended "
                           "(close-not-echoed).",
                           capitalised(peer));
  } else {
    v.cause += " No Close reply was seen before the capture ended.";
  }

  // How TCP ended, in the order it happened (issue #13 §4): "then" only after the last Close said
  // above (the echo when there was one); a FIN between the Close and its echo is said to be so.
  const PacketRef said = c.echoed ? c.echo_at : c.at;
  const bool after = t.at.index == 0 || said.index == 0 || t.at.index >= said.index;
  const bool before_echo = !after && c.echoed && c.at.index != 0 && t.at.index >= c.at.index;
  const bool completed = c.echoed && t.at.index != 0 && t.at.index >= c.echo_at.index;
  const std::string tcp_who = t.by == Side::none ? std::string("one side") : the_side(t.by);
  if (t.how == TcpEndHow::fin) {
    if (before_echo) {
      v.cause += fmt::format(" {} had already closed TCP {}, before that reply.", capitalised(tcp_who),
                             tagged("FIN", t.at));
    } else {
      v.cause += fmt::format(" {} {}closed TCP {}.", capitalised(tcp_who), after ? "then " : "",
                             tagged("FIN", t.at));
    }
  } else if (t.how == TcpEndHow::rst) {
    v.cause += fmt::format(" {} {}reset TCP {}, {} the close handshake completed.",
                           capitalised(tcp_who), after ? "then " : before_echo ? "had already " : "",
                           tagged("RST", t.at), completed ? "after" : "before");
  } else {
    v.cause += " TCP was still open when the capture ended.";
  }

  // Meaning and usual causes.
  if (one_byte) {
    v.cause += " A 1-byte Close payload carries no status code, so it is reported as 1005; it is "
               "malformed, not a deliberate empty Close.";
    v.advice = "Fix the sender's close() call or Close framing.";
  } else if (!valid) {
    v.cause += fmt::format(" Code {} must never appear in a Close frame (RFC 6455 §7.4), so the "
                           "receiver must treat it as a protocol error. {}",
                           code, rule_info(RuleId::close_code_invalid).cause);
    v.advice = std::string(rule_info(RuleId::close_code_invalid).advice);
  } else if (info) {
    v.cause += fmt::format(" {} {}", info->meaning, info->cause);
    v.advice = std::string(info->advice);
  }
  if (!c.echoed && t.how != TcpEndHow::open) {
    v.advice += fmt::format(" Also, {} did not complete the close handshake: let its library "
                            "answer the Close before it closes the socket.",
                            peer);
  }
  return v;
}

}  // namespace wsdiag::diag::rows
