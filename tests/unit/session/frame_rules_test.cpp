// [session] frame rules of RFC 6455 §5 (masking, RSV bits, opcodes, lengths, control frames,
// fragmentation, UTF-8): each triggers on a minimal case and stays silent on its legal neighbour.
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

// RFC 7692 §7.2.3.1: "Hello" compressed with permessage-deflate (one block, no context).
const std::string kHelloDeflated("\xF2\x48\xCD\xC9\xC9\x07\x00", 7);

}  // namespace

TEST_CASE("a clean conversation has no findings and counts every frame", "[session]") {
  const auto s = conversation([](Conv& c) {
    c.send(C, cf(op::text, "hello"));
    c.send(S, sf(op::text, "world!"));
    c.send(C, cf(op::binary, std::string(300, 'x')));  // 16-bit length, masked
    c.send(S, sf(op::ping, "hb"));
    c.send(C, cf(op::pong, "hb"));
  });
  expect_clean(s);
  CHECK(s.websocket);
  CHECK(s.handshake.ok);
  CHECK(s.handshake.status == 101);
  CHECK(s.c2s.frames == 4);    // text, binary, pong, close
  CHECK(s.c2s.messages == 2);
  CHECK(s.c2s.message_bytes == 305);
  CHECK(s.c2s.max_message == 300);
  CHECK(s.c2s.pongs == 1);
  CHECK(s.s2c.frames == 3);    // text, ping, close
  CHECK(s.s2c.messages == 1);
  CHECK(s.s2c.pings == 1);
  CHECK(s.close.seen);
  CHECK(s.close.initiator == Side::client);
  CHECK(s.close.code == 1000);
  CHECK(s.close.echoed);
  CHECK(s.close.echo_code == 1000);
  CHECK(s.tcp_end.how == diag::TcpEndHow::fin);
  CHECK(s.tcp_end.by == Side::server);
  const auto v = diag::diagnose(s);
  CHECK(v.code == 1000);
  CHECK(v.severity == diag::Severity::info);
}

TEST_CASE("client-unmasked and server-masked", "[session]") {
  PacketRef at{};
  SECTION("an unmasked client frame") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::text, "hi").set_masked(false)); });
    expect_only(s, RuleId::client_unmasked, Side::client, at);
  }
  SECTION("three unmasked client frames fold into one finding with a count") {
    const auto s = conversation([&](Conv& c) {
      at = c.send(C, cf(op::text, "a").set_masked(false));
      c.send(C, cf(op::binary, "b").set_masked(false));
      c.send(C, cf(op::ping).set_masked(false));
      c.send(S, sf(op::pong));
    });
    expect_only(s, RuleId::client_unmasked, Side::client, at, 3);
  }
  SECTION("a masked server frame") {
    const auto s = conversation([&](Conv& c) { at = c.send(S, sf(op::text, "hi").set_masked(true)); });
    expect_only(s, RuleId::server_masked, Side::server, at);
  }
  SECTION("masked client, unmasked server: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "hi"));
      c.send(S, sf(op::text, "hi"));
    });
    expect_clean(s);
  }
}

