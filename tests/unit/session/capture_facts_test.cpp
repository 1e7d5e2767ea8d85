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
    opt.ws_ports.add(8080, 8080);
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
  SECTION("valid frames back to back over several segments, no option, no SYN captured") {
    Conv c{Conv::Midstream{}};
    c.send(C, cf(op::text, "hello"));
    c.send(S, sf(op::text, "world"));
    close_normally(c);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.websocket);
    CHECK(!s.handshake_captured);
    CHECK(s.has(RuleId::capture_started_midstream));
    CHECK(s.close.code == 1000);
    CHECK(s.close.echoed);
  }
  SECTION("compressed (RSV1) frames, no option, no SYN captured") {
    Conv c{Conv::Midstream{}};
    const std::string hello("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);  // "Hello", raw deflate
    c.send(C, cf(op::text, hello).set_rsv(4));
    c.send(S, sf(op::text, hello).set_rsv(4));
    c.send(C, cf(op::text, hello).set_rsv(4));
    close_normally(c);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.websocket);
    CHECK(s.c2s.frames == 3);
    CHECK(s.close.echoed);
  }
  SECTION("the TCP handshake was captured and the first bytes were not an HTTP Upgrade") {
    Conv c;  // SYN seen: these bytes are the stream's first, and WebSocket starts with HTTP
    c.send(C, cf(op::text, "hello"));
    c.send(S, sf(op::text, "world"));
    close_normally(c);
    const auto s = c.finish();
    CHECK(!s.websocket);
    CHECK(s.findings.empty());
    CHECK(s.c2s.frames == 0);
  }
  SECTION("too few frames to tell WebSocket from chance") {
    Conv c{Conv::Midstream{}};
    c.send(C, cf(op::text, "hello"));
    c.send(S, sf(op::text, "world"));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    CHECK(!s.websocket);
    CHECK(s.findings.empty());
  }
  SECTION("a non-WebSocket binary protocol is not taken for frames") {
    Conv c{Conv::Midstream{}};
    c.send(C, std::string("\x16\x03\x01\x00\x05hello", 10));  // TLS-like record
    c.fin(C);
    c.fin(S);
    const auto s = c.finish();
    CHECK(!s.websocket);
    CHECK(s.findings.empty());
  }
}

TEST_CASE("mid-stream recognition: binary protocols that parse as a frame or two are rejected", "[session]") {
  // Each of these passes a first-segment check (its first bytes are a plausible frame header for
  // the direction); the sequence rules reject it before it could count as WebSocket.
  SECTION("SMB2-like NetBIOS framing from the server: continuation frames with no message") {
    Conv c{Conv::Midstream{}};
    for (int i = 0; i < 6; ++i) {
      c.send(S, std::string("\x00\x00\x00\x10", 4) + std::string(16, '\xFE'));
      c.send(C, std::string("\x00\x00\x00\x08", 4) + std::string(8, 'S'));
    }
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    CHECK(!s.websocket);
    CHECK(s.findings.empty());
  }
  SECTION("MQTT SUBSCRIBE (0x82) from the client: an unmasked client frame") {
    Conv c{Conv::Midstream{}};
    for (int i = 0; i < 6; ++i) {
      c.send(C, std::string("\x82\x08\x00\x01\x00\x03a/b\x00", 10));
      c.send(S, std::string("\x90\x03\x00\x01\x00", 5));
    }
    const auto s = c.finish();
    CHECK(!s.websocket);
  }
  SECTION("a plausible first frame, then a reserved opcode") {
    Conv c{Conv::Midstream{}};
    c.send(S, sf(op::binary, "abc"));
    c.send(S, sf(op::binary, "def"));
    c.send(S, std::string("\x83\x01x", 3));
    c.send(S, sf(op::binary, "ghi"));
    c.send(S, sf(op::binary, "jkl"));
    const auto s = c.finish();
    CHECK(!s.websocket);
  }
}

namespace {
struct FrameLog : session::FrameListener {
  std::vector<session::FrameRecord> frames;
  void on_frame(const session::FrameRecord& f) override { frames.push_back(f); }
};
}  // namespace

