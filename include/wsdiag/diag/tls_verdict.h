// wsdiag — judgement about TLS connections (wss://), kept apart from the WebSocket verdicts:
// which TLS connections are WebSocket-over-TLS candidates, the findings TLS facts lead to, the
// verdict row for a connection whose WebSocket traffic could not be seen, and the advice on how
// to get a key log from each common stack (as data rows).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag {

/// A TLS connection whose WebSocket traffic (if any) could not be seen: not decrypted, decryption
/// failed, or HTTP/2 selected. Listed in reports like WebSocket connections.
bool tls_candidate(const ConnectionSummary& s) noexcept;

/// A TLS candidate whose handshake completed (or was not captured) but whose plaintext is not
/// seen: what TCP proves about its ending (who, FIN/RST, the silence before it) is all there is,
/// so the cause and pattern tables judge it from those facts like a plaintext teardown.
bool tls_opaque(const ConnectionSummary& s) noexcept;

/// A TLS connection's ending that began with a closing alert (close_notify, or any alert record
/// that was its sender's last) before TCP's first FIN/RST: a proxy that times a wss:// connection
/// out says close_notify first, and the peer answers with close_notify and FIN. Who sent the first
/// such alert, at which packet, and the silence before it (from the last record either way before
/// it; nullopt when that is not known). Judged from TLS facts only (decrypted or not).
struct TlsEnding {
  Side by = Side::none;
  PacketRef at;
  std::optional<double> idle_ms;
  std::string what;  ///< "TLS close_notify", "an encrypted TLS alert record", ...
};
std::optional<TlsEnding> tls_ending(const ConnectionSummary& s);

/// Adds the findings the TLS facts prove (decryption failed, fatal alert, malformed or too long
/// records, h2) to s.findings, keeping them in packet order. Called once per connection, by
/// report::diagnose_into before the verdict (the session layer only hands the facts over).
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