TEST_CASE("rsv-bits", "[session]") {
  PacketRef at{};
  SECTION("RSV2 on a client text frame") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::text, "x").set_rsv(2)); });
    expect_only(s, RuleId::rsv_bits, Side::client, at);
  }
  SECTION("RSV3 on a server binary frame") {
    const auto s = conversation([&](Conv& c) { at = c.send(S, sf(op::binary, "x").set_rsv(1)); });
    expect_only(s, RuleId::rsv_bits, Side::server, at);
  }
  SECTION("RSV1 with no extension negotiated") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::text, "x").set_rsv(4)); });
    expect_only(s, RuleId::rsv_bits, Side::client, at);
  }
  SECTION("RSV1 offered but not accepted is still no extension") {
    HandshakeOpts o;
    o.offer_deflate = true;
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::text, kHelloDeflated).set_rsv(4)); }, o);
    CHECK(!s.handshake.deflate);
    CHECK(count_of(s, RuleId::rsv_bits, Side::client) == 1);
  }

  HandshakeOpts deflate;
  deflate.offer_deflate = true;
  deflate.accept_deflate = true;
  SECTION("RSV1 on the first frame of a message with permessage-deflate: none") {
    const auto s = conversation(
        [&](Conv& c) {
          c.send(C, cf(op::text, kHelloDeflated).set_rsv(4));
          c.send(S, sf(op::text, kHelloDeflated).set_rsv(4));
        },
        deflate);
    expect_clean(s);
    CHECK(s.handshake.deflate);
    CHECK(s.c2s.compressed_messages == 1);
    CHECK(s.s2c.compressed_messages == 1);
    CHECK(s.c2s.message_bytes == 5);  // "Hello" after inflating
  }
  SECTION("RSV1 on the first of two fragments with permessage-deflate: none") {
    const auto s = conversation(
        [&](Conv& c) {
          c.send(C, cf(op::text, kHelloDeflated.substr(0, 3)).set_rsv(4).set_fin(false));
          c.send(C, cf(op::continuation, kHelloDeflated.substr(3)));
        },
        deflate);
    expect_clean(s);
    CHECK(s.c2s.messages == 1);
    CHECK(s.c2s.compressed_messages == 1);
  }
  SECTION("RSV1 on a continuation frame with permessage-deflate") {
    const auto s = conversation(
        [&](Conv& c) {
          c.send(C, cf(op::text, kHelloDeflated.substr(0, 3)).set_rsv(4).set_fin(false));
          at = c.send(C, cf(op::continuation, kHelloDeflated.substr(3)).set_rsv(4));
        },
        deflate);
    expect_only(s, RuleId::rsv_bits, Side::client, at);
  }
  SECTION("RSV1 on a Ping with permessage-deflate") {
    const auto s = conversation(
        [&](Conv& c) {
          at = c.send(C, cf(op::ping, "p").set_rsv(4));
          c.send(S, sf(op::pong, "p"));
        },
        deflate);
    expect_only(s, RuleId::rsv_bits, Side::client, at);
  }
}

TEST_CASE("reserved-opcode", "[session]") {
  PacketRef at{};
  SECTION("reserved data opcode 0x3 and control opcode 0xB") {
    const std::uint8_t code = GENERATE(std::uint8_t{0x3}, std::uint8_t{0x7}, std::uint8_t{0xB}, std::uint8_t{0xF});
    INFO("opcode " << int(code));
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(code, "")); });
    expect_only(s, RuleId::reserved_opcode, Side::client, at);
  }
  SECTION("from the server too") {
    const auto s = conversation([&](Conv& c) { at = c.send(S, sf(0x3, "abc")); });
    expect_only(s, RuleId::reserved_opcode, Side::server, at);
  }
  SECTION("0x1, 0x2, 0x8, 0x9, 0xA: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "t"));
      c.send(C, cf(op::binary, "b"));
      c.send(C, cf(op::ping, "p"));
      c.send(S, sf(op::pong, "p"));
      c.send(C, cf(op::pong, "unsolicited"));
    });  // ... and the Close (0x8) of the polite ending
    expect_clean(s);
    CHECK(s.c2s.frames == 5);
  }
}

