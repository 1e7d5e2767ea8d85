#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "unit/report/report_fixture.h"
#include "wsdiag/report/text_util.h"

using namespace report_test;
using wsdiag::report::TextOptions;

namespace {

std::string text(const wsdiag::report::Report& r, bool color, bool detail = false) {
  TextOptions o;
  o.color = color;
  o.detail = detail;
  return capture_output([&](std::FILE* f) { wsdiag::report::write_text(f, r, o); });
}

}  // namespace

TEST_CASE("text: no ESC byte without colour, even from hostile wire strings", "[report]") {
  auto r = sample_report();
  r.connections[0].summary.close.reason = "\x1b]0;pwned\x07\x1b[2J";
  r.connections[0].summary.handshake.path = "/\x1b[31mred";
  r.connections[0].summary.handshake.user_agent = "ua\xc2\x9b" "31m";  // C1 CSI
  for (const bool detail : {false, true}) {
    const std::string out = text(r, false, detail);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find("\xc2\x9b") == std::string::npos);
    CHECK(out.find("\\x1b]0;pwned\\x07") != std::string::npos);
  }
  const std::string one = wsdiag::report::format_connection_text(r.connections[0], TextOptions{});
  CHECK(one.find('\x1b') == std::string::npos);
}

TEST_CASE("text: colour on uses ANSI sequences, hostile ones still escaped", "[report]") {
  auto r = sample_report();
  r.connections[0].summary.close.reason = "\x1b[2J";
  const std::string out = text(r, true);
  CHECK(out.find("\x1b[1;31m") != std::string::npos);  // error in red
  CHECK(out.find("\x1b[1;33m") != std::string::npos);  // warning in yellow
  CHECK(out.find("\x1b[0m") != std::string::npos);
  CHECK(out.find("\x1b[2J") == std::string::npos);
  CHECK(out.find("\\x1b[2J") != std::string::npos);
}

TEST_CASE("text: summary table and connection blocks carry the evidence", "[report]") {
  const std::string out = text(sample_report(), false);
  // verdict table: one row per (verdict, severity)
  CHECK(out.find("1000 Normal Closure") != std::string::npos);
  CHECK(out.find("handshake failed") != std::string::npos);
  // connection header
  CHECK(out.find("#1  10.0.0.1:51234 -> 10.0.0.2:8080  1000 Normal Closure  [error]") !=
        std::string::npos);
  CHECK(out.find("#2  [2001:db8::1]:40000 -> [2001:db8::2]:443  open  [warning]") !=
        std::string::npos);
  // evidence
  CHECK(out.find("GET /chat?room=1 -> 101 Switching Protocols, accepted") != std::string::npos);
  CHECK(out.find("subprotocol chat") != std::string::npos);
  CHECK(out.find("client sent Close 1000") != std::string::npos);
  CHECK(out.find("bye \\xff\\xfe|`x") != std::string::npos);
  CHECK(out.find("server echoed 1000 Normal Closure after 12.5 ms") != std::string::npos);
  CHECK(out.find("FIN from both sides, first by server, packet 35") != std::string::npos);
  CHECK(out.find("client-unmasked") != std::string::npos);
  CHECK(out.find("12x") != std::string::npos);
  CHECK(out.find("RFC 6455 §5.1") != std::string::npos);
  CHECK(out.find("ShADadFf") != std::string::npos);
  CHECK(out.find("problems: handshake-rejected") != std::string::npos);
  CHECK(out.find("3 connections: 2 error, 1 warning") != std::string::npos);
}

TEST_CASE("text: lines fit in 100 columns", "[report]") {
  auto r = sample_report();
  r.connections[0].verdict.cause = std::string(300, 'a') + " " + std::string(40, 'b') +
                                   " and a long explanation that goes on and on about the cause "
                                   "of the failure, the proxy, the load balancer, the idle timer";
  for (const bool detail : {false, true}) {
    std::istringstream in(text(r, false, detail));
    std::string line;
    while (std::getline(in, line)) {
      INFO(line);
      CHECK(wsdiag::report::display_width(line) <= 100);
    }
  }
}

