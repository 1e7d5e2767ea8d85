// Path facts (flow/path_tracker.h): TTLs, IP IDs, retransmission runs, zero windows, window
// probes, bytes in flight and the first RST, from hand-made segments.
#include <catch2/catch.hpp>

#include "wsdiag/flow/path_tracker.h"

using namespace wsdiag;
using namespace wsdiag::flow;
namespace tf = wsdiag::decode::tcp_flag;
namespace to = wsdiag::decode::tcp_opt;

namespace {

struct Wire {
  PathTracker t;
  std::uint64_t index = 0;
  std::int64_t ns = 0;
  // Side `d` sends a segment; `ms` later than the previous one.
  void send(Dir d, std::uint32_t seq, std::uint32_t ack, std::uint32_t len, std::uint8_t flags = tf::ack,
            std::uint16_t window = 502, std::uint8_t ttl = 64, std::uint16_t ip_id = 0, double ms = 1,
            std::uint8_t options = to::timestamp) {
    decode::TcpSegment s;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = window;
    s.payload_wire_len = len;
    s.ip_version = 4;
    s.ttl = ttl;
    s.ip_id = ip_id;
    s.options = options;
    ns += static_cast<std::int64_t>(ms * 1e6);
    t.on_segment(d, s, PacketRef{++index, ns});
  }
};

constexpr auto C = Dir::c2s;
constexpr auto S = Dir::s2c;

}  // namespace

TEST_CASE("path facts: TTL range, IP ID counter, options, RST fields", "[flow][path]") {
  Wire w;
  w.send(C, 100, 0, 0, tf::syn, 64240, 64, 0x10, 1, to::mss | to::timestamp);
  w.send(S, 500, 101, 0, tf::syn | tf::ack, 65160, 63, 0, 1, to::mss | to::timestamp);
  w.send(C, 101, 501, 0, tf::ack, 502, 64, 0x11);
  w.send(C, 101, 501, 10, tf::ack | tf::psh, 502, 64, 0x12);
  w.send(S, 501, 111, 20, tf::ack | tf::psh, 509, 63, 0x20);
  w.send(S, 521, 111, 20, tf::ack | tf::psh, 509, 62, 0x21);
  // A forged RST in the server's name: TTL 64, IP ID 0, no options, while 20 + 20 bytes are unacknowledged.
  w.send(S, 541, 0, 0, tf::rst, 0, 64, 0, 1, 0);
  const SideFacts& s = w.t.facts(S);
  CHECK(s.ip_version == 4);
  CHECK(s.ttl_first == 63);
  CHECK(s.ttl_min == 62);
  CHECK(s.ttl_max == 63);
  CHECK(s.ttl_packets == 3);  // the RST is not counted
  CHECK(s.ip_id_steps == 2);
  CHECK(s.ip_id_small_steps == 2);  // 0 -> 0x20 is a jump of 32: small; 0x20 -> 0x21 too
  CHECK(s.options_all == to::timestamp);
  REQUIRE(s.rst.at.index == 7);
  CHECK(s.rst.ttl == 64);
  CHECK(s.rst.ip_id == 0);
  CHECK(s.rst.options == 0);
  CHECK(!s.rst.ack_flag);
  CHECK(s.rst.seq_offset == 0);
  CHECK(s.rst.own_unacked == 40);
  CHECK(s.rst.earlier_packets == 3);
  CHECK(s.rst.earlier_ip_id == 0x21);
  const SideFacts& c = w.t.facts(C);
  CHECK(c.ttl_min == 64);
  CHECK(c.ip_id_small_steps == 2);
  // The client then sends data after "the server's" RST: counted on the server's side only when
  // the server sends; the client's facts are unchanged by the RST.
  w.send(S, 541, 111, 5, tf::ack | tf::psh, 509, 63, 0x22);
  CHECK(w.t.facts(S).rst.data_packets_after == 1);
  CHECK(w.t.facts(S).rst.packets_after == 1);

  SECTION("flip swaps the sides") {
    w.t.flip();
    CHECK(w.t.facts(C).rst.at.index == 7);
    CHECK(w.t.facts(S).ttl_min == 64);
  }
}

