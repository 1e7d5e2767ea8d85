// Reassembly: one payload split into segments, then reordered, reversed, duplicated, overlapped
// (consistent and inconsistent), with SYN/FIN/RST, wrapping past 2^32 and picked up mid-stream.
// Every test asserts the exact bytes, gaps and end events delivered.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "wsdiag/reassembly/reassembler.h"

using namespace wsdiag;
using namespace wsdiag::reassembly;

namespace {

struct Event {
  char kind;  // 'd' data, 'g' gap, 'e' end
  std::string data;
  std::uint64_t len = 0;
  int reason = 0;
  std::uint64_t packet = 0;
};

struct Recorder : StreamSink {
  std::vector<Event> events;
  std::string bytes;  // data with gaps shown as '#' filler (tests only)
  void on_data(Dir, Bytes b, PacketRef at) override {
    std::string s(b.begin(), b.end());
    bytes += s;
    events.push_back({'d', s, b.size(), 0, at.index});
  }
  void on_gap(Dir, std::uint64_t len, GapReason why, PacketRef at) override {
    bytes += std::string(len, '#');
    events.push_back({'g', {}, len, static_cast<int>(why), at.index});
  }
  void on_end(Dir, EndReason how, PacketRef at) override {
    events.push_back({'e', {}, 0, static_cast<int>(how), at.index});
  }
  [[nodiscard]] int count(char k) const {
    return static_cast<int>(std::count_if(events.begin(), events.end(), [k](const Event& e) { return e.kind == k; }));
  }
  [[nodiscard]] const Event& last() const { return events.back(); }
};

struct Seg {
  std::uint32_t seq;
  std::string data;
};

Bytes as_bytes(const std::string& s) {
  return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

const std::string kPayload =
    "Hello WebSocket world! This payload is split into many small TCP segments, reordered, "
    "duplicated and overlapped; reassembly must give back exactly these bytes, once each.";

std::vector<Seg> split(std::uint32_t isn, std::size_t n) {
  std::vector<Seg> out;
  for (std::size_t i = 0; i < kPayload.size(); i += n) {
    out.push_back({static_cast<std::uint32_t>(isn + 1 + i), kPayload.substr(i, n)});
  }
  return out;
}

struct Harness {
  Limits limits;
  Recorder rec;
  Reassembler r{Dir::c2s, limits};
  std::uint64_t pkt = 0;
  Harness() { r.set_sink(&rec); }
  SegmentStatus send(const Seg& s, bool fin = false, bool rst = false) {
    return r.on_segment(s.seq, as_bytes(s.data), static_cast<std::uint32_t>(s.data.size()), fin, rst,
                        PacketRef{++pkt, 0});
  }
  void fin(std::uint32_t seq) { r.on_segment(seq, {}, 0, true, false, PacketRef{++pkt, 0}); }
};

}  // namespace

TEST_CASE("in-order segments are delivered at once, FIN ends the stream", "[reassembly]") {
  for (std::size_t n : {1, 5, 7, 64, 1000}) {
    Harness h;
    h.r.on_syn(1000);
    for (const auto& s : split(1000, n)) CHECK(h.send(s) == SegmentStatus::in_order);
    h.fin(static_cast<std::uint32_t>(1001 + kPayload.size()));
    CHECK(h.rec.bytes == kPayload);
    CHECK(h.rec.count('g') == 0);
    REQUIRE(h.rec.count('e') == 1);
    CHECK(h.rec.last().reason == static_cast<int>(EndReason::fin));
    CHECK(h.r.stats().bytes_delivered == kPayload.size());
    CHECK(h.r.stats().out_of_order == 0);
  }
}

TEST_CASE("reordered, reversed and shuffled segments give the same bytes", "[reassembly]") {
  const auto segs = split(5000, 6);
  SECTION("pairs swapped") {
    Harness h;
    h.r.on_syn(5000);
    for (std::size_t i = 0; i + 1 < segs.size(); i += 2) {
      h.send(segs[i + 1]);
      h.send(segs[i]);
    }
    if (segs.size() % 2 == 1) h.send(segs.back());
    CHECK(h.rec.bytes == kPayload);
    CHECK(h.r.stats().out_of_order == segs.size() / 2);
  }
  SECTION("reversed: everything waits for the first segment, which releases it all") {
    Harness h;
    h.r.on_syn(5000);
    for (std::size_t i = segs.size(); i-- > 1;) CHECK(h.send(segs[i]) == SegmentStatus::buffered);
    CHECK(h.rec.bytes.empty());
    CHECK(h.r.buffered_bytes() == kPayload.size() - segs[0].data.size());
    CHECK(h.send(segs[0]) == SegmentStatus::in_order);
    CHECK(h.rec.bytes == kPayload);
    CHECK(h.r.buffered_bytes() == 0);
    // bytes released from the store are attributed to the packet that filled the hole
    CHECK(h.rec.last().packet == h.pkt);
  }
  SECTION("random shuffles with duplicates") {
    std::mt19937 rng(42);
    for (int round = 0; round < 50; ++round) {
      auto v = segs;
      for (int k = 0; k < 10; ++k) v.push_back(segs[rng() % segs.size()]);
      std::shuffle(v.begin(), v.end(), rng);
      Harness h;
      h.r.on_syn(5000);
      for (const auto& s : v) h.send(s);
      REQUIRE(h.rec.bytes == kPayload);
      CHECK(h.r.stats().inconsistent_overlaps == 0);
    }
  }
}

TEST_CASE("duplicates and retransmissions are delivered once", "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  const auto segs = split(0, 10);
  for (const auto& s : segs) {
    h.send(s);
    CHECK(h.send(s) == SegmentStatus::retransmit);
  }
  CHECK(h.rec.bytes == kPayload);
  CHECK(h.r.stats().retransmits == segs.size());
}

TEST_CASE("overlaps: consistent ones are merged, inconsistent ones counted, first copy wins",
          "[reassembly]") {
  SECTION("in-order overlap (\"Hello \" / \"ello Wo\" / \"lo World\")") {
    Harness h;
    h.r.on_syn(99);
    h.send({100, "Hello "});
    CHECK(h.send({101, "ello Wo"}) == SegmentStatus::partial_overlap);
    h.send({103, "lo World"});
    CHECK(h.rec.bytes == "Hello World");
    CHECK(h.r.stats().inconsistent_overlaps == 0);
  }
  SECTION("overlapping out-of-order segments, consistent") {
    Harness h;
    h.r.on_syn(99);
    h.send({106, "World!"});
    h.send({103, "lo Wor"});
    h.send({100, "Hel"});
    CHECK(h.rec.bytes == "Hello World!");
    CHECK(h.r.stats().overlaps >= 1);
    CHECK(h.r.stats().inconsistent_overlaps == 0);
  }
  SECTION("inconsistent overlap in the store: first copy wins and is counted") {
    Harness h;
    h.r.on_syn(99);
    h.send({106, "World!"});
    h.send({106, "XXXXX!"});
    h.send({100, "Hello "});
    CHECK(h.rec.bytes == "Hello World!");
    CHECK(h.r.stats().inconsistent_overlaps == 1);
  }
  SECTION("an in-order segment disagreeing with buffered bytes: buffered (first) copy wins") {
    Harness h;
    h.r.on_syn(99);
    h.send({106, "World!"});
    h.send({100, "Hello ZZZZ"});  // overlaps "Worl" with different bytes
    CHECK(h.rec.bytes == "Hello World!");
    CHECK(h.r.stats().inconsistent_overlaps == 1);
  }
}

TEST_CASE("sequence numbers wrapping past 2^32", "[reassembly]") {
  const std::uint32_t isn = 0xFFFFFFF0u;
  auto segs = split(isn, 7);
  std::reverse(segs.begin(), segs.begin() + 4);
  Harness h;
  h.r.on_syn(isn);
  for (const auto& s : segs) h.send(s);
  h.fin(static_cast<std::uint32_t>(isn + 1 + kPayload.size()));
  CHECK(h.rec.bytes == kPayload);
  CHECK(h.rec.last().kind == 'e');
  CHECK(h.rec.last().reason == static_cast<int>(EndReason::fin));
  // an ACK in the wrapped space that covers everything raises no gap
  h.r.on_peer_ack(static_cast<std::uint32_t>(isn + 2 + kPayload.size()), PacketRef{99, 0});
  CHECK(h.rec.count('g') == 0);
}

TEST_CASE("a stream picked up mid-connection starts at the first segment seen", "[reassembly]") {
  const auto segs = split(7777, 9);
  Harness h;
  for (std::size_t i = 3; i < segs.size(); ++i) h.send(segs[i]);
  std::string expect;
  for (std::size_t i = 3; i < segs.size(); ++i) expect += segs[i].data;
  CHECK(h.rec.bytes == expect);
  // older bytes arriving later are retransmissions of what came before the capture started
  CHECK(h.send(segs[1]) == SegmentStatus::retransmit);
  CHECK(h.rec.bytes == expect);
  CHECK(!h.r.syn_seen());
}

TEST_CASE("a hole acknowledged by the peer becomes a capture-loss gap", "[reassembly]") {
  const auto segs = split(0, 10);
  Harness h;
  h.r.on_syn(0);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (i == 4) continue;  // dropped by the capture
    h.send(segs[i]);
  }
  // still waiting: nothing past the hole delivered
  CHECK(h.rec.bytes == kPayload.substr(0, 40));
  h.r.on_peer_ack(static_cast<std::uint32_t>(1 + kPayload.size()), PacketRef{100, 0});
  std::string expect = kPayload;
  std::fill(expect.begin() + 40, expect.begin() + 50, '#');
  CHECK(h.rec.bytes == expect);
  REQUIRE(h.rec.count('g') == 1);
  const auto& g = *std::find_if(h.rec.events.begin(), h.rec.events.end(), [](const Event& e) { return e.kind == 'g'; });
  CHECK(g.len == 10);
  CHECK(g.reason == static_cast<int>(GapReason::capture_loss));
  CHECK(g.packet == 100);
  CHECK(h.r.stats().capture_loss_bytes == 10);
}

