#include <catch2/catch.hpp>

#include <string>

#include "unit/report/report_fixture.h"
#include "wsdiag/report/text_util.h"

using namespace report_test;
using wsdiag::session::FrameRecord;

TEST_CASE("frames: header line is CLI.md's", "[report]") {
  const std::string out = capture_output([](std::FILE* f) { wsdiag::report::write_frames_header(f); });
  CHECK(out ==
        "packet\tconn\ttime\tdir\tfin\trsv\topcode\tmasked\tpayload_len\tclose_code\tclose_reason\t"
        "message_len\ttext_preview\n");
}

TEST_CASE("frames: data frame line", "[report]") {
  FrameRecord f;
  f.at = {7, 1'700'000'000'123'456'789};
  f.conn = 3;
  f.dir = wsdiag::Dir::c2s;
  f.fin = true;
  f.rsv = 4;
  f.opcode = 1;
  f.masked = true;
  f.payload_len = 70000;
  f.close_reason = "ignored";  // not a Close frame: columns stay empty
  f.close_code = 1000;
  CHECK(wsdiag::report::frame_line(f, f.text_preview) == "7\t3\t1700000000.123456\tc2s\t1\t4\t1\t1\t70000\t\t\t\t");
  const std::string out = capture_output([&](std::FILE* o) { wsdiag::report::write_frame(o, f, f.text_preview); });
  CHECK(out == "7\t3\t1700000000.123456\tc2s\t1\t4\t1\t1\t70000\t\t\t\t\n");
}

TEST_CASE("frames: close frame with code and escaped reason", "[report]") {
  FrameRecord f;
  f.at = {12, 1'700'000'000'000'001'000};
  f.conn = 1;
  f.dir = wsdiag::Dir::s2c;
  f.fin = true;
  f.opcode = 8;
  f.close_code = 1001;
  f.close_reason = std::string("a\tb\nc\rd\\e\x01\x7f\xff\xc3\xa9", 14);
  f.payload_len = 2 + f.close_reason.size();
  CHECK(wsdiag::report::frame_line(f, f.text_preview) ==
        "12\t1\t1700000000.000001\ts2c\t1\t0\t8\t0\t16\t1001\ta\\tb\\nc\\rd\\\\e\\x01\\x7f\\xff\xc3\xa9\t\t");
}

TEST_CASE("frames: empty close frame has empty code and reason", "[report]") {
  FrameRecord f;
  f.at = {1, 0};
  f.opcode = 8;
  CHECK(wsdiag::report::frame_line(f, f.text_preview) == "1\t0\t0.000000\tc2s\t0\t0\t8\t0\t0\t\t\t\t");
}

TEST_CASE("frames: times before the epoch floor correctly", "[report]") {
  FrameRecord f;
  f.at = {1, -1'500'000};  // -0.0015 s
  f.opcode = 2;
  CHECK(wsdiag::report::frame_line(f, f.text_preview).substr(0, 14) == "1\t0\t-1.998500\t");
}

TEST_CASE("escape_tsv matches the truth files' escaping", "[report]") {
  using wsdiag::report::escape_tsv;
  CHECK(escape_tsv("plain text") == "plain text");
  CHECK(escape_tsv("tab\there") == "tab\\there");
  CHECK(escape_tsv("nl\ncr\r") == "nl\\ncr\\r");
  CHECK(escape_tsv("back\\slash") == "back\\\\slash");
  CHECK(escape_tsv(std::string("nul\0", 4)) == "nul\\x00");
  CHECK(escape_tsv("\x1b") == "\\x1b");
  CHECK(escape_tsv("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  // not UTF-8: lone continuation, overlong, surrogate, truncated sequence, > U+10FFFF
  CHECK(escape_tsv("\x80") == "\\x80");
  CHECK(escape_tsv("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(escape_tsv("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(escape_tsv("\xe2\x82") == "\\xe2\\x82");
  CHECK(escape_tsv("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
  CHECK(escape_tsv("\xe2\x82x") == "\\xe2\\x82x");
}

TEST_CASE("frames: message length and text preview on a message's last frame", "[report]") {
  wsdiag::session::FrameRecord f;
  f.at = wsdiag::PacketRef{5, 1'700'000'000'000'000'000};
  f.conn = 2;
  f.dir = wsdiag::Dir::s2c;
  f.fin = true;
  f.rsv = 4;
  f.opcode = 1;
  f.payload_len = 38;
  f.message_len = 1000;
  f.text_preview = "line1\r\nline2\t";
  CHECK(wsdiag::report::frame_line(f, f.text_preview) ==
        "5\t2\t1700000000.000000\ts2c\t1\t4\t1\t0\t38\t\t\t1000\tline1\\r\\nline2\\t");
}
