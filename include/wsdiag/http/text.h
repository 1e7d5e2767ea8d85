// wsdiag — HTTP text helpers: tokens, optional whitespace and comma lists (RFC 9110 §5.6).
//
//   token = 1*tchar
//   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
//           / DIGIT / ALPHA
//   OWS   = *( SP / HTAB )
//   #rule = [ element ] *( OWS "," OWS [ element ] )      (empty elements are ignored, §5.6.1.2)
#pragma once

#include <string_view>
#include <vector>

namespace wsdiag::http {

/// RFC 9110 §5.6.2 tchar.
[[nodiscard]] constexpr bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

[[nodiscard]] constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// True if `s` is a non-empty token.
[[nodiscard]] bool is_token(std::string_view s) noexcept;

/// `s` without leading and trailing SP / HTAB.
[[nodiscard]] std::string_view trim_ows(std::string_view s) noexcept;

/// ASCII case-insensitive equality (header names, Upgrade/Connection tokens).
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// Splits a comma-separated list; commas inside quoted-strings do not split. Elements are trimmed
/// of OWS and empty elements are dropped. The views point into `s`.
[[nodiscard]] std::vector<std::string_view> split_list(std::string_view s);

}  // namespace wsdiag::http
