// Flow keys and encapsulation facts for tunnelled segments (flow_table.h design note).
#include <catch2/catch.hpp>

#include <vector>

#include "wsdiag/flow/flow_table.h"

using namespace wsdiag;
using namespace wsdiag::flow;
namespace tf = wsdiag::decode::tcp_flag;

namespace {

struct Seen {
  std::uint64_t id;
  std::uint32_t vnet;
  Encap c2s, s2c;
  std::uint64_t c2s_packets, s2c_packets;
};

struct Observer : ConnectionObserver {
  std::vector<Seen> closed;
  std::unique_ptr<reassembly::StreamSink> on_open(Connection&) override { return nullptr; }
  void on_close(Connection& c) override {
    closed.push_back({c.id(), c.virtual_network(), c.encap(Dir::c2s), c.encap(Dir::s2c),
                      c.encap_packets(Dir::c2s), c.encap_packets(Dir::s2c)});
  }
};

Endpoint ep(std::uint8_t last, std::uint16_t port) {
  Endpoint e;
  e.addr.bytes = {10, 0, 0, last};
  e.port = port;
  return e;
}

Encap tunnel(EncapKind kind, std::uint32_t id, std::uint8_t from, std::uint8_t to) {
  Encap e;
  e.depth = 1;
  e.layers[0].kind = kind;
  e.layers[0].has_id = true;
  e.layers[0].id = id;
  e.layers[0].src.family = e.layers[0].dst.family = 4;
  e.layers[0].src.bytes = {172, 16, 0, from};
  e.layers[0].dst.bytes = {172, 16, 0, to};
  return e;
}

struct Net {
  Observer obs;
  FlowTable table{Limits{}, obs};
  std::uint64_t n = 0;
  void pkt(Endpoint src, Endpoint dst, std::uint8_t flags, std::uint32_t seq, const Encap& e) {
    decode::TcpSegment s;
    s.src = src;
    s.dst = dst;
    s.flags = flags;
    s.seq = seq;
    s.encap = e;
    ++n;
    table.process(s, PacketRef{n, static_cast<std::int64_t>(n) * 1000});
  }
};

const Endpoint C = ep(1, 40000);
const Endpoint S = ep(2, 80);

}  // namespace

TEST_CASE("flow: the same inner 5-tuple in two VXLAN VNIs is two connections", "[flow][tunnel]") {
  Net net;
  net.pkt(C, S, tf::syn, 100, tunnel(EncapKind::vxlan, 42, 1, 2));
  net.pkt(C, S, tf::syn, 500, tunnel(EncapKind::vxlan, 43, 1, 2));  // another tenant: no port reuse
  net.pkt(S, C, tf::syn | tf::ack, 900, tunnel(EncapKind::vxlan, 42, 2, 1));
  net.pkt(S, C, tf::syn | tf::ack, 700, tunnel(EncapKind::vxlan, 43, 2, 1));
  net.pkt(C, S, tf::syn, 300, Encap{});  // and untunnelled
  CHECK(net.table.open_connections() == 3);
  CHECK(net.table.stats().port_reuse == 0);
  net.table.finish(PacketRef{net.n, 0});
  REQUIRE(net.obs.closed.size() == 3);
  CHECK(net.obs.closed[0].vnet == 43);
  CHECK(net.obs.closed[1].vnet == 44);
  CHECK(net.obs.closed[2].vnet == 0);
  CHECK(net.obs.closed[0].c2s.layers[0].id == 42);
  CHECK(net.obs.closed[0].s2c.layers[0].id == 42);
  CHECK(net.obs.closed[0].s2c.layers[0].src.bytes[3] == 2);
  CHECK(net.obs.closed[2].c2s.empty());
}

TEST_CASE("flow: per-direction tunnel ids (GTP-U TEIDs) stay one connection", "[flow][tunnel]") {
  Net net;
  net.pkt(C, S, tf::syn, 100, tunnel(EncapKind::gtpu, 0x1111, 1, 2));
  net.pkt(S, C, tf::syn | tf::ack, 900, tunnel(EncapKind::gtpu, 0x2222, 2, 1));
  net.pkt(C, S, tf::ack, 101, tunnel(EncapKind::gtpu, 0x1111, 1, 2));
  net.pkt(C, S, tf::ack, 101, Encap{});  // the same segment seen decapsulated (-i any)
  net.table.finish(PacketRef{net.n, 0});
  REQUIRE(net.obs.closed.size() == 1);
  const auto& c = net.obs.closed[0];
  CHECK(c.vnet == 0);
  CHECK(c.c2s.layers[0].id == 0x1111);
  CHECK(c.s2c.layers[0].id == 0x2222);
  CHECK(c.c2s_packets == 2);
  CHECK(c.s2c_packets == 1);
}
