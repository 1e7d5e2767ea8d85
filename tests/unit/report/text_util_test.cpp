#include <catch2/catch.hpp>

#include <cmath>

#include <string>

#include "wsdiag/report/text_util.h"

using namespace wsdiag::report;
using wsdiag::format_duration_ms;

TEST_CASE("escape_terminal also escapes C1 and bidi controls", "[report]") {
  CHECK(escape_terminal("\xc2\x9b" "31m") == "\\u009b31m");
  CHECK(escape_terminal("abc\xe2\x80\xae" "def") == "abc\\u202edef");
  CHECK(escape_terminal("\xc2\xa0ok") == "\xc2\xa0ok");  // NBSP is printable
  CHECK(escape_terminal("\x1b[0m") == "\\x1b[0m");
}

TEST_CASE("utf8_sequence_length follows RFC 3629", "[report]") {
  CHECK(utf8_sequence_length("") == 0);
  CHECK(utf8_sequence_length("a") == 1);
  CHECK(utf8_sequence_length("\xc3\xa9") == 2);
  CHECK(utf8_sequence_length("\xc1\xbf") == 0);
  CHECK(utf8_sequence_length("\xe0\x9f\xbf") == 0);  // overlong
  CHECK(utf8_sequence_length("\xef\xbf\xbf") == 3);
  CHECK(utf8_sequence_length("\xf0\x90\x80\x80") == 4);
  CHECK(utf8_sequence_length("\xf5\x80\x80\x80") == 0);
}

TEST_CASE("wrap keeps lines within the width", "[report]") {
  const auto lines = wrap("the quick brown fox jumps over the lazy dog", 4, 20);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "the quick brown");
  CHECK(lines[1] == "fox jumps over");
  CHECK(lines[2] == "the lazy dog");
  const auto split = wrap(std::string(25, 'x'), 0, 20);
  REQUIRE(split.size() == 2);
  CHECK(split[0].size() == 20);
  CHECK(split[1].size() == 5);
  CHECK(wrap("", 0, 20).empty());
  const auto para = wrap("one\n\ntwo", 0, 20);
  CHECK(para == std::vector<std::string>{"one", "", "two"});
  // multi-byte characters count as one column each
  const auto accents = wrap("\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9", 0, 14);
  CHECK(accents.size() == 1);
}

TEST_CASE("display_width skips colour sequences", "[report]") {
  CHECK(display_width("\x1b[1;31merror\x1b[0m") == 5);
  CHECK(display_width("\xc2\xa7" "5.1") == 4);
}

TEST_CASE("human units", "[report]") {
  CHECK(human_bytes(0) == "0 B");
  CHECK(human_bytes(1023) == "1023 B");
  CHECK(human_bytes(1536) == "1.5 KiB");
  CHECK(human_bytes(3u * 1024 * 1024) == "3.0 MiB");
  CHECK(format_duration_ms(0.3) == "0.3 ms");
  CHECK(format_duration_ms(9.94) == "9.9 ms");
  CHECK(format_duration_ms(12.5) == "12.5 ms");
  CHECK(format_duration_ms(99.97) == "100 ms");
  CHECK(format_duration_ms(250) == "250 ms");
  CHECK(format_duration_ms(999.4) == "999 ms");
  CHECK(format_duration_ms(999.6) == "1.00 s");
  CHECK(format_duration_ms(1260) == "1.26 s");
  CHECK(format_duration_ms(9'996) == "10.0 s");
  CHECK(format_duration_ms(42'000) == "42.0 s");
  CHECK(format_duration_ms(60'000) == "60.0 s");
  CHECK(format_duration_ms(599'940) == "599.9 s");
  CHECK(format_duration_ms(750'000) == "12 min 30 s");
  CHECK(format_duration_ms(7'380'000) == "2 h 03 min");
  CHECK(format_duration_ms(-5) == "-5.0 ms");
  CHECK(format_duration_ms(std::nan("")) == "?");
  CHECK(format_duration_ms(1e300) != "");
}

TEST_CASE("escaped output is valid UTF-8 with no control bytes, for any input", "[report]") {
  const auto check = [](const std::string& in) {
    for (const auto& out : {escape_tsv(in), escape_terminal(in), escape_markdown(in)}) {
      std::size_t i = 0;
      while (i < out.size()) {
        const auto c = static_cast<unsigned char>(out[i]);
        if (c < 0x20 || c == 0x7F) return false;
        const std::size_t len = utf8_sequence_length(std::string_view(out).substr(i));
        if (len == 0) return false;
        i += len;
      }
    }
    return true;
  };
  std::size_t bad = 0;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string in{static_cast<char>(a), static_cast<char>(b), 'x'};
      if (!check(in)) ++bad;
    }
  }
  std::uint32_t x = 2463534242u;  // xorshift32: fixed sequence of 3-6 byte inputs
  for (int n = 0; n < 20000; ++n) {
    std::string in;
    const int len = 3 + n % 4;
    for (int k = 0; k < len; ++k) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      in += static_cast<char>(x & 0xFF);
    }
    if (!check(in)) ++bad;
  }
  CHECK(bad == 0);
}
