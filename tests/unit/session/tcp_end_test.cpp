// [session] how TCP ended relative to the close handshake (rst, fin-without-close,
// close-not-echoed, client-closed-tcp-first, open-at-end, no-response) and the verdicts built on
// them (RULES.md "Verdict per connection"), through a real FlowTable.
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

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("rst", "[session]") {
  SECTION("a reset with no Close frame: 1006 by the resetting side") {
    Conv c;
    c.open();
    c.send(C, cf(op::text, "hi"));
    const auto at = c.rst(C);
    const auto s = c.finish();
    expect_only(s, RuleId::rst, Side::client, at);
    CHECK(contains(s.findings[0].message, "no Close frame"));
    CHECK(s.tcp_end.how == diag::TcpEndHow::rst);
    CHECK(s.tcp_end.by == Side::client);
    const auto v = diag::diagnose(s);
    CHECK(v.code == 1006);
    CHECK(v.side == Side::client);
  }
  SECTION("a reset after the close handshake completed: the code stays the Close's") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    c.send(S, sf(op::close, close_payload(1000)));
    const auto at = c.rst(S);
    const auto s = c.finish();
    expect_only(s, RuleId::rst, Side::server, at);
    CHECK(contains(s.findings[0].message, "after the close handshake"));
    CHECK(diag::diagnose(s).code == 1000);
  }
  SECTION("a reset during the close handshake: also close-not-echoed") {
    Conv c;
    c.open();
    const auto close_at = c.send(C, cf(op::close, close_payload(1001)));
    const auto at = c.rst(S);
    const auto s = c.finish();
    INFO(describe(s));
    REQUIRE(s.findings.size() == 2);
    const auto* r = finding(s, RuleId::rst, Side::server);
    REQUIRE(r != nullptr);
    CHECK(r->at.index == at.index);
    CHECK(contains(r->message, "during the close handshake"));
    const auto* n = finding(s, RuleId::close_not_echoed, Side::server);
    REQUIRE(n != nullptr);
    CHECK(n->at.index == at.index);
    CHECK(contains(n->message, "packet " + std::to_string(close_at.index)));
    CHECK(diag::diagnose(s).code == 1001);
  }
  SECTION("FIN after the close handshake: none") {
    Conv c;
    c.open();
    close_normally(c);
    const auto s = c.finish();
    CHECK(!s.has(RuleId::rst));
    CHECK(s.tcp_end.how == diag::TcpEndHow::fin);
  }
}

TEST_CASE("fin-without-close", "[session]") {
  SECTION("the server closes TCP with no Close frame") {
    Conv c;
    c.open();
    c.send(S, sf(op::text, "bye?"));
    const auto at = c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    expect_only(s, RuleId::fin_without_close, Side::server, at);
    const auto v = diag::diagnose(s);
    CHECK(v.code == 1006);
    CHECK(v.side == Side::server);
  }
  SECTION("the client's FIN comes first") {
    Conv c;
    c.open();
    const auto at = c.fin(C);
    c.fin(S);
    const auto s = c.finish();
    expect_only(s, RuleId::fin_without_close, Side::client, at);
  }
  SECTION("a FIN after the close handshake: none") {
    Conv c;
    c.open();
    close_normally(c);
    expect_clean(c.finish());
  }
}

TEST_CASE("close-not-echoed", "[session]") {
  SECTION("the server never answers the client's Close") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    c.wait_ns(250'000'000);
    const auto at = c.fin(C);
    c.fin(S);
    const auto s = c.finish();
    INFO(describe(s));
    const auto* f = finding(s, RuleId::close_not_echoed, Side::server);
    REQUIRE(f != nullptr);
    CHECK(f->at.index == at.index);
    CHECK(f->count == 1);
    CHECK(contains(f->message, "251 ms"));  // how long the peer had
    CHECK(!s.has(RuleId::fin_without_close));
    CHECK(!s.has(RuleId::client_closed_tcp_first));  // no close handshake completed
    CHECK(!s.close.echoed);
    const auto v = diag::diagnose(s);
    CHECK(v.code == 1000);
    CHECK(v.severity >= diag::Severity::warning);
  }
  SECTION("the client never answers the server's Close") {
    Conv c;
    c.open();
    c.send(S, sf(op::close, close_payload(1001)));
    const auto at = c.fin(S);
    c.fin(C);
    const auto s = c.finish();
    expect_only(s, RuleId::close_not_echoed, Side::client, at);
  }
  SECTION("echoed: none") {
    Conv c;
    c.open();
    close_normally(c);
    const auto s = c.finish();
    CHECK(!s.has(RuleId::close_not_echoed));
    CHECK(s.close.echoed);
  }
  SECTION("a Close still unanswered when the capture ends is open-at-end, not close-not-echoed") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(!s.has(RuleId::close_not_echoed));
    CHECK(s.has(RuleId::open_at_end));
  }
}

