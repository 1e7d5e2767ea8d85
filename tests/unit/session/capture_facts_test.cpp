// [session] what the capture did to the streams (capture-gap, ws-desync, capture-started-midstream)
// and permessage-deflate payload checks (inflate-error, RFC 7692 §7.2.3).
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

TEST_CASE("capture-gap inside a payload keeps framing", "[session]") {
  Conv c;
  c.open();
  const std::string wire = cf(op::binary, std::string(3000, 'b')).bytes();
  c.send(C, wire.substr(0, 1000));
  c.lose(C, wire.substr(1000, 1000));
  c.send(C, wire.substr(2000));  // held out of order until the server's ACK gives the hole up
  c.ack(S);
  c.send(C, cf(op::text, "after the hole"));
  close_normally(c);
  const auto s = c.finish();
  INFO(describe(s));
  REQUIRE(s.findings.size() == 1);
  CHECK(count_of(s, RuleId::capture_gap, Side::client) == 1);
  CHECK(s.c2s.gap_bytes == 1000);
  CHECK(s.c2s.messages == 2);
  CHECK(s.close.echoed);
}

TEST_CASE("a gap inside a text payload makes the message unverifiable, not invalid", "[session]") {
  Conv c;
  c.open();
  const std::string wire = sf(op::text, std::string(1000, 'a') + "\xFF" + std::string(999, 'a')).bytes();
  c.send(S, wire.substr(0, 500));
  c.lose(S, wire.substr(500, 200));
  c.send(S, wire.substr(700));
  c.ack(C);
  close_normally(c);
  const auto s = c.finish();
  INFO(describe(s));
  CHECK(!s.has(RuleId::invalid_utf8));  // the bad byte was captured, but the message is incomplete
  CHECK(count_of(s, RuleId::capture_gap, Side::server) == 1);
}

TEST_CASE("a gap over a frame header loses framing until a plausible frame start", "[session]") {
  Conv c;
  c.open();
  c.send(C, cf(op::text, "one"));
  c.lose(C, cf(op::binary, std::string(50, '\x81')).bytes());  // a whole frame never captured
  const auto after = c.send(C, cf(op::text, "three"));           // held until the hole is given up
  c.ack(S);
  close_normally(c);
  const auto s = c.finish();
  INFO(describe(s));
  const auto* d = finding(s, RuleId::ws_desync, Side::client);
  REQUIRE(d != nullptr);
  CHECK(count_of(s, RuleId::capture_gap, Side::client) == 1);
  CHECK(s.findings.size() == 2);
  CHECK(s.c2s.messages == 2);  // "one" and "three": framing regained at the next frame
  CHECK(s.close.echoed);
  (void)after;
}

TEST_CASE("inflate-error", "[session]") {
  HandshakeOpts deflate;
  deflate.offer_deflate = true;
  deflate.accept_deflate = true;
  PacketRef at{};
  SECTION("compressed payload that does not inflate") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::text, "\xFF\xFF\xFF\xFF").set_rsv(4)); }, deflate);
    expect_only(s, RuleId::inflate_error, Side::client, at);
  }
  SECTION("invalid UTF-8 after inflating") {
    // Stored (uncompressed) deflate block holding 0xFF: BFINAL=0, BTYPE=00, LEN=1, NLEN=~1; then
    // the header byte of the empty stored block that ends every message (RFC 7692 §7.2.1).
    const std::string stored("\x00\x01\x00\xFE\xFF\xFF\x00", 7);
    const auto s = conversation([&](Conv& c) { at = c.send(S, sf(op::text, stored).set_rsv(4)); }, deflate);
    expect_only(s, RuleId::invalid_utf8, Side::server, at);
  }
}

TEST_CASE("capture-started-midstream: frames recognised without a handshake", "[session]") {
  SECTION("--ws-port") {
    session::SessionOptions opt;
    opt.ws_port = 8080;
    Conv c(opt);
    c.send(C, cf(op::text, "hello"));
    c.send(S, sf(op::text, "world"));
    close_normally(c);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.websocket);
    CHECK(!s.handshake_captured);
    CHECK(count_of(s, RuleId::capture_started_midstream, Side::none) == 1);
    CHECK(s.findings.size() == 1);
    CHECK(s.c2s.messages == 1);
    CHECK(s.s2c.messages == 1);
    CHECK(diag::diagnose(s).code == 1000);
  }
  SECTION("whole valid frames, no option") {
    Conv c;
    c.send(C, cf(op::text, "hello"));
    c.send(S, sf(op::text, "world"));
    close_normally(c);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.websocket);
    CHECK(!s.handshake_captured);
    CHECK(s.has(RuleId::capture_started_midstream));
    CHECK(s.close.code == 1000);
  }
  SECTION("a non-WebSocket binary protocol is not taken for frames") {
    Conv c;
    c.send(C, std::string("\x16\x03\x01\x00\x05hello", 10));  // TLS-like record
    c.fin(C);
    c.fin(S);
    const auto s = c.finish();
    CHECK(!s.websocket);
    CHECK(s.findings.empty());
  }
}

TEST_CASE("fin-without-close also when the handshake was not captured", "[session]") {
  Conv c;  // frames recognised without a handshake
  c.send(C, cf(op::text, "hello"));
  c.send(S, sf(op::text, "world"));
  const auto fin_at = c.fin(S);
  c.fin(C);
  const auto s = c.finish();
  INFO(describe(s));
  CHECK(!s.handshake_captured);
  CHECK(count_of(s, RuleId::fin_without_close, Side::server) == 1);
  CHECK(finding(s, RuleId::fin_without_close, Side::server)->at.index == fin_at.index);
  const auto v = diag::diagnose(s);
  CHECK(v.code == 1006);
  CHECK(v.side == Side::server);
}
