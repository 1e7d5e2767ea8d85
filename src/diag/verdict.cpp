// wsdiag — the verdict table: RFC 6455 §7.1.5-§7.1.7 (the WebSocket Connection Close Code as seen
// from the wire), §4.1-§4.2.2 (failed opening handshakes), RULES.md "Verdict per connection".
//
// kTable below: one data row per verdict kind, first match wins, each with its id, usual
// severity, spec, title, its pure predicate and text builder, and the findings its own text
// already explains (not repeated in the summary line). The rows' texts live one concern per file:
//   tls-not-decrypted    wss:// whose TLS could not be read (tls_verdict.cpp)
//   handshake-failed     request seen and captured, but no response or a status other than 101
//                        (verdict_handshake.cpp; what each status means: its kStatusRows)
//   invalid-close        the first Close was malformed: the code of the first valid Close (usually
//                        the peer failing the connection with 1002/1007), or 1006 (verdict_failures.cpp)
//   closed               a Close frame was seen: its code (1005 when empty), as sent (verdict_closed.cpp;
//                        what each code means: close_codes.cpp)
//   client-rejected-101  a 101, then the client ended TCP without sending a frame: the client
//                        failed the handshake (verdict_failures.cpp)
//   abnormal-1006        no Close frame, TCP ended by FIN or RST (verdict_abnormal.cpp)
//   open                 no Close frame, TCP still open when the capture ended (verdict_abnormal.cpp)
// The rows cover every summary (closed / not closed x TCP ended / open); the fallback is defensive.
// A new verdict kind is one row here (with its text builder) and one test over a hand-built summary.
//
// Texts state only what the summary shows: packets, times, who, idle gaps. Where a guess is
// offered (an idle timeout, a crash), it is worded as the usual cause, not as a fact.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "verdict_text.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag {
namespace {
using namespace vtext;  // NOLINT(google-build-using-namespace)

// Findings each ending's own text explains.
constexpr RuleId kExplainsTls[] = {RuleId::tls_decrypt_failed, RuleId::tls_h2, RuleId::rst,
                                   RuleId::fin_without_close, RuleId::open_at_end};
constexpr RuleId kExplainsHandshakeFailed[] = {RuleId::handshake_rejected, RuleId::no_response, RuleId::rst,
                                               RuleId::fin_without_close, RuleId::open_at_end};
constexpr RuleId kExplainsInvalidClose[] = {RuleId::close_code_invalid,  RuleId::close_payload_1,
                                            RuleId::close_reason_utf8,   RuleId::close_echo_mismatch,
                                            RuleId::close_not_echoed,    RuleId::client_closed_tcp_first,
                                            RuleId::fin_without_close};
constexpr RuleId kExplainsClosed[] = {RuleId::close_code_invalid, RuleId::close_not_echoed, RuleId::close_echo_mismatch,
                                      RuleId::client_closed_tcp_first, RuleId::open_at_end};
constexpr RuleId kExplainsRejected101[] = {RuleId::handshake_accept,         RuleId::handshake_subprotocol,
                                           RuleId::handshake_extension,      RuleId::handshake_upgrade_header,
                                           RuleId::rst,                      RuleId::fin_without_close};
constexpr RuleId kExplainsAbnormal[] = {RuleId::rst,
                                        RuleId::fin_without_close,
                                        RuleId::handshake_accept,
                                        RuleId::handshake_subprotocol,
                                        RuleId::handshake_extension,
                                        RuleId::ping_unanswered};
constexpr RuleId kExplainsOpen[] = {RuleId::open_at_end};

constexpr std::array<VerdictRule, 7> kTable{{
    {"tls-not-decrypted", Severity::warning, "RFC 8446, RFC 5246",
     "wss:// whose TLS wsdiag could not decrypt (no or wrong keys), or TLS that carried no WebSocket",
     tls_verdict_applies, make_tls_verdict, kExplainsTls},
    {"handshake-failed", Severity::error, "RFC 6455 §4.1-§4.2.2",
     "the Upgrade request got no response, an unreadable one, or a status other than 101",
     rows::applies_handshake_failed, rows::make_handshake_failed, kExplainsHandshakeFailed},
    {"invalid-close", Severity::error, "RFC 6455 §7.1.5, §7.1.7, §7.4",
     "the first Close was malformed: the verdict is the Close the endpoint accepted, or 1006",
     rows::applies_invalid_close, rows::make_invalid_close, kExplainsInvalidClose},
    {"closed", Severity::info, "RFC 6455 §7.1.5, §7.4", "a Close frame was seen: its code, as sent",
     rows::applies_closed, rows::make_closed, kExplainsClosed},
    {"client-rejected-101", Severity::error, "RFC 6455 §4.1, §7.1.7",
     "a 101, then the client ended TCP without a frame: it failed the opening handshake",
     rows::applies_rejected_101, rows::make_rejected_101, kExplainsRejected101},
    {"abnormal-1006", Severity::error, "RFC 6455 §7.1.5",
     "no Close frame, TCP ended by FIN or RST: 1006 Abnormal Closure", rows::applies_abnormal, rows::make_abnormal,
     kExplainsAbnormal},
    {"open", Severity::info, "", "no Close frame, TCP still open when the capture ended", rows::applies_open,
     rows::make_open, kExplainsOpen},
}};

// ---------------------------------------------------------------------------------------------
// Findings in the summary line

/// Handshake problems of the request (the client's); every other one is the response's (the server's).
constexpr RuleId kRequestRules[] = {RuleId::handshake_method, RuleId::handshake_upgrade_header, RuleId::handshake_key,
                                    RuleId::handshake_version, RuleId::data_before_101};

/// What a repeated finding counts ("in 3 frames"); rules not listed count "times".
struct CountNoun {
  RuleId rule;
  std::string_view noun;
};
constexpr CountNoun kCountNouns[] = {
    {RuleId::client_unmasked, "frames"},
    {RuleId::server_masked, "frames"},
    {RuleId::rsv_bits, "frames"},
    {RuleId::reserved_opcode, "frames"},
    {RuleId::length_not_minimal, "frames"},
    {RuleId::length_msb, "frames"},
    {RuleId::control_too_long, "frames"},
    {RuleId::control_fragmented, "frames"},
    {RuleId::unexpected_continuation, "frames"},
    {RuleId::expected_continuation, "frames"},
    {RuleId::data_after_close, "frames"},
    {RuleId::frame_after_close_received, "frames"},
    {RuleId::invalid_utf8, "messages"},
    {RuleId::inflate_error, "messages"},
    {RuleId::message_too_big, "messages"},
    {RuleId::compressed_unverified, "messages"},
    {RuleId::pong_mismatch, "Pongs"},
    {RuleId::ping_unanswered, "Pings"},
};

struct Item {
  RuleId rule;
  Side side;
  PacketRef at;
  std::uint64_t count;
};

bool is_request_rule(RuleId r) {
  return std::find(std::begin(kRequestRules), std::end(kRequestRules), r) != std::end(kRequestRules);
}

Side handshake_problem_side(RuleId r) { return is_request_rule(r) ? Side::client : Side::server; }

std::string_view count_noun(RuleId r) {
  for (const CountNoun& c : kCountNouns) {
    if (c.rule == r) return c.noun;
  }
  return "times";
}

std::vector<Item> all_findings(const ConnectionSummary& s) {
  std::vector<Item> items;
  items.reserve(s.findings.size() + s.handshake.problems.size());
  for (const Finding& f : s.findings) items.push_back({f.rule, f.side, f.at, f.count});
  for (RuleId r : s.handshake.problems) {
    const bool dup = s.has(r) || std::any_of(items.begin() + static_cast<std::ptrdiff_t>(
                                                                 s.findings.size()),
                                             items.end(),
                                             [r](const Item& i) { return i.rule == r; });
    if (dup) continue;
    items.push_back({r, handshake_problem_side(r),
                     is_request_rule(r) ? s.handshake.request_at : s.handshake.response_at, 1});
  }
  return items;
}

std::string where_text(const Item& it) {
  if (it.count > 1) {
    const std::string_view noun = count_noun(it.rule);
    const std::string first =
        it.at.index ? fmt::format(", first at packet {}", it.at.index) : std::string();
    if (noun == "times") return fmt::format(" {} times{}", it.count, first);
    return fmt::format(" in {} {}{}", it.count, noun, first);
  }
  return it.at.index ? fmt::format(" at packet {}", it.at.index) : std::string();
}

bool broke_form(const Item& it) {
  const RuleInfo& r = rule_info(it.rule);
  return r.severity == Severity::error && !r.spec.empty() && it.side != Side::none;
}

/// Orders findings most serious first: severity, then spec violations with a known side, then the
/// earliest packet, then catalogue order.
bool more_serious(const Item& a, const Item& b) {
  const Severity sa = rule_info(a.rule).severity;
  const Severity sb = rule_info(b.rule).severity;
  if (sa != sb) return sa > sb;
  const bool ba = broke_form(a), bb = broke_form(b);
  if (ba != bb) return ba;
  const std::uint64_t pa = a.at.index ? a.at.index : UINT64_MAX;
  const std::uint64_t pb = b.at.index ? b.at.index : UINT64_MAX;
  if (pa != pb) return pa < pb;
  return a.rule < b.rule;
}

}  // namespace

