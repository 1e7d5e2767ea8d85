// wsdiag — JSON written straight into a string (json_writer.h).
#include "json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace wsdiag::report {

void JsonWriter::next_element() {
  Level& l = stack_[static_cast<std::size_t>(depth_ - 1)];
  if (l.count++ != 0) out_ += ',';
  if (pretty_) newline_indent(depth_);
}

void JsonWriter::open(char c, bool array) {
  before_value();
  if (depth_ >= kMaxDepth) std::abort();  // a writer bug, never input-driven
  stack_[static_cast<std::size_t>(depth_)] = Level{array, 0};
  ++depth_;
  out_ += c;
}

void JsonWriter::close(char c) {
  if (depth_ == 0) std::abort();
  --depth_;
  if (pretty_ && stack_[static_cast<std::size_t>(depth_)].count != 0) newline_indent(depth_);
  out_ += c;
}

void JsonWriter::escaped_string(std::string_view s) {
  // The one JSON escaper: nlohmann's (control bytes as \uXXXX, invalid UTF-8 replaced by U+FFFD).
  out_ += nlohmann::ordered_json(std::string(s)).dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

void JsonWriter::null() {
  before_value();
  out_ += "null";
}

void JsonWriter::boolean(bool b) {
  before_value();
  out_ += b ? std::string_view("true") : std::string_view("false");
}

void JsonWriter::number(std::uint64_t v) {
  before_value();
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out_.append(buf.data(), r.ptr);
}

void JsonWriter::number(std::int64_t v) {
  before_value();
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out_.append(buf.data(), r.ptr);
}

void JsonWriter::number(double v) {
  before_value();
  if (!std::isfinite(v)) {  // as nlohmann dumps NaN and infinities
    out_ += "null";
    return;
  }
  // nlohmann's own float formatter (what dump() calls): shortest round-trip digits, "1.0" for
  // integral values, exponent outside 1e-5..1e15.
  std::array<char, 64> buf{};
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
  out_.append(buf.data(), end);
}

void JsonWriter::string(std::string_view s) {
  before_value();
  raw_string(s);
}

}  // namespace wsdiag::report
