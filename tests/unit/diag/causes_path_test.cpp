// Path causes (issue #11, causes_path.cpp): middlebox-rst, blackhole, slow-consumer and the
// capture-point line, each on a hand-built summary, firing on its case and not on its legal neighbour.
#include <catch2/catch.hpp>

#include "wsdiag/decode/decoder.h"
#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/causes_path.h"
#include "wsdiag/diag/verdict.h"
#include "summary_fixture.h"

using namespace wsdiag;
using namespace wsdiag::diag;
using namespace wsdiag::test;

namespace {

// Packets of one side as the capture point saw them: `ttl`, an IP ID counter, TCP timestamps.
SideFacts side(std::uint8_t ttl, std::uint16_t last_ip_id, std::uint64_t packets = 12) {
  SideFacts f;
  f.ip_version = 4;
  f.ttl_first = f.ttl_min = f.ttl_max = ttl;
  f.ttl_packets = packets;
  f.ip_id_last = last_ip_id;
  f.ip_id_steps = f.ip_id_small_steps = packets - 1;
  f.options_any = f.options_all = decode::tcp_opt::timestamp;
  f.options_packets = packets - 1;
  return f;
}

// An established WebSocket connection (client 10.77.1.2, server 10.77.2.2 one router away).
ConnectionSummary established() {
  ConnectionSummary s = established_ws("10.77.1.2:57202", "10.77.2.2:8765", 5, 0.004);
  s.client_path = side(64, 0xb9f0);
  s.server_path = side(63, 0xd90a);
  s.last = at_s(31, 2.06);
  return s;
}

// `by` resets the connection at packet 31 with an RST carrying `ttl` and `ip_id`.
ConnectionSummary reset_by(Side by, std::uint8_t ttl, std::uint16_t ip_id, bool timestamps) {
  ConnectionSummary s = established();
  SideFacts& f = by == Side::client ? s.client_path : s.server_path;
  f.rst.at = at_s(31, 2.06);
  f.rst.ttl = ttl;
  f.rst.ip_id = ip_id;
  f.rst.window = static_cast<std::uint16_t>(timestamps ? 64 : 0);
  f.rst.options = static_cast<std::uint8_t>(timestamps ? decode::tcp_opt::timestamp : 0);
  f.rst.ack_flag = timestamps;
  f.rst.earlier_packets = f.ttl_packets;
  f.rst.earlier_ip_id = f.ip_id_last;
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.by = s.tcp_end.initiator = by;
  s.tcp_end.initiated_by_rst = true;
  s.tcp_end.at = s.tcp_end.initiated_at = f.rst.at;
  (by == Side::client ? s.tcp_end.client_rst : s.tcp_end.server_rst) = true;
  (by == Side::client ? s.tcp_end.client_rst_at : s.tcp_end.server_rst_at) = f.rst.at;
  s.tcp_end.idle_before_ms = 40;
  return s;
}


}  // namespace

TEST_CASE("causes: middlebox-rst when an RST's TTL is not its claimed sender's", "[diag][causes][path]") {
  // iptables REJECT --reject-with tcp-reset in the router: TTL 64 (the router's own) in the name of
  // the server, whose packets arrive with 63; IP ID 0, no timestamps, window 0.
  ConnectionSummary s = reset_by(Side::server, 64, 0, false);
  auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "middlebox-rst");
  CHECK(c->confidence == Confidence::certain);  // TTL, IP ID and options all differ
  CHECK_THAT(c->evidence, Catch::Contains("in the name of the server"));
  CHECK_THAT(c->evidence, Catch::Contains("TTL 64 where every earlier packet of the server had 63"));
  CHECK_THAT(c->evidence, Catch::Contains("1 hop nearer to"));
  CHECK_THAT(c->evidence, Catch::Contains("IP ID 0x0000"));
  CHECK_THAT(c->evidence, Catch::Contains("no TCP timestamps"));

  SECTION("TTL alone: likely") {
    s = reset_by(Side::server, 64, 0xd90b, true);
    c = cause_of(s);
    REQUIRE(c);
    CHECK(c->id == "middlebox-rst");
    CHECK(c->confidence == Confidence::likely);
  }
  SECTION("the claimed sender went on sending data after its RST") {
    s = reset_by(Side::client, 64, 0xb9f1, true);
    s.client_path.rst.data_packets_after = 2;
    c = cause_of(s);
    REQUIRE(c);
    CHECK(c->id == "middlebox-rst");
    CHECK_THAT(c->evidence, Catch::Contains("went on sending data after it"));
  }
  SECTION("legal neighbour: the real server's RST (SO_LINGER 0): its TTL, its IP ID counter, its options") {
    CHECK(!cause_of(reset_by(Side::server, 63, 0xd90b, true)));
  }
  SECTION("legal neighbour: a kernel's RST for a closed socket: IP ID 0, no options, but the sender's TTL") {
    CHECK(!cause_of(reset_by(Side::server, 63, 0, false)));
  }
  SECTION("legal neighbour: an RST as the sender's first packet has nothing to compare with") {
    s = reset_by(Side::server, 64, 0, false);
    s.server_path.ttl_packets = 0;
    s.server_path.rst.earlier_packets = 0;
    CHECK(!middlebox_rst(s, diagnose(s)));
  }
}