TEST_CASE("an ACK past a hole with nothing behind it is not yet a gap (data captured after its ACK)",
          "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  h.send({1, "abc"});
  h.r.on_peer_ack(10, PacketRef{5, 0});  // the capture saw the ACK first...
  CHECK(h.rec.count('g') == 0);
  h.send({4, "defghi"});  // ...and the data right after it: nothing lost
  CHECK(h.rec.bytes == "abcdefghi");
}

TEST_CASE("tail loss: the hole becomes a gap once later bytes are acknowledged, or at the end",
          "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  h.send({1, "abc"});
  h.r.on_peer_ack(10, PacketRef{5, 0});  // bytes 4..9 never captured
  h.send({10, "xyz"});                   // waits behind the hole
  CHECK(h.rec.bytes == "abc");
  h.r.on_peer_ack(13, PacketRef{7, 0});  // acknowledges stored bytes: the hole is capture loss
  CHECK(h.rec.bytes == "abc######xyz");
  CHECK(h.r.stats().capture_loss_bytes == 6);
  Harness end;
  end.r.on_syn(0);
  end.send({1, "abc"});
  end.send({10, "xyz"});
  end.r.finish(EndReason::capture_end, PacketRef{9, 0});
  CHECK(end.rec.bytes == "abc######xyz");
  CHECK(end.r.stats().capture_loss_bytes == 0);  // never proven lost: an unfilled hole
}