std::span<const VerdictRule> verdict_table() noexcept { return kTable; }

Verdict diagnose(const ConnectionSummary& s) {
  const VerdictRule* row = nullptr;
  for (const VerdictRule& r : kTable) {
    if (r.applies(s)) {
      row = &r;
      break;
    }
  }
  Verdict v;
  if (row) {
    v = row->make(s);
  } else {  // unreachable with the rows above; stay honest if the table changes
    v.name = "unknown";
    v.summary = "no verdict: the capture does not show how this connection ended";
  }
  const Severity ending = v.severity;

  const std::vector<Item> items = all_findings(s);
  const Item* top = nullptr;
  std::size_t others = 0;
  for (const Item& it : items) {
    const Severity sev = rule_info(it.rule).severity;
    if (sev > v.severity) v.severity = sev;
    if (sev == Severity::info) continue;
    if (row && std::find(row->explains.begin(), row->explains.end(), it.rule) != row->explains.end()) continue;
    if (top == nullptr) {
      top = &it;
    } else {
      ++others;
      if (more_serious(it, *top)) top = &it;
    }
  }
  if (top) {
    const RuleInfo& r = rule_info(top->rule);
    if (broke_form(*top)) {
      v.summary += ending == Severity::info ? ", but " : "; ";
      v.summary += fmt::format("{}{} broke {} ({}){}", the_side(top->side),
                               ending == Severity::info ? "" : " also", r.spec, r.name,
                               where_text(*top));
    } else {
      v.summary += fmt::format("; {}: {} ({}{}{}){}", to_string(r.severity), r.title, r.name,
                               top->side == Side::none ? "" : ", ", to_string(top->side),
                               where_text(*top));
    }
    if (others > 0) {
      v.summary += fmt::format(" (+{} more finding{})", others, others == 1 ? "" : "s");
    }
    // The ending's texts say nothing about this finding: add its explanation.
    const std::string who = top->side == Side::none ? std::string() : the_side(top->side) + ", ";
    v.cause += fmt::format(" Also found: {} ({}{}{}). {}", r.title, who, r.name,
                           where_text(*top), r.cause);
    v.advice += fmt::format(" For {}: {}", r.name, r.advice);
  }
  return v;
}

}  // namespace wsdiag::diag