TEST_CASE("path facts: a run of re-sends with back-off, never acknowledged", "[flow][path]") {
  Wire w;
  w.send(C, 100, 0, 0, tf::syn);
  w.send(S, 500, 101, 0, tf::syn | tf::ack);
  w.send(C, 101, 501, 10);
  w.send(S, 501, 111, 0);  // acknowledged
  w.send(C, 111, 501, 10);  // new data, then re-sent 4 times: 200, 400, 800 ms apart
  w.send(C, 111, 501, 10, tf::ack, 502, 64, 0, 200);
  w.send(C, 111, 501, 10, tf::ack, 502, 64, 0, 200);
  w.send(C, 111, 501, 10, tf::ack, 502, 64, 0, 400);
  w.send(C, 111, 501, 10, tf::ack, 502, 64, 0, 800);
  const SideFacts& c = w.t.facts(C);
  CHECK(c.retransmits == 4);
  CHECK(c.run_resends == 4);
  CHECK(c.run_seq == 111);
  CHECK(c.run_first.index == 6);
  CHECK(c.run_last.index == 9);
  CHECK(c.run_first_gap_ns == 200'000'000);
  CHECK(c.run_last_gap_ns == 800'000'000);
  CHECK(!c.run_acked);
  CHECK(!c.retransmit_acked);
  CHECK(c.max_in_flight == 10);

  SECTION("an acknowledgement afterwards") {
    w.send(S, 501, 121, 0);
    CHECK(w.t.facts(C).run_acked);
    CHECK(w.t.facts(C).retransmit_acked);
  }
  SECTION("an acknowledgement for bytes never sent is not believed") {
    w.send(S, 501, 99999, 0);
    CHECK(!w.t.facts(C).run_acked);
  }
  SECTION("a new run replaces the old one") {
    w.send(S, 501, 121, 0);
    w.send(C, 121, 501, 10);
    w.send(C, 121, 501, 10, tf::ack, 502, 64, 0, 300);
    CHECK(w.t.facts(C).run_resends == 1);
    CHECK(w.t.facts(C).run_seq == 121);
    CHECK(w.t.facts(C).retransmits == 5);
  }
}

TEST_CASE("path facts: zero windows and window probes; keep-alives are not retransmissions", "[flow][path]") {
  Wire w;
  w.send(C, 100, 0, 0, tf::syn);
  w.send(S, 500, 101, 0, tf::syn | tf::ack);
  w.send(C, 101, 501, 0);
  w.send(S, 501, 101, 1000);
  w.send(S, 1501, 101, 1000);
  CHECK(w.t.facts(S).max_in_flight == 2000);
  w.send(C, 101, 2501, 0, tf::ack, 0);                          // zero window
  w.send(S, 2500, 101, 0, tf::ack, 502, 64, 0, 200);            // Linux probe: one below the next byte
  w.send(C, 101, 2501, 0, tf::ack, 0, 64, 0, 1);                // still zero
  w.send(S, 2500, 101, 0, tf::ack, 502, 64, 0, 400);            // probe
  w.send(C, 101, 2501, 0, tf::ack, 3584, 64, 0, 1000);          // the window opens after 1.4 s
  const SideFacts& c = w.t.facts(C);
  const SideFacts& s = w.t.facts(S);
  CHECK(c.zero_windows == 2);
  CHECK(c.zero_window_first.index == 6);
  CHECK(c.zero_window_last.index == 8);
  CHECK(c.zero_window_longest_ns == 1'601'000'000);
  CHECK(!c.zero_window_at_end);
  CHECK(s.window_probes == 2);
  CHECK(s.window_probe_first.index == 7);
  CHECK(s.retransmits == 0);
  SECTION("a keep-alive while the window is open is neither") {
    w.send(S, 2500, 101, 0, tf::ack, 502, 64, 0, 5000);
    CHECK(w.t.facts(S).window_probes == 2);
    CHECK(w.t.facts(S).retransmits == 0);
  }
}