TEST_CASE("an ACK of the FIN is not a gap; an ACK beyond plausibility is ignored", "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  h.send({1, "abc"}, /*fin=*/true);
  CHECK(h.rec.last().reason == static_cast<int>(EndReason::fin));
  Harness h2;
  h2.r.on_syn(0);
  h2.send({1, "abc"});
  h2.r.on_peer_ack(0x7FFFFFFF, PacketRef{7, 0});
  CHECK(h2.rec.count('g') == 0);
}

TEST_CASE("FIN out of order waits for the bytes before it", "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  h.send({4, "def"}, /*fin=*/true);
  CHECK(h.rec.count('e') == 0);
  h.send({1, "abc"});
  CHECK(h.rec.bytes == "abcdef");
  CHECK(h.rec.count('e') == 1);
  CHECK(h.rec.last().reason == static_cast<int>(EndReason::fin));
  // data after the end is counted, not delivered
  CHECK(h.send({7, "zzz"}) == SegmentStatus::after_end);
  CHECK(h.rec.bytes == "abcdef");
}

TEST_CASE("RST ends at once: buffered bytes released, holes as gaps", "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  h.send({1, "abc"});
  h.send({7, "ghi"});
  h.r.on_segment(10, {}, 0, false, true, PacketRef{9, 0});
  CHECK(h.rec.bytes == "abc###ghi");
  CHECK(h.rec.last().kind == 'e');
  CHECK(h.rec.last().reason == static_cast<int>(EndReason::rst));
  CHECK(h.r.ended());
}

TEST_CASE("finish at capture end releases the store with unfilled gaps", "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  h.send({1, "ab"});
  h.send({5, "ef"});
  h.r.finish(EndReason::capture_end, PacketRef{50, 0});
  CHECK(h.rec.bytes == "ab##ef");
  CHECK(h.rec.events[1].reason == static_cast<int>(GapReason::unfilled));
  CHECK(h.rec.last().reason == static_cast<int>(EndReason::capture_end));
}

