#include "wsdiag/http/handshake.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "unit/http/http_test_util.h"

using namespace wsdiag::http;
using wsdiag::Dir;
using wsdiag::http::test::Msg;
using wsdiag::http::test::rfc_request;
using wsdiag::http::test::rfc_response;

namespace {

Handshake run(const Msg* req, const Msg* resp) {
  Handshake hs;
  if (req) {
    auto r = parse_request(req->str());
    REQUIRE(r);
    hs.request = std::move(*r);
  }
  if (resp) {
    auto r = parse_response(resp->str());
    REQUIRE(r);
    CHECK(hs.add_response(std::move(*r)));
  }
  validate(hs);
  return hs;
}
Handshake run(const Msg& req, const Msg& resp) { return run(&req, &resp); }

std::size_t count(const Handshake& hs, HandshakeRule r) {
  return static_cast<std::size_t>(
      std::count_if(hs.problems.begin(), hs.problems.end(),
                    [r](const HandshakeProblem& p) { return p.rule == r; }));
}

const HandshakeProblem* find(const Handshake& hs, HandshakeRule r) {
  for (const auto& p : hs.problems) {
    if (p.rule == r) return &p;
  }
  return nullptr;
}

std::string dump(const Handshake& hs) {
  std::string out;
  for (const auto& p : hs.problems) {
    out.append(p.id()).append(p.side == Dir::c2s ? " (client): " : " (server): ").append(p.message);
    out.append("\n");
  }
  return out;
}

/// `ext_offer`/`ext_response` empty = header absent.
Handshake deflate_case(std::string_view ext_offer, std::string_view ext_response) {
  Msg req = rfc_request();
  Msg resp = rfc_response();
  if (!ext_offer.empty()) req.set("Sec-WebSocket-Extensions", ext_offer);
  if (!ext_response.empty()) resp.set("Sec-WebSocket-Extensions", ext_response);
  return run(req, resp);
}

}  // namespace