namespace {

// `b` re-sends one sequence `n` times from 2.2 s, doubling the interval from 0.2 s, never acknowledged.
ConnectionSummary retransmitting(Side b, std::uint32_t n) {
  ConnectionSummary s = established();
  SideFacts& f = b == Side::client ? s.client_path : s.server_path;
  f.retransmits = f.run_resends = n;
  f.run_seq = 1000;
  f.run_first = f.retransmit_first = at_s(19, 2.2);
  double t = 2.2, gap = 0.2;
  for (std::uint32_t i = 1; i < n; ++i) {
    t += gap;
    f.run_last_gap_ns = static_cast<std::int64_t>(gap * 1e9);
    if (i == 1) f.run_first_gap_ns = f.run_last_gap_ns;
    gap *= 2;
  }
  f.run_last = f.retransmit_last = at_s(19 + n - 1, t);
  s.last = f.run_last;
  s.tcp_end.how = TcpEndHow::open;
  s.tcp_end.at = s.last;
  return s;
}

}  // namespace

TEST_CASE("causes: blackhole when one side's retransmissions back off and nothing acknowledges them",
          "[diag][causes][path]") {
  ConnectionSummary s = retransmitting(Side::client, 6);
  auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "blackhole");
  CHECK(c->confidence == Confidence::likely);
  CHECK_THAT(c->evidence, Catch::Contains("the client re-sent the same data 6 times"));
  CHECK_THAT(c->evidence, Catch::Contains("the capture ended with the connection still open"));
  CHECK_THAT(c->evidence, Catch::Contains("the capture is on the client's side of the break"));

  SECTION("it gave up with an RST") {
    s.tcp_end.how = TcpEndHow::rst;
    s.tcp_end.by = s.tcp_end.initiator = Side::client;
    s.tcp_end.client_rst = true;
    s.tcp_end.client_rst_at = s.tcp_end.at = s.tcp_end.initiated_at = at_s(40, 12.0);
    s.tcp_end.initiated_by_rst = true;
    c = cause_of(s);
    REQUIRE(c);
    CHECK(c->id == "blackhole");
    CHECK_THAT(c->evidence, Catch::Contains("gave up and reset the connection (packet 40)"));
  }
  SECTION("both sides retransmit: the capture point is at the break") {
    ConnectionSummary both = retransmitting(Side::client, 6);
    both.server_path = retransmitting(Side::server, 5).server_path;
    c = cause_of(both);
    REQUIRE(c);
    CHECK_THAT(c->evidence, Catch::Contains("both sides' retransmissions pass the capture point"));
  }
  SECTION("legal neighbour: the retransmissions were acknowledged in the end (loss, recovered)") {
    s.client_path.run_acked = true;
    s.client_path.retransmit_acked = true;
    CHECK(!cause_of(s));
  }
  SECTION("legal neighbour: re-sends at a constant interval (a duplicate capture, not a back-off)") {
    s.client_path.run_last_gap_ns = s.client_path.run_first_gap_ns;
    CHECK(!cause_of(s));
  }
  SECTION("legal neighbour: two re-sends are not enough") {
    CHECK(!cause_of(retransmitting(Side::client, 2)));
  }
}