TEST_CASE("the out-of-order store is bounded: the oldest hole is given up", "[reassembly]") {
  Harness h;
  h.limits.ooo_bytes_per_dir = 8;
  h.r.on_syn(0);
  h.send({1, "a"});
  h.send({3, "cccc"});  // hole at 2
  h.send({8, "hhhh"});  // hole at 7; store now holds 8 bytes
  CHECK(h.r.buffered_bytes() == 8);
  h.send({13, "mmmm"});  // does not fit: the hole at 2 is given up, which frees room
  CHECK(h.rec.bytes == "a#cccc");
  CHECK(h.r.stats().limit_hits == 1);
  CHECK(h.r.buffered_bytes() == 8);
  h.send({20, "tttttttt"});  // needs the whole store: both remaining holes are given up
  CHECK(h.rec.bytes == "a#cccc#hhhh#mmmm");
  CHECK(h.r.buffered_bytes() == 8);
  int limit_gaps = 0;
  for (const auto& e : h.rec.events) {
    if (e.kind == 'g' && e.reason == static_cast<int>(GapReason::buffer_limit)) ++limit_gaps;
  }
  CHECK(limit_gaps == 3);
  h.r.finish(EndReason::capture_end, PacketRef{99, 0});
  CHECK(h.rec.bytes == "a#cccc#hhhh#mmmm###tttttttt");
}

TEST_CASE("a segment absurdly far ahead is dropped, not buffered", "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  h.send({1, "a"});
  CHECK(h.send({0x70000000u, "zzz"}) == SegmentStatus::limit_hit);
  CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("snaplen-cut payload: captured bytes delivered, the rest is a snaplen gap", "[reassembly]") {
  Harness h;
  h.r.on_syn(0);
  const std::string part = "abcd";
  h.r.on_segment(1, as_bytes(part), 10, false, false, PacketRef{1, 0});
  h.send({11, "next"});
  CHECK(h.rec.bytes == "abcd######next");
  CHECK(h.r.stats().snaplen_bytes == 6);
  CHECK(h.rec.events[1].reason == static_cast<int>(GapReason::snaplen));
}

TEST_CASE("SYN carrying data and a repeated SYN", "[reassembly]") {
  Harness h;
  h.r.on_syn(41);
  h.r.on_syn(41);  // retransmitted SYN: ignored
  h.send({42, "tfo"});
  CHECK(h.rec.bytes == "tfo");
}

TEST_CASE("data captured after the FIN whose range lies before it is delivered before the end",
          "[reassembly]") {
  SECTION("FIN with data, the peer's ACK, then the late segment (issue #10 §4)") {
    Harness h;
    h.r.on_syn(0);
    h.send({1, "abc"});
    h.send({7, "ghi"}, /*fin=*/true);        // the capture sees the FIN first...
    h.r.on_peer_ack(11, PacketRef{50, 0});  // ...and the peer's ACK of everything
    CHECK(h.rec.bytes == "abc");            // the hole is not given up: the FIN is known
    CHECK(h.rec.count('e') == 0);
    CHECK(h.send({4, "def"}) == SegmentStatus::in_order);  // the late retransmission
    CHECK(h.rec.bytes == "abcdefghi");
    CHECK(h.rec.count('g') == 0);
    REQUIRE(h.rec.count('e') == 1);
    CHECK(h.rec.last().reason == static_cast<int>(EndReason::fin));
    CHECK(h.r.stats().after_end == 0);
  }
  SECTION("several segments reordered behind the FIN arrive in reverse order") {
    Harness h;
    h.r.on_syn(0);
    h.send({10, "jkl"}, /*fin=*/true);
    h.r.on_peer_ack(14, PacketRef{50, 0});
    h.send({7, "ghi"});
    h.send({4, "def"});
    CHECK(h.rec.count('d') == 0);
    h.send({1, "abc"});
    CHECK(h.rec.bytes == "abcdefghijkl");
    CHECK(h.rec.count('e') == 1);
  }
  SECTION("a hole the late data never fills: capture loss when the connection is finished") {
    Harness h;
    h.r.on_syn(0);
    h.send({1, "abc"});
    h.send({7, "ghi"}, /*fin=*/true);
    h.r.on_peer_ack(11, PacketRef{50, 0});
    h.r.finish(EndReason::capture_end, PacketRef{60, 0});
    CHECK(h.rec.bytes == "abc###ghi");
    CHECK(h.r.stats().capture_loss_bytes == 3);
    REQUIRE(h.rec.count('e') == 1);
    CHECK(h.rec.last().reason == static_cast<int>(EndReason::fin));  // the FIN was reached
  }
  SECTION("without the peer's ACK the hole is unfilled, not loss") {
    Harness h;
    h.r.on_syn(0);
    h.send({1, "abc"});
    h.send({7, "ghi"}, /*fin=*/true);
    h.r.finish(EndReason::capture_end, PacketRef{60, 0});
    CHECK(h.rec.bytes == "abc###ghi");
    CHECK(h.r.stats().capture_loss_bytes == 0);
  }
  SECTION("before the FIN is known, the ACK rule is unchanged") {
    Harness h;
    h.r.on_syn(0);
    h.send({1, "abc"});
    h.send({7, "ghi"});
    h.r.on_peer_ack(10, PacketRef{50, 0});
    CHECK(h.rec.bytes == "abc###ghi");
    CHECK(h.r.stats().capture_loss_bytes == 3);
  }
}
