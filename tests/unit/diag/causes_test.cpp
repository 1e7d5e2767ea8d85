// Causes (issue #11): each per-connection row and each run-level pattern on hand-built summaries,
// firing on its case and not on its legal neighbour.
#include <catch2/catch.hpp>

#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/known_timeouts.h"
#include "wsdiag/diag/verdict.h"
#include "summary_fixture.h"

using namespace wsdiag;
using namespace wsdiag::diag;
using namespace wsdiag::test;

namespace {

// A WebSocket connection torn down by `by` with a FIN after `idle` seconds of silence, no Close.
ConnectionSummary torn_down(Side by, double idle) {
  ConnectionSummary s = established_ws();
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = s.tcp_end.initiator = by;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(20, 10.0);
  s.tcp_end.idle_before_ms = idle * 1000.0;
  s.last = at_s(22, 10.001);
  return s;
}

}  // namespace

TEST_CASE("causes: idle-timeout after a silence; likely when it matches a known default", "[diag][causes]") {
  auto c = cause_of(torn_down(Side::server, 3.0));
  REQUIRE(c);
  CHECK(c->id == "idle-timeout");
  CHECK(c->confidence == Confidence::possible);
  c = cause_of(torn_down(Side::server, 60.2));
  REQUIRE(c);
  CHECK(c->confidence == Confidence::likely);
  CHECK_THAT(c->evidence, Catch::Contains("nginx"));
  SECTION("legal neighbour: torn down without a silence (a killed client) has no idle cause") {
    CHECK(!cause_of(torn_down(Side::client, 0.05)));
  }
  SECTION("legal neighbour: idle, then a normal Close 1000, is not a timeout") {
    ConnectionSummary s = torn_down(Side::server, 60.0);
    s.close.seen = s.close.valid_seen = true;
    s.close.initiator = s.close.valid_by = Side::client;
    s.close.code = s.close.valid_code = 1000;
    s.close.at = s.close.valid_at = at_s(19, 9.9);
    s.close.echoed = true;
    CHECK(!cause_of(s));
  }
}

TEST_CASE("causes: heartbeat-too-slow when Pings come less often than the silence that killed it", "[diag][causes]") {
  ConnectionSummary s = torn_down(Side::server, 3.0);
  s.c2s.pings = 2;
  s.c2s.first_ping = at_s(10, 2.0);
  s.c2s.last_ping = at_s(14, 6.0);  // every 4 s
  auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "heartbeat-too-slow");
  CHECK(c->confidence == Confidence::likely);
  SECTION("legal neighbour: Pings faster than the silence: not the heartbeat's fault") {
    s.c2s.last_ping = at_s(14, 4.0);  // every 2 s
    c = cause_of(s);
    REQUIRE(c);
    CHECK(c->id == "idle-timeout");
  }
}

TEST_CASE("causes: heartbeat-unanswered", "[diag][causes]") {
  ConnectionSummary s = torn_down(Side::server, 2.0);
  s.findings.push_back({RuleId::ping_unanswered, Side::client, at_s(12, 7.0), "", 1});
  auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "heartbeat-unanswered");
  CHECK_THAT(c->evidence, Catch::Contains("server sent a Ping"));
}

TEST_CASE("causes: app-close-code names the subprotocol's code", "[diag][causes]") {
  ConnectionSummary s = torn_down(Side::server, 0.0);
  s.close.seen = s.close.valid_seen = true;
  s.close.initiator = s.close.valid_by = Side::server;
  s.close.code = s.close.valid_code = 4408;
  s.close.at = s.close.valid_at = at_s(19, 9.9);
  s.handshake.subprotocol = "graphql-transport-ws";
  auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "app-close-code");
  CHECK(c->confidence == Confidence::certain);
  CHECK_THAT(c->evidence, Catch::Contains("Connection initialisation timeout"));
  SECTION("an unknown subprotocol: possible, and says so") {
    s.handshake.subprotocol = "chat";
    c = cause_of(s);
    REQUIRE(c);
    CHECK(c->confidence == Confidence::possible);
  }
  SECTION("legal neighbour: 1000 has no cause") {
    s.close.code = s.close.valid_code = 1000;
    CHECK(!cause_of(s));
  }
}

