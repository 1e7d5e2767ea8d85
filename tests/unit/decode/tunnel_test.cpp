// Decoder tests for encapsulations: each tunnel over hand-built packets (the layouts in
// src/decode/tunnels.cpp), nesting and its limit, and robustness (every prefix, every single-byte
// corruption of every tunnelled packet).
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "unit/decode/tunnel_builder.h"
#include "wsdiag/decode/decoder.h"

namespace pb = wsdiag::test::pb;
using pb::Buf;
using wsdiag::Encap;
using wsdiag::EncapKind;
using wsdiag::Limits;
using wsdiag::decode::Decoder;
using wsdiag::decode::DecodeStatus;
using wsdiag::decode::TcpSegment;

namespace {

constexpr int kEn10mb = 1;
constexpr int kRaw = 101;

DecodeStatus run(Decoder& d, const Buf& b, TcpSegment& out, int linktype = kEn10mb) {
  return d.decode(linktype, wsdiag::Bytes(b.data(), b.size()), b.size(), 0, out);
}
// A temporary packet: the segment's payload is a view into it, valid until the next decode (as
// libpcap's buffer is), so it is kept alive that long.
DecodeStatus run(Decoder& d, Buf&& b, TcpSegment& out, int linktype = kEn10mb) {
  static Buf packet;
  packet = std::move(b);
  return run(d, static_cast<const Buf&>(packet), out, linktype);
}

/// The inner segment: 10.1.0.1:40000 -> 10.1.0.2:80 with 10 payload bytes.
pb::Ip4 inner_ip() {
  pb::Ip4 ip;
  ip.src = {10, 1, 0, 1};
  ip.dst = {10, 1, 0, 2};
  return ip;
}
Buf inner_tcp() {
  pb::Tcp t;
  t.payload = pb::pattern(10, 3);
  return pb::tcp(t);
}
Buf inner_v4() { return pb::ipv4(inner_ip(), inner_tcp()); }
Buf inner_v6() { return pb::ipv6(6, inner_tcp(), pb::v6addr(0x11), pb::v6addr(0x12)); }
Buf inner_eth() { return pb::ether(0x0800, inner_v4()); }

/// Outer IPv4 172.16.0.1 -> 172.16.0.2 carrying `proto`.
Buf outer_v4(std::uint8_t proto, const Buf& payload) {
  pb::Ip4 ip;
  ip.src = {172, 16, 0, 1};
  ip.dst = {172, 16, 0, 2};
  ip.proto = proto;
  return pb::ether(0x0800, pb::ipv4(ip, payload));
}

void check_inner_v4(const TcpSegment& s) {
  CHECK(s.src.addr.family == 4);
  CHECK(s.src.addr.bytes[0] == 10);
  CHECK(s.src.addr.bytes[1] == 1);
  CHECK(s.src.addr.bytes[3] == 1);
  CHECK(s.dst.addr.bytes[3] == 2);
  CHECK(s.src.port == 40000);
  CHECK(s.dst.port == 80);
  CHECK(Buf(s.payload.begin(), s.payload.end()) == pb::pattern(10, 3));
  CHECK_FALSE(s.truncated());
}

void check_outer_v4(const wsdiag::EncapLayer& l) {
  CHECK(l.src.family == 4);
  CHECK(l.src.bytes[0] == 172);
  CHECK(l.src.bytes[3] == 1);
  CHECK(l.dst.bytes[3] == 2);
}

pb::Ip4 middle_gre() {
  pb::Ip4 ip;
  ip.src = {192, 168, 0, 1};
  ip.dst = {192, 168, 0, 2};
  ip.proto = 47;
  return ip;
}

/// Every tunnelled packet the tests below build: the robustness cases walk them all.
std::vector<Buf> tunnel_packets() {
  return {
      outer_v4(17, pb::udp(50000, 4789, pb::vxlan(42, inner_eth()))),
      outer_v4(17, pb::udp(50000, 8472, pb::vxlan(1, inner_eth()))),
      outer_v4(17, pb::udp(50000, 6081, pb::geneve(7, 0x6558, inner_eth(),
                                                   {{0x0108, 1, Buf(8, 0xaa)}, {0xffff, 2, {}}}))),
      outer_v4(17, pb::udp(50000, 6081, pb::geneve(7, 0x0800, inner_v4()))),
      outer_v4(47, pb::gre(pb::gre_hdr(0x0800, 9, 1, true), inner_v4())),
      outer_v4(47, pb::gre(pb::gre_hdr(0x6558, 5), inner_eth())),
      outer_v4(47, pb::gre(pb::gre_hdr(0x88be, std::nullopt, 3), pb::erspan2(100, inner_eth()))),
      outer_v4(47, pb::gre(pb::gre_hdr(0x22eb, std::nullopt, 3), pb::erspan3(200, inner_eth(), true))),
      outer_v4(47, pb::gre(pb::gre_hdr(0x88be), inner_eth())),
      outer_v4(4, inner_v4()),
      outer_v4(41, inner_v6()),
      pb::ether(0x86dd, pb::ipv6(4, inner_v4())),
      pb::ether(0x86dd, pb::ipv6(41, inner_v6())),
      outer_v4(17, pb::udp(2152, 2152, pb::gtpu(0xdeadbeef, inner_v4()))),
      outer_v4(17, pb::udp(2152, 2152, pb::gtpu(0x1234, inner_v6(), {Buf{0x00, 0x01}, Buf(6, 9)}))),
      pb::ether(0x8847, pb::mpls({16, 17, 18}, inner_v4())),
      pb::ether(0x8847, pb::mpls({100}, pb::cat(Buf{0, 0, 0, 0}, inner_eth()))),
      pb::ether(0x8864, pb::pppoe(0x0101, 0x0021, inner_v4())),
      pb::ether(0x8864, pb::pppoe(0x0102, 0x0057, inner_v6())),
      pb::ether(0x8100, pb::cat(Buf{0x00, 0x0a, 0x88, 0x47}, pb::mpls({20}, inner_v4())),
                {{0x88a8, 0x0064}}),
      outer_v4(17, pb::udp(1, 4789, pb::vxlan(3, pb::ether(0x0800, pb::ipv4(middle_gre(),
                                                    pb::gre(pb::gre_hdr(0x0800), inner_v4())))))),
  };
}

}  // namespace