TEST_CASE("compute_accept: RFC 6455 §1.3 and §4.2.2 examples", "[http]") {
  CHECK(compute_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(compute_accept("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  CHECK(compute_accept("AQIDBAUGBwgJCgsMDQ4PEA==") == "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
}

TEST_CASE("is_valid_key: base64 of exactly 16 bytes", "[http]") {
  CHECK(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
  CHECK(is_valid_key("AQIDBAUGBwgJCgsMDQ4PEA=="));
  CHECK_FALSE(is_valid_key(""));
  CHECK_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ"));    // unpadded
  CHECK_FALSE(is_valid_key("AAAAAAAAAAAAAAAAAAAA"));      // 15 bytes
  CHECK_FALSE(is_valid_key("AAAAAAAAAAAAAAAAAAAAAAAA"));  // 18 bytes
  CHECK_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=A"));
  CHECK_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZ*=="));
  CHECK_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ==="));
}

TEST_CASE("rule ids are the kebab-case ids of RULES.md", "[http]") {
  CHECK(rule_id(HandshakeRule::method) == "handshake-method");
  CHECK(rule_id(HandshakeRule::upgrade_header) == "handshake-upgrade-header");
  CHECK(rule_id(HandshakeRule::key) == "handshake-key");
  CHECK(rule_id(HandshakeRule::version) == "handshake-version");
  CHECK(rule_id(HandshakeRule::rejected) == "handshake-rejected");
  CHECK(rule_id(HandshakeRule::accept) == "handshake-accept");
  CHECK(rule_id(HandshakeRule::subprotocol) == "handshake-subprotocol");
  CHECK(rule_id(HandshakeRule::extension) == "handshake-extension");
}

TEST_CASE("the RFC 6455 §1.3 handshake is clean", "[http]") {
  const Handshake hs = run(rfc_request(), rfc_response().set("Sec-WebSocket-Protocol", "chat"));
  INFO(dump(hs));
  CHECK(hs.problems.empty());
  CHECK(hs.ok());
  CHECK(hs.switched());
  CHECK(hs.accept_status == AcceptStatus::valid);
  CHECK(hs.expected_accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(hs.path == "/chat");
  CHECK(hs.host == "server.example.com");
  CHECK(hs.origin == "http://example.com");
  CHECK(hs.key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(hs.client_version == "13");
  CHECK(hs.subprotocols_offered == std::vector<std::string>{"chat", "superchat"});
  CHECK(hs.subprotocol == "chat");
  CHECK(hs.status == 101);
  CHECK(hs.reason == "Switching Protocols");
  CHECK_FALSE(hs.deflate.enabled);
}

TEST_CASE("a real browser handshake (Chrome) with permessage-deflate", "[http]") {
  const std::string request =
      "GET /ws?room=42 HTTP/1.1\r\n"
      "Host: localhost:8765\r\n"
      "Connection: Upgrade\r\n"
      "Pragma: no-cache\r\n"
      "Cache-Control: no-cache\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36\r\n"
      "Upgrade: websocket\r\n"
      "Origin: http://localhost:8000\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Accept-Encoding: gzip, deflate, br\r\n"
      "Accept-Language: en-US,en;q=0.9\r\n"
      "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
      "\r\n";
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; "
      "client_max_window_bits=12\r\n"
      "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
      "Server: Python/3.11 websockets/12.0\r\n"
      "\r\n";
  Handshake hs;
  hs.request = parse_request(request);
  REQUIRE(hs.request);
  auto resp = parse_response(response);
  REQUIRE(resp);
  hs.add_response(std::move(*resp));
  validate(hs);
  INFO(dump(hs));
  CHECK(hs.problems.empty());
  CHECK(hs.ok());
  CHECK(hs.path == "/ws?room=42");
  CHECK(hs.host == "localhost:8765");
  CHECK(hs.origin == "http://localhost:8000");
  CHECK(hs.user_agent.find("Chrome/120") != std::string::npos);
  CHECK(hs.server == "Python/3.11 websockets/12.0");
  CHECK(hs.extensions_offered == "permessage-deflate; client_max_window_bits");
  CHECK(hs.extensions_accepted ==
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
  CHECK(hs.deflate == DeflateParams{true, false, false, 12, 12});
  CHECK(hs.subprotocols_offered.empty());
  CHECK(hs.subprotocol.empty());
}

TEST_CASE("validate() is idempotent and starts over", "[http]") {
  Handshake hs = run(rfc_request().set("Sec-WebSocket-Version", "8"), rfc_response());
  const auto n = hs.problems.size();
  REQUIRE(n > 0);
  validate(hs);
  CHECK(hs.problems.size() == n);
}

TEST_CASE("handshake-method", "[http]") {
  const Msg resp = rfc_response();
  CHECK(count(run(rfc_request(), resp), HandshakeRule::method) == 0);
  CHECK(count(run(rfc_request().set("Host", "h"), resp), HandshakeRule::method) == 0);
  Msg post = rfc_request();
  post.start = "POST /chat HTTP/1.1";
  const Handshake hs = run(post, resp);
  REQUIRE(count(hs, HandshakeRule::method) == 1);
  CHECK(find(hs, HandshakeRule::method)->side == Dir::c2s);
  Msg lower = rfc_request();
  lower.start = "get /chat HTTP/1.1";
  CHECK(count(run(lower, resp), HandshakeRule::method) == 1);
  Msg http10 = rfc_request();
  http10.start = "GET /chat HTTP/1.0";
  CHECK(count(run(http10, resp), HandshakeRule::method) == 1);
  Msg http19 = rfc_request();
  http19.start = "GET /chat HTTP/1.9";
  CHECK(count(run(http19, resp), HandshakeRule::method) == 0);
}

TEST_CASE("handshake-upgrade-header", "[http]") {
  const Msg resp = rfc_response();
  SECTION("legal neighbours: case, comma lists, repeated headers") {
    for (const Msg& req :
         {rfc_request().set("Upgrade", "WebSocket").set("Connection", "upgrade"),
          rfc_request().set("Connection", "keep-alive, Upgrade"),
          rfc_request().set("Connection", "keep-alive").add("Connection", "Upgrade"),
          rfc_request().set("Upgrade", "foo/2, websocket")}) {
      const Handshake hs = run(req, resp);
      INFO(req.str() << dump(hs));
      CHECK(count(hs, HandshakeRule::upgrade_header) == 0);
    }
  }
  SECTION("client violations") {
    for (const Msg& req :
         {rfc_request().drop("Upgrade"), rfc_request().set("Upgrade", "h2c"),
          rfc_request().set("Upgrade", "websockets"), rfc_request().drop("Connection"),
          rfc_request().set("Connection", "keep-alive"),
          rfc_request().set("Connection", "Upgrade-Insecure-Requests")}) {
      const Handshake hs = run(req, resp);
      INFO(req.str());
      REQUIRE(count(hs, HandshakeRule::upgrade_header) == 1);
      CHECK(find(hs, HandshakeRule::upgrade_header)->side == Dir::c2s);
    }
  }
  SECTION("server violations in the 101") {
    for (const Msg& bad :
         {rfc_response().drop("Upgrade"), rfc_response().set("Upgrade", "h2c"),
          rfc_response().drop("Connection"), rfc_response().set("Connection", "keep-alive")}) {
      const Handshake hs = run(rfc_request(), bad);
      INFO(bad.str());
      REQUIRE(count(hs, HandshakeRule::upgrade_header) == 1);
      CHECK(find(hs, HandshakeRule::upgrade_header)->side == Dir::s2c);
    }
    CHECK(count(run(rfc_request(), rfc_response().set("Connection", "UPGRADE")),
                HandshakeRule::upgrade_header) == 0);
  }
}

TEST_CASE("handshake-key", "[http]") {
  // The accept is derived from whatever key was sent; use matching accepts so only the key rule
  // is under test.
  auto pair = [](std::string_view key) {
    return run(rfc_request().set("Sec-WebSocket-Key", key),
               rfc_response().set("Sec-WebSocket-Accept", compute_accept(key)));
  };
  CHECK(count(pair("AQIDBAUGBwgJCgsMDQ4PEA=="), HandshakeRule::key) == 0);
  CHECK(pair("AQIDBAUGBwgJCgsMDQ4PEA==").ok());
  for (const char* bad : {"AAAAAAAAAAAAAAAAAAAA", "dGhlIHNhbXBsZSBub25jZQ",
                          "not base64 at all!!!!!==", "AQIDBAUGBwgJCgsMDQ4PEBE="}) {
    INFO(bad);
    const Handshake hs = pair(bad);
    REQUIRE(count(hs, HandshakeRule::key) == 1);
    CHECK(find(hs, HandshakeRule::key)->side == Dir::c2s);
    CHECK(hs.accept_status == AcceptStatus::valid);  // the server hashed what it got
  }
  const Handshake missing = run(rfc_request().drop("Sec-WebSocket-Key"), rfc_response());
  CHECK(count(missing, HandshakeRule::key) == 1);
  CHECK(missing.accept_status == AcceptStatus::not_checked);
  CHECK_FALSE(missing.ok());
  const Handshake twice =
      run(rfc_request().add("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA=="), rfc_response());
  CHECK(count(twice, HandshakeRule::key) == 1);
}

TEST_CASE("handshake-version and 426 with the supported versions", "[http]") {
  CHECK(count(run(rfc_request(), rfc_response()), HandshakeRule::version) == 0);
  SECTION("client asked for 8, server answered 426 listing versions") {
    const Msg resp{"HTTP/1.1 426 Upgrade Required", {"Sec-WebSocket-Version: 13, 8, 7"}};
    const Handshake hs = run(rfc_request().set("Sec-WebSocket-Version", "8"), resp);
    INFO(dump(hs));
    REQUIRE(count(hs, HandshakeRule::version) == 1);
    const auto* p = find(hs, HandshakeRule::version);
    CHECK(p->side == Dir::c2s);
    CHECK(p->message.find("426") != std::string::npos);
    CHECK(p->message.find("13, 8, 7") != std::string::npos);
    CHECK(hs.server_versions == std::vector<int>{13, 8, 7});
    CHECK(hs.client_version == "8");
    CHECK(count(hs, HandshakeRule::rejected) == 1);
    CHECK(hs.status == 426);
    CHECK_FALSE(hs.ok());
  }
  SECTION("versions listed over repeated headers") {
    const Msg resp{"HTTP/1.1 426 Upgrade Required",
                   {"Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8, x"}};
    const Handshake hs = run(rfc_request().set("Sec-WebSocket-Version", "7"), resp);
    CHECK(hs.server_versions == std::vector<int>{13, 8});
  }
  SECTION("426 without the list is the server's problem") {
    const Msg resp{"HTTP/1.1 426 Upgrade Required", {}};
    const Handshake hs = run(rfc_request().set("Sec-WebSocket-Version", "8"), resp);
    CHECK(count(hs, HandshakeRule::version) == 2);
    CHECK(std::any_of(hs.problems.begin(), hs.problems.end(), [](const HandshakeProblem& p) {
      return p.rule == HandshakeRule::version && p.side == Dir::s2c;
    }));
  }
  CHECK(count(run(rfc_request().drop("Sec-WebSocket-Version"), rfc_response()),
              HandshakeRule::version) == 1);
  CHECK(count(run(rfc_request().add("Sec-WebSocket-Version", "13"), rfc_response()),
              HandshakeRule::version) == 1);
}

TEST_CASE("handshake-rejected keeps status and reason", "[http]") {
  const Msg forbidden{"HTTP/1.1 403 Forbidden", {"Content-Length: 0"}};
  const Handshake hs = run(rfc_request(), forbidden);
  REQUIRE(count(hs, HandshakeRule::rejected) == 1);
  const auto* p = find(hs, HandshakeRule::rejected);
  CHECK(p->side == Dir::s2c);
  CHECK(p->message.find("403 Forbidden") != std::string::npos);
  CHECK(hs.status == 403);
  CHECK(hs.reason == "Forbidden");
  CHECK_FALSE(hs.switched());
  CHECK_FALSE(hs.ok());
  // No 101 checks on a rejection: no accept or upgrade problems on top.
  CHECK(hs.problems.size() == 1);
  CHECK(hs.accept_status == AcceptStatus::not_checked);

  CHECK(count(run(rfc_request(), rfc_response()), HandshakeRule::rejected) == 0);
  const Msg no_reason{"HTTP/1.1 502", {}};
  CHECK(find(run(rfc_request(), no_reason), HandshakeRule::rejected)->message.find("502") !=
        std::string::npos);
}

TEST_CASE("interim 1xx responses before the final response", "[http]") {
  Handshake hs;
  hs.request = parse_request(rfc_request().str());
  auto cont = parse_response("HTTP/1.1 100 Continue\r\n\r\n");
  auto hints = parse_response("HTTP/1.1 103 Early Hints\r\n\r\n");
  auto final_resp = parse_response(rfc_response().str());
  REQUIRE((cont && hints && final_resp));
  CHECK_FALSE(hs.add_response(std::move(*cont)));
  CHECK_FALSE(hs.add_response(std::move(*hints)));
  CHECK(hs.add_response(std::move(*final_resp)));
  validate(hs);
  INFO(dump(hs));
  CHECK(hs.interim_statuses == std::vector<int>{100, 103});
  CHECK(hs.problems.empty());
  CHECK(hs.ok());
  // A later final response does not replace the first one.
  auto late = parse_response("HTTP/1.1 500 Oops\r\n\r\n");
  REQUIRE(late);
  CHECK(hs.add_response(std::move(*late)));
  validate(hs);
  CHECK(hs.status == 101);
}

TEST_CASE("handshake-accept", "[http]") {
  const Handshake wrong = run(
      rfc_request(), rfc_response().set("Sec-WebSocket-Accept", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="));
  REQUIRE(count(wrong, HandshakeRule::accept) == 1);
  CHECK(wrong.accept_status == AcceptStatus::mismatch);
  CHECK(find(wrong, HandshakeRule::accept)->side == Dir::s2c);
  CHECK(find(wrong, HandshakeRule::accept)->message.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") !=
        std::string::npos);
  CHECK(wrong.switched());
  CHECK_FALSE(wrong.ok());

  const Handshake missing = run(rfc_request(), rfc_response().drop("Sec-WebSocket-Accept"));
  CHECK(count(missing, HandshakeRule::accept) == 1);
  CHECK(missing.accept_status == AcceptStatus::missing);

  const Handshake twice = run(
      rfc_request(), rfc_response().add("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
  CHECK(count(twice, HandshakeRule::accept) == 1);

  // Case matters in base64.
  CHECK(count(run(rfc_request(),
                  rfc_response().set("Sec-WebSocket-Accept", "S3PPLMBITXAQ9KYGZZHZRBK+XOO=")),
              HandshakeRule::accept) == 1);
  const Handshake good = run(rfc_request(), rfc_response());
  CHECK(count(good, HandshakeRule::accept) == 0);
  CHECK(good.ok());
}

TEST_CASE("one side only: response without request, request without response", "[http]") {
  const Msg resp = rfc_response();
  const Handshake only_resp = run(nullptr, &resp);
  CHECK(only_resp.problems.empty());
  CHECK(only_resp.switched());
  CHECK(only_resp.accept_status == AcceptStatus::not_checked);
  CHECK_FALSE(only_resp.ok());

  const Msg req = rfc_request();
  const Handshake only_req = run(&req, nullptr);
  CHECK(only_req.problems.empty());
  CHECK(only_req.status == 0);
  CHECK_FALSE(only_req.switched());
  CHECK(only_req.path == "/chat");
}

TEST_CASE("handshake-subprotocol", "[http]") {
  const Msg offered = rfc_request();  // chat, superchat
  SECTION("legal") {
    CHECK(run(offered, rfc_response().set("Sec-WebSocket-Protocol", "superchat")).problems.empty());
    const Handshake none_selected = run(offered, rfc_response());
    CHECK(none_selected.problems.empty());
    CHECK(none_selected.subprotocol.empty());
    CHECK(run(rfc_request().drop("Sec-WebSocket-Protocol"), rfc_response()).problems.empty());
    CHECK(run(rfc_request().set("Sec-WebSocket-Protocol", "v1").add("Sec-WebSocket-Protocol", "v2"),
              rfc_response().set("Sec-WebSocket-Protocol", "v2"))
              .problems.empty());
  }
  SECTION("selected one the client did not offer") {
    const Handshake hs = run(offered, rfc_response().set("Sec-WebSocket-Protocol", "mqtt"));
    REQUIRE(count(hs, HandshakeRule::subprotocol) == 1);
    CHECK(find(hs, HandshakeRule::subprotocol)->side == Dir::s2c);
    CHECK(hs.subprotocol == "mqtt");
    CHECK(count(run(offered, rfc_response().set("Sec-WebSocket-Protocol", "Chat")),
                HandshakeRule::subprotocol) == 1);
  }
  SECTION("selected one when none offered") {
    const Handshake hs = run(rfc_request().drop("Sec-WebSocket-Protocol"),
                             rfc_response().set("Sec-WebSocket-Protocol", "chat"));
    CHECK(count(hs, HandshakeRule::subprotocol) == 1);
  }
  SECTION("selected more than one") {
    CHECK(count(run(offered, rfc_response().set("Sec-WebSocket-Protocol", "chat, superchat")),
                HandshakeRule::subprotocol) == 1);
    CHECK(count(run(offered, rfc_response()
                                 .set("Sec-WebSocket-Protocol", "chat")
                                 .add("Sec-WebSocket-Protocol", "chat")),
                HandshakeRule::subprotocol) == 1);
  }
}

TEST_CASE("handshake-extension: permessage-deflate negotiation matrix", "[http]") {
  struct Case {
    const char* offer;     // "" = no header
    const char* response;  // "" = no header
    std::size_t server_problems;
    std::size_t client_problems;
    DeflateParams params;
  };
  const DeflateParams off{};
  const Case cases[] = {
      // valid
      {"", "", 0, 0, off},
      {"permessage-deflate; client_max_window_bits", "", 0, 0, off},
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate",
       0,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
       "server_max_window_bits=10; client_max_window_bits=11",
       0,
       0,
       {true, true, true, 10, 11}},
      {"permessage-deflate",
       "permessage-deflate; server_no_context_takeover",
       0,
       0,
       {true, true, false, 15, 15}},
      {"permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
       "permessage-deflate; server_max_window_bits=9",
       0,
       0,
       {true, false, false, 9, 9}},
      {"permessage-deflate; server_max_window_bits=10, permessage-deflate",
       "permessage-deflate",
       0,
       0,
       {true, false, false, 15, 15}},
      {"x-webkit-deflate-frame, permessage-deflate",
       "permessage-deflate",
       0,
       0,
       {true, false, false, 15, 15}},
      {"x-webkit-deflate-frame", "x-webkit-deflate-frame", 0, 0, off},
      // server accepted what was not offered
      {"", "permessage-deflate", 1, 0, {true, false, false, 15, 15}},
      {"x-webkit-deflate-frame", "permessage-deflate", 1, 0, {true, false, false, 15, 15}},
      {"", "permessage-deflate; server_max_window_bits=9", 1, 0, {true, false, false, 9, 15}},
      {"permessage-deflate", "permessage-deflate, x-custom", 1, 0, {true, false, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; client_max_window_bits=10",
       1,
       0,
       {true, false, false, 15, 10}},
      {"permessage-deflate; server_no_context_takeover",
       "permessage-deflate",
       1,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate; server_max_window_bits=10",
       "permessage-deflate; server_max_window_bits=12",
       1,
       0,
       {true, false, false, 12, 15}},
      // invalid response parameters
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate; client_max_window_bits",
       1,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; server_max_window_bits",
       1,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; server_max_window_bits=16",
       1,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; server_no_context_takeover=true",
       1,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
       1,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate", "permessage-deflate; foo=1", 1, 0, {true, false, false, 15, 15}},
      {"permessage-deflate",
       "permessage-deflate, permessage-deflate",
       1,
       0,
       {true, false, false, 15, 15}},
      {"permessage-deflate", "permessage-deflate;", 1, 0, off},
      // invalid offers (the client's problem); the server declined or accepted a valid one
      {"permessage-deflate; server_max_window_bits", "", 0, 1, off},
      {"permessage-deflate; bogus", "", 0, 1, off},
      {"permessage-deflate; client_max_window_bits=20, permessage-deflate",
       "permessage-deflate",
       0,
       1,
       {true, false, false, 15, 15}},
      {"permessage-deflate; bogus", "permessage-deflate", 1, 1, {true, false, false, 15, 15}},
      {"permessage-deflate;;", "", 0, 1, off},
  };
  for (const auto& c : cases) {
    const Handshake hs = deflate_case(c.offer, c.response);
    INFO("offer: " << c.offer << "\nresponse: " << c.response << "\n" << dump(hs));
    std::size_t server = 0;
    std::size_t client = 0;
    for (const auto& p : hs.problems) {
      CHECK(p.rule == HandshakeRule::extension);
      (p.side == Dir::s2c ? server : client) += 1;
    }
    CHECK(server == c.server_problems);
    CHECK(client == c.client_problems);
    CHECK(hs.deflate == c.params);
    CHECK(hs.ok());
  }
}

TEST_CASE("handshake-extension: extensions are not checked on a rejection", "[http]") {
  const Msg forbidden{"HTTP/1.1 400 Bad Request",
                      {"Sec-WebSocket-Extensions: permessage-deflate; foo"}};
  const Handshake hs = run(rfc_request(), forbidden);
  CHECK(count(hs, HandshakeRule::extension) == 0);
  CHECK_FALSE(hs.deflate.enabled);
}

TEST_CASE("extension raw values are recorded, repeated headers joined", "[http]") {
  const Handshake hs = run(rfc_request()
                               .set("Sec-WebSocket-Extensions", "permessage-deflate")
                               .add("Sec-WebSocket-Extensions", "x-webkit-deflate-frame"),
                           rfc_response().set("Sec-WebSocket-Extensions", "permessage-deflate"));
  CHECK(hs.extensions_offered == "permessage-deflate, x-webkit-deflate-frame");
  CHECK(hs.extensions_accepted == "permessage-deflate");
  CHECK(hs.problems.empty());
}
