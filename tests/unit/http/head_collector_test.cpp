#include "wsdiag/http/head_collector.h"

#include <catch2/catch.hpp>
#include <string>

#include "unit/http/http_test_util.h"
#include "wsdiag/http/message.h"

using wsdiag::http::HeadCollector;
using wsdiag::http::test::as_bytes;
using wsdiag::http::test::rfc_request;
using wsdiag::http::test::rfc_response;
using State = HeadCollector::State;
using Kind = HeadCollector::Kind;

namespace {
const std::string kFrames = std::string("\x81\x05hello\x89\x00", 9);
}

TEST_CASE("HeadCollector: a whole head in one chunk", "[http]") {
  const std::string head = rfc_request().str();
  HeadCollector hc;
  std::size_t consumed = 99;
  CHECK(hc.feed(as_bytes(head), consumed) == State::complete);
  CHECK(consumed == head.size());
  CHECK(hc.head() == head);
  CHECK(hc.kind() == Kind::request);
  CHECK(hc.bytes_seen() == head.size());
}

TEST_CASE("HeadCollector: 101 followed by frames in the same chunk stops at the head end",
          "[http]") {
  const std::string head = rfc_response().str();
  const std::string chunk = head + kFrames;
  HeadCollector hc;
  std::size_t consumed = 0;
  REQUIRE(hc.feed(as_bytes(chunk), consumed) == State::complete);
  CHECK(consumed == head.size());
  CHECK(chunk.substr(consumed) == kFrames);
  CHECK(hc.head() == head);
  CHECK(hc.kind() == Kind::response);
  // Sticky: nothing more is consumed until reset().
  CHECK(hc.feed(as_bytes(kFrames), consumed) == State::complete);
  CHECK(consumed == 0);
  CHECK(hc.head() == head);
}

TEST_CASE("HeadCollector: split at every byte position", "[http]") {
  for (const char* eol : {"\r\n", "\n"}) {
    const std::string head = rfc_response().str(eol);
    const std::string stream = head + kFrames;
    for (std::size_t k = 0; k <= stream.size(); ++k) {
      INFO("eol " << (eol[0] == '\r' ? "CRLF" : "LF") << " split at " << k);
      HeadCollector hc;
      std::size_t consumed = 0;
      const std::string a = stream.substr(0, k);
      const std::string b = stream.substr(k);
      State s = hc.feed(as_bytes(a), consumed);
      if (k >= head.size()) {
        REQUIRE(s == State::complete);
        CHECK(consumed == head.size());
      } else {
        REQUIRE(s == State::collecting);
        CHECK(consumed == a.size());
        s = hc.feed(as_bytes(b), consumed);
        REQUIRE(s == State::complete);
        CHECK(consumed == head.size() - k);
      }
      CHECK(hc.head() == head);
    }
  }
}

TEST_CASE("HeadCollector: every chunk size gives the same head and remainder", "[http]") {
  const std::string head = rfc_request().str();
  const std::string stream = head + "GET /next HTTP/1.1\r\n\r\n";
  for (std::size_t size = 1; size <= stream.size(); ++size) {
    INFO("chunk size " << size);
    HeadCollector hc;
    std::size_t pos = 0;
    std::size_t consumed = 0;
    State s = State::collecting;
    while (s == State::collecting && pos < stream.size()) {
      const std::string chunk = stream.substr(pos, size);
      s = hc.feed(as_bytes(chunk), consumed);
      pos += consumed;
    }
    REQUIRE(s == State::complete);
    CHECK(pos == head.size());
    CHECK(hc.head() == head);
  }
}

TEST_CASE("HeadCollector: line-end variants end the head", "[http]") {
  for (const std::string end : {"\r\n\r\n", "\n\n", "\r\n\n", "\n\r\n"}) {
    const std::string head = "HTTP/1.1 101 Switching Protocols" + end;
    HeadCollector hc;
    std::size_t consumed = 0;
    CHECK(hc.feed(as_bytes(head + "x"), consumed) == State::complete);
    CHECK(consumed == head.size());
  }
  // A CR alone on a line is not an empty line by itself; "\n\r\r\n" keeps collecting.
  HeadCollector hc;
  std::size_t consumed = 0;
  CHECK(hc.feed(as_bytes("HTTP/1.1 101 OK\n\r\r\n"), consumed) == State::collecting);
}

TEST_CASE("HeadCollector: pipelined requests and interim responses come one head at a time",
          "[http]") {
  const std::string first = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string second = rfc_response().str();
  const std::string chunk = first + second + kFrames;
  HeadCollector hc;
  std::size_t consumed = 0;
  REQUIRE(hc.feed(as_bytes(chunk), consumed) == State::complete);
  REQUIRE(consumed == first.size());
  const auto interim = wsdiag::http::parse_response(hc.head());
  REQUIRE(interim);
  CHECK(interim->status == 100);
  CHECK(interim->interim());

  hc.reset();
  const std::string rest = chunk.substr(consumed);
  REQUIRE(hc.feed(as_bytes(rest), consumed) == State::complete);
  CHECK(consumed == second.size());
  CHECK(rest.substr(consumed) == kFrames);
  const auto final_resp = wsdiag::http::parse_response(hc.head());
  REQUIRE(final_resp);
  CHECK(final_resp->status == 101);
  CHECK_FALSE(final_resp->interim());
}

