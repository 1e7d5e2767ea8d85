// wsdiag — judgement about TLS connections (wss://), kept apart from the WebSocket verdicts:
// which TLS connections are WebSocket-over-TLS candidates, the findings TLS facts lead to, the
// verdict row for a connection whose WebSocket traffic could not be seen, and the advice on how
// to get a key log from each common stack (as data rows).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag {

/// A TLS connection whose WebSocket traffic (if any) could not be seen: not decrypted, decryption
/// failed, or HTTP/2 selected. Listed in reports like WebSocket connections.
bool tls_candidate(const ConnectionSummary& s) noexcept;

/// Adds the findings the TLS facts prove (decryption failed, fatal alert, malformed or too long
/// records, h2) to s.findings. Called once, by the session layer, when the summary is made.
void add_tls_findings(ConnectionSummary& s);

/// The verdict-table row for TLS connections whose WebSocket layer is not visible (first row):
/// not decrypted (no key log, no key for it, unsupported suite), decryption failed, or HTTP/2.
bool tls_verdict_applies(const ConnectionSummary& s);
Verdict make_tls_verdict(const ConnectionSummary& s);

struct KeyLogHowTo {
  std::string_view stack;
  std::string_view how;
};
/// How to get a key log from each common stack.
std::span<const KeyLogHowTo> keylog_howto() noexcept;
/// The how-to rows as one advice paragraph.
std::string keylog_advice();

}  // namespace wsdiag::diag
