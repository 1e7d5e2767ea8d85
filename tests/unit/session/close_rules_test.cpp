// [session] close handshake rules (RFC 6455 §5.5.1, §7.4) and Ping/Pong (§5.5.2-§5.5.3).
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

/// The client closes with `payload`, the server answers with `echo`, the server then the client
/// close TCP. Returns the summary; `at` gets the client Close's packet.
diag::ConnectionSummary client_closes(const std::string& payload, const std::string& echo, PacketRef& at) {
  Conv c;
  c.open();
  at = c.send(C, cf(op::close, payload));
  c.send(S, sf(op::close, echo));
  c.fin(S);
  c.fin(C);
  return c.finish();
}

}  // namespace

TEST_CASE("close-payload-1", "[session]") {
  PacketRef at{};
  SECTION("a 1-byte Close payload") {
    const auto s = client_closes(std::string("\x03", 1), "", at);
    expect_only(s, RuleId::close_payload_1, Side::client, at);
    CHECK(s.close.seen);
    CHECK(!s.close.code);
  }
  SECTION("an empty Close: none, and the verdict code is 1005") {
    const auto s = client_closes("", "", at);
    expect_clean(s);
    CHECK(s.close.seen);
    CHECK(!s.close.code);
    CHECK(s.close.echoed);
    const auto v = diag::diagnose(s);
    CHECK(v.code == 1005);
    CHECK(v.side == Side::client);
  }
  SECTION("a 2-byte Close (code only): none") {
    const auto s = client_closes(close_payload(1000), close_payload(1000), at);
    expect_clean(s);
    CHECK(s.close.code == 1000);
  }
}

