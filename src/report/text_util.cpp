// wsdiag — string helpers for the report writers. UTF-8 well-formedness: RFC 3629 §4 (the table
// in include/wsdiag/ws/utf8.h); escaping conventions: corpus truth/README.md.
#include "wsdiag/report/text_util.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <iterator>

namespace wsdiag::report {

namespace {

std::uint8_t byte_at(std::string_view s, std::size_t i) noexcept {
  return static_cast<std::uint8_t>(s[i]);
}

bool in(std::uint8_t b, std::uint8_t lo, std::uint8_t hi) noexcept { return b >= lo && b <= hi; }

// Code point of a well-formed sequence of length len (1-4) at the start of s.
std::uint32_t decode(std::string_view s, std::size_t len) noexcept {
  const std::uint32_t b0 = byte_at(s, 0);
  if (len == 1) return b0;
  std::uint32_t cp = len == 2 ? (b0 & 0x1Fu) : len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
  for (std::size_t i = 1; i < len; ++i) cp = (cp << 6) | (byte_at(s, i) & 0x3Fu);
  return cp;
}

void append_hex_byte(std::string& out, std::uint8_t b) {
  fmt::format_to(std::back_inserter(out), "\\x{:02x}", b);
}

bool is_bidi_control(std::uint32_t cp) noexcept {
  return cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Shared by escape_tsv and escape_terminal; `terminal` also escapes C1 and bidi controls.
std::string escape_impl(std::string_view raw, bool terminal) {
  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::uint8_t c = byte_at(raw, i);
    if (c < 0x80) {
      switch (c) {
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\\': out += "\\\\"; break;
        default:
          if (c < 0x20 || c == 0x7F) {
            append_hex_byte(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    const std::string_view rest = raw.substr(i);
    const std::size_t len = utf8_sequence_length(rest);
    if (len == 0) {
      append_hex_byte(out, c);
      ++i;
      continue;
    }
    const std::uint32_t cp = decode(rest, len);
    if (terminal && ((cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp))) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", cp);
    } else {
      out.append(rest.substr(0, len));
    }
    i += len;
  }
  return out;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s) noexcept {
  if (s.empty()) return 0;
  const std::uint8_t b0 = byte_at(s, 0);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;
  if (in(b0, 0xC2, 0xDF)) {
    len = 2;
  } else if (b0 == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if (in(b0, 0xE1, 0xEC) || in(b0, 0xEE, 0xEF)) {
    len = 3;
  } else if (b0 == 0xED) {
    len = 3;
    hi = 0x9F;
  } else if (b0 == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (in(b0, 0xF1, 0xF3)) {
    len = 4;
  } else if (b0 == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else {
    return 0;  // 80..C1, F5..FF
  }
  if (s.size() < len) return 0;
  if (!in(byte_at(s, 1), lo, hi)) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if (!in(byte_at(s, i), 0x80, 0xBF)) return 0;
  }
  return len;
}

std::string escape_tsv(std::string_view raw) { return escape_impl(raw, false); }

std::string escape_terminal(std::string_view raw) { return escape_impl(raw, true); }

std::string escape_markdown(std::string_view raw) {
  const std::string safe = escape_terminal(raw);
  std::string out;
  out.reserve(safe.size() + 8);
  for (const char c : safe) {
    switch (c) {
      case '\\': case '|': case '`': case '*': case '_': case '[': case ']': case '~':
        out += '\\';
        out += c;
        break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_mermaid(std::string_view raw) {
  const std::string safe = escape_terminal(raw);
  std::string out;
  out.reserve(safe.size() + 8);
  for (const char c : safe) {
    switch (c) {
      case '#': case ';': case ':': case '<': case '>': case '&': case '"': case '`': case '{': case '}':
      case '[': case ']': case '|': case '\\': case '%': case '\n': case '\r':
        out += fmt::format("#{};", static_cast<int>(static_cast<unsigned char>(c)));
        break;
      default: out += c;
    }
  }
  return out;
}

std::size_t display_width(std::string_view s) noexcept {
  std::size_t width = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {  // CSI ... final byte
      i += 2;
      while (i < s.size() && !in(byte_at(s, i), 0x40, 0x7E)) ++i;
      if (i < s.size()) ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(s.substr(i));
    i += len == 0 ? 1 : len;
    ++width;
  }
  return width;
}

std::vector<std::string> wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::vector<std::string> lines;
  const std::size_t room = width > indent + 10 ? width - indent : 10;
  std::size_t para_start = 0;
  while (para_start <= text.size()) {
    std::size_t para_end = text.find('\n', para_start);
    if (para_end == std::string_view::npos) para_end = text.size();
    const std::string_view para = text.substr(para_start, para_end - para_start);
    std::string line;
    std::size_t line_w = 0;
    std::size_t pos = 0;
    bool any = false;
    while (pos < para.size()) {
      while (pos < para.size() && para[pos] == ' ') ++pos;
      if (pos >= para.size()) break;
      std::size_t end = para.find(' ', pos);
      if (end == std::string_view::npos) end = para.size();
      std::string_view word = para.substr(pos, end - pos);
      pos = end;
      any = true;
      std::size_t word_w = display_width(word);
      if (line_w > 0 && line_w + 1 + word_w > room) {
        lines.push_back(std::move(line));
        line.clear();
        line_w = 0;
      }
      while (word_w > room) {  // split a word longer than a whole line, at code points
        std::size_t take = 0;
        std::size_t cols = line_w;
        while (take < word.size() && cols < room) {
          const std::size_t len = utf8_sequence_length(word.substr(take));
          take += len == 0 ? 1 : len;
          ++cols;
        }
        line.append(word.substr(0, take));
        lines.push_back(std::move(line));
        line.clear();
        line_w = 0;
        word.remove_prefix(take);
        word_w = display_width(word);
      }
      if (word.empty()) continue;
      if (line_w > 0) {
        line += ' ';
        ++line_w;
      }
      line.append(word);
      line_w += word_w;
    }
    if (!line.empty()) lines.push_back(std::move(line));
    if (!any && para_end < text.size()) lines.emplace_back();  // keep blank lines inside text
    if (para_end >= text.size()) break;
    para_start = para_end + 1;
  }
  return lines;
}

std::string human_bytes(std::uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n) / 1024.0;
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, kUnits[u]);
}

}  // namespace wsdiag::report