TEST_CASE("a recognised mid-stream connection lists its first frames in --frames", "[session]") {
  FrameLog log;
  session::SessionOptions opt;
  opt.frames = &log;
  {
    Conv c{Conv::Midstream{}, opt};
    const auto first = c.send(S, sf(op::text, "lone first frame"));
    c.send(C, cf(op::text, "a"));
    c.send(C, cf(op::text, "b"));
    c.send(S, sf(op::text, "c"));
    close_normally(c);
    const auto s = c.finish();
    CHECK(s.websocket);
    REQUIRE(log.frames.size() == 6);
    CHECK(log.frames[0].at.index == first.index);
    CHECK(log.frames[0].dir == S);
  }
  log.frames.clear();
  {
    Conv c{Conv::Midstream{}, opt};  // not recognised: nothing listed
    c.send(S, sf(op::text, "one"));
    c.send(C, cf(op::text, "two"));
    c.fin(S);
    c.fin(C);
    CHECK(!c.finish().websocket);
    CHECK(log.frames.empty());
  }
}

TEST_CASE("the ws-port option takes ports and ranges", "[session]") {
  session::PortRanges p;
  CHECK(p.add("8080"));
  CHECK(p.add("9000-9100"));
  CHECK(!p.add("0"));
  CHECK(!p.add("65536"));
  CHECK(!p.add("9100-9000"));
  CHECK(!p.add("80-"));
  CHECK(!p.add("http"));
  CHECK(p.contains(8080));
  CHECK(p.contains(9000));
  CHECK(p.contains(9050));
  CHECK(p.contains(9100));
  CHECK(!p.contains(9101));
  CHECK(!p.contains(8081));
  session::SessionOptions opt;
  opt.ws_ports.add("8000-8100");
  Conv c(opt);  // server port 8080 is in the range: frames even with the SYN seen
  c.send(C, cf(op::text, "hello"));
  close_normally(c);
  const auto s = c.finish();
  CHECK(s.websocket);
  CHECK(s.close.echoed);
}

