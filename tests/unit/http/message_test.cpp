#include "wsdiag/http/message.h"

#include <catch2/catch.hpp>
#include <string>

#include "unit/http/http_test_util.h"
#include "wsdiag/http/text.h"

using namespace wsdiag::http;
using wsdiag::http::test::rfc_request;

TEST_CASE("parse_request: RFC 6455 §1.3 request", "[http]") {
  const auto req = parse_request(rfc_request().str());
  REQUIRE(req);
  CHECK(req->method == "GET");
  CHECK(req->target == "/chat");
  CHECK(req->version == HttpVersion{1, 1});
  CHECK(req->headers.fields().size() == 7);
  CHECK(req->headers.first("host") == "server.example.com");
  CHECK(req->headers.first("SEC-WEBSOCKET-KEY") == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(req->headers.tokens("Sec-WebSocket-Protocol") ==
        std::vector<std::string_view>{"chat", "superchat"});
  CHECK(req->parse_notes.empty());
  CHECK_FALSE(req->headers.has("Cookie"));
  CHECK_FALSE(req->headers.get("Cookie"));
}

TEST_CASE("parse_request: LF line ends and no final empty line", "[http]") {
  const auto req = parse_request("GET /a?b=c HTTP/1.0\nHost: x\nUpgrade: websocket");
  REQUIRE(req);
  CHECK(req->target == "/a?b=c");
  CHECK(req->version == HttpVersion{1, 0});
  CHECK(req->headers.first("Upgrade") == "websocket");
}

TEST_CASE("Headers: case-insensitive names, trimmed values, repeated fields", "[http]") {
  const auto req = parse_request(
      "GET / HTTP/1.1\r\n"
      "connection:   keep-alive  \r\n"
      "CONNECTION:\tUpgrade\r\n"
      "Upgrade: WebSocket\r\n"
      "X-Empty:\r\n"
      "Cookie: a=1\r\n"
      "cookie: b=2\r\n\r\n");
  REQUIRE(req);
  const Headers& h = req->headers;
  CHECK(h.count("Connection") == 2);
  CHECK(h.first("Connection") == "keep-alive");
  CHECK(h.get("Connection") == "keep-alive, Upgrade");
  CHECK(h.values("cookie") == std::vector<std::string_view>{"a=1", "b=2"});
  CHECK(h.get("x-empty") == "");
  CHECK(h.has_token("Connection", "upgrade"));
  CHECK(h.has_token("connection", "KEEP-ALIVE"));
  CHECK_FALSE(h.has_token("Connection", "close"));
  CHECK(h.has_token("Upgrade", "websocket"));
  CHECK(h.fields()[1].name == "CONNECTION");  // case preserved
}

TEST_CASE("Headers: comma-joined tokens in one field", "[http]") {
  const auto req = parse_request(
      "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c, websocket\r\n\r\n");
  REQUIRE(req);
  CHECK(req->headers.has_token("Connection", "Upgrade"));
  CHECK(req->headers.has_token("Upgrade", "WEBSOCKET"));
  CHECK(req->headers.tokens("Upgrade") == std::vector<std::string_view>{"h2c", "websocket"});
  // A token must match a whole list element, not a substring.
  const auto other = parse_request("GET / HTTP/1.1\r\nConnection: Upgrade-Insecure\r\n\r\n");
  REQUIRE(other);
  CHECK_FALSE(other->headers.has_token("Connection", "Upgrade"));
}

TEST_CASE("split_list honours quoted strings and drops empty elements", "[http]") {
  CHECK(split_list(" a , ,b,, \"c, d\" ,") == std::vector<std::string_view>{"a", "b", "\"c, d\""});
  CHECK(split_list("").empty());
  CHECK(split_list(" , ").empty());
  CHECK(split_list("x; y=\"1,\\\"2\", z") ==
        std::vector<std::string_view>{"x; y=\"1,\\\"2\"", "z"});
}

TEST_CASE("parse_request: malformed field lines are noted, not fatal", "[http]") {
  const auto req = parse_request(
      "GET / HTTP/1.1\r\n"
      "Host: a\r\n"
      "X-Folded: one\r\n"
      "  two\r\n"
      "no colon here\r\n"
      "Bad Name: x\r\n"
      "Spaced : y\r\n"
      ": empty name\r\n\r\n");
  REQUIRE(req);
  CHECK(req->headers.first("X-Folded") == "one two");
  CHECK(req->headers.first("Spaced") == "y");
  CHECK_FALSE(req->headers.has("Bad Name"));
  CHECK(req->headers.fields().size() == 3);
  CHECK(req->parse_notes.size() == 5);
}

TEST_CASE("parse_request: parse notes are bounded", "[http]") {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) head += "garbage\r\n";
  const auto req = parse_request(head + "\r\n");
  REQUIRE(req);
  CHECK(req->parse_notes.size() == kMaxParseNotes);
}

TEST_CASE("parse_request: invalid request-lines are nullopt", "[http]") {
  for (const char* bad :
       {"", "\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/1.1 extra\r\n\r\n", "GET / HTTP/11\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "GET / http/1.1\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\n", "\x16\x03\x01"}) {
    INFO(bad);
    CHECK_FALSE(parse_request(bad));
  }
}

TEST_CASE("parse_request: tolerated request-line sloppiness is noted", "[http]") {
  const auto req = parse_request("GET  /chat   HTTP/1.1  \r\n\r\n");
  REQUIRE(req);
  CHECK(req->target == "/chat");
  CHECK(req->parse_notes.size() == 1);
}

TEST_CASE("parse_response: status-lines", "[http]") {
  const auto r = parse_response(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  REQUIRE(r);
  CHECK(r->version == HttpVersion{1, 1});
  CHECK(r->status == 101);
  CHECK(r->reason == "Switching Protocols");
  CHECK(r->headers.first("upgrade") == "websocket");
  CHECK_FALSE(r->interim());

  const auto no_reason = parse_response("HTTP/1.1 403\r\n\r\n");
  REQUIRE(no_reason);
  CHECK(no_reason->status == 403);
  CHECK(no_reason->reason.empty());
  const auto empty_reason = parse_response("HTTP/1.0 200 \r\n\r\n");
  REQUIRE(empty_reason);
  CHECK(empty_reason->reason.empty());

  const auto cont = parse_response("HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(cont);
  CHECK(cont->interim());
  const auto early_hints = parse_response("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n");
  REQUIRE(early_hints);
  CHECK(early_hints->interim());

  for (const char* bad : {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                          "HTTP/1.1 OK\r\n\r\n", "HTTP/1.1\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n",
                          "GET / HTTP/1.1\r\n\r\n", "ICY 200 OK\r\n\r\n", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_response(bad));
  }
}
