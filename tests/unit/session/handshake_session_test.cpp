// [session] the handshake handoff (RFC 6455 §4): data-before-101, frames coalesced with the 101,
// handshake problems surfacing as findings, rejected upgrades.
#include <catch2/catch.hpp>

#include <string>

#include "session_test_util.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/ws/frame_parser.h"

using namespace wsdiag;
using namespace wsdiag::session::test;
using diag::RuleId;
using diag::Side;
namespace op = wsdiag::ws::opcode;

namespace {

constexpr Dir C = Conv::C;
constexpr Dir S = Conv::S;

}  // namespace

TEST_CASE("data-before-101", "[session]") {
  SECTION("client frames sent before the 101 arrives are flagged, then decoded") {
    Conv c;
    c.send(C, upgrade_request());
    const auto at = c.send(C, cf(op::text, "eager"));
    c.send(C, cf(op::text, "\xFF"));  // decoded later: its rule still fires
    c.send(S, upgrade_response());
    close_normally(c);
    const auto s = c.finish();
    INFO(describe(s));
    REQUIRE(s.findings.size() == 2);
    const auto* f = finding(s, RuleId::data_before_101, Side::client);
    REQUIRE(f != nullptr);
    CHECK(f->at.index == at.index);
    CHECK(f->count == 1);
    CHECK(count_of(s, RuleId::invalid_utf8, Side::client) == 1);
    CHECK(s.c2s.messages == 2);
    CHECK(s.c2s.frames == 3);
  }
  SECTION("frame bytes in the request's own segment") {
    Conv c;
    const auto at = c.send(C, upgrade_request() + cf(op::text, "eager").bytes());
    c.send(S, upgrade_response());
    close_normally(c);
    const auto s = c.finish();
    expect_only(s, RuleId::data_before_101, Side::client, at);
    CHECK(s.c2s.messages == 1);
  }
  SECTION("frames after the 101: none") {
    Conv c;
    c.open();
    c.send(C, cf(op::text, "patient"));
    close_normally(c);
    const auto s = c.finish();
    expect_clean(s);
  }
  SECTION("bytes before a rejection are not WebSocket frames") {
    Conv c;
    c.send(C, upgrade_request());
    c.send(C, cf(op::text, "eager"));
    HandshakeOpts o;
    o.status = 403;
    c.send(S, upgrade_response(o));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(!s.has(RuleId::data_before_101));
    CHECK(s.c2s.frames == 0);
  }
}

TEST_CASE("a frame coalesced with the 101 response decodes", "[session]") {
  SECTION("a Ping in the 101's segment, answered by the client") {
    Conv c;
    c.send(C, upgrade_request());
    c.send(S, upgrade_response() + sf(op::ping, "hb").bytes());
    c.send(C, cf(op::pong, "hb"));
    close_normally(c);
    const auto s = c.finish();
    expect_clean(s);
    CHECK(s.s2c.pings == 1);
    CHECK(s.s2c.frames == 2);
    CHECK(s.c2s.pongs == 1);
  }
  SECTION("a masked frame in the 101's segment is the server's violation, at that packet") {
    Conv c;
    c.send(C, upgrade_request());
    const auto at = c.send(S, upgrade_response() + sf(op::text, "hi").set_masked(true).bytes() + sf(op::ping, "x").bytes());
    c.send(C, cf(op::pong, "x"));
    close_normally(c);
    const auto s = c.finish();
    expect_only(s, RuleId::server_masked, Side::server, at);
    CHECK(s.s2c.messages == 1);
    CHECK(s.s2c.pings == 1);
  }
  SECTION("a frame header split between the 101's segment and the next") {
    Conv c;
    c.send(C, upgrade_request());
    const std::string ping = sf(op::ping, "abc").bytes();
    c.send(S, upgrade_response() + ping.substr(0, 1));
    c.send(S, ping.substr(1));
    c.send(C, cf(op::pong, "abc"));
    close_normally(c);
    const auto s = c.finish();
    expect_clean(s);
    CHECK(s.s2c.pings == 1);
  }
}