TEST_CASE("text: detail adds the timeline and rule explanations", "[report]") {
  auto r = sample_report();
  const std::string brief = text(r, false, false);
  const std::string full = text(r, false, true);
  CHECK(brief.find("timeline") == std::string::npos);
  CHECK(full.find("timeline") != std::string::npos);
  CHECK(full.find("host example.test") != std::string::npos);
  CHECK(full.find("client FIN at packet 37") != std::string::npos);
  CHECK(full.find("rules") != std::string::npos);
  // timeline is in packet order: the request (4) comes before the finding at packet 8
  const std::string tl = full.substr(full.find("timeline"));
  const auto req = tl.find("client sent GET /chat?room=1");
  const auto unmasked = tl.find("client-unmasked");
  REQUIRE(req != std::string::npos);
  REQUIRE(unmasked != std::string::npos);
  CHECK(req < unmasked);
}

TEST_CASE("text: an empty report says so and hints at --ws-port", "[report]") {
  wsdiag::report::Report r;
  r.stats.tcp_connections = 3;
  const std::string out = text(r, false);
  CHECK(out.find("No WebSocket connections found.") != std::string::npos);
  CHECK(out.find("--ws-port") != std::string::npos);
}

TEST_CASE("use_color is off when the fd is not a terminal", "[report]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  CHECK_FALSE(wsdiag::report::use_color(fileno(f)));
  std::fclose(f);
}

TEST_CASE("text: a RST answering the peer's FIN names who started the ending", "[report]") {
  auto c = closed_conn();
  auto& t = c.summary.tcp_end;
  t = {};
  t.how = wsdiag::diag::TcpEndHow::rst;
  t.by = wsdiag::diag::Side::server;
  t.at = at(36, 4150);
  t.initiator = wsdiag::diag::Side::client;
  t.initiated_at = at(35, 4100);
  t.idle_before_ms = 2000.0;
  t.client_fin = true;
  t.client_fin_at = at(35, 4100);
  t.server_rst = true;
  t.server_rst_at = at(36, 4150);
  const std::string out = wsdiag::report::format_connection_text(c, TextOptions{});
  CHECK(out.find("RST by server after FIN by client, packet 36") != std::string::npos);
  CHECK(out.find("started by the client's FIN at packet 35 (+4.10 s), 2.00 s idle before") !=
        std::string::npos);
  const auto j = wsdiag::report::to_json(c).at("tcp_end");
  CHECK(j.at("how") == "rst");
  CHECK(j.at("by") == "server");
  CHECK(j.at("initiator") == "client");
  CHECK(j.at("initiated_packet") == 35);

  auto open = open_conn();
  open.summary.tcp_end.idle_before_ms = 30'000.0;
  const std::string o = wsdiag::report::format_connection_text(open, TextOptions{});
  CHECK(o.find("still open when the capture ended, idle for the last 30.0 s") != std::string::npos);
  CHECK(wsdiag::report::to_json(open).at("tcp_end").at("idle_before_ms") == 30000.0);
}

TEST_CASE("text: the --conn timeline shows the connection's steps (one builder) with its findings", "[report]") {
  auto r = sample_report();
  auto& sm = r.connections[0].summary;
  using wsdiag::diag::WireEventKind;
  sm.events.kept.push_back({WireEventKind::close, Side::client, sm.close.at, 1000, {2, 1}, {}, {}, at(9, 110)});
  sm.events.kept.push_back({WireEventKind::close, Side::server, sm.close.echo_at, 1000, {2, 1}, {}, {}, at(9, 110)});
  const std::string full = text(r, false, /*detail=*/true);
  const std::string out = full.substr(full.find("timeline"));
  const auto line_of = [&](std::string_view what) { return out.find(what); };
  // steps of build_timeline, in packet order, with the findings at their packets
  const auto req = line_of("client sent GET");
  const auto finding = line_of("error client-unmasked (client): frame not masked [first of 12]");
  const auto close = line_of("client sent Close 1000");
  const auto echo = line_of("server sent Close 1000");
  REQUIRE(req != std::string::npos);
  REQUIRE(finding != std::string::npos);
  REQUIRE(close != std::string::npos);
  REQUIRE(echo != std::string::npos);
  CHECK(req < finding);
  CHECK(finding < close);
  CHECK(close < echo);
  CHECK(out.find("3 messages: 2 from client, 1 from server") != std::string::npos);
  CHECK(out.find("client sent Close 1000 Normal Closure") != std::string::npos);
  CHECK(out.find("(after 3.89 s") != std::string::npos);  // last message (+110 ms) to the Close (+4.0 s)
}