TEST_CASE("client-closed-tcp-first", "[session]") {
  SECTION("after the close handshake the client's FIN comes first") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    c.send(S, sf(op::close, close_payload(1000)));
    const auto at = c.fin(C);
    c.fin(S);
    const auto s = c.finish();
    expect_only(s, RuleId::client_closed_tcp_first, Side::client, at);
    CHECK(diag::rule_info(RuleId::client_closed_tcp_first).severity == diag::Severity::info);
    const auto v = diag::diagnose(s);
    CHECK(v.code == 1000);
    CHECK(v.severity == diag::Severity::info);
  }
  SECTION("the client resets after the close handshake") {
    Conv c;
    c.open();
    c.send(S, sf(op::close, close_payload(1000)));
    c.send(C, cf(op::close, close_payload(1000)));
    const auto at = c.rst(C);
    const auto s = c.finish();
    INFO(describe(s));
    REQUIRE(s.findings.size() == 2);
    CHECK(count_of(s, RuleId::rst, Side::client) == 1);
    const auto* f = finding(s, RuleId::client_closed_tcp_first, Side::client);
    REQUIRE(f != nullptr);
    CHECK(f->at.index == at.index);
  }
  SECTION("the server closes first: none") {
    Conv c;
    c.open();
    close_normally(c);
    expect_clean(c.finish());
  }
}

TEST_CASE("open-at-end", "[session]") {
  SECTION("no FIN or RST before the capture ends") {
    Conv c;
    c.open();
    c.send(C, cf(op::text, "still here"));
    c.wait_ns(3'000'000'000);
    const auto last = c.ack(S);
    const auto s = c.finish();
    expect_only(s, RuleId::open_at_end, Side::none, last);
    CHECK(s.tcp_end.how == diag::TcpEndHow::open);
    REQUIRE(s.tcp_end.idle_before_ms);
    CHECK(*s.tcp_end.idle_before_ms == Approx(3001.0));
    const auto v = diag::diagnose(s);
    CHECK(!v.code);
    CHECK(v.name == "open");
  }
  SECTION("half-closed after the close handshake: the FIN is recorded, nothing missing") {
    Conv c;
    c.open();
    c.send(C, cf(op::close, close_payload(1000)));
    c.send(S, sf(op::close, close_payload(1000)));
    c.fin(S);
    const auto s = c.finish();
    INFO(describe(s));
    CHECK(s.tcp_end.server_fin);
    CHECK(!s.tcp_end.client_fin);
    CHECK(!s.has(RuleId::fin_without_close));
  }
}

TEST_CASE("no-response", "[session]") {
  SECTION("the request is never answered and the client gives up") {
    Conv c;
    const auto req = c.send(C, upgrade_request());
    c.wait_ns(10'000'000'000);
    const auto at = c.fin(C);
    c.fin(S);
    const auto s = c.finish();
    expect_only(s, RuleId::no_response, Side::server, at);
    CHECK(contains(s.findings[0].message, "packet " + std::to_string(req.index)));
    CHECK(s.websocket);
    CHECK(s.handshake.request_seen);
    CHECK(!s.handshake.response_seen);
    const auto v = diag::diagnose(s);
    CHECK(!v.code);
    CHECK(v.name == "handshake failed");
  }
  SECTION("a response: none") {
    Conv c;
    c.open();
    close_normally(c);
    CHECK(!c.finish().has(RuleId::no_response));
  }
}

TEST_CASE("verdict: violations do not replace the close code", "[session]") {
  Conv c;
  c.open();
  for (int i = 0; i < 12; ++i) c.send(C, cf(op::text, "x").set_masked(false));
  close_normally(c);
  const auto s = c.finish();
  REQUIRE(count_of(s, RuleId::client_unmasked, Side::client) == 12);
  const auto v = diag::diagnose(s);
  CHECK(v.code == 1000);
  CHECK(v.severity == diag::Severity::error);
  CHECK(v.side == Side::client);
  INFO(v.summary);
  CHECK(contains(v.summary, "12"));
}

// RULES.md: the verdict's side "is who caused the ending (who sent the first Close, or who sent
// the FIN/RST)". Here the server closed TCP first with no Close frame and the client's RST only
// answered that FIN: the verdict must blame the server, who started the ending.
TEST_CASE("a RST answering the peer's earlier FIN does not make the RST sender the cause",
          "[session]") {
  Conv c;
  c.open();
  c.send(C, cf(op::text, "x"));
  const auto fin_at = c.fin(S);
  c.rst(C);
  const auto s = c.finish();
  INFO(describe(s));
  CHECK(count_of(s, RuleId::fin_without_close, Side::server) == 1);
  // tcp_end.how/by describe the reset (as tshark-derived truth does); the initiator is the FIN.
  CHECK(s.tcp_end.how == diag::TcpEndHow::rst);
  CHECK(s.tcp_end.by == Side::client);
  CHECK(s.tcp_end.initiator == Side::server);
  CHECK(s.tcp_end.initiated_at.index == fin_at.index);
  CHECK_FALSE(s.tcp_end.initiated_by_rst);
  const auto v = diag::diagnose(s);
  CHECK(v.code == 1006);
  CHECK(v.side == Side::server);
}