TEST_CASE("length-not-minimal", "[session]") {
  PacketRef at{};
  SECTION("125 bytes in a 16-bit length field") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::binary, std::string(125, 'a')).set_len(LenEnc::ext16)); });
    expect_only(s, RuleId::length_not_minimal, Side::client, at);
    CHECK(s.c2s.message_bytes == 125);  // framing kept
  }
  SECTION("an empty payload in a 16-bit length field (server)") {
    const auto s = conversation([&](Conv& c) { at = c.send(S, sf(op::text, "").set_len(LenEnc::ext16)); });
    expect_only(s, RuleId::length_not_minimal, Side::server, at);
  }
  SECTION("65535 bytes in a 64-bit length field") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::binary, std::string(65535, 'a')).set_len(LenEnc::ext64)); });
    expect_only(s, RuleId::length_not_minimal, Side::client, at);
    CHECK(s.c2s.max_message == 65535);
  }
  SECTION("5 bytes in a 64-bit length field") {
    const auto s = conversation([&](Conv& c) { at = c.send(S, sf(op::binary, "12345").set_len(LenEnc::ext64)); });
    expect_only(s, RuleId::length_not_minimal, Side::server, at);
  }
  SECTION("126 bytes in a 16-bit field and 65536 in a 64-bit field: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::binary, std::string(126, 'a')).set_len(LenEnc::ext16));
      c.send(C, cf(op::binary, std::string(65536, 'b')).set_len(LenEnc::ext64));
      c.send(S, sf(op::binary, std::string(126, 'a')));
      c.send(S, sf(op::binary, std::string(65536, 'b')));
    });
    expect_clean(s);
    CHECK(s.c2s.messages == 2);
    CHECK(s.c2s.max_message == 65536);
    CHECK(s.s2c.message_bytes == 126 + 65536);
  }
}

TEST_CASE("length-msb", "[session]") {
  Conv c;
  c.open();
  const auto at = c.send(C, cf(op::binary, "12345").set_msb());
  c.fin(C);
  c.fin(S);
  const auto s = c.finish();
  INFO(describe(s));
  const auto* f = finding(s, RuleId::length_msb, Side::client);
  REQUIRE(f != nullptr);
  CHECK(f->at.index == at.index);
  CHECK(f->count == 1);
  CHECK(!s.has(RuleId::length_not_minimal));  // 2^63 + 5 needs 64 bits
}

TEST_CASE("control-too-long", "[session]") {
  PacketRef at{};
  SECTION("a 126-byte Ping") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::ping, std::string(126, 'p'))); });
    expect_only(s, RuleId::control_too_long, Side::client, at);
  }
  SECTION("a 126-byte Close keeps its code") {
    Conv c;
    c.open();
    at = c.send(S, sf(op::close, close_payload(1001, std::string(124, 'r'))));
    c.send(C, cf(op::close, close_payload(1001)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    expect_only(s, RuleId::control_too_long, Side::server, at);
    CHECK(s.close.code == 1001);
    CHECK(s.close.initiator == Side::server);
    CHECK(s.close.reason.size() == 124);
  }
  SECTION("a 125-byte Ping answered by its Pong: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::ping, std::string(125, 'p')));
      c.send(S, sf(op::pong, std::string(125, 'p')));
    });
    expect_clean(s);
  }
}

TEST_CASE("control-fragmented", "[session]") {
  PacketRef at{};
  SECTION("a Ping without FIN") {
    const auto s = conversation([&](Conv& c) {
      at = c.send(C, cf(op::ping, "p").set_fin(false));
      c.send(S, sf(op::pong, "p"));
    });
    expect_only(s, RuleId::control_fragmented, Side::client, at);
  }
  SECTION("a server Pong without FIN") {
    const auto s = conversation([&](Conv& c) { at = c.send(S, sf(op::pong, "p").set_fin(false)); });
    expect_only(s, RuleId::control_fragmented, Side::server, at);
  }
}

