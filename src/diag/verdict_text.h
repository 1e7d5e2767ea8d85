// wsdiag — text helpers shared by the verdict rows (verdict_text.cpp), and the rows' functions.
// Internal to src/diag: the one place verdict texts name sides, packets, durations and wire text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag {
namespace vtext {
std::string the_side(Side s);             ///< "the client", "the server", "both sides"
std::string peer_of(Side s);              ///< the other side: "the server" for the client
std::string capitalised(std::string text);
/// Text from the wire made safe for one line (escaped, cut to `max` bytes on a character boundary).
std::string printable(std::string_view text, std::size_t max = 120);
std::string packet_where(const PacketRef& p);  ///< "packet 812, 2024-...Z"
std::string at_packet(const PacketRef& p);     ///< " (packet 812, 2024-...Z)" or ""
std::string tagged(std::string_view what, const PacketRef& p);  ///< "(RST, packet 812, ...)"
std::optional<double> known_ms_between(const PacketRef& from, const PacketRef& to);
bool has_problem(const ConnectionSummary& s, RuleId r);
Severity close_code_severity(std::uint16_t code, bool empty);
/// "1000 Normal Closure", "4001 (application-defined)", "an empty Close (1005 No Status Received)"
std::string code_label(std::optional<std::uint16_t> code);
}  // namespace vtext

/// The verdict rows' predicates and texts, one concern per file; the table is in verdict.cpp.
namespace rows {
bool applies_handshake_failed(const ConnectionSummary& s);  // verdict_handshake.cpp
Verdict make_handshake_failed(const ConnectionSummary& s);
bool applies_invalid_close(const ConnectionSummary& s);     // verdict_failures.cpp
Verdict make_invalid_close(const ConnectionSummary& s);
bool applies_closed(const ConnectionSummary& s);            // verdict_closed.cpp
Verdict make_closed(const ConnectionSummary& s);
bool applies_rejected_101(const ConnectionSummary& s);      // verdict_failures.cpp
Verdict make_rejected_101(const ConnectionSummary& s);
bool applies_abnormal(const ConnectionSummary& s);          // verdict_abnormal.cpp
Verdict make_abnormal(const ConnectionSummary& s);
bool applies_open(const ConnectionSummary& s);
Verdict make_open(const ConnectionSummary& s);
}  // namespace rows
}  // namespace wsdiag::diag