TEST_CASE("handshake problems surface as findings", "[session]") {
  SECTION("a wrong Sec-WebSocket-Accept") {
    HandshakeOpts o;
    o.accept = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    Conv c;
    c.send(C, upgrade_request(o));
    const auto at = c.send(S, upgrade_response(o));
    close_normally(c);
    const auto s = c.finish();
    INFO(describe(s));
    const auto* f = finding(s, RuleId::handshake_accept, Side::server);
    REQUIRE(f != nullptr);
    CHECK(f->at.index == at.index);
    CHECK(!s.handshake.ok);
    CHECK(s.handshake.status == 101);
    CHECK(std::find(s.handshake.problems.begin(), s.handshake.problems.end(), RuleId::handshake_accept) !=
          s.handshake.problems.end());
    CHECK(diag::diagnose(s).severity == diag::Severity::error);
  }
  SECTION("a request without Sec-WebSocket-Version") {
    HandshakeOpts o;
    o.drop_version = true;
    Conv c;
    const auto at = c.send(C, upgrade_request(o));
    c.send(S, upgrade_response(o));
    close_normally(c);
    const auto s = c.finish();
    expect_only(s, RuleId::handshake_version, Side::client, at);
    CHECK(s.handshake.request_at.index == at.index);
  }
  SECTION("a correct handshake: none, and its facts are summarised") {
    HandshakeOpts o;
    o.offer_deflate = true;
    o.accept_deflate = true;
    Conv c;
    const auto req = c.send(C, upgrade_request(o));
    const auto resp = c.send(S, upgrade_response(o));
    close_normally(c);
    const auto s = c.finish();
    expect_clean(s);
    CHECK(s.handshake.ok);
    CHECK(s.handshake.problems.empty());
    CHECK(s.handshake.method == "GET");
    CHECK(s.handshake.path == "/chat");
    CHECK(s.handshake.host == "server.example.com");
    CHECK(s.handshake.deflate);
    CHECK(s.handshake.request_at.index == req.index);
    CHECK(s.handshake.response_at.index == resp.index);
    CHECK(s.handshake_captured);
    CHECK(s.tcp_handshake_seen);
    CHECK(s.client == "10.0.0.1:40000");
    CHECK(s.server == "10.0.0.2:8080");
  }
  SECTION("a rejected upgrade: handshake-rejected and a handshake-failed verdict") {
    HandshakeOpts o;
    o.status = 403;
    Conv c;
    c.send(C, upgrade_request(o));
    const auto at = c.send(S, upgrade_response(o));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    const auto* f = finding(s, RuleId::handshake_rejected, Side::server);
    REQUIRE(f != nullptr);
    CHECK(f->at.index == at.index);
    CHECK(s.handshake.status == 403);
    CHECK(!s.has(RuleId::fin_without_close));  // no WebSocket was ever established
    const auto v = diag::diagnose(s);
    CHECK(!v.code);
    CHECK(v.name == "handshake failed");
  }
  SECTION("plain HTTP is not WebSocket") {
    Conv c;
    c.send(C, std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    c.send(S, std::string("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    CHECK(!s.websocket);
    CHECK(s.findings.empty());
  }
}

// While waiting for the 101, client bytes are held up to 64 KiB. A chunk that does not fit is
// dropped, but a later, smaller chunk that fits is appended right after the held bytes, as if the
// dropped bytes had never been in the stream: on replay the parser reads the middle of a frame's
// payload as frame headers. Once anything is dropped, what follows must not be decoded as if it
// were contiguous (framing must resume only at a trusted/plausible frame start).
TEST_CASE("held client bytes past the 64 KiB bound do not corrupt framing", "[session]") {
  Conv c;
  c.send(C, upgrade_request());
  c.send(C, cf(op::binary, std::string(60000, 'a')));  // 60008 bytes held
  auto big = cf(op::binary, std::string(9000, 'a'));    // key 0: the wire payload is 'a' (0x61) bytes
  big.key = {0, 0, 0, 0};
  const std::string wire = big.bytes();                 // 9008 bytes
  c.send(C, wire.substr(0, 8000));                      // does not fit: dropped
  c.send(C, wire.substr(8000));                         // 1008 bytes fit: held after the first frame
  c.send(S, upgrade_response());
  close_normally(c);
  const auto s = c.finish();
  INFO(describe(s));
  CHECK(s.has(RuleId::data_before_101));
  // 0x61 0x61 read as a header: RSV1+RSV2, text, unmasked, 97 bytes.
  CHECK(!s.has(RuleId::client_unmasked));
  CHECK(!s.has(RuleId::rsv_bits));
  CHECK(s.close.echoed);
}

// The same hole made by capture loss: the server ACKs client bytes the capture never saw while the
// client's frames are held. The gap is only counted (held_dropped_), the bytes after it are
// appended to the held ones as if contiguous, and the replay decodes payload as headers.
TEST_CASE("a capture gap while client bytes are held does not corrupt framing", "[session]") {
  Conv c;
  c.send(C, upgrade_request());
  c.send(C, cf(op::text, "first"));
  auto big = cf(op::binary, std::string(3000, 'a'));
  big.key = {0, 0, 0, 0};
  const std::string wire = big.bytes();
  c.lose(C, wire.substr(0, 1000));  // header and the first payload bytes never captured
  c.send(C, wire.substr(1000));     // out of order until the hole is given up
  c.ack(S);                         // the server acknowledges everything: a capture gap
  c.send(S, upgrade_response());
  close_normally(c);
  const auto s = c.finish();
  INFO(describe(s));
  CHECK(s.has(RuleId::data_before_101));
  CHECK(s.has(RuleId::capture_gap));
  CHECK(!s.has(RuleId::client_unmasked));
  CHECK(!s.has(RuleId::rsv_bits));
  CHECK(s.close.echoed);
}