TEST_CASE("unexpected-continuation and expected-continuation", "[session]") {
  PacketRef at{};
  SECTION("a continuation with no message in progress") {
    const auto s = conversation([&](Conv& c) { at = c.send(C, cf(op::continuation, "x")); });
    expect_only(s, RuleId::unexpected_continuation, Side::client, at);
  }
  SECTION("a continuation after a complete message") {
    const auto s = conversation([&](Conv& c) {
      c.send(S, sf(op::text, "done"));
      at = c.send(S, sf(op::continuation, "more"));
    });
    expect_only(s, RuleId::unexpected_continuation, Side::server, at);
  }
  SECTION("a new text frame while a fragmented message is in progress") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "a").set_fin(false));
      at = c.send(C, cf(op::binary, "b"));
    });
    expect_only(s, RuleId::expected_continuation, Side::client, at);
  }
  SECTION("fragments with a Ping (and the peer's Pong) between them: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "hel").set_fin(false));
      c.send(C, cf(op::ping, "p"));
      c.send(S, sf(op::pong, "p"));
      c.send(C, cf(op::continuation, "l").set_fin(false));
      c.send(C, cf(op::continuation, "o"));
    });
    expect_clean(s);
    CHECK(s.c2s.messages == 1);
    CHECK(s.c2s.message_bytes == 5);
    CHECK(s.c2s.frames == 5);  // 3 fragments, Ping, Close
    CHECK(s.c2s.pings == 1);
  }
  SECTION("the two directions fragment independently: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "a").set_fin(false));
      c.send(S, sf(op::binary, "b").set_fin(false));
      c.send(C, cf(op::continuation, "a"));
      c.send(S, sf(op::continuation, "b"));
    });
    expect_clean(s);
    CHECK(s.c2s.messages == 1);
    CHECK(s.s2c.messages == 1);
  }
}

TEST_CASE("invalid-utf8", "[session]") {
  PacketRef at{};
  SECTION("a bad byte in the second fragment is reported there") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "hello").set_fin(false));
      at = c.send(C, cf(op::continuation, "\xFF"));
    });
    expect_only(s, RuleId::invalid_utf8, Side::client, at);
  }
  SECTION("detected at the first bad byte, before the message ends") {
    const auto s = conversation([&](Conv& c) {
      at = c.send(S, sf(op::text, "ok \xC0\xAF").set_fin(false));  // overlong '/'
      c.send(S, sf(op::continuation, "more \xFF"));
    });
    expect_only(s, RuleId::invalid_utf8, Side::server, at);  // once per message
  }
  SECTION("two bad messages count twice") {
    const auto s = conversation([&](Conv& c) {
      at = c.send(C, cf(op::text, "\xED\xA0\x80"));  // a UTF-16 surrogate
      c.send(C, cf(op::text, "\xF4\x90\x80\x80"));   // above U+10FFFF
    });
    expect_only(s, RuleId::invalid_utf8, Side::client, at, 2);
  }
  SECTION("a sequence split across fragments (and a Ping) is valid") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "caf\xC3").set_fin(false));
      c.send(C, cf(op::continuation, "\xA9 \xE2").set_fin(false));
      c.send(C, cf(op::ping, "p"));
      c.send(S, sf(op::pong, "p"));
      c.send(C, cf(op::continuation, "\x82").set_fin(false));
      c.send(C, cf(op::continuation, "\xAC \xF0\x9F\x98\x80"));
    });
    expect_clean(s);
  }
  SECTION("a message ending inside a sequence") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::text, "abc").set_fin(false));
      at = c.send(C, cf(op::continuation, "\xE2\x82"));
    });
    expect_only(s, RuleId::invalid_utf8, Side::client, at);
  }
  SECTION("the next message starts with a fresh validator") {
    const auto s = conversation([&](Conv& c) {
      at = c.send(C, cf(op::text, "\xE2\x82"));  // ends mid-sequence
      c.send(C, cf(op::text, "\xAC"));           // would complete it, but is a new message
    });
    expect_only(s, RuleId::invalid_utf8, Side::client, at, 2);
  }
  SECTION("binary messages are not UTF-8 checked") {
    const auto s = conversation([&](Conv& c) { c.send(C, cf(op::binary, "\xFF\xFE\xE2")); });
    expect_clean(s);
  }
}