TEST_CASE("tunnel: VXLAN (4789 and Linux's 8472) to the inner TCP", "[decode][tunnel]") {
  Decoder d;
  TcpSegment s;
  REQUIRE(run(d, outer_v4(17, pb::udp(50000, 4789, pb::vxlan(42, inner_eth()))), s) ==
          DecodeStatus::tcp);
  check_inner_v4(s);
  REQUIRE(s.encap.depth == 1);
  CHECK(s.encap.layers[0].kind == EncapKind::vxlan);
  CHECK(s.encap.layers[0].id == 42);
  check_outer_v4(s.encap.layers[0]);
  CHECK(s.encap.virtual_network() == 43);
  CHECK(d.stats().tunnelled == 1);

  REQUIRE(run(d, outer_v4(17, pb::udp(50000, 8472, pb::vxlan(0xffffff, inner_eth()))), s) ==
          DecodeStatus::tcp);
  CHECK(s.encap.layers[0].id == 0xffffff);
  // No I flag: not VXLAN as RFC 7348 defines it.
  CHECK(run(d, outer_v4(17, pb::udp(50000, 4789, pb::vxlan(42, inner_eth(), 0))), s) ==
        DecodeStatus::not_tcp);
  CHECK(s.encap.empty());
  // Another UDP port is not a tunnel.
  CHECK(run(d, outer_v4(17, pb::udp(50000, 4790, pb::vxlan(42, inner_eth()))), s) ==
        DecodeStatus::not_tcp);
  // A UDP length shorter than its header, or longer than the IP payload, is malformed.
  CHECK(run(d, outer_v4(17, pb::udp(1, 4789, pb::vxlan(1, inner_eth()), 7)), s) ==
        DecodeStatus::malformed);
  CHECK(run(d, outer_v4(17, pb::udp(1, 4789, pb::vxlan(1, inner_eth()), 2000)), s) ==
        DecodeStatus::malformed);
}

