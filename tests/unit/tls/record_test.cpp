// TLS record reassembly: records split at every position (one and two cuts), several records per
// piece, skipped bodies not buffered, the buffering limit, malformed headers, truncated records,
// and gaps inside skipped bodies.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tls_test_util.h"
#include "wsdiag/tls/record.h"

using namespace wsdiag;
using namespace wsdiag::tls;
using namespace wsdiag::tls::test;

namespace {

struct Rec {
  std::uint8_t type;
  std::uint16_t len;
  std::vector<std::uint8_t> body;
  std::uint64_t packet;
  bool operator==(const Rec&) const = default;
};

struct Collect : RecordHandler {
  bool want = true;
  std::vector<Rec> recs;
  bool wants_body(const RecordHeader&) override { return want; }
  void on_record(const RecordHeader& h, Bytes body, PacketRef at) override {
    recs.push_back({h.type, h.length, std::vector<std::uint8_t>(body.begin(), body.end()), at.index});
  }
};

std::vector<std::uint8_t> three_records() {
  std::vector<std::uint8_t> s;
  append(s, record(22, std::vector<std::uint8_t>(40, 0xA1)));
  append(s, record(23, std::vector<std::uint8_t>(1, 0xB2)));
  append(s, record(21, {2, 40}));
  return s;
}

std::vector<Rec> expected(std::uint64_t p1, std::uint64_t p2, std::uint64_t p3) {
  return {{22, 40, std::vector<std::uint8_t>(40, 0xA1), p1},
          {23, 1, std::vector<std::uint8_t>(1, 0xB2), p2},
          {21, 2, {2, 40}, p3}};
}

}  // namespace

TEST_CASE("records in one piece are delivered without copying, each with the piece's packet") {
  const auto s = three_records();
  RecordAssembler a(kMaxRecordBody);
  Collect c;
  REQUIRE(a.feed(s, PacketRef{7, 0}, c) == RecordAssembler::Status::ok);
  CHECK(c.recs == expected(7, 7, 7));
  CHECK(a.buffered_capacity() == 0);
  CHECK_FALSE(a.mid_record());
}

TEST_CASE("every split in two and three pieces gives the same records, attributed to the last byte's packet") {
  const auto s = three_records();
  const std::size_t end1 = 45, end2 = 51;  // offsets just past each record
  for (std::size_t i = 0; i <= s.size(); ++i) {
    for (std::size_t j = i; j <= s.size(); ++j) {
      RecordAssembler a(kMaxRecordBody);
      Collect c;
      const Bytes all(s);
      a.feed(all.subspan(0, i), PacketRef{1, 0}, c);
      a.feed(all.subspan(i, j - i), PacketRef{2, 0}, c);
      a.feed(all.subspan(j), PacketRef{3, 0}, c);
      auto pkt = [&](std::size_t end) -> std::uint64_t { return end <= i ? 1 : end <= j ? 2 : 3; };
      INFO("cuts at " << i << " and " << j);
      REQUIRE(c.recs == expected(pkt(end1), pkt(end2), pkt(s.size())));
      CHECK(a.status() == RecordAssembler::Status::ok);
    }
  }
}

TEST_CASE("bodies the handler does not want are skipped, not buffered") {
  const auto s = three_records();
  RecordAssembler a(kMaxRecordBody);
  Collect c;
  c.want = false;
  for (std::size_t i = 0; i < s.size(); ++i) a.feed(Bytes(s).subspan(i, 1), PacketRef{i + 1, 0}, c);
  REQUIRE(c.recs.size() == 3);
  CHECK(c.recs[0].body.empty());
  CHECK(c.recs[0].len == 40);
  CHECK(c.recs[0].packet == 45);
  CHECK(c.recs[2].packet == s.size());
  CHECK(a.buffered_capacity() == 0);
}

TEST_CASE("buffering is bounded: a record over the limit stops the direction with too_long") {
  RecordAssembler a(100);
  Collect c;
  const auto ok = record(23, std::vector<std::uint8_t>(100, 1));
  const auto big = record(23, std::vector<std::uint8_t>(101, 2));
  std::vector<std::uint8_t> s;
  append(s, ok);
  append(s, big);
  append(s, ok);
  CHECK(a.feed(Bytes(s).first(50), PacketRef{1, 0}, c) == RecordAssembler::Status::ok);
  CHECK(a.feed(Bytes(s).subspan(50), PacketRef{2, 0}, c) == RecordAssembler::Status::too_long);
  CHECK(a.bad_length() == 101);
  REQUIRE(c.recs.size() == 1);
  CHECK(a.buffered_capacity() <= 100);
  // sticky: nothing more is parsed
  CHECK(a.feed(ok, PacketRef{3, 0}, c) == RecordAssembler::Status::too_long);
  CHECK(c.recs.size() == 1);
}

TEST_CASE("a header that is not TLS is malformed; a length over 2^14+2048 is too long") {
  {
    RecordAssembler a(kMaxRecordBody);
    Collect c;
    const std::vector<std::uint8_t> http{'G', 'E', 'T', ' ', '/', ' ', 'H'};
    CHECK(a.feed(http, PacketRef{1, 0}, c) == RecordAssembler::Status::malformed);
    CHECK(c.recs.empty());
  }
  {
    RecordAssembler a(1u << 20);  // even with a larger limit, TLS caps the length
    Collect c;
    const std::vector<std::uint8_t> h{23, 3, 3, 0x48, 0x01};
    CHECK(a.feed(h, PacketRef{1, 0}, c) == RecordAssembler::Status::too_long);
  }
}

TEST_CASE("a truncated record is never delivered") {
  const auto r = record(23, std::vector<std::uint8_t>(300, 9));
  for (std::size_t n = 1; n < r.size(); ++n) {
    RecordAssembler a(kMaxRecordBody);
    Collect c;
    a.feed(Bytes(r).first(n), PacketRef{1, 0}, c);
    CHECK(c.recs.empty());
    CHECK(a.mid_record());
  }
}

TEST_CASE("a gap inside a skipped body keeps framing; a gap in a header or kept body stops parsing") {
  const auto s = three_records();
  {
    RecordAssembler a(kMaxRecordBody);
    Collect c;
    c.want = false;
    a.feed(Bytes(s).first(20), PacketRef{1, 0}, c);  // header + 15 body bytes of record 1
    CHECK(a.skip_gap(10, PacketRef{2, 0}, c));
    a.feed(Bytes(s).subspan(30), PacketRef{3, 0}, c);
    REQUIRE(c.recs.size() == 3);
    CHECK(c.recs[0].packet == 3);
  }
  {
    RecordAssembler a(kMaxRecordBody);
    Collect c;
    a.feed(Bytes(s).first(3), PacketRef{1, 0}, c);
    CHECK_FALSE(a.skip_gap(10, PacketRef{2, 0}, c));
    CHECK(a.stopped());
  }
}

TEST_CASE("recognising TLS: ClientHello and record headers") {
  const auto ch = record(22, handshake(1, client_hello_body(1, "a.example", {"http/1.1"})), 0x0301);
  CHECK(looks_like_client_hello(ch));
  CHECK(looks_like_records(ch));
  const std::vector<std::uint8_t> get{'G', 'E', 'T', ' ', '/'};
  CHECK_FALSE(looks_like_client_hello(get));
  CHECK_FALSE(looks_like_records(get));
  std::vector<std::uint8_t> two;
  append(two, record(23, {1, 2, 3}));
  append(two, record(23, {4}));
  CHECK(looks_like_records(two));
  two[8] = 0x99;  // the second header's type
  CHECK_FALSE(looks_like_records(two));
}
