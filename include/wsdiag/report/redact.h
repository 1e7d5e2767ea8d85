// wsdiag — redaction at the report edge (issue #13 §1): the one place that decides what a report
// may show. Every output (text, json, jsonl, markdown, --frames, --conn, the live outputs) passes
// its connections, capture names and frames through a Redactor before a writer formats them, so a
// report can be attached to a public ticket as it is.
//
// Hidden by default (RedactOptions{}):
//   - query values in request targets and URLs: `?access_token=abc` -> `?access_token=<redacted>`
//   - userinfo in URLs: `wss://user:pw@host/` -> `wss://<redacted>@host/`
//   - credential-like Sec-WebSocket-Protocol entries (JWTs, long opaque tokens); ordinary names
//     such as graphql-transport-ws stay
//   - values of Cookie, Set-Cookie, Authorization, Proxy-Authorization and *-key/*-token/*-secret
//     headers, should a writer ever show one (redact_header)
//   - message previews (--frames) unless `payload`
//   - capture file paths are reduced to their base names
// `redact = false` (--no-redact) shows everything; `anonymize` (--anonymize) replaces each IP
// address by a pseudonym ("addr-1"), the same address by the same pseudonym within a run, ports kept.
// Each connection lists what was hidden in it (ConnReport::redacted) and the writers say so.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wsdiag/report/report.h"

namespace wsdiag::report {

struct RedactOptions {
  bool redact = true;      ///< false: --no-redact
  bool anonymize = false;  ///< --anonymize
  bool payload = false;    ///< --payload: show message previews
};

/// The text that stands in for a hidden value.
inline constexpr std::string_view kRedacted = "<redacted>";

// ---- pure helpers (unit-tested one by one) ----

/// A request target or URL with every query value and any userinfo hidden; `changed` is set when
/// something was hidden. Names of query parameters and the path stay.
std::string redact_url(std::string_view url, bool& changed);
/// True if a Sec-WebSocket-Protocol entry looks like a credential: a JWT (three base64url parts),
/// or a long (>= 24 characters) token mixing letters and digits with no separator words.
bool looks_like_credential(std::string_view token);
/// A comma-separated Sec-WebSocket-Protocol value with credential-like entries hidden.
std::string redact_subprotocols(std::string_view list, bool& changed);
/// True for headers whose values are credentials (Cookie, Set-Cookie, Authorization,
/// Proxy-Authorization, X-Api-Key and any name ending in -key, -token, -secret, case-insensitive).
bool is_secret_header(std::string_view name);
/// The value to show for a header: kRedacted for a secret header, the value otherwise.
std::string redact_header(std::string_view name, std::string_view value);
/// The base name of a capture path ("/home/me/cap.pcap" -> "cap.pcap"; "-" stays "-").
std::string base_name(std::string_view path);

class Redactor {
 public:
  explicit Redactor(RedactOptions o = {}) : o_(o) {}
  [[nodiscard]] const RedactOptions& options() const noexcept { return o_; }

  /// Hides secrets in a connection's facts and in the verdict's texts that quote them, and
  /// anonymizes addresses. Records what was hidden in c.redacted. Thread-safe.
  void apply(ConnReport& c);
  /// Capture file name -> base name (unless --no-redact).
  void apply(CaptureMeta& m) const;
  /// Every capture, and the run-level note (Report::redaction).
  void apply(Report& r);
  /// An "ip:port" endpoint as reports show it: its pseudonym with --anonymize, else unchanged.
  [[nodiscard]] std::string endpoint(std::string_view ep);
  /// The preview a --frames line may show for this frame.
  [[nodiscard]] std::string_view preview(std::string_view text_preview) const noexcept;
  /// One line saying what this run hides and how to show it ("" when nothing is hidden).
  [[nodiscard]] std::string note() const;

 private:
  std::string pseudonym(std::string_view ip);  // caller holds mu_
  std::string anonymize_endpoint(std::string_view endpoint, std::vector<std::pair<std::string, std::string>>& seen);

  RedactOptions o_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> names_;
};

}  // namespace wsdiag::report
