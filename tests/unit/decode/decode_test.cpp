// Tests for the decode layer: link types, IPv4/IPv6, extension headers, fragments, TCP options,
// snaplen cuts, malformed headers, and robustness on every prefix and single-byte corruption.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "unit/decode/packet_builder.h"
#include "wsdiag/decode/decoder.h"

namespace pb = wsdiag::test::pb;
using pb::Buf;
using wsdiag::Limits;
using wsdiag::capture::PacketRecord;
using wsdiag::decode::Decoder;
using wsdiag::decode::DecodeStatus;
using wsdiag::decode::TcpSegment;
namespace tcp_flag = wsdiag::decode::tcp_flag;
namespace tcp_opt = wsdiag::decode::tcp_opt;

namespace {

constexpr int kEn10mb = 1;
constexpr int kNull = 0;
constexpr int kRaw = 12;
constexpr int kRawBsd = 14;
constexpr int kLinktypeRaw = 101;
constexpr int kLoop = 108;
constexpr int kSll = 113;
constexpr int kIpv4 = 228;
constexpr int kIpv6 = 229;
constexpr int kSll2 = 276;

PacketRecord make_rec(const Buf& b, int linktype, std::size_t caplen, std::size_t wire_len,
                      std::int64_t ts_ns = 0) {
  PacketRecord r;
  r.index = 1;
  r.ts_ns = ts_ns;
  r.caplen = static_cast<std::uint32_t>(caplen);
  r.wire_len = static_cast<std::uint32_t>(wire_len);
  r.linktype = linktype;
  r.bytes = wsdiag::Bytes(b.data(), caplen);
  return r;
}

/// Decodes a copy of `b` that stays alive until the next run(), so tests may pass temporaries
/// and still look at the payload view afterwards.
DecodeStatus run(Decoder& d, const Buf& b, int linktype, TcpSegment& out, std::int64_t ts = 0) {
  static Buf kept;
  kept = b;
  return d.decode(make_rec(kept, linktype, kept.size(), kept.size(), ts), out);
}

/// Decodes `b` itself (no copy): the payload view points into `b`.
DecodeStatus decode_in_place(Decoder& d, const Buf& b, int linktype, TcpSegment& out) {
  return d.decode(make_rec(b, linktype, b.size(), b.size()), out);
}

Buf bytes_of(wsdiag::Bytes s) { return Buf(s.begin(), s.end()); }

pb::Tcp basic_tcp(std::size_t payload_len = 10) {
  pb::Tcp t;
  t.payload = pb::pattern(payload_len, 7);
  return t;
}

Buf eth_ipv4_tcp(const pb::Tcp& t = basic_tcp(), const pb::Ip4& ip = {}) {
  return pb::ether(0x0800, pb::ipv4(ip, pb::tcp(t)));
}

/// Checks the segment built by basic_tcp() over the default Ip4 addresses.
void check_basic_v4(const TcpSegment& s, std::size_t payload_len = 10) {
  CHECK(s.src.addr.family == 4);
  CHECK(s.src.addr.bytes[0] == 10);
  CHECK(s.src.addr.bytes[3] == 1);
  CHECK(s.src.addr.bytes[4] == 0);
  CHECK(s.dst.addr.bytes[0] == 192);
  CHECK(s.dst.addr.bytes[3] == 2);
  CHECK(s.src.port == 40000);
  CHECK(s.dst.port == 80);
  CHECK(s.seq == 0x01020304u);
  CHECK(s.ack == 0xa0b0c0d0u);
  CHECK(s.flags == (tcp_flag::psh | tcp_flag::ack));
  CHECK(s.window == 0x1234);
  CHECK(bytes_of(s.payload) == pb::pattern(payload_len, 7));
  CHECK(s.payload_wire_len == payload_len);
  CHECK_FALSE(s.truncated());
}

/// One TCP segment cut into IPv4 fragments: each {offset, len, more}.
struct FragSpec {
  std::uint16_t off;
  std::uint16_t len;
  bool more;
};

Buf v4_fragment(const Buf& seg, FragSpec f, std::uint16_t id = 7, pb::V4 src = {10, 0, 0, 1}) {
  pb::Ip4 ip;
  ip.src = src;
  ip.id = id;
  ip.more_fragments = f.more;
  ip.frag_offset8 = static_cast<std::uint16_t>(f.off / 8);
  const Buf part(seg.begin() + f.off, seg.begin() + f.off + f.len);
  return pb::ether(0x0800, pb::ipv4(ip, part));
}

Buf v6_fragment(const Buf& part_source, FragSpec f, std::uint32_t id, std::uint8_t next = 6) {
  const Buf part(part_source.begin() + f.off, part_source.begin() + f.off + f.len);
  return pb::ether(0x86dd, pb::ipv6(44, pb::cat(pb::frag6(next, f.off, f.more, id), part)));
}

Buf frag_segment() { return pb::tcp(basic_tcp(100)); }  // 120 bytes

}  // namespace

TEST_CASE("decode: Ethernet IPv4 TCP with payload", "[decode]") {
  Decoder d;
  TcpSegment s;
  const Buf pkt = eth_ipv4_tcp();
  REQUIRE(d.decode(make_rec(pkt, kEn10mb, pkt.size(), pkt.size()), s) == DecodeStatus::tcp);
  check_basic_v4(s);
  CHECK_FALSE(s.from_fragments);
  CHECK_FALSE(s.ip_length_exceeds_frame);
  CHECK(s.payload.data() == pkt.data() + 14 + 20 + 20);  // a view, not a copy
  CHECK(d.stats().packets == 1);
  CHECK(d.stats().tcp == 1);
  CHECK(d.stats().payload_truncated == 0);
}