TEST_CASE("HeadCollector: leading empty lines are skipped but counted", "[http]") {
  const std::string head = rfc_request().str();
  HeadCollector hc;
  std::size_t consumed = 0;
  REQUIRE(hc.feed(as_bytes("\r\n\r\n" + head), consumed) == State::complete);
  CHECK(consumed == head.size() + 4);
  CHECK(hc.head() == head);
  CHECK(hc.bytes_seen() == head.size() + 4);
}

TEST_CASE("HeadCollector: a head over the bound is too_large", "[http]") {
  const std::string head = rfc_request().str();
  SECTION("exactly at the bound is complete") {
    HeadCollector hc(head.size());
    std::size_t consumed = 0;
    CHECK(hc.feed(as_bytes(head + kFrames), consumed) == State::complete);
    CHECK(consumed == head.size());
  }
  SECTION("one byte over is too_large, nothing more stored") {
    HeadCollector hc(head.size() - 1);
    std::size_t consumed = 0;
    CHECK(hc.feed(as_bytes(head), consumed) == State::too_large);
    CHECK(consumed == head.size() - 1);
    CHECK(hc.head().size() == head.size() - 1);
    CHECK(hc.feed(as_bytes(head), consumed) == State::too_large);
    CHECK(consumed == 0);
    CHECK(hc.head().size() == head.size() - 1);
  }
  SECTION("default bound: a 20 KiB header") {
    HeadCollector hc;
    const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n";
    std::size_t consumed = 0;
    State s = State::collecting;
    std::size_t pos = 0;
    while (s == State::collecting && pos < big.size()) {
      s = hc.feed(as_bytes(std::string_view(big).substr(pos, 1000)), consumed);
      pos += consumed;
    }
    CHECK(s == State::too_large);
    CHECK(pos == wsdiag::Limits{}.http_head_bytes);
    CHECK(hc.head().size() <= wsdiag::Limits{}.http_head_bytes);
  }
  SECTION("endless empty lines are bounded too") {
    HeadCollector hc(16);
    std::size_t consumed = 0;
    CHECK(hc.feed(as_bytes(std::string(40, '\n')), consumed) == State::too_large);
    CHECK(consumed == 16);
  }
}

TEST_CASE("HeadCollector: binary streams are not_http within a few bytes", "[http]") {
  struct Case {
    std::string bytes;
    std::size_t stop;
  };
  const Case cases[] = {
      {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 0},  // TLS ClientHello
      {kFrames, 0},                                                          // WebSocket frames
      {std::string("\x00\x00\x00\x01", 4), 0},
      {"HTTP/x.1 200 OK\r\n\r\n", 5},
      {"HTTPS/1.1 200 OK\r\n\r\n", 5},
      {"GET\r\n", 3},
      {" GET / HTTP/1.1\r\n", 0},
      {std::string(40, 'A'), HeadCollector::kMaxMethodLen},
      {std::string("GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n"), 20},
  };
  for (const auto& c : cases) {
    INFO(c.bytes);
    HeadCollector hc;
    std::size_t consumed = 0;
    const State s = hc.feed(as_bytes(c.bytes), consumed);
    CHECK(s == State::not_http);
    CHECK(consumed == c.stop);
  }
}

TEST_CASE("HeadCollector: the HTTP/2 preface is a head that parse_request() rejects", "[http]") {
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  HeadCollector hc;
  std::size_t consumed = 0;
  CHECK(hc.feed(as_bytes(preface), consumed) == State::complete);
  CHECK(consumed == 18);
  CHECK_FALSE(wsdiag::http::parse_request(hc.head()));
}

TEST_CASE("HeadCollector: not_http is detected the same with one byte per chunk", "[http]") {
  const std::string tls("\x16\x03\x01\x02\x00", 5);
  HeadCollector hc;
  std::size_t consumed = 0;
  CHECK(hc.feed(as_bytes(tls.substr(0, 1)), consumed) == State::not_http);
  CHECK(consumed == 0);

  HeadCollector hc2;
  const std::string http_ish = "HTTP/z";
  State s = State::collecting;
  for (std::size_t i = 0; i < http_ish.size() && s == State::collecting; ++i) {
    s = hc2.feed(as_bytes(http_ish.substr(i, 1)), consumed);
  }
  CHECK(s == State::not_http);
  CHECK(hc2.bytes_seen() == 5);
}

TEST_CASE("HeadCollector: reset starts over", "[http]") {
  HeadCollector hc;
  std::size_t consumed = 0;
  REQUIRE(hc.feed(as_bytes(std::string("\x16\x03", 2)), consumed) == State::not_http);
  hc.reset();
  CHECK(hc.state() == State::collecting);
  CHECK(hc.kind() == Kind::unknown);
  const std::string head = rfc_request().str();
  CHECK(hc.feed(as_bytes(head), consumed) == State::complete);
  CHECK(hc.head() == head);
  CHECK(hc.feed(as_bytes(""), consumed) == State::complete);
}