TEST_CASE("known timeouts: matched within max(1 s, 2%)", "[diag][causes]") {
  CHECK(match_known_timeout(60.5, TimeoutKind::idle) != nullptr);
  CHECK(match_known_timeout(350, TimeoutKind::idle)->seconds == 350);
  CHECK(match_known_timeout(45, TimeoutKind::idle) == nullptr);
  CHECK(match_known_timeout(30, TimeoutKind::lifetime) != nullptr);
}

namespace {
EndingFact ending(std::uint64_t id, double at, Side by, std::optional<double> idle_s, std::optional<std::uint16_t> code,
                  bool close_frame = false) {
  EndingFact e;
  e.id = id;
  e.server = "10.0.0.2:80";
  e.end_ns = at_s(id, at).ts_ns;
  e.by = by;
  e.close_frame = close_frame;
  e.code = code;
  e.tcp_ended = true;
  if (idle_s) e.idle_ms = *idle_s * 1000.0;
  return e;
}
}  // namespace

TEST_CASE("patterns: many teardowns within milliseconds are one correlated teardown", "[diag][causes]") {
  std::vector<EndingFact> e;
  for (std::uint64_t i = 1; i <= 22; ++i) e.push_back(ending(i, 100.0 + 0.00001 * static_cast<double>(i), Side::server, 1.0 + 0.1 * static_cast<double>(i), 1006));
  e.push_back(ending(30, 50.0, Side::server, 2.0, 1006));  // an unrelated one, earlier
  const auto p = find_patterns(e);
  REQUIRE(p.size() == 1);
  CHECK(p[0].id == "correlated-teardown");
  CHECK(p[0].members.size() == 22);
  SECTION("legal neighbour: the same endings spread over minutes are not one event") {
    std::vector<EndingFact> spread;
    for (std::uint64_t i = 1; i <= 5; ++i) spread.push_back(ending(i, 60.0 * static_cast<double>(i), Side::server, 0.2, 1006));
    CHECK(find_patterns(spread).empty());
  }
}

TEST_CASE("patterns: 1001/1012 from the server at once is a graceful restart", "[diag][causes]") {
  std::vector<EndingFact> e;
  for (std::uint64_t i = 1; i <= 20; ++i) e.push_back(ending(i, 10.0 + 0.0001 * static_cast<double>(i), Side::server, std::nullopt, 1012, true));
  const auto p = find_patterns(e);
  REQUIRE(p.size() == 1);
  CHECK(p[0].id == "graceful-restart");
}

TEST_CASE("patterns: the same silence before many teardowns is an idle timeout", "[diag][causes]") {
  std::vector<EndingFact> e;
  for (std::uint64_t i = 1; i <= 6; ++i) e.push_back(ending(i, 10.0 * static_cast<double>(i), Side::server, 60.0 + 0.05 * static_cast<double>(i), 1006));
  const auto p = find_patterns(e);
  REQUIRE(p.size() == 1);
  CHECK(p[0].id == "idle-timeout");
  CHECK(p[0].confidence == Confidence::certain);  // 60 s: a known default
  CHECK_THAT(p[0].summary, Catch::Contains("6 connections"));
  SECTION("legal neighbour: different silences are not one timeout") {
    std::vector<EndingFact> d;
    for (std::uint64_t i = 1; i <= 6; ++i) d.push_back(ending(i, 10.0 * static_cast<double>(i), Side::server, 5.0 * static_cast<double>(i), 1006));
    CHECK(find_patterns(d).empty());
  }
}

TEST_CASE("1006 text: a silence matching known idle timeouts names every product with that default", "[diag][causes]") {
  const Verdict v = diagnose(torn_down(Side::server, 60.3));
  CHECK_THAT(v.cause, Catch::Contains("matches the default of nginx proxy_read_timeout"));
  CHECK_THAT(v.cause, Catch::Contains("or AWS Application Load Balancer idle timeout (60 s)"));
  SECTION("legal neighbour: 45 s matches no known default but is still a long silence") {
    const Verdict w = diagnose(torn_down(Side::server, 45.0));
    CHECK_THAT(w.cause, !Catch::Contains("matches the default of"));
    CHECK_THAT(w.cause, Catch::Contains("typical of an idle timeout"));
  }
  CHECK(known_timeouts_text(350.0, TimeoutKind::idle) == "AWS Network Load Balancer idle timeout (350 s)");
  CHECK(known_timeouts_text(7200.0, TimeoutKind::idle).empty());
}
