// Application heartbeat recognition (issue #11 §3): each shape, fed whole and byte by byte, and
// the messages that look like it but are not heartbeats.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "session_test_util.h"
#include "wsdiag/session/heartbeat.h"
#include "wsdiag/ws/frame_parser.h"

using namespace wsdiag;
using namespace wsdiag::session;
using diag::AppHeartbeat;

namespace {

constexpr std::uint8_t kText = 1, kBinary = 2;

Bytes bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

HeartbeatMatch match(std::uint8_t opcode, std::string_view msg, const HeartbeatContext& ctx, bool bytewise = false) {
  HeartbeatMatcher m;
  m.start(opcode, ctx);
  if (bytewise) {
    for (std::size_t i = 0; i < msg.size(); ++i) m.feed(bytes_of(msg.substr(i, 1)));
  } else {
    m.feed(bytes_of(msg));
  }
  return m.finish(msg.size());
}

const HeartbeatContext kEio = heartbeat_context("/socket.io/?EIO=4&transport=websocket", "", true);
const HeartbeatContext kMqtt = heartbeat_context("/mqtt", "mqtt", true);
const HeartbeatContext kPlain = heartbeat_context("/chat?room=2", "", true);

}  // namespace

TEST_CASE("heartbeat context: Engine.IO by the EIO= query parameter, MQTT by the subprotocol", "[session][heartbeat]") {
  CHECK(kEio.engine_io);
  CHECK(!kEio.mqtt);
  CHECK(kMqtt.mqtt);
  CHECK(heartbeat_context("/x", "MQTTv3.1", true).mqtt);
  CHECK(!kPlain.engine_io);
  CHECK(!heartbeat_context("/x?NOTEIO=4", "", true).engine_io);
  CHECK(heartbeat_context("/x?a=1&EIO=3", "", true).engine_io);
  const auto mid = heartbeat_context("", "", false);  // no handshake captured: shapes alone
  CHECK(mid.engine_io);
  CHECK(mid.mqtt);
}

TEST_CASE("heartbeats: each known shape, whole or one byte at a time", "[session][heartbeat]") {
  for (const bool bytewise : {false, true}) {
    CAPTURE(bytewise);
    auto m = match(kText, "2", kEio, bytewise);
    CHECK(m.kind == AppHeartbeat::engine_io);
    CHECK(m.role == HeartbeatRole::ping);
    m = match(kText, "3", kEio, bytewise);
    CHECK(m.kind == AppHeartbeat::engine_io);
    CHECK(m.role == HeartbeatRole::pong);
    m = match(kText, "\n", kPlain, bytewise);
    CHECK(m.kind == AppHeartbeat::stomp);
    CHECK(m.role == HeartbeatRole::beat);
    CHECK(match(kBinary, "\r\n", kPlain, bytewise).kind == AppHeartbeat::stomp);
    m = match(kBinary, std::string_view("\xC0\x00", 2), kMqtt, bytewise);
    CHECK(m.kind == AppHeartbeat::mqtt);
    CHECK(m.role == HeartbeatRole::ping);
    m = match(kBinary, std::string_view("\xD0\x00", 2), kMqtt, bytewise);
    CHECK(m.kind == AppHeartbeat::mqtt);
    CHECK(m.role == HeartbeatRole::pong);
    m = match(kText, R"({"type":"ping"})", kPlain, bytewise);
    CHECK(m.kind == AppHeartbeat::graphql_ws);
    CHECK(m.role == HeartbeatRole::ping);
    m = match(kText, R"({"type":"pong","payload":{"t":1}})", kPlain, bytewise);
    CHECK(m.kind == AppHeartbeat::graphql_ws);
    CHECK(m.role == HeartbeatRole::pong);
    m = match(kText, R"({"type":"ka"})", kPlain, bytewise);
    CHECK(m.kind == AppHeartbeat::graphql_ka);
    CHECK(m.role == HeartbeatRole::beat);
  }
}