TEST_CASE("decode: Ethernet padding beyond the IP total length is ignored", "[decode]") {
  Decoder d;
  TcpSegment s;
  Buf pkt = eth_ipv4_tcp(basic_tcp(0));
  REQUIRE(pkt.size() == 54);
  pkt.resize(60, 0xee);  // minimum frame size padding
  REQUIRE(run(d, pkt, kEn10mb, s) == DecodeStatus::tcp);
  CHECK(s.payload.empty());
  CHECK(s.payload_wire_len == 0);

  Buf pkt2 = eth_ipv4_tcp(basic_tcp(2));
  pkt2.resize(60, 0xee);
  REQUIRE(run(d, pkt2, kEn10mb, s) == DecodeStatus::tcp);
  CHECK(bytes_of(s.payload) == pb::pattern(2, 7));
  CHECK(s.payload_wire_len == 2);
}

TEST_CASE("decode: VLAN tags (802.1Q, QinQ 802.1ad, 0x9100)", "[decode]") {
  Decoder d;
  TcpSegment s;
  const Buf l3 = pb::ipv4({}, pb::tcp(basic_tcp()));
  SECTION("one 802.1Q tag") {
    REQUIRE(run(d, pb::ether(0x0800, l3, {{0x8100, 0x0064}}), kEn10mb, s) == DecodeStatus::tcp);
    check_basic_v4(s);
  }
  SECTION("QinQ: 802.1ad outer, 802.1Q inner") {
    REQUIRE(run(d, pb::ether(0x0800, l3, {{0x88a8, 0x000a}, {0x8100, 0x0064}}), kEn10mb, s) ==
            DecodeStatus::tcp);
    check_basic_v4(s);
  }
  SECTION("old QinQ 0x9100 and three tags") {
    REQUIRE(run(d, pb::ether(0x0800, l3, {{0x9100, 1}, {0x88a8, 2}, {0x8100, 3}}), kEn10mb, s) ==
            DecodeStatus::tcp);
    check_basic_v4(s);
  }
  SECTION("tag cut by the snaplen") {
    const Buf pkt = pb::ether(0x0800, l3, {{0x8100, 0x0064}});
    CHECK(d.decode(make_rec(pkt, kEn10mb, 15, pkt.size()), s) == DecodeStatus::truncated);
  }
}

TEST_CASE("decode: Linux cooked SLL and SLL2", "[decode]") {
  Decoder d;
  TcpSegment s;
  const Buf l3 = pb::ipv4({}, pb::tcp(basic_tcp()));
  REQUIRE(run(d, pb::sll(0x0800, l3), kSll, s) == DecodeStatus::tcp);
  check_basic_v4(s);
  REQUIRE(run(d, pb::sll2(0x0800, l3), kSll2, s) == DecodeStatus::tcp);
  check_basic_v4(s);
  const Buf l3v6 = pb::ipv6(6, pb::tcp(basic_tcp()));
  REQUIRE(run(d, pb::sll(0x86dd, l3v6), kSll, s) == DecodeStatus::tcp);
  CHECK(s.src.addr.family == 6);
  REQUIRE(run(d, pb::sll2(0x86dd, l3v6), kSll2, s) == DecodeStatus::tcp);
  CHECK(s.dst.addr.family == 6);
  // The protocol field is where each format puts it: ARP is not IP in either.
  CHECK(run(d, pb::sll(0x0806, Buf(28, 0)), kSll, s) == DecodeStatus::not_ip);
  CHECK(run(d, pb::sll2(0x0806, Buf(28, 0)), kSll2, s) == DecodeStatus::not_ip);
  // Netlink captures carry netlink messages whatever the protocol field says.
  CHECK(run(d, pb::sll(0x0800, l3, 824), kSll, s) == DecodeStatus::not_ip);
}

TEST_CASE("decode: NULL and LOOP address families in either byte order", "[decode]") {
  Decoder d;
  TcpSegment s;
  const Buf v4 = pb::ipv4({}, pb::tcp(basic_tcp()));
  const Buf v6 = pb::ipv6(6, pb::tcp(basic_tcp()));
  REQUIRE(run(d, pb::null_hdr(2, true, v4), kNull, s) == DecodeStatus::tcp);
  check_basic_v4(s);
  REQUIRE(run(d, pb::null_hdr(2, false, v4), kNull, s) == DecodeStatus::tcp);
  check_basic_v4(s);
  for (std::uint32_t af6 : {10u, 24u, 28u, 30u}) {
    CAPTURE(af6);
    REQUIRE(run(d, pb::null_hdr(af6, true, v6), kNull, s) == DecodeStatus::tcp);
    CHECK(s.src.addr.family == 6);
    REQUIRE(run(d, pb::null_hdr(af6, false, v6), kNull, s) == DecodeStatus::tcp);
  }
  REQUIRE(run(d, pb::null_hdr(2, false, v4), kLoop, s) == DecodeStatus::tcp);
  check_basic_v4(s);
  REQUIRE(run(d, pb::null_hdr(30, false, v6), kLoop, s) == DecodeStatus::tcp);
  CHECK(run(d, pb::null_hdr(7, true, v4), kNull, s) == DecodeStatus::not_ip);
  CHECK(run(d, Buf{2, 0}, kNull, s) == DecodeStatus::malformed);
}