TEST_CASE("tunnel: Geneve with options, Ethernet or IP inside", "[decode][tunnel]") {
  Decoder d;
  TcpSegment s;
  REQUIRE(run(d, outer_v4(17, pb::udp(1, 6081, pb::geneve(7, 0x6558, inner_eth(),
                                                          {{0x0108, 1, Buf(8, 0xaa)}}))),
              s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::geneve);
  CHECK(s.encap.layers[0].id == 7);
  CHECK(s.encap.layers[0].aux == 12);  // option header 4 + 8 bytes of data
  REQUIRE(run(d, outer_v4(17, pb::udp(1, 6081, pb::geneve(8, 0x0800, inner_v4()))), s) ==
          DecodeStatus::tcp);
  check_inner_v4(s);
  SECTION("an option longer than the option area is malformed") {
    Buf g = pb::geneve(7, 0x6558, inner_eth(), {{0x0108, 1, Buf(8, 0xaa)}});
    g[0] = 1;  // option area: 4 bytes, but the option says 12
    CHECK(run(d, outer_v4(17, pb::udp(1, 6081, g)), s) == DecodeStatus::malformed);
  }
  SECTION("version 1 is not Geneve") {
    Buf g = pb::geneve(7, 0x6558, inner_eth());
    g[0] |= 0x40;
    CHECK(run(d, outer_v4(17, pb::udp(1, 6081, g)), s) == DecodeStatus::not_tcp);
  }
}

TEST_CASE("tunnel: GRE with checksum, key and sequence; gretap; ERSPAN I, II, III",
          "[decode][tunnel]") {
  Decoder d;
  TcpSegment s;
  REQUIRE(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x0800, 9, 1, true),
                                      inner_v4())),
              s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::gre);
  CHECK(s.encap.layers[0].has_id);
  CHECK(s.encap.layers[0].id == 9);
  CHECK(s.encap.virtual_network() == 0);  // a GRE key is not part of the flow key

  REQUIRE(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x6558), inner_eth())), s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK_FALSE(s.encap.layers[0].has_id);
  CHECK(s.encap.layers[0].aux == 0x6558);

  REQUIRE(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x88be, std::nullopt, 3), pb::erspan2(100, inner_eth()))),
              s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::erspan2);
  CHECK(s.encap.layers[0].id == 100);

  REQUIRE(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x22eb, std::nullopt, 3),
                                      pb::erspan3(200, inner_eth(), true))),
              s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::erspan3);
  CHECK(s.encap.layers[0].id == 200);
  REQUIRE(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x22eb, std::nullopt, 3), pb::erspan3(201, inner_eth()))),
              s) == DecodeStatus::tcp);
  CHECK(s.encap.layers[0].id == 201);

  // Type I: no sequence number, no ERSPAN header.
  REQUIRE(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x88be), inner_eth())), s) == DecodeStatus::tcp);
  CHECK(s.encap.layers[0].kind == EncapKind::erspan2);
  CHECK_FALSE(s.encap.layers[0].has_id);

  // ERSPAN II header with version 2: malformed. GRE version 1 (PPTP): not decoded.
  Buf bad = pb::erspan2(1, inner_eth());
  bad[0] = 0x20;
  CHECK(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x88be, std::nullopt, 1), bad)), s) ==
        DecodeStatus::malformed);
  CHECK(run(d, outer_v4(47, pb::gre(pb::gre_hdr(0x880b, std::nullopt, std::nullopt, false, 1), inner_v4())), s) ==
        DecodeStatus::not_tcp);
}

