// wsdiag — verdict rows for connections an endpoint *failed* (RFC 6455 §7.1.7): the ending the
// applications report is not what the first bytes on the wire suggest.
//
//   invalid-close        The first Close was malformed (1-byte payload, a code not allowed on the
//                        wire, a reason that is not UTF-8). A compliant receiver fails the
//                        connection with its own Close (1002, or 1007 for the reason), and both
//                        applications log *that* code: the verdict is the first valid Close
//                        (§7.1.5 counts a Close the endpoint received and accepted), or 1006 when
//                        none followed before TCP ended. The invalid Close stays a finding.
//   client-rejected-101  A 101, then the client ended TCP without sending a single frame: the
//                        client failed the opening handshake (§4.1) because the 101 was wrong, or
//                        because it is stricter than the RFC (Node's ws rejects a 101 that selects
//                        no subprotocol when it asked for one).
#include <fmt/format.h>

#include <array>
#include <string>

#include "verdict_text.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag::rows {
namespace {
using namespace vtext;  // NOLINT(google-build-using-namespace)

/// Which rule the first (invalid) Close broke.
RuleId invalid_close_rule(const CloseSummary& c) {
  if (c.frame_rule) return *c.frame_rule;
  if (!c.code) return RuleId::close_payload_1;  // no code yet invalid: the 1-byte payload
  if (!close_code_valid_on_wire(*c.code)) return RuleId::close_code_invalid;
  return RuleId::close_reason_utf8;
}

std::string invalid_close_what(const CloseSummary& c) {
  switch (invalid_close_rule(c)) {
    case RuleId::close_payload_1: return "a 1-byte payload";
    case RuleId::control_too_long: return fmt::format("a {}-byte payload", c.payload_len);
    case RuleId::control_fragmented: return "without FIN: a fragmented control frame";
    case RuleId::client_unmasked: return "unmasked";
    case RuleId::server_masked: return "masked";
    case RuleId::rsv_bits: return "with RSV bits set";
    case RuleId::close_code_invalid: return fmt::format("code {}", *c.code);
    default: return fmt::format("code {} with a reason that is not UTF-8", *c.code);
  }
}

/// Response-side problems a client must fail the connection on (RFC 6455 §4.1), in that order.
constexpr std::array<RuleId, 4> kBad101{RuleId::handshake_accept, RuleId::handshake_subprotocol,
                                        RuleId::handshake_extension, RuleId::handshake_upgrade_header};

std::optional<RuleId> bad_101_rule(const ConnectionSummary& s) {
  for (RuleId r : kBad101) {
    if (r == RuleId::handshake_upgrade_header) {
      // a request rule too: only the 101's missing Upgrade/Connection counts here
      const Finding* f = s.find(r);
      if (f != nullptr && f->side == Side::server) return r;
      continue;
    }
    if (has_problem(s, r)) return r;
  }
  return std::nullopt;
}

/// A legal 101 that strict clients reject: they asked for a subprotocol and none was selected.
bool no_subprotocol_selected(const ConnectionSummary& s) {
  return !s.handshake.subprotocols_offered.empty() && s.handshake.subprotocol.empty();
}

Side ending_side(const TcpEndSummary& t) { return t.initiator != Side::none ? t.initiator : t.by; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// invalid-close

bool applies_invalid_close(const ConnectionSummary& s) {
  return s.close.seen && !s.close.valid && (s.close.valid_seen || s.tcp_end.how != TcpEndHow::open);
}

Verdict make_invalid_close(const ConnectionSummary& s) {
  const CloseSummary& c = s.close;
  const RuleInfo& broken = rule_info(invalid_close_rule(c));
  const std::string sent = fmt::format("{} sent an invalid Close ({})", the_side(c.initiator), invalid_close_what(c));
  Verdict v;
  v.advice = std::string(broken.advice);
  v.cause = fmt::format("{}{}: {}, which breaks {} ({}). A receiver must fail the connection on it (RFC 6455 "
                        "§7.1.7), with 1002 Protocol Error, or 1007 for a reason that is not UTF-8; the "
                        "applications then report the code of the Close that was accepted, not this one. {}",
                        capitalised(sent), at_packet(c.at), broken.title, broken.spec, broken.name, broken.cause);
  if (c.valid_seen) {
    const std::uint16_t code = c.valid_code.value_or(1005);
    const auto info = close_code_info(code);
    v.code = code;
    v.name = info ? std::string(info->name) : fmt::format("code {}", code);
    v.side = c.valid_by;
    v.severity = close_code_severity(code, !c.valid_code);
    const bool failed = c.valid_by != c.initiator && (code == 1002 || code == 1007);
    v.summary = fmt::format("{}; {} {} with {}", sent, the_side(c.valid_by),
                            failed ? "failed the connection" : "then closed", code_label(c.valid_code));
    v.cause += fmt::format(" {} then sent {}{}.", capitalised(the_side(c.valid_by)), code_label(c.valid_code),
                           at_packet(c.valid_at));
    if (failed) {
      v.cause += " That is the compliant answer: the ending both applications see.";
    } else if (info) {
      v.cause += fmt::format(" {} {}", info->meaning, info->cause);
    }
    return v;
  }
  const TcpEndSummary& t = s.tcp_end;
  const Side by = ending_side(t);
  const bool rst = t.initiator != Side::none ? t.initiated_by_rst : t.how == TcpEndHow::rst;
  v.code = 1006;
  v.name = "Abnormal Closure";
  v.severity = Severity::error;
  v.side = by;
  v.summary = fmt::format("{}; no valid Close followed, and {} {} TCP: abnormal closure (1006)", sent,
                          by == Side::none ? std::string("one side") : the_side(by), rst ? "reset" : "closed");
  v.cause += fmt::format(" No valid Close frame followed; TCP ended {}, so both ends report 1006 Abnormal "
                         "Closure (RFC 6455 §7.1.5).",
                         tagged(rst ? "RST" : "FIN", t.initiator != Side::none ? t.initiated_at : t.at));
  v.advice += fmt::format(" Also let {} answer a bad Close with its own Close (1002) before closing TCP.",
                          peer_of(c.initiator));
  return v;
}

// ---------------------------------------------------------------------------------------------
// client-rejected-101

bool applies_rejected_101(const ConnectionSummary& s) {
  const HandshakeSummary& h = s.handshake;
  return h.response_seen && h.status == 101 && s.handshake_captured && !s.close.seen &&
         s.tcp_end.how != TcpEndHow::open && s.c2s.frames == 0 && ending_side(s.tcp_end) == Side::client &&
         (bad_101_rule(s) || no_subprotocol_selected(s));
}

Verdict make_rejected_101(const ConnectionSummary& s) {
  const HandshakeSummary& h = s.handshake;
  const TcpEndSummary& t = s.tcp_end;
  const bool rst = t.initiator != Side::none ? t.initiated_by_rst : t.how == TcpEndHow::rst;
  const std::string ended = tagged(rst ? "RST" : "FIN", t.initiator != Side::none ? t.initiated_at : t.at);
  Verdict v;
  v.name = "handshake failed";
  v.severity = Severity::error;
  v.side = Side::client;
  v.client_rejected_101 = true;
  if (const auto rule = bad_101_rule(s)) {
    const RuleInfo& r = rule_info(*rule);
    v.summary = fmt::format("handshake failed: the client rejected the server's 101 ({}: {}) and closed TCP "
                            "without sending a frame",
                            r.name, r.title);
    v.cause = fmt::format("The server answered 101 Switching Protocols{}, but {} ({}). A compliant client must "
                          "fail the connection without a Close frame (RFC 6455 §4.1), and this one did: it "
                          "sent no frame and ended TCP {}. Its application sees a failed connection "
                          "(browsers report 1006). {}",
                          at_packet(h.response_at), r.title, r.spec, ended, r.cause);
    v.advice = fmt::format("Fix the server or the proxy in front of it: {}", r.advice);
    return v;
  }
  v.severity = Severity::warning;
  v.summary = fmt::format("handshake failed: the client asked for subprotocol {} and the server selected "
                          "none; the client then closed TCP without sending a frame",
                          printable(h.subprotocols_offered));
  v.cause = fmt::format("The server's 101{} selected no subprotocol although the client offered \"{}\". The "
                        "RFC allows that (RFC 6455 §4.2.2: the server may select none), but strict clients "
                        "fail the connection on it: Node's ws (\"Server sent no subprotocol\") does; "
                        "browsers and python websockets accept it. This client sent no frame and ended TCP "
                        "{}, which is what a strict client does.",
                        at_packet(h.response_at), printable(h.subprotocols_offered), ended);
  v.advice = "Make the server select one of the offered subprotocols (echo it in Sec-WebSocket-Protocol), "
             "or have the client not require one; check that no proxy strips Sec-WebSocket-Protocol from "
             "the 101.";
  return v;
}

}  // namespace wsdiag::diag::rows