TEST_CASE("decode: raw IP link types", "[decode]") {
  Decoder d;
  TcpSegment s;
  const Buf v4 = pb::ipv4({}, pb::tcp(basic_tcp()));
  const Buf v6 = pb::ipv6(6, pb::tcp(basic_tcp()));
  for (int lt : {kRaw, kRawBsd, kLinktypeRaw}) {
    CAPTURE(lt);
    REQUIRE(run(d, v4, lt, s) == DecodeStatus::tcp);
    check_basic_v4(s);
    REQUIRE(run(d, v6, lt, s) == DecodeStatus::tcp);
    CHECK(s.src.addr.family == 6);
    CHECK(s.src.addr.bytes == pb::v6addr(1));
    CHECK(s.dst.addr.bytes == pb::v6addr(2));
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
    Buf bad = v4;
    bad[0] = 0x55;  // version 5
    CHECK(run(d, bad, lt, s) == DecodeStatus::malformed);
  }
  REQUIRE(run(d, v4, kIpv4, s) == DecodeStatus::tcp);
  check_basic_v4(s);
  REQUIRE(run(d, v6, kIpv6, s) == DecodeStatus::tcp);
  CHECK(s.dst.addr.family == 6);
  CHECK(run(d, v6, kIpv4, s) == DecodeStatus::malformed);
  CHECK(run(d, v4, kIpv6, s) == DecodeStatus::malformed);
}

TEST_CASE("decode: IPv4 options are skipped", "[decode]") {
  Decoder d;
  TcpSegment s;
  pb::Ip4 ip;
  ip.options = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};  // router alert, NOPs, EOL
  REQUIRE(run(d, eth_ipv4_tcp(basic_tcp(), ip), kEn10mb, s) == DecodeStatus::tcp);
  check_basic_v4(s);
}

TEST_CASE("decode: IPv6 extension headers", "[decode]") {
  Decoder d;
  TcpSegment s;
  const Buf seg = pb::tcp(basic_tcp());
  SECTION("hop-by-hop + destination options") {
    const Buf rest = pb::cat(pb::ext(60, {0x01, 0x02, 0x00, 0x00}), pb::ext(6, Buf(10, 0)));
    REQUIRE(run(d, pb::ether(0x86dd, pb::ipv6(0, pb::cat(rest, seg))), kEn10mb, s) ==
            DecodeStatus::tcp);
    CHECK(s.src.port == 40000);
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
    CHECK(s.payload_wire_len == 10);
  }
  SECTION("routing header and AH") {
    Buf ah = {6, 4, 0, 0};  // next TCP, len (4+2)*4 = 24 bytes
    ah.resize(24, 0xaa);
    const Buf rest = pb::cat(pb::ext(51, Buf(14, 0)), ah);
    REQUIRE(run(d, pb::ether(0x86dd, pb::ipv6(43, pb::cat(rest, seg))), kEn10mb, s) ==
            DecodeStatus::tcp);
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
  }
  SECTION("ESP and No Next Header are not TCP") {
    CHECK(run(d, pb::ether(0x86dd, pb::ipv6(50, Buf(32, 1))), kEn10mb, s) == DecodeStatus::not_tcp);
    CHECK(run(d, pb::ether(0x86dd, pb::ipv6(0, pb::ext(59))), kEn10mb, s) == DecodeStatus::not_tcp);
    CHECK(d.stats().not_tcp == 2);
  }
  SECTION("extension header longer than the payload length") {
    Buf rest = pb::ext(6, Buf(14, 0));
    rest[1] = 10;  // claims 88 bytes
    CHECK(run(d, pb::ether(0x86dd, pb::ipv6(60, pb::cat(rest, seg))), kEn10mb, s) ==
          DecodeStatus::malformed);
  }
  SECTION("endless chain of headers stops") {
    Buf rest;
    for (int i = 0; i < 40; ++i) pb::append(rest, pb::ext(60));
    CHECK(run(d, pb::ether(0x86dd, pb::ipv6(60, rest)), kEn10mb, s) == DecodeStatus::malformed);
  }
  SECTION("jumbo / zero payload length") {
    CHECK(run(d,
              pb::ether(0x86dd,
                        pb::ipv6(0, pb::cat(pb::ext(6), seg), pb::v6addr(1), pb::v6addr(2), 0)),
              kEn10mb, s) == DecodeStatus::malformed);
  }
  SECTION("atomic fragment header passes through") {
    REQUIRE(run(d, pb::ether(0x86dd, pb::ipv6(44, pb::cat(pb::frag6(6, 0, false, 9), seg))),
                kEn10mb, s) == DecodeStatus::tcp);
    CHECK_FALSE(s.from_fragments);
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
  }
}