TEST_CASE("tunnel: IP in IP, all four combinations", "[decode][tunnel]") {
  Decoder d;
  TcpSegment s;
  REQUIRE(run(d, outer_v4(4, inner_v4()), s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::ip_in_ip);
  CHECK(s.encap.layers[0].inner_family == 4);
  check_outer_v4(s.encap.layers[0]);

  REQUIRE(run(d, outer_v4(41, inner_v6()), s) == DecodeStatus::tcp);
  CHECK(s.src.addr.family == 6);
  CHECK(s.src.addr.bytes[15] == 0x11);
  CHECK(s.encap.layers[0].inner_family == 6);
  CHECK(s.encap.layers[0].src.family == 4);

  REQUIRE(run(d, pb::ether(0x86dd, pb::ipv6(4, inner_v4())), s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].src.family == 6);
  CHECK(s.encap.layers[0].src.bytes[15] == 1);

  // IPv6 in IPv6 after a destination options header (RFC 2473 §6.6 encapsulation limit).
  REQUIRE(run(d, pb::ether(0x86dd, pb::ipv6(60, pb::cat(pb::ext(41, {4, 1, 0}), inner_v6()))), s) ==
          DecodeStatus::tcp);
  CHECK(s.dst.addr.bytes[15] == 0x12);
  CHECK(s.encap.layers[0].inner_family == 6);

  // Raw IP link type: the outer header starts the packet.
  pb::Ip4 o;
  o.proto = 4;
  REQUIRE(run(d, pb::ipv4(o, inner_v4()), s, kRaw) == DecodeStatus::tcp);
  check_inner_v4(s);
}

TEST_CASE("tunnel: GTP-U G-PDU with and without extension headers", "[decode][tunnel]") {
  Decoder d;
  TcpSegment s;
  REQUIRE(run(d, outer_v4(17, pb::udp(2152, 2152, pb::gtpu(0xdeadbeef, inner_v4()))), s) ==
          DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::gtpu);
  CHECK(s.encap.layers[0].id == 0xdeadbeefu);

  REQUIRE(run(d, outer_v4(17, pb::udp(2152, 2152,
                                      pb::gtpu(7, inner_v4(), {Buf{0x00, 0x01}, Buf(6, 9)}))),
              s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].id == 7);

  // Echo request (type 1) carries no user data.
  CHECK(run(d, outer_v4(17, pb::udp(2152, 2152, pb::gtpu(7, inner_v4(), {}, 1))), s) ==
        DecodeStatus::not_tcp);
  SECTION("an extension header of length 0 is malformed") {
    Buf g = pb::gtpu(7, inner_v4(), {Buf{0x00, 0x01}});
    g[12] = 0;
    CHECK(run(d, outer_v4(17, pb::udp(2152, 2152, g)), s) == DecodeStatus::malformed);
  }
  SECTION("a GTP length beyond the datagram is malformed") {
    Buf g = pb::gtpu(7, inner_v4());
    g[2] = 0x7f;
    CHECK(run(d, outer_v4(17, pb::udp(2152, 2152, g)), s) == DecodeStatus::malformed);
  }
}

TEST_CASE("tunnel: MPLS label stacks, pseudowire, PPPoE, QinQ around them", "[decode][tunnel]") {
  Decoder d;
  TcpSegment s;
  REQUIRE(run(d, pb::ether(0x8847, pb::mpls({16, 17, 18}, inner_v4())), s) == DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::mpls);
  CHECK(s.encap.layers[0].id == 16);
  CHECK(s.encap.layers[0].aux == 3);
  CHECK(s.encap.layers[0].src.family == 0);

  REQUIRE(run(d, pb::ether(0x8847, pb::mpls({100}, pb::cat(Buf{0, 0, 0, 0}, inner_eth()))), s) ==
          DecodeStatus::tcp);
  check_inner_v4(s);

  // A stack with no bottom-of-stack bit within 16 labels is malformed.
  Buf endless;
  for (int i = 0; i < 20; ++i) pb::put32(endless, 0x00010040);
  CHECK(run(d, pb::ether(0x8847, endless), s) == DecodeStatus::malformed);

  REQUIRE(run(d, pb::ether(0x8864, pb::pppoe(0x0101, 0x0021, inner_v4())), s) ==
          DecodeStatus::tcp);
  check_inner_v4(s);
  CHECK(s.encap.layers[0].kind == EncapKind::pppoe);
  CHECK(s.encap.layers[0].id == 0x0101);
  REQUIRE(run(d, pb::ether(0x8864, pb::pppoe(0x0102, 0x0057, inner_v6())), s) ==
          DecodeStatus::tcp);
  CHECK(s.src.addr.family == 6);
  CHECK(run(d, pb::ether(0x8864, pb::pppoe(0x0102, 0xc021, Buf(8, 0))), s) ==
        DecodeStatus::not_ip);  // LCP

  // QinQ outer tags around MPLS: VLAN tags are not recorded as encapsulation.
  REQUIRE(run(d, pb::ether(0x8100, pb::cat(Buf{0x00, 0x0a, 0x88, 0x47}, pb::mpls({20}, inner_v4())),
                           {{0x88a8, 0x0064}}),
              s) == DecodeStatus::tcp);
  REQUIRE(s.encap.depth == 1);
  CHECK(s.encap.layers[0].id == 20);
}

TEST_CASE("tunnel: nesting is recorded outermost first and bounded", "[decode][tunnel]") {
  TcpSegment s;
  // VXLAN around GRE around TCP.
  const Buf nested = tunnel_packets().back();
  {
    Decoder d;
    REQUIRE(run(d, nested, s) == DecodeStatus::tcp);
    check_inner_v4(s);
    REQUIRE(s.encap.depth == 2);
    CHECK(s.encap.layers[0].kind == EncapKind::vxlan);
    CHECK(s.encap.layers[1].kind == EncapKind::gre);
    CHECK(s.encap.layers[1].src.bytes[0] == 192);
  }
  {
    Limits l;
    l.tunnel_layers = 1;
    Decoder d(l);
    CHECK(run(d, nested, s) == DecodeStatus::tunnel_limit);
    CHECK(d.stats().tunnel_limit == 1);
    CHECK(s.encap.empty());
  }
  {
    // IPv4 in IPv4 nested far deeper than the fixed capacity.
    Buf p = inner_v4();
    for (int i = 0; i < 40; ++i) {
      pb::Ip4 o;
      o.proto = 4;
      p = pb::ipv4(o, p);
    }
    Decoder d;
    CHECK(run(d, pb::ether(0x0800, p), s) == DecodeStatus::tunnel_limit);
    CHECK(Encap::kMaxLayers == 4);
  }
}

TEST_CASE("tunnel: snaplen cuts inside tunnel headers are truncated, not malformed",
          "[decode][tunnel]") {
  for (const Buf& pkt : tunnel_packets()) {
    // Cut anywhere before the inner TCP header ends: truncated (the wire length is whole).
    const std::size_t tcp_end = pkt.size() - 10;
    for (std::size_t cut = 0; cut < tcp_end; ++cut) {
      Decoder d;
      TcpSegment s;
      const auto st = d.decode(kEn10mb, wsdiag::Bytes(pkt.data(), cut), pkt.size(), 0, s);
      INFO("packet of " << pkt.size() << " bytes cut at " << cut);
      CHECK(st == DecodeStatus::truncated);
    }
    Decoder d;
    TcpSegment s;
    REQUIRE(run(d, pkt, s) == DecodeStatus::tcp);
    CHECK_FALSE(s.encap.empty());
    CHECK(s.dst.port == 80);
  }
}

TEST_CASE("tunnel: every prefix and every single-byte corruption stays in bounds",
          "[decode][tunnel]") {
  Decoder d;
  TcpSegment s;
  std::uint64_t decoded = 0;
  for (const Buf& pkt : tunnel_packets()) {
    for (std::size_t n = 0; n <= pkt.size(); ++n) {
      const Buf prefix(pkt.begin(), pkt.begin() + static_cast<std::ptrdiff_t>(n));
      const auto st = run(d, prefix, s);  // wire == captured: headers that lie are malformed
      if (st == DecodeStatus::tcp) {
        ++decoded;
        CHECK(s.payload.size() <= s.payload_wire_len);
      }
    }
    for (std::size_t i = 0; i < pkt.size(); ++i) {
      for (std::uint8_t v : {std::uint8_t{0x00}, std::uint8_t{0xff}, std::uint8_t{0x80},
                             static_cast<std::uint8_t>(pkt[i] ^ 0x01)}) {
        Buf m = pkt;
        m[i] = v;
        const auto st = run(d, m, s);
        if (st == DecodeStatus::tcp && !s.from_fragments) {
          CHECK(s.payload.data() >= m.data());
          CHECK(s.payload.data() + s.payload.size() <= m.data() + m.size());
          CHECK(s.encap.depth <= Encap::kMaxLayers);
        } else if (st != DecodeStatus::tcp) {
          CHECK(s.encap.empty());
        }
      }
    }
  }
  CHECK(decoded >= tunnel_packets().size());
}