TEST_CASE("close-code-invalid", "[session]") {
  PacketRef at{};
  SECTION("codes that never appear on the wire") {
    const std::uint16_t code = GENERATE(std::uint16_t{0}, std::uint16_t{999}, std::uint16_t{1004}, std::uint16_t{1005},
                                        std::uint16_t{1006}, std::uint16_t{1015}, std::uint16_t{1016},
                                        std::uint16_t{2000}, std::uint16_t{2999}, std::uint16_t{5000},
                                        std::uint16_t{65535});
    INFO("code " << code);
    const auto s = client_closes(close_payload(code), "", at);
    expect_only(s, RuleId::close_code_invalid, Side::client, at);
    CHECK(s.close.code == code);  // the verdict still reports what was sent
  }
  SECTION("codes that may be sent") {
    const std::uint16_t code = GENERATE(std::uint16_t{1000}, std::uint16_t{1001}, std::uint16_t{1002},
                                        std::uint16_t{1003}, std::uint16_t{1007}, std::uint16_t{1008},
                                        std::uint16_t{1009}, std::uint16_t{1010}, std::uint16_t{1011},
                                        std::uint16_t{1012}, std::uint16_t{1013}, std::uint16_t{1014},
                                        std::uint16_t{3000}, std::uint16_t{3999}, std::uint16_t{4000},
                                        std::uint16_t{4999});
    INFO("code " << code);
    const auto s = client_closes(close_payload(code, "bye"), close_payload(code), at);
    expect_clean(s);
    CHECK(s.close.code == code);
    CHECK(s.close.reason == "bye");
    CHECK(diag::diagnose(s).code == code);
  }
  SECTION("an invalid code in the server's echo is the server's") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    at = c.send(S, sf(op::close, close_payload(1005)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    const auto* f = finding(s, RuleId::close_code_invalid, Side::server);
    REQUIRE(f != nullptr);
    CHECK(f->at.index == at.index);
    CHECK(!s.has(RuleId::close_payload_1));
    CHECK(count_of(s, RuleId::close_code_invalid, Side::client) == 0);
  }
}

TEST_CASE("close-reason-utf8", "[session]") {
  PacketRef at{};
  SECTION("a reason that is not UTF-8") {
    const auto s = client_closes(close_payload(1000, "bad \xFF reason"), close_payload(1000), at);
    expect_only(s, RuleId::close_reason_utf8, Side::client, at);
  }
  SECTION("a reason ending inside a sequence") {
    const auto s = client_closes(close_payload(1001, "bye \xE2\x82"), close_payload(1001), at);
    expect_only(s, RuleId::close_reason_utf8, Side::client, at);
  }
  SECTION("a multi-byte UTF-8 reason: none") {
    const auto s = client_closes(close_payload(1000, "tsch\xC3\xBC\xC3\x9F \xF0\x9F\x91\x8B"), close_payload(1000), at);
    expect_clean(s);
    CHECK(s.close.reason == "tsch\xC3\xBC\xC3\x9F \xF0\x9F\x91\x8B");
  }
}

TEST_CASE("data-after-close", "[session]") {
  PacketRef at{};
  SECTION("a data frame after the sender's own Close") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    at = c.send(C, cf(op::text, "one more thing"));
    c.send(S, sf(op::close, close_payload(1000)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    expect_only(s, RuleId::data_after_close, Side::client, at);
  }
  SECTION("the server keeps sending after its own Close") {
    Conv c;
    c.open();
    c.send(S, sf(op::close, close_payload(1001)));
    at = c.send(S, sf(op::binary, "x"));
    c.send(S, sf(op::binary, "y"));
    c.send(C, cf(op::close, close_payload(1001)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    expect_only(s, RuleId::data_after_close, Side::server, at, 2);
  }
  SECTION("a Ping after the sender's own Close is not data") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    c.send(C, cf(op::ping, "p"));
    c.send(S, sf(op::close, close_payload(1000)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    CHECK(!s.has(RuleId::data_after_close));
  }
  SECTION("data from the peer before it answers the Close is not data-after-close") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    c.send(S, sf(op::text, "last words"));
    c.send(S, sf(op::close, close_payload(1000)));
    c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(!s.has(RuleId::data_after_close));
    CHECK(s.close.echoed);
  }
  SECTION("a Close answered, then nothing: none") {
    const auto s = client_closes(close_payload(1000), close_payload(1000), at);
    expect_clean(s);
    CHECK(s.close.echo_at.index > s.close.at.index);
  }
}

TEST_CASE("pong-mismatch", "[session]") {
  PacketRef at{};
  SECTION("a Pong with a different payload") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::ping, "abc"));
      at = c.send(S, sf(op::pong, "xyz"));
    });
    expect_only(s, RuleId::pong_mismatch, Side::server, at);
  }
  SECTION("a Pong with a prefix of the Ping's payload") {
    const auto s = conversation([&](Conv& c) {
      c.send(S, sf(op::ping, "abc"));
      at = c.send(C, cf(op::pong, "ab"));
    });
    expect_only(s, RuleId::pong_mismatch, Side::client, at);
  }
  SECTION("a matching Pong: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::ping, "abc"));
      c.send(S, sf(op::pong, "abc"));
    });
    expect_clean(s);
    CHECK(s.c2s.pings == 1);
    CHECK(s.s2c.pongs == 1);
  }
  SECTION("an empty Ping and an empty Pong: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(S, sf(op::ping));
      c.send(C, cf(op::pong));
    });
    expect_clean(s);
  }
  SECTION("an unsolicited Pong (heartbeat): none") {
    const auto s = conversation([&](Conv& c) { c.send(S, sf(op::pong, "heartbeat")); });
    expect_clean(s);
    CHECK(s.s2c.pongs == 1);
  }
  SECTION("a Pong answering only the most recent of two Pings: none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::ping, "1"));
      c.wait_ns(3'000'000'000);
      c.send(C, cf(op::ping, "2"));
      c.send(S, sf(op::pong, "2"));
      c.wait_ns(3'000'000'000);
    });
    expect_clean(s);  // the older Ping counts as answered too
  }
}

