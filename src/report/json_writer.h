// wsdiag — JSON written straight into a string, without building a tree (report/ internal).
//
// The output is byte-identical to nlohmann::ordered_json::dump(indent 2 or -1, ' ', ensure_ascii
// false, error_handler_t::replace) of the same values, so the connection objects stay the same
// whichever way they are made: the same separators and indentation, integers in decimal, doubles
// through nlohmann's own shortest round-trip formatter (non-finite ones as null), and strings
// through nlohmann's escaper, the project's one JSON escaper. Most strings (printable ASCII
// without '"' or '\\') need no escaping and are copied as they are; only the others take the
// escaper's path (and its allocation).
//
// Use: begin_object(); key("a"); value(1); key("b"); begin_array(); value("x"); end_array();
// end_object(). The caller keeps the structure well formed (a key before each member value);
// nesting deeper than kMaxDepth is a programming error, checked.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace wsdiag::report {

class JsonWriter {
 public:
  static constexpr int kMaxDepth = 16;

  /// Appends to `out`. `pretty`: 2-space indentation as dump(2); otherwise compact as dump(-1).
  /// `base_depth`: the text goes `base_depth` levels deep into an enclosing document (every line
  /// after the first indented by that many levels more), as the spilled connection objects are.
  JsonWriter(std::string& out, bool pretty, int base_depth = 0) noexcept
      : out_(out), pretty_(pretty), base_(base_depth) {}

  void begin_object() { open('{', false); }
  void end_object() { close('}'); }
  void begin_array() { open('[', true); }
  void end_array() { close(']'); }

  /// The next member's key (escaped like any string).
  JsonWriter& key(std::string_view k) {
    Level& l = stack_[static_cast<std::size_t>(depth_ - 1)];
    if (l.count++ != 0) out_ += ',';
    if (pretty_) newline_indent(depth_);
    raw_string(k);
    if (pretty_) {
      out_.append(": ", 2);
    } else {
      out_ += ':';
    }
    after_key_ = true;
    return *this;
  }

  void null();
  void boolean(bool b);
  void number(std::uint64_t v);
  void number(std::int64_t v);
  void number(double v);
  void string(std::string_view s);

  // Conveniences: value(x) picks the JSON type from the C++ type, as nlohmann's conversions do.
  void value(std::nullptr_t) { null(); }
  void value(bool b) { boolean(b); }
  void value(std::string_view s) { string(s); }
  void value(const std::string& s) { string(s); }
  void value(const char* s) { string(s); }
  void value(double v) { number(v); }
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  void value(T v) {
    if constexpr (std::is_signed_v<T>) {
      number(static_cast<std::int64_t>(v));
    } else {
      number(static_cast<std::uint64_t>(v));
    }
  }
  template <typename T>
  void value(const std::optional<T>& v) {
    if (v) {
      value(*v);
    } else {
      null();
    }
  }

  /// key(k) then value(v).
  template <typename T>
  void member(std::string_view k, const T& v) {
    key(k);
    value(v);
  }

 private:
  struct Level {
    bool array = false;
    std::uint32_t count = 0;
  };
  void open(char c, bool array);
  void close(char c);
  // The separator and indentation an array element needs.
  void before_value() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ != 0) next_element();
  }
  void next_element();
  void newline_indent(int levels) {
    static constexpr std::string_view kSpaces =
        "\n                                                                ";
    const auto n = static_cast<std::size_t>(base_ + levels) * 2 + 1;
    if (n <= kSpaces.size()) {
      out_.append(kSpaces.data(), n);
    } else {
      out_ += '\n';
      out_.append(n - 1, ' ');
    }
  }
  void raw_string(std::string_view s) {
    if (plain(s)) {
      const std::size_t at = out_.size();
      out_.resize(at + s.size() + 2);  // one growth check for the quotes and the text
      char* p = out_.data() + at;
      *p++ = '"';
      if (!s.empty()) std::memcpy(p, s.data(), s.size());
      p[s.size()] = '"';
    } else {
      escaped_string(s);
    }
  }
  void escaped_string(std::string_view s);
  // Printable ASCII other than '"' and '\\': what nlohmann's escaper copies unchanged.
  // Eight bytes at a time (SWAR): a byte below 0x20, above 0x7e, '"' or '\\' in any lane sets
  // that lane's top bit; a tail is the last eight bytes again (overlapping, never re-stored, so no
  // store-forwarding stall). Strings under eight bytes go byte by byte. Most strings are plain.
  static bool plain(std::string_view s) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    const auto any_bad = [](const char* p) {
      std::uint64_t x;
      std::memcpy(&x, p, 8);
      const std::uint64_t below = (x - kOnes * 0x20) & ~x;               // byte < 0x20
      const std::uint64_t above = (x + kOnes * (127 - 0x7e)) | x;        // byte > 0x7e
      const std::uint64_t q = x ^ (kOnes * '"');
      const std::uint64_t b = x ^ (kOnes * '\\');
      const std::uint64_t eq = ((q - kOnes) & ~q) | ((b - kOnes) & ~b);  // byte == '"' or '\\'
      return ((below | above | eq) & kHigh) != 0;
    };
    const std::size_t n = s.size();
    if (n < 8) {
      bool ok = true;
      for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        ok &= u >= 0x20 && u < 0x7f && u != '"' && u != '\\';
      }
      return ok;
    }
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      if (any_bad(s.data() + i)) return false;
    }
    return i == n || !any_bad(s.data() + n - 8);
  }

  std::string& out_;
  bool pretty_;
  int base_;
  int depth_ = 0;
  bool after_key_ = false;
  std::array<Level, kMaxDepth> stack_{};
};

struct ConnReport;
/// One connection's object (json_connection.cpp), appended to `out`: pretty (dump(2) indented
/// `base_depth` levels deeper, as the document spills it) or compact (jsonl).
void write_connection_json(std::string& out, const ConnReport& c, bool pretty, int base_depth);

}  // namespace wsdiag::report