TEST_CASE("decode: IPv4 fragments", "[decode]") {
  const Buf seg = frag_segment();
  REQUIRE(seg.size() == 120);
  const Buf f0 = v4_fragment(seg, {0, 48, true});
  const Buf f1 = v4_fragment(seg, {48, 48, true});
  const Buf f2 = v4_fragment(seg, {96, 24, false});
  Decoder d;
  TcpSegment s;

  auto expect_complete = [&](DecodeStatus st) {
    REQUIRE(st == DecodeStatus::tcp);
    CHECK(s.from_fragments);
    check_basic_v4(s, 100);
    CHECK(d.stats().fragments_reassembled == 1);
  };

  SECTION("in order") {
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, f1, kEn10mb, s) == DecodeStatus::fragment_pending);
    expect_complete(run(d, f2, kEn10mb, s));
    CHECK(d.stats().fragments == 3);
    CHECK(d.stats().fragments_dropped == 0);
    // The reassembled payload lives in the decoder, not in the last packet.
    CHECK((s.payload.data() < f2.data() || s.payload.data() >= f2.data() + f2.size()));
  }
  SECTION("out of order") {
    CHECK(run(d, f2, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_pending);
    expect_complete(run(d, f1, kEn10mb, s));
  }
  SECTION("duplicated") {
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, f2, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, f2, kEn10mb, s) == DecodeStatus::fragment_pending);
    expect_complete(run(d, f1, kEn10mb, s));
  }
  SECTION("overlapping with the same bytes is accepted") {
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {40, 56, true}), kEn10mb, s) == DecodeStatus::fragment_pending);
    expect_complete(run(d, f2, kEn10mb, s));
  }
  SECTION("overlapping and inconsistent drops the datagram") {
    Buf other = seg;
    other[44] ^= 0xff;
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(other, {40, 56, true}), kEn10mb, s) == DecodeStatus::fragment_dropped);
    CHECK(run(d, f2, kEn10mb, s) == DecodeStatus::fragment_dropped);
    CHECK(d.stats().fragments_dropped == 2);
    CHECK(d.stats().fragments_reassembled == 0);
  }
  SECTION("two different totals drop the datagram") {
    CHECK(run(d, f2, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {48, 40, false}), kEn10mb, s) == DecodeStatus::fragment_dropped);
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_dropped);
  }
  SECTION("non-last fragment not a multiple of 8 is dropped") {
    CHECK(run(d, v4_fragment(seg, {0, 44, true}), kEn10mb, s) == DecodeStatus::fragment_dropped);
  }
  SECTION("fragment past 65535 is dropped") {
    pb::Ip4 ip;
    ip.frag_offset8 = 8191;
    CHECK(run(d, pb::ether(0x0800, pb::ipv4(ip, Buf(16, 1))), kEn10mb, s) ==
          DecodeStatus::fragment_dropped);
  }
  SECTION("different ids and sources are different datagrams") {
    CHECK(run(d, f0, kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {48, 48, true}, 8), kEn10mb, s) ==
          DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {48, 48, true}, 7, {10, 0, 0, 9}), kEn10mb, s) ==
          DecodeStatus::fragment_pending);
    CHECK(run(d, f2, kEn10mb, s) == DecodeStatus::fragment_pending);
    expect_complete(run(d, f1, kEn10mb, s));
  }
  SECTION("fragments of UDP are not kept") {
    pb::Ip4 ip;
    ip.proto = 17;
    ip.more_fragments = true;
    CHECK(run(d, pb::ether(0x0800, pb::ipv4(ip, Buf(16, 1))), kEn10mb, s) == DecodeStatus::not_tcp);
    CHECK(d.stats().fragments == 1);
  }
  SECTION("a fragment cut by the snaplen cannot be used") {
    CHECK(d.decode(make_rec(f0, kEn10mb, f0.size() - 4, f0.size()), s) ==
          DecodeStatus::fragment_dropped);
    CHECK(d.stats().fragments_dropped == 1);
  }
}

TEST_CASE("decode: IPv4 fragment limits", "[decode]") {
  const Buf seg = frag_segment();
  TcpSegment s;
  SECTION("datagram count: the oldest is evicted") {
    Limits lim;
    lim.ip_frag_datagrams = 2;
    Decoder d(lim);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}, 1), kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}, 2), kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}, 3), kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(d.stats().fragments_evicted == 1);
    REQUIRE(run(d, v4_fragment(seg, {64, 56, false}, 3), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(bytes_of(s.payload) == pb::pattern(100, 7));
    // Datagram 1 lost its first fragment to eviction.
    CHECK(run(d, v4_fragment(seg, {64, 56, false}, 1), kEn10mb, s) ==
          DecodeStatus::fragment_pending);
  }
  SECTION("bytes: a datagram that cannot fit is dropped") {
    Limits lim;
    lim.ip_frag_bytes = 100;
    Decoder d(lim);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}), kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {64, 56, false}), kEn10mb, s) == DecodeStatus::fragment_dropped);
    CHECK(d.stats().fragments_dropped == 1);
    CHECK(d.stats().fragments_reassembled == 0);
  }
  SECTION("bytes: older datagrams make room") {
    Limits lim;
    lim.ip_frag_bytes = 200;
    Decoder d(lim);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}, 1), kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}, 2), kEn10mb, s) == DecodeStatus::fragment_pending);
    REQUIRE(run(d, v4_fragment(seg, {64, 56, false}, 2), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(d.stats().fragments_evicted == 1);
    CHECK(run(d, v4_fragment(seg, {64, 56, false}, 1), kEn10mb, s) ==
          DecodeStatus::fragment_pending);
  }
  SECTION("timeout") {
    Limits lim;
    lim.ip_frag_timeout_ns = 1000;
    Decoder d(lim);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}), kEn10mb, s, 0) == DecodeStatus::fragment_pending);
    CHECK(run(d, v4_fragment(seg, {64, 56, false}), kEn10mb, s, 5000) ==
          DecodeStatus::fragment_pending);
    CHECK(d.stats().fragments_evicted == 1);
    // Within the timeout it completes.
    REQUIRE(run(d, v4_fragment(seg, {0, 64, true}), kEn10mb, s, 5500) == DecodeStatus::tcp);
    CHECK(bytes_of(s.payload) == pb::pattern(100, 7));
  }
  SECTION("no datagrams allowed") {
    Limits lim;
    lim.ip_frag_datagrams = 0;
    Decoder d(lim);
    CHECK(run(d, v4_fragment(seg, {0, 64, true}), kEn10mb, s) == DecodeStatus::fragment_dropped);
  }
}