TEST_CASE("fin-without-close also when the handshake was not captured", "[session]") {
  Conv c{Conv::Midstream{}};  // frames recognised without a handshake
  c.send(C, cf(op::text, "hello"));
  c.send(S, sf(op::text, "world"));
  c.send(C, cf(op::text, "hello again"));
  c.send(S, sf(op::text, "world again"));
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

TEST_CASE("framing lost on an impossible length still sees the close (issue #10 §3)", "[session]") {
  SECTION("64-bit length with its most significant bit set") {
    Conv c;
    c.open();
    c.send(C, cf(op::text, "hello"));
    const auto bad = c.send(C, cf(op::text, "xxxxxxxx").set_msb());
    const auto srv_close = c.send(S, sf(op::close, close_payload(1009)));
    const auto echo = c.send(C, cf(op::close, close_payload(1009)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(count_of(s, RuleId::length_msb, Side::client) == 1);
    const auto* d = finding(s, RuleId::ws_desync, Side::client);
    REQUIRE(d != nullptr);
    CHECK(d->at.index == echo.index);
    CHECK(s.close.initiator == Side::server);
    CHECK(s.close.at.index == srv_close.index);
    CHECK(s.close.echoed);
    CHECK(s.close.echo_at.index == echo.index);
    CHECK(!s.has(RuleId::close_not_echoed));
    CHECK(s.c2s.payload_bytes < 1000);  // the announced 2^63 bytes were never carried
    CHECK(s.c2s.doubtful_length_segments == 1);  // the echo's segment was judged as a frame start
    CHECK(s.s2c.doubtful_length_segments == 0);
    (void)bad;
  }
  SECTION("a length far beyond what followed, then the peer's Close and this side's answer") {
    Conv c;
    c.open();
    Frame huge = cf(op::binary, "xxxxxxxx").set_len(LenEnc::ext64);
    std::string wire = huge.bytes();
    wire[2] = 0x00;  // announce 1 TiB: 00 00 01 00 00 00 00 08
    wire[4] = 0x01;
    c.send(C, wire);
    c.send(S, sf(op::close, close_payload(1009)));
    const auto echo = c.send(C, cf(op::close, close_payload(1009)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.has(RuleId::ws_desync));
    CHECK(s.close.echoed);
    CHECK(s.close.echo_at.index == echo.index);
    CHECK(!s.has(RuleId::capture_ended_mid_frame));
  }
  SECTION("the answer's header split across two segments is still found") {
    Conv c;
    c.open();
    c.send(C, cf(op::text, "xxxxxxxx").set_msb());
    c.send(S, sf(op::close, close_payload(1009)));
    const std::string echo = cf(op::close, close_payload(1009)).bytes();
    c.send(C, echo.substr(0, 1));
    const auto rest = c.send(C, echo.substr(1));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.close.echoed);
    CHECK(s.close.echo_at.index == rest.index);
  }
  SECTION("a large but plausible frame is not cut short by a Close-looking segment") {
    Conv c;
    c.open();
    const std::string payload(3000, 'p');
    const std::string wire = sf(op::binary, payload).bytes();
    c.send(S, wire.substr(0, 1000));
    c.send(S, wire.substr(1000));
    close_normally(c);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(!s.has(RuleId::ws_desync));
    CHECK(s.s2c.messages == 1);
    CHECK(s.close.echoed);
  }
}

TEST_CASE("mid-stream recognition does not depend on how TCP cut the first bytes", "[session]") {
  // Issue #16, fuzz finding conversation/midstream-probe-first-segment-depends-on-cuts: the first
  // segment was judged by itself, so a stream whose first segment was shorter than a frame header
  // was never recognised. The first bytes are now held until they can be judged.
  const auto run = [](std::size_t piece) {
    Conv c{Conv::Midstream{}};
    c.send_pieces(S, sf(op::text, "first").bytes() + sf(op::text, "second").bytes(), piece);
    c.send_pieces(C, cf(op::text, "a").bytes(), piece);
    c.send_pieces(C, cf(op::text, "b").bytes(), piece);
    c.send(S, sf(op::text, "c"));
    close_normally(c);
    return c.finish();
  };
  const auto whole = run(1000);
  REQUIRE(whole.websocket);
  for (std::size_t piece : {1, 2, 3, 5}) {
    INFO("segments of " << piece << " bytes");
    const auto s = run(piece);
    CHECK(s.websocket);
    CHECK(s.s2c.frames == whole.s2c.frames);
    CHECK(s.c2s.messages == whole.c2s.messages);
    CHECK(s.s2c.message_bytes == whole.s2c.message_bytes);
    CHECK(s.close.code == whole.close.code);
  }
}

TEST_CASE("a rejected mid-stream probe counts nothing", "[session]") {
  // The invalid UTF-8 that rejects the probe is found when the message ends, and the message used
  // to be counted after the rejection had reset the counters.
  for (std::size_t piece : {1, 1000}) {
    INFO("segments of " << piece << " bytes");
    Conv c{Conv::Midstream{}};
    c.send_pieces(S, sf(op::text, std::string("ab\xff" "cd", 5)).bytes(), piece);
    c.rst(S);
    const auto s = c.finish();
    CHECK(!s.websocket);
    CHECK(s.s2c.messages == 0);
    CHECK(s.s2c.message_bytes == 0);
    CHECK(s.findings.empty());
  }
}

TEST_CASE("bytes skipped while looking for a frame start are counted", "[session]") {
  session::SessionOptions opt;
  opt.ws_ports.add(8080, 8080);
  Conv c(opt);
  const std::string junk("\x07 not a frame start", 19);  // reserved opcode 7
  c.send(S, junk);
  c.send(S, sf(op::text, "hi"));
  c.send(C, cf(op::text, "yo"));
  close_normally(c);
  const auto s = c.finish();
  INFO(describe(s));
  CHECK(s.s2c.resync_skipped == junk.size());
  CHECK(s.c2s.resync_skipped == 0);
  CHECK(s.s2c.messages == 1);
  CHECK(s.close.echoed);
}

TEST_CASE("client data sent before the 101 comes before the server's frames in the 101's segment", "[session]") {
  // Found by the conversation fuzzer: the server's frames after its 101 in the same segment were
  // parsed before the client's held bytes, although those were captured first; in 1-byte
  // segments the order was the capture's. The client could not have seen a Close it sent before.
  for (const bool together : {true, false}) {
    INFO("server Close in the 101's segment: " << together);
    Conv c;
    c.send(C, upgrade_request());
    c.send(C, cf(op::text, "early"));
    const std::string close = sf(op::close, close_payload(1000)).bytes();
    if (together) {
      c.send(S, upgrade_response() + close);
    } else {
      c.send(S, upgrade_response());
      c.send(S, close);
    }
    c.send(C, cf(op::close, close_payload(1000)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.has(RuleId::data_before_101));
    CHECK(!s.has(RuleId::frame_after_close_received));
    CHECK(s.c2s.messages == 1);
    CHECK(s.close.echoed);
  }
}
