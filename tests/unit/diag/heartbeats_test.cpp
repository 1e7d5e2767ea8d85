// Heartbeat causes over application heartbeats (issue #11 §3) on hand-built summaries: the
// heartbeat-unanswered and heartbeat-too-slow rows fire on Engine.IO / MQTT / STOMP facts, and not
// on their legal neighbours.
#include <catch2/catch.hpp>

#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/heartbeats.h"
#include "wsdiag/diag/verdict.h"
#include "summary_fixture.h"

using namespace wsdiag;
using namespace wsdiag::diag;
using namespace wsdiag::test;

namespace {

ConnectionSummary base() {
  ConnectionSummary s = established_ws("10.0.0.1:50000", "10.0.0.2:80", 5);
  s.handshake.path = "/socket.io/?EIO=4&transport=websocket";
  return s;
}

// Socket.IO's ping timeout: the server pings every 1 s; the client answers twice, then stops;
// 1 s after the third ping the server sends an empty Close, then FIN.
ConnectionSummary socketio_timeout() {
  ConnectionSummary s = base();
  s.s2c.app = AppHeartbeats{AppHeartbeat::engine_io, 3, 0, at_s(15, 1.0), at_s(22, 3.0), at_s(19, 2.0)};
  s.c2s.app.kind = AppHeartbeat::engine_io;
  s.c2s.app.answers = 2;
  s.close.seen = true;
  s.close.initiator = Side::server;
  s.close.at = at_s(24, 4.0);
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = s.tcp_end.initiator = Side::server;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(26, 4.3);
  s.tcp_end.idle_before_ms = 300;
  s.last = at_s(27, 4.35);
  return s;
}


}  // namespace

TEST_CASE("heartbeats: an unanswered Engine.IO ping, then the server's close, is heartbeat-unanswered",
          "[diag][causes][heartbeat]") {
  const ConnectionSummary s = socketio_timeout();
  const auto u = unanswered_app_heartbeat(s);
  REQUIRE(u);
  CHECK(u->pinger == Side::server);
  CHECK(u->at.index == 22);
  CHECK(u->answered.index == 19);
  CHECK(u->before_end_s == Approx(1.3));
  const auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "heartbeat-unanswered");
  CHECK(c->confidence == Confidence::likely);
  CHECK_THAT(c->evidence, Catch::Contains("Engine.IO ping"));
  CHECK_THAT(c->evidence, Catch::Contains("packet 22"));
  CHECK_THAT(c->evidence, Catch::Contains("the server closed the connection 1.00 s later"));

  SECTION("legal neighbour: the last ping was answered") {
    ConnectionSummary n = s;
    n.s2c.app.last_answered = n.s2c.app.last;
    CHECK(!unanswered_app_heartbeat(n));
    CHECK(!cause_of(n));
  }
  SECTION("legal neighbour: the connection ended within the grace time of the last ping") {
    ConnectionSummary n = s;
    n.s2c.app.last = at_s(22, 3.9);
    CHECK(!unanswered_app_heartbeat(n));
  }
  SECTION("legal neighbour: a normal Close 1000 after it is not a failure") {
    ConnectionSummary n = s;
    n.close.code = 1000;
    n.close.valid_seen = n.close.echoed = true;
    n.close.valid_code = n.close.echo_code = 1000;
    n.close.valid_by = Side::server;
    n.close.valid_at = n.close.at;
    CHECK(!cause_of(n));
  }
  SECTION("legal neighbour: one-way STOMP beats are never 'unanswered'") {
    ConnectionSummary n = s;
    n.s2c.app.kind = AppHeartbeat::stomp;
    n.s2c.app.last_answered = {};
    CHECK(!unanswered_app_heartbeat(n));
  }
}

TEST_CASE("heartbeats: an MQTT PINGREQ left unanswered by the broker, then a client RST", "[diag][causes][heartbeat]") {
  ConnectionSummary s = base();
  s.handshake.path = "/mqtt";
  s.handshake.subprotocol = "mqtt";
  s.c2s.app = AppHeartbeats{AppHeartbeat::mqtt, 4, 0, at_s(10, 5.0), at_s(30, 20.0), at_s(25, 15.0)};
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.by = s.tcp_end.initiator = Side::client;
  s.tcp_end.initiated_by_rst = true;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(40, 27.5);
  s.tcp_end.idle_before_ms = 7500;
  s.last = s.tcp_end.at;
  const auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "heartbeat-unanswered");
  CHECK_THAT(c->evidence, Catch::Contains("the client sent an MQTT PINGREQ at packet 30 that the server never answered"));
  CHECK_THAT(c->evidence, Catch::Contains("torn down by the client (RST) 7.50 s later"));
}

TEST_CASE("heartbeats: application heartbeats slower than the silence that killed it are heartbeat-too-slow",
          "[diag][causes][heartbeat]") {
  ConnectionSummary s = base();
  s.handshake.path = "/stomp";
  // the client sends a STOMP heart-beat every 10 s; the proxy cut after 5 s of silence
  s.c2s.app = AppHeartbeats{AppHeartbeat::stomp, 3, 0, at_s(10, 1.0), at_s(20, 21.0), {}};
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = s.tcp_end.initiator = Side::server;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(30, 26.0);
  s.tcp_end.idle_before_ms = 5000;
  s.last = at_s(31, 26.1);
  auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "heartbeat-too-slow");
  CHECK_THAT(c->evidence, Catch::Contains("the client sent a STOMP heart-beat (EOL) every 10.0 s"));
  SECTION("legal neighbour: heartbeats faster than the silence: an idle timeout, not a slow heartbeat") {
    s.c2s.app.last = at_s(20, 5.0);  // every 2 s, then stopped
    c = cause_of(s);
    REQUIRE(c);
    CHECK(c->id == "idle-timeout");
  }
  SECTION("the verdict does not say that no heartbeat was seen") {
    s.tcp_end.idle_before_ms = 65000;
    const Verdict v = diagnose(s);
    CHECK_THAT(v.cause, !Catch::Contains("No Ping frames"));
  }
}

TEST_CASE("heartbeats: the side's heartbeat is the more frequent of its Pings and its application heartbeats",
          "[diag][heartbeat]") {
  DirCounters d;
  CHECK(!heartbeat_of(d));
  d.pings = 3;
  d.first_ping = at_s(2, 0);
  d.last_ping = at_s(9, 20.0);  // every 10 s
  auto h = heartbeat_of(d);
  REQUIRE(h);
  CHECK(h->what == "a Ping");
  CHECK(h->every_s == Approx(10.0));
  d.app = AppHeartbeats{AppHeartbeat::graphql_ws, 5, 0, at_s(3, 0), at_s(8, 8.0), {}};  // every 2 s
  h = heartbeat_of(d);
  REQUIRE(h);
  CHECK(h->what == "a graphql-transport-ws ping");
  CHECK(h->every_s == Approx(2.0));
}
