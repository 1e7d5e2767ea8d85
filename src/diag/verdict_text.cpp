// wsdiag — the text helpers of the verdict rows (verdict_text.h): the one place verdict texts name
// sides, packets, durations, close codes and wire text.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "verdict_text.h"
#include "wsdiag/common/byte_reader.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/ws/utf8.h"

namespace wsdiag::diag {
namespace vtext {

// ---------------------------------------------------------------------------------------------
// Text helpers (shared by the verdict rows in this file and verdict_failures.cpp: verdict_text.h)

std::string the_side(Side s) {
  switch (s) {
    case Side::client:
      return "the client";
    case Side::server:
      return "the server";
    case Side::both:
      return "both sides";
    case Side::none:
      break;
  }
  return "";
}

std::string peer_of(Side s) {
  switch (s) {
    case Side::client:
      return "the server";
    case Side::server:
      return "the client";
    case Side::both:
    case Side::none:
      break;
  }
  return "the other side";
}

std::string capitalised(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
  return text;
}

/// Text from the wire (close reason, HTTP reason phrase, header values) made safe for one line:
/// control bytes, quotes and backslashes escaped, non-UTF-8 bytes shown as \xNN, and cut to
/// `max` bytes on a character boundary.
std::string printable(std::string_view text, std::size_t max) {
  const Bytes bytes{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
  const bool utf8 = ws::is_valid_utf8(bytes);
  std::string out;
  out.reserve(std::min(text.size(), max) + 8);
  std::size_t i = 0;
  for (; i < text.size() && out.size() < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      out += fmt::format("\\x{:02X}", c);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0xC0) {  // lead byte of a valid sequence: copy the whole character
      std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      len = std::min(len, text.size() - i);
      out.append(text.substr(i, len));
      i += len - 1;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

/// "packet 812, 2024-01-02T03:04:05.123456Z", "packet 812", or "" when the packet is unknown.
std::string packet_where(const PacketRef& p) {
  if (p.index == 0) return "";
  if (p.ts_ns == 0) return fmt::format("packet {}", p.index);
  return fmt::format("packet {}, {}", p.index, iso8601_utc(p.ts_ns));
}

/// " (packet 812, 2024-01-02T03:04:05.123456Z)" or "" when the packet is unknown.
std::string at_packet(const PacketRef& p) {
  const std::string w = packet_where(p);
  return w.empty() ? w : fmt::format(" ({})", w);
}

/// "(RST, packet 812, 2024-...)" or "(RST)".
std::string tagged(std::string_view what, const PacketRef& p) {
  const std::string w = packet_where(p);
  return w.empty() ? fmt::format("({})", what) : fmt::format("({}, {})", what, w);
}

std::optional<double> known_ms_between(const PacketRef& from, const PacketRef& to) {
  if (from.index == 0 || to.index == 0 || from.ts_ns == 0 || to.ts_ns == 0) return std::nullopt;
  return ms_between(from, to);
}

/// Whether a finding (or handshake problem) of this rule is present.
bool has_problem(const ConnectionSummary& s, RuleId r) {
  return s.has(r) ||
         std::find(s.handshake.problems.begin(), s.handshake.problems.end(), r) !=
             s.handshake.problems.end();
}

Severity close_code_severity(std::uint16_t code, bool empty) {
  if (empty) return Severity::info;
  if (!close_code_valid_on_wire(code)) return Severity::error;
  if (code == 1000 || code == 1001) return Severity::info;
  if (code == 1002 || code == 1007 || code == 1011) return Severity::error;
  if (code >= 3000) return Severity::info;
  return Severity::warning;
}

std::string code_label(std::optional<std::uint16_t> code) {
  if (!code) return "an empty Close (1005 No Status Received)";
  if (!close_code_valid_on_wire(*code)) return fmt::format("invalid close code {}", *code);
  const auto info = close_code_info(*code);
  if (!info) return fmt::format("code {}", *code);
  if (*code >= 3000) return fmt::format("{} ({})", *code, info->name);
  return fmt::format("{} {}", *code, info->name);
}

}  // namespace vtext


}  // namespace wsdiag::diag