namespace {

// The client stops reading: zero windows from packet 147 for 5.7 s, the server probes 4 times.
ConnectionSummary stalled_reader() {
  ConnectionSummary s = established();
  s.client_path.zero_windows = 4;
  s.client_path.zero_window_first = at_s(147, 0.83);
  s.client_path.zero_window_last = at_s(154, 4.16);
  s.client_path.zero_window_longest_ns = 5'670'000'000;
  s.server_path.window_probes = 4;
  s.server_path.window_probe_first = at_s(148, 1.05);
  s.server_path.window_probe_last = at_s(153, 4.16);
  s.s2c.frames = 120;
  return s;
}

void close_by_server(ConnectionSummary& s, std::uint16_t code) {
  s.close.seen = s.close.valid_seen = true;
  s.close.initiator = s.close.valid_by = Side::server;
  s.close.code = s.close.valid_code = code;
  s.close.at = s.close.valid_at = at_s(230, 3.83);
  s.close.echoed = true;
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = s.tcp_end.initiator = Side::server;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(233, 3.84);
  s.tcp_end.server_fin = s.tcp_end.client_fin = true;
}

}  // namespace

TEST_CASE("causes: slow-consumer when a zero window is followed by the sender's close", "[diag][causes][path]") {
  ConnectionSummary s = stalled_reader();
  close_by_server(s, 1008);
  auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "slow-consumer");
  CHECK(c->confidence == Confidence::likely);
  CHECK_THAT(c->evidence, Catch::Contains("the client advertised a zero window 4 times"));
  CHECK_THAT(c->evidence, Catch::Contains("4 window probes"));
  CHECK_THAT(c->evidence, Catch::Contains("then the server closed with 1008"));

  SECTION("an RST by the sender") {
    s = stalled_reader();
    s.tcp_end.how = TcpEndHow::rst;
    s.tcp_end.by = s.tcp_end.initiator = Side::server;
    s.tcp_end.server_rst = s.tcp_end.initiated_by_rst = true;
    s.tcp_end.at = s.tcp_end.initiated_at = s.tcp_end.server_rst_at = at_s(187, 6.5);
    s.tcp_end.idle_before_ms = 0.1;
    c = cause_of(s);
    REQUIRE(c);
    CHECK(c->id == "slow-consumer");
    CHECK_THAT(c->evidence, Catch::Contains("reset the connection"));
  }
  SECTION("legal neighbour: the reader caught up and the connection closed normally") {
    s = stalled_reader();
    close_by_server(s, 1000);
    CHECK(!cause_of(s));
  }
  SECTION("legal neighbour: the zero-window side itself closed (the reader, not the sender, gave up)") {
    s = stalled_reader();
    close_by_server(s, 1011);
    s.close.initiator = s.close.valid_by = Side::client;
    CHECK(!slow_consumer(s, diagnose(s)));
  }
  SECTION("legal neighbour: a brief zero window nobody had to probe") {
    s = stalled_reader();
    close_by_server(s, 1011);
    s.server_path.window_probes = 0;
    s.client_path.zero_window_longest_ns = 30'000'000;
    CHECK(!slow_consumer(s, diagnose(s)));
  }
}

TEST_CASE("capture point: hops of each side, loopback, proxy marks; only next to a path cause", "[diag][causes][path]") {
  ConnectionSummary s = reset_by(Side::server, 64, 0, false);
  const auto cause = cause_of(s);
  auto p = capture_point(s, cause);
  REQUIRE(p);
  CHECK(p->client_hops == 0);
  CHECK(p->server_hops == 1);
  CHECK(!p->loopback);
  CHECK_THAT(p->line, Catch::Contains("captured at the client's end"));

  SECTION("a proxy's Server header") {
    s.handshake.server_software = "nginx/1.22.1";
    p = capture_point(s, cause);
    REQUIRE(p);
    CHECK_THAT(p->line, Catch::Contains("names a proxy (nginx/1.22.1)"));
  }
  SECTION("loopback") {
    s.client = "127.0.0.1:40000";
    s.server = "127.0.0.1:8080";
    p = capture_point(s, cause);
    REQUIRE(p);
    CHECK(p->loopback);
    CHECK_THAT(p->line, Catch::StartsWith("loopback"));
  }
  SECTION("nothing without a cause, nor for an application's own close code") {
    CHECK(!capture_point(s, std::nullopt));
    CHECK(!capture_point(s, CauseMatch{"app-close-code", Confidence::certain, "", ""}));
  }
}