TEST_CASE("decode: IPv6 fragments", "[decode]") {
  const Buf seg = frag_segment();
  Decoder d;
  TcpSegment s;
  SECTION("in and out of order, interleaved with another identification") {
    CHECK(run(d, v6_fragment(seg, {64, 56, false}, 1), kEn10mb, s) ==
          DecodeStatus::fragment_pending);
    CHECK(run(d, v6_fragment(seg, {0, 64, true}, 2), kEn10mb, s) == DecodeStatus::fragment_pending);
    REQUIRE(run(d, v6_fragment(seg, {0, 64, true}, 1), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.from_fragments);
    CHECK(s.src.addr.family == 6);
    CHECK(s.src.addr.bytes == pb::v6addr(1));
    CHECK(bytes_of(s.payload) == pb::pattern(100, 7));
    REQUIRE(run(d, v6_fragment(seg, {64, 56, false}, 2), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(bytes_of(s.payload) == pb::pattern(100, 7));
    CHECK(d.stats().fragments_reassembled == 2);
  }
  SECTION("destination options inside the fragmentable part") {
    const Buf part = pb::cat(pb::ext(6, Buf(6, 0)), seg);  // 128 bytes
    CHECK(run(d, v6_fragment(part, {0, 64, true}, 5, 60), kEn10mb, s) ==
          DecodeStatus::fragment_pending);
    REQUIRE(run(d, v6_fragment(part, {64, 64, false}, 5, 60), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(bytes_of(s.payload) == pb::pattern(100, 7));
  }
  SECTION("overlapping and inconsistent") {
    Buf other = seg;
    other[60] ^= 1;
    CHECK(run(d, v6_fragment(seg, {0, 64, true}, 3), kEn10mb, s) == DecodeStatus::fragment_pending);
    CHECK(run(d, v6_fragment(other, {56, 64, false}, 3), kEn10mb, s) ==
          DecodeStatus::fragment_dropped);
  }
  SECTION("fragments of UDP are not kept") {
    CHECK(run(d, v6_fragment(seg, {0, 64, true}, 4, 17), kEn10mb, s) == DecodeStatus::not_tcp);
  }
}

TEST_CASE("decode: IP TTL / hop limit, IPv4 IP ID and the TCP options present reach the segment", "[decode]") {
  Decoder d;
  TcpSegment s;
  pb::Ip4 ip;
  ip.ttl = 63;
  ip.id = 0xb9f0;
  pb::Tcp t = basic_tcp();
  t.options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};  // NOP NOP timestamps
  REQUIRE(run(d, eth_ipv4_tcp(t, ip), kEn10mb, s) == DecodeStatus::tcp);
  CHECK(s.ip_version == 4);
  CHECK(s.ttl == 63);
  CHECK(s.ip_id == 0xb9f0);
  CHECK(s.options == tcp_opt::timestamp);
  REQUIRE(run(d, pb::ether(0x86dd, pb::ipv6(6, pb::tcp(basic_tcp()))), kEn10mb, s) == DecodeStatus::tcp);
  CHECK(s.ip_version == 6);
  CHECK(s.ttl == 64);  // the builder's hop limit
  CHECK(s.ip_id == 0);
  CHECK(s.options == 0);
}

TEST_CASE("decode: TCP options", "[decode]") {
  Decoder d;
  TcpSegment s;
  SECTION("MSS, SACK-permitted, timestamps, NOP, window scale") {
    pb::Tcp t = basic_tcp();
    t.flags = tcp_flag::syn;
    t.options = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    REQUIRE(run(d, eth_ipv4_tcp(t), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.mss == 1460);
    CHECK(s.sack_permitted);
    CHECK(s.wscale == 7);
    CHECK(s.has(tcp_flag::syn));
    CHECK_FALSE(s.has(tcp_flag::ack));
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
  }
  SECTION("absent options") {
    REQUIRE(run(d, eth_ipv4_tcp(), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.mss == 0);
    CHECK(s.wscale == -1);
    CHECK_FALSE(s.sack_permitted);
  }
  SECTION("window scale above 14 is used as 14") {
    pb::Tcp t = basic_tcp();
    t.options = {3, 3, 200};
    REQUIRE(run(d, eth_ipv4_tcp(t), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.wscale == 14);
  }
  SECTION("bad option length stops option parsing, keeps the segment") {
    pb::Tcp t = basic_tcp();
    t.options = {2, 4, 0x05, 0xb4, 3, 1, 7, 0, 4, 2, 0, 0};  // wscale with length 1
    REQUIRE(run(d, eth_ipv4_tcp(t), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.mss == 1460);
    CHECK(s.wscale == -1);
    CHECK_FALSE(s.sack_permitted);
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
  }
  SECTION("option running past the header end") {
    pb::Tcp t = basic_tcp();
    t.options = {1, 1, 2, 8};  // MSS claiming 8 bytes, 2 left
    REQUIRE(run(d, eth_ipv4_tcp(t), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.mss == 0);
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
  }
  SECTION("EOL ends the list") {
    pb::Tcp t = basic_tcp();
    t.options = {0, 0, 0, 0, 2, 4, 0x05, 0xb4};
    REQUIRE(run(d, eth_ipv4_tcp(t), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.mss == 0);
  }
}

TEST_CASE("decode: snaplen cuts", "[decode]") {
  Decoder d;
  TcpSegment s;
  const Buf pkt = eth_ipv4_tcp(basic_tcp(100));
  SECTION("payload cut: captured bytes and wire length") {
    REQUIRE(d.decode(make_rec(pkt, kEn10mb, 64, pkt.size()), s) == DecodeStatus::tcp);
    CHECK(s.payload.size() == 10);
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
    CHECK(s.payload_wire_len == 100);
    CHECK(s.truncated());
    CHECK(d.stats().payload_truncated == 1);
    CHECK(d.stats().tcp == 1);
  }
  SECTION("TCP header cut") {
    CHECK(d.decode(make_rec(pkt, kEn10mb, 14 + 20 + 10, pkt.size()), s) == DecodeStatus::truncated);
    CHECK(d.stats().truncated == 1);
  }
  SECTION("TCP options cut") {
    pb::Tcp t = basic_tcp();
    t.options = {2, 4, 5, 0xb4};
    const Buf p = eth_ipv4_tcp(t);
    CHECK(d.decode(make_rec(p, kEn10mb, 14 + 20 + 22, p.size()), s) == DecodeStatus::truncated);
  }
  SECTION("Ethernet header cut vs runt frame") {
    CHECK(d.decode(make_rec(pkt, kEn10mb, 10, pkt.size()), s) == DecodeStatus::truncated);
    CHECK(d.decode(make_rec(pkt, kEn10mb, 10, 10), s) == DecodeStatus::malformed);
  }
}

TEST_CASE("decode: IP length fields against the frame", "[decode]") {
  Decoder d;
  TcpSegment s;
  SECTION("total length beyond the frame, not snaplen-cut") {
    pb::Ip4 ip;
    ip.total_length = 20 + 20 + 50;
    REQUIRE(run(d, eth_ipv4_tcp(basic_tcp(10), ip), kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.ip_length_exceeds_frame);
    CHECK(bytes_of(s.payload) == pb::pattern(10, 7));
    CHECK(s.payload_wire_len == 10);
    CHECK(d.stats().ip_length_exceeds_frame == 1);
    CHECK(d.stats().payload_truncated == 0);
  }
  SECTION("IPv6 payload length beyond the frame") {
    const Buf pkt =
        pb::ether(0x86dd, pb::ipv6(6, pb::tcp(basic_tcp()), pb::v6addr(1), pb::v6addr(2), 100));
    REQUIRE(run(d, pkt, kEn10mb, s) == DecodeStatus::tcp);
    CHECK(s.ip_length_exceeds_frame);
    CHECK(s.payload_wire_len == 10);
  }
  SECTION("total length 0 (segmentation offload) uses the frame") {
    pb::Ip4 ip;
    ip.total_length = 0;
    REQUIRE(run(d, eth_ipv4_tcp(basic_tcp(), ip), kEn10mb, s) == DecodeStatus::tcp);
    check_basic_v4(s);
    CHECK(d.stats().ip_total_length_zero == 1);
  }
}

TEST_CASE("decode: malformed headers", "[decode]") {
  Decoder d;
  TcpSegment s;
  SECTION("IHL < 5") {
    pb::Ip4 ip;
    ip.ihl = 4;
    CHECK(run(d, eth_ipv4_tcp(basic_tcp(), ip), kEn10mb, s) == DecodeStatus::malformed);
  }
  SECTION("total length < IHL") {
    pb::Ip4 ip;
    ip.total_length = 10;
    CHECK(run(d, eth_ipv4_tcp(basic_tcp(), ip), kEn10mb, s) == DecodeStatus::malformed);
  }
  SECTION("IHL beyond the frame") {
    pb::Ip4 ip;
    ip.ihl = 15;
    CHECK(run(d, pb::ether(0x0800, pb::ipv4(ip, Buf(20, 0))), kEn10mb, s) ==
          DecodeStatus::malformed);
  }
  SECTION("IP version mismatch with the ethertype") {
    pb::Ip4 ip;
    ip.version = 6;
    CHECK(run(d, eth_ipv4_tcp(basic_tcp(), ip), kEn10mb, s) == DecodeStatus::malformed);
  }
  SECTION("TCP data offset < 5") {
    pb::Tcp t = basic_tcp();
    t.data_offset = 4;
    CHECK(run(d, eth_ipv4_tcp(t), kEn10mb, s) == DecodeStatus::malformed);
  }
  SECTION("TCP data offset beyond the IP length") {
    pb::Tcp t = basic_tcp(4);
    t.data_offset = 15;
    CHECK(run(d, eth_ipv4_tcp(t), kEn10mb, s) == DecodeStatus::malformed);
  }
  SECTION("IP length too short for a TCP header") {
    pb::Ip4 ip;
    ip.total_length = 30;
    CHECK(run(d, eth_ipv4_tcp(basic_tcp(), ip), kEn10mb, s) == DecodeStatus::malformed);
  }
  CHECK(d.stats().malformed == 1);
  CHECK(d.stats().tcp == 0);
}

TEST_CASE("decode: non-IP, non-TCP and unsupported links", "[decode]") {
  Decoder d;
  TcpSegment s;
  CHECK(run(d, pb::ether(0x0806, Buf(28, 0)), kEn10mb, s) == DecodeStatus::not_ip);
  CHECK(run(d, pb::ether(0x0806, Buf(28, 0), {{0x8100, 5}}), kEn10mb, s) == DecodeStatus::not_ip);
  CHECK(run(d, pb::ether(0x0026, Buf(38, 0)), kEn10mb, s) == DecodeStatus::not_ip);  // 802.3
  pb::Ip4 udp;
  udp.proto = 17;
  CHECK(run(d, pb::ether(0x0800, pb::ipv4(udp, Buf(16, 0))), kEn10mb, s) == DecodeStatus::not_tcp);
  CHECK(run(d, pb::ether(0x86dd, pb::ipv6(58, Buf(16, 0))), kEn10mb, s) == DecodeStatus::not_tcp);
  CHECK(run(d, eth_ipv4_tcp(), 9, s) == DecodeStatus::unsupported_link);  // PPP
  CHECK(run(d, eth_ipv4_tcp(), 127, s) == DecodeStatus::unsupported_link);
  CHECK(d.stats().packets == 7);
  CHECK(d.stats().not_ip == 3);
  CHECK(d.stats().not_tcp == 2);
  CHECK(d.stats().unsupported_link == 2);
  CHECK(d.stats().tcp == 0);

  for (int lt : {0, 1, 12, 14, 101, 108, 113, 228, 229, 276}) {
    CAPTURE(lt);
    CHECK(wsdiag::decode::link_type_supported(lt));
  }
  for (int lt : {-1, 9, 105, 127, 147, 275, 1000}) {
    CAPTURE(lt);
    CHECK_FALSE(wsdiag::decode::link_type_supported(lt));
  }
}

TEST_CASE("decode: to_string names", "[decode]") {
  using wsdiag::decode::to_string;
  CHECK(std::string(to_string(DecodeStatus::tcp)) == "tcp");
  CHECK(std::string(to_string(DecodeStatus::not_ip)) == "not-ip");
  CHECK(std::string(to_string(DecodeStatus::not_tcp)) == "not-tcp");
  CHECK(std::string(to_string(DecodeStatus::fragment_pending)) == "fragment-pending");
  CHECK(std::string(to_string(DecodeStatus::fragment_dropped)) == "fragment-dropped");
  CHECK(std::string(to_string(DecodeStatus::truncated)) == "truncated");
  CHECK(std::string(to_string(DecodeStatus::malformed)) == "malformed");
  CHECK(std::string(to_string(DecodeStatus::unsupported_link)) == "unsupported-link");
}

// ---------------------------------------------------------------------------------------------
// Robustness: every prefix and single-byte corruptions of every valid packet.

namespace {

struct Sample {
  std::string name;
  Buf bytes;
  int linktype;
};

std::vector<Sample> corpus() {
  const Buf seg = pb::tcp(basic_tcp());
  pb::Tcp opt = basic_tcp();
  opt.options = {2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
  const Buf seg_opt = pb::tcp(opt);
  pb::Ip4 ipopt;
  ipopt.options = {0x94, 0x04, 0, 0};
  const Buf v4 = pb::ipv4({}, seg);
  const Buf v6 = pb::ipv6(6, seg);
  const Buf v6ext =
      pb::ipv6(0, pb::cat(pb::cat(pb::ext(60, {1, 2}), pb::ext(6, Buf(6, 0))), seg_opt));
  Buf padded = pb::ether(0x0800, pb::ipv4({}, pb::tcp(basic_tcp(0))));
  padded.resize(60, 0);
  pb::Ip4 udp;
  udp.proto = 17;
  return {
      {"eth-v4", pb::ether(0x0800, v4), kEn10mb},
      {"eth-v4-opts", pb::ether(0x0800, pb::ipv4(ipopt, seg_opt)), kEn10mb},
      {"eth-padded", padded, kEn10mb},
      {"eth-qinq", pb::ether(0x0800, v4, {{0x88a8, 1}, {0x8100, 2}}), kEn10mb},
      {"eth-v6-ext", pb::ether(0x86dd, v6ext), kEn10mb},
      {"sll", pb::sll(0x0800, v4), kSll},
      {"sll2", pb::sll2(0x86dd, v6), kSll2},
      {"null-le", pb::null_hdr(2, true, v4), kNull},
      {"loop", pb::null_hdr(30, false, v6), kLoop},
      {"raw-v4", v4, kRaw},
      {"raw-v6", v6ext, kRaw},
      {"ipv4", v4, kIpv4},
      {"ipv6", v6, kIpv6},
      {"arp", pb::ether(0x0806, Buf(28, 0)), kEn10mb},
      {"udp", pb::ether(0x0800, pb::ipv4(udp, Buf(16, 0))), kEn10mb},
  };
}

/// Fragment sets: decoded in order, they complete a datagram.
std::vector<std::vector<Buf>> fragment_sets() {
  const Buf seg = frag_segment();
  const Buf part6 = pb::cat(pb::ext(6, Buf(6, 0)), seg);
  return {
      {v4_fragment(seg, {0, 48, true}), v4_fragment(seg, {96, 24, false}),
       v4_fragment(seg, {48, 48, true})},
      {v6_fragment(seg, {0, 64, true}, 1), v6_fragment(seg, {64, 56, false}, 1)},
      {v6_fragment(part6, {64, 64, false}, 2, 60), v6_fragment(part6, {0, 64, true}, 2, 60)},
  };
}

/// Invariants that hold for any decode result.
void check_invariants(DecodeStatus st, const TcpSegment& s, const Buf& buf) {
  if (st != DecodeStatus::tcp) return;
  REQUIRE(s.payload.size() <= s.payload_wire_len);
  if (!s.from_fragments && !s.payload.empty()) {
    REQUIRE(s.payload.data() >= buf.data());
    REQUIRE(s.payload.data() + s.payload.size() <= buf.data() + buf.size());
  }
}

}  // namespace

TEST_CASE("decode: every prefix of every valid packet", "[decode]") {
  for (const Sample& sample : corpus()) {
    CAPTURE(sample.name);
    Decoder full_decoder;
    TcpSegment full;
    const DecodeStatus full_st = decode_in_place(full_decoder, sample.bytes, sample.linktype, full);
    CHECK(full_st != DecodeStatus::malformed);
    CHECK(full_st != DecodeStatus::truncated);
    Decoder d;
    for (std::size_t n = 0; n <= sample.bytes.size(); ++n) {
      CAPTURE(n);
      const Buf prefix(sample.bytes.begin(), sample.bytes.begin() + static_cast<std::ptrdiff_t>(n));
      TcpSegment s;
      const DecodeStatus st =
          d.decode(make_rec(prefix, sample.linktype, n, sample.bytes.size()), s);
      check_invariants(st, s, prefix);
      if (n == sample.bytes.size()) {
        CHECK(st == full_st);
      } else {
        // The wire length says the bytes existed: a prefix is cut, never malformed.
        CHECK(st != DecodeStatus::malformed);
        if (st == DecodeStatus::tcp) {
          CHECK(s.payload_wire_len == full.payload_wire_len);
        }
      }
    }
  }
}

TEST_CASE("decode: single-byte corruptions never break bounds", "[decode]") {
  const std::uint8_t values[] = {0x00, 0xff, 0x01, 0x80, 0x45, 0x60, 0x06, 0x2c};
  for (const Sample& sample : corpus()) {
    CAPTURE(sample.name);
    Decoder d;
    for (std::size_t i = 0; i < sample.bytes.size(); ++i) {
      for (std::uint8_t v : values) {
        Buf bad = sample.bytes;
        bad[i] = v;
        TcpSegment s;
        const DecodeStatus st = decode_in_place(d, bad, sample.linktype, s);
        check_invariants(st, s, bad);
        // Also cut at the corrupted byte.
        const Buf cut(bad.begin(), bad.begin() + static_cast<std::ptrdiff_t>(i));
        check_invariants(d.decode(make_rec(cut, sample.linktype, i, bad.size()), s), s, cut);
      }
    }
    CHECK(d.stats().packets == sample.bytes.size() * std::size(values) * 2);
  }
}

TEST_CASE("decode: fragment sets under prefixes and corruptions", "[decode]") {
  for (const auto& set : fragment_sets()) {
    {
      Decoder d;
      TcpSegment s;
      DecodeStatus last = DecodeStatus::not_ip;
      for (const Buf& f : set) last = decode_in_place(d, f, kEn10mb, s);
      REQUIRE(last == DecodeStatus::tcp);
      CHECK(bytes_of(s.payload) == pb::pattern(100, 7));
    }
    for (std::size_t k = 0; k < set.size(); ++k) {
      for (std::size_t i = 0; i < set[k].size(); ++i) {
        for (std::uint8_t v : {std::uint8_t{0x00}, std::uint8_t{0xff}, std::uint8_t{0x2c}}) {
          Decoder d;
          TcpSegment s;
          for (std::size_t j = 0; j < set.size(); ++j) {
            Buf pkt = set[j];
            if (j == k) pkt[i] = v;
            check_invariants(decode_in_place(d, pkt, kEn10mb, s), s, pkt);
          }
        }
        Decoder d;
        TcpSegment s;
        for (std::size_t j = 0; j < set.size(); ++j) {
          const Buf pkt = j == k
                              ? Buf(set[j].begin(), set[j].begin() + static_cast<std::ptrdiff_t>(i))
                              : set[j];
          check_invariants(d.decode(make_rec(pkt, kEn10mb, pkt.size(), set[j].size()), s), s, pkt);
        }
      }
    }
  }
}

TEST_CASE("decode: pseudo-random mutations", "[decode]") {
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const auto samples = corpus();
  Limits lim;
  lim.ip_frag_datagrams = 4;
  lim.ip_frag_bytes = 4096;
  Decoder d(lim);
  for (int iter = 0; iter < 20000; ++iter) {
    const Sample& sample = samples[next() % samples.size()];
    Buf pkt = sample.bytes;
    const auto flips = 1 + next() % 4;
    for (std::uint64_t f = 0; f < flips; ++f) {
      pkt[next() % pkt.size()] = static_cast<std::uint8_t>(next());
    }
    const std::size_t caplen = next() % 3 == 0 ? next() % (pkt.size() + 1) : pkt.size();
    const Buf cap(pkt.begin(), pkt.begin() + static_cast<std::ptrdiff_t>(caplen));
    TcpSegment s;
    const int lt = next() % 8 == 0 ? static_cast<int>(next() % 300) : sample.linktype;
    check_invariants(
        d.decode(make_rec(cap, lt, caplen, pkt.size(), static_cast<std::int64_t>(iter) * 1'000'000),
                 s),
        s, cap);
  }
  CHECK(d.stats().packets == 20000);
}
