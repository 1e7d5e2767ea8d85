// wsdiag — verdicts: an ordered table of pure predicates over ConnectionSummary, first match wins
// (Zeek's conn_state() turned into reviewable data). Unit-tested with hand-built summaries.
#pragma once

#include "wsdiag/common/duration.h"

#include <span>
#include <string>
#include <string_view>

#include "wsdiag/diag/summary.h"

namespace wsdiag::diag {

/// One verdict kind: data (id, usual severity, spec, title, the findings its text explains) and
/// two pure functions (whether it applies, and its texts).
struct VerdictRule {
  std::string_view name;      ///< e.g. "handshake-failed", "closed", "abnormal-1006", "open"
  Severity severity;          ///< the usual severity of this ending (make() may set another: a Close's code decides)
  std::string_view spec;      ///< "RFC 6455 §7.1.5", or "" where no RFC applies
  std::string_view title;     ///< what the ending means, one line
  bool (*applies)(const ConnectionSummary&);
  Verdict (*make)(const ConnectionSummary&);
  /// Findings this ending already explains in its own text (e.g. `rst` for an abnormal 1006);
  /// they still raise the severity but are not repeated in the summary line.
  std::span<const RuleId> explains;
};

/// The ordered table (exposed for tests and documentation).
std::span<const VerdictRule> verdict_table() noexcept;

/// The verdict for one WebSocket connection: the first row that applies, then severity raised to
/// the worst finding, and the summary line mentioning the most serious violation.
///
/// Handshake problems: a RuleId in `handshake.problems` that has no entry in `findings` counts as
/// a finding too (side from the rule: request rules are the client's, response rules the
/// server's; packet: the request or response), so severity and summary never depend on which
/// list the session layer put it in.
Verdict diagnose(const ConnectionSummary& s);


}  // namespace wsdiag::diag