TEST_CASE("ping-unanswered", "[session]") {
  PacketRef at{};
  SECTION("a Ping never answered, the connection ending seconds later") {
    const auto s = conversation([&](Conv& c) {
      at = c.send(C, cf(op::ping, "anyone?"));
      c.wait_ns(5'000'000'000);
    });
    expect_only(s, RuleId::ping_unanswered, Side::server, at);
  }
  SECTION("the server's Pings unanswered by the client") {
    const auto s = conversation([&](Conv& c) {
      at = c.send(S, sf(op::ping, "1"));
      c.wait_ns(2'000'000'000);
      c.send(S, sf(op::ping, "2"));
      c.wait_ns(2'000'000'000);
    });
    expect_only(s, RuleId::ping_unanswered, Side::client, at);
    CHECK(s.findings[0].message.find("2 Ping") != std::string::npos);
  }
  SECTION("a Ping answered late (after 2 s): none") {
    const auto s = conversation([&](Conv& c) {
      c.send(C, cf(op::ping, "slow"));
      c.wait_ns(2'000'000'000);
      c.send(S, sf(op::pong, "slow"));
    });
    expect_clean(s);
  }
  SECTION("a Ping right before the end (within the grace time): none") {
    const auto s = conversation([&](Conv& c) { c.send(C, cf(op::ping, "last")); });
    expect_clean(s);
  }
}

// §5.5.3: a side may answer only the most recent of several Pings. Older Pings pushed out of the
// session's bounded Ping memory (8) must count as answered by that Pong as well, like the ones
// still remembered.
TEST_CASE("nine Pings answered by one Pong to the most recent: none", "[session]") {
  const auto s = conversation([&](Conv& c) {
    for (int i = 1; i <= 9; ++i) c.send(C, cf(op::ping, std::to_string(i)));
    c.send(S, sf(op::pong, "9"));
    c.wait_ns(5'000'000'000);
  });
  expect_clean(s);  // fails: ping-unanswered (server), "1 Ping(s) ... never answered"
}

// The same burst answered Ping by Ping, in order: every Pong carries its Ping's payload.
TEST_CASE("nine Pings each answered in order: none", "[session]") {
  const auto s = conversation([&](Conv& c) {
    for (int i = 1; i <= 9; ++i) c.send(C, cf(op::ping, std::to_string(i)));
    for (int i = 1; i <= 9; ++i) c.send(S, sf(op::pong, std::to_string(i)));
    c.wait_ns(5'000'000'000);
  });
  expect_clean(s);  // fails: pong-mismatch (server) for Pong "1", and ping-unanswered
}

// An oversized Ping echoed byte for byte: the Pong's payload IS identical (§5.5.3), so both frames
// are control-too-long, but there is no pong-mismatch.
TEST_CASE("a 126-byte Ping echoed by an identical Pong is not pong-mismatch", "[session]") {
  PacketRef ping_at{}, pong_at{};
  const auto s = conversation([&](Conv& c) {
    ping_at = c.send(C, cf(op::ping, std::string(126, 'p')));
    pong_at = c.send(S, sf(op::pong, std::string(126, 'p')));
  });
  INFO(describe(s));
  CHECK(count_of(s, RuleId::control_too_long, Side::client) == 1);
  CHECK(count_of(s, RuleId::control_too_long, Side::server) == 1);
  CHECK(!s.has(RuleId::pong_mismatch));  // fails: only 125 bytes of the Ping are kept
}

TEST_CASE("a Close frame that breaks a control-frame rule is not a Close a receiver accepts", "[session]") {
  // Zeek's oversized-close-frame capture: a 1000 Close whose reason makes the payload 258 bytes.
  Conv c;
  c.open();
  const PacketRef at = c.send(S, sf(op::close, close_payload(1000, std::string(256, 'C'))));
  c.fin(C);
  c.fin(S);
  const auto s = c.finish();
  CHECK(s.close.seen);
  CHECK(!s.close.valid);
  CHECK(s.close.frame_rule == RuleId::control_too_long);
  CHECK(s.close.payload_len == 258);
  CHECK(s.close.at == at);
  const auto v = diag::diagnose(s);
  CHECK(v.code == 1006);
  CHECK_THAT(v.summary, Catch::Contains("the server sent an invalid Close (a 258-byte payload)"));
  SECTION("legal neighbour: the same Close with a 123-byte reason is valid") {
    Conv d;
    d.open();
    d.send(S, sf(op::close, close_payload(1000, std::string(123, 'C'))));
    d.fin(C);
    d.fin(S);
    const auto t = d.finish();
    CHECK(t.close.valid);
    CHECK(!t.close.frame_rule);
    CHECK(diag::diagnose(t).code == 1000);
  }
  SECTION("an unmasked client Close is invalid too; the server's 1002 is the accepted ending") {
    Conv d;
    d.open();
    Frame f = cf(op::close, close_payload(1000));
    f.masked = false;
    d.send(C, f);
    d.send(S, sf(op::close, close_payload(1002)));
    d.fin(S);
    d.fin(C);
    const auto t = d.finish();
    CHECK(!t.close.valid);
    CHECK(t.close.frame_rule == RuleId::client_unmasked);
    CHECK(t.close.valid_code == 1002);
    const auto v2 = diag::diagnose(t);
    CHECK(v2.code == 1002);
    CHECK_THAT(v2.summary, Catch::Contains("invalid Close (unmasked)"));
  }
}