TEST_CASE("heartbeats: legal neighbours are not heartbeats", "[session][heartbeat]") {
  CHECK(match(kText, "2", kPlain).kind == AppHeartbeat::none);               // a "2" without Engine.IO
  CHECK(match(kText, "22", kEio).kind == AppHeartbeat::none);                // longer
  CHECK(match(kText, "2probe", kEio).kind == AppHeartbeat::none);            // the upgrade probe
  CHECK(match(kText, "42[\"chat\",\"2\"]", kEio).kind == AppHeartbeat::none);  // a Socket.IO event
  CHECK(match(kBinary, "2", kEio).kind == AppHeartbeat::none);               // binary, not text
  CHECK(match(kBinary, std::string_view("\xC0\x00", 2), kPlain).kind == AppHeartbeat::none);  // no mqtt
  CHECK(match(kBinary, std::string_view("\xC0\x00\x01", 3), kMqtt).kind == AppHeartbeat::none);
  CHECK(match(kText, std::string_view("\xC0\x00", 2), kMqtt).kind == AppHeartbeat::none);
  CHECK(match(kText, "\n\n", kPlain).kind == AppHeartbeat::none);
  CHECK(match(kText, "", kPlain).kind == AppHeartbeat::none);
  CHECK(match(kText, R"({"type":"pingx"})", kPlain).kind == AppHeartbeat::none);
  CHECK(match(kText, R"({"type":"ping"}  )", kPlain).kind == AppHeartbeat::none);
  CHECK(match(kText, R"({"type":"next","id":"1"})", kPlain).kind == AppHeartbeat::none);
  SECTION("the announced length must agree with the bytes seen (a message cut short is not one)") {
    HeartbeatMatcher m;
    m.start(kText, kPlain);
    m.feed(bytes_of(R"({"type":"pi)"));
    CHECK(m.finish(15).kind == AppHeartbeat::none);
  }
  SECTION("a long message is looked at only for its first bytes") {
    std::string big(100000, 'x');
    big.insert(0, R"({"type":"ping",)");
    big += "}";
    CHECK(match(kText, big, kPlain).kind == AppHeartbeat::graphql_ws);
  }
}

TEST_CASE("session: Engine.IO heartbeats become per-side facts; the last one unanswered", "[session][heartbeat]") {
  namespace op = wsdiag::ws::opcode;
  using test::Conv;
  Conv c;
  std::string req = test::upgrade_request();
  req.replace(req.find("/chat"), 5, "/socket.io/?EIO=4&transport=websocket");
  c.send(Conv::C, req);
  c.send(Conv::S, test::upgrade_response());
  c.send(Conv::C, test::cf(op::text, "40"));
  c.send(Conv::S, test::sf(op::text, "40{\"sid\":\"x\"}"));
  c.wait_ns(1'000'000'000);
  const PacketRef p1 = c.send(Conv::S, test::sf(op::text, "2"));
  c.send(Conv::C, test::cf(op::text, "3"));
  c.wait_ns(1'000'000'000);
  const PacketRef p2 = c.send(Conv::S, test::sf(op::text, "2"));
  c.send(Conv::C, test::cf(op::text, "3"));
  c.wait_ns(1'000'000'000);
  const PacketRef p3 = c.send(Conv::S, test::sf(op::text, "2"));  // never answered
  c.send(Conv::C, test::cf(op::text, "42[\"chat\",\"2\"]"));     // an event, not an answer
  c.wait_ns(1'000'000'000);
  c.send(Conv::S, test::sf(op::close));
  c.wait_ns(300'000'000);
  c.fin(Conv::S);
  const auto s = c.finish();
  CHECK(s.s2c.app.kind == AppHeartbeat::engine_io);
  CHECK(s.s2c.app.sent == 3);
  CHECK(s.s2c.app.first == p1);
  CHECK(s.s2c.app.last == p3);
  CHECK(s.s2c.app.last_answered == p2);
  CHECK(s.c2s.app.answers == 2);
  CHECK(s.c2s.app.sent == 0);
  CHECK(s.s2c.pings == 0);  // control Pings are counted apart
  CHECK(s.s2c.messages == 4);  // "40{...}" and three "2"
}

TEST_CASE("session: a chat app's \"2\" is not a heartbeat without Engine.IO", "[session][heartbeat]") {
  namespace op = wsdiag::ws::opcode;
  using test::Conv;
  Conv c;
  c.open();
  c.send(Conv::S, test::sf(op::text, "2"));
  c.send(Conv::C, test::cf(op::text, "3"));
  const auto s = c.finish();
  CHECK(s.s2c.app.sent == 0);
  CHECK(s.c2s.app.answers == 0);
}
