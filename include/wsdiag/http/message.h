// wsdiag — HTTP/1.x request and response heads (RFC 9112 §3, §4, §5; RFC 9110 §5).
//
//   request-line = method SP request-target SP HTTP-version
//   status-line  = HTTP-version SP status-code SP [ reason-phrase ]
//   HTTP-version = "HTTP" "/" DIGIT "." DIGIT
//   field-line   = field-name ":" OWS field-value OWS
//
// Only HTTP/1.x is accepted: "HTTP/2.0" in a start-line (the HTTP/2 connection preface) is
// rejected. The parsers take a complete head (as HeadCollector::head() returns it; the final empty
// line is optional) and never throw on malformed input. A start-line that cannot be parsed yields
// nullopt. Field lines that break the grammar are recorded in `parse_notes` (at most
// kMaxParseNotes): a line without a colon or with an invalid name is dropped, whitespace before the
// colon is trimmed, and an obsolete line fold is joined to the previous value with one SP (§5.2).
// Lenient where real peers are sloppy: bare LF line ends, several SP between start-line parts,
// a status-line without reason phrase.
#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsdiag::http {

struct HttpVersion {
  int major = 0;
  int minor = 0;
  friend auto operator<=>(const HttpVersion&, const HttpVersion&) = default;
};

struct HeaderField {
  std::string name;   ///< as sent (case preserved)
  std::string value;  ///< OWS trimmed
};

/// Header fields in arrival order. Names compare case-insensitively; repeated fields are kept.
class Headers {
 public:
  void add(std::string_view name, std::string_view value);
  /// Joins an obsolete line fold to the last field's value with one SP (RFC 9112 §5.2).
  void append_to_last(std::string_view more);
  [[nodiscard]] const std::vector<HeaderField>& fields() const noexcept { return fields_; }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }

  /// Number of field lines named `name`.
  [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
  [[nodiscard]] bool has(std::string_view name) const noexcept { return count(name) != 0; }
  /// The value of the first field named `name`.
  [[nodiscard]] std::optional<std::string_view> first(std::string_view name) const noexcept;
  /// All values of `name` joined with ", " (RFC 9110 §5.3); nullopt if absent.
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;
  /// The values of every field named `name`, in order.
  [[nodiscard]] std::vector<std::string_view> values(std::string_view name) const;
  /// Every field named `name` split as a comma list (see split_list()), in order.
  [[nodiscard]] std::vector<std::string_view> tokens(std::string_view name) const;
  /// True if some element of the comma lists of `name` equals `token` case-insensitively
  /// (e.g. has_token("Connection", "upgrade") for "Connection: keep-alive, Upgrade").
  [[nodiscard]] bool has_token(std::string_view name, std::string_view token) const;

 private:
  std::vector<HeaderField> fields_;
};

inline constexpr std::size_t kMaxParseNotes = 8;

struct HttpRequest {
  std::string method;
  std::string target;  ///< request-target as sent (origin-form "/chat?x=1" for WebSocket)
  HttpVersion version;
  Headers headers;
  std::vector<std::string> parse_notes;  ///< grammar problems in the field lines
};

struct HttpResponse {
  HttpVersion version;
  int status = 0;
  std::string reason;
  Headers headers;
  std::vector<std::string> parse_notes;

  /// 1xx other than 101: an interim response; the final response follows (RFC 9110 §15.2).
  [[nodiscard]] bool interim() const noexcept {
    return status >= 100 && status < 200 && status != 101;
  }
};

/// Parses a request head; nullopt if the request-line is not `token SP target SP HTTP/1.d`.
[[nodiscard]] std::optional<HttpRequest> parse_request(std::string_view head);
/// Parses a response head; nullopt if the status-line is not `HTTP/1.d SP 3DIGIT [SP reason]`.
[[nodiscard]] std::optional<HttpResponse> parse_response(std::string_view head);

}  // namespace wsdiag::http
