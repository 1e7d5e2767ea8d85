#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "wsdiag/flow/flow_table.h"

using namespace wsdiag;
using namespace wsdiag::flow;
namespace tf = wsdiag::decode::tcp_flag;

namespace {

Endpoint ep(std::uint8_t last_octet, std::uint16_t port) {
  Endpoint e;
  e.addr.family = 4;
  e.addr.bytes = {10, 0, 0, last_octet};
  e.port = port;
  return e;
}

struct Closed {
  std::uint64_t id;
  std::string client, server, history;
  reassembly::EndReason reason;
  std::string c2s, s2c;
  bool handshake;
};

struct Sink : reassembly::StreamSink {
  std::string data[2];
  int ends = 0;
  void on_data(Dir d, Bytes b, PacketRef) override { data[static_cast<int>(d)].append(b.begin(), b.end()); }
  void on_gap(Dir, std::uint64_t, reassembly::GapReason, PacketRef) override {}
  void on_end(Dir, reassembly::EndReason, PacketRef) override { ++ends; }
};

struct Observer : ConnectionObserver {
  std::vector<Closed> closed;
  int opened = 0;
  std::unique_ptr<reassembly::StreamSink> on_open(Connection&) override {
    ++opened;
    return std::make_unique<Sink>();
  }
  void on_close(Connection& c) override {
    auto* s = static_cast<Sink*>(c.sink());
    CHECK(s->ends == 2);  // both directions ended before on_close
    closed.push_back({c.id(), c.client().to_string(), c.server().to_string(), c.history(), c.end_reason(),
                      s->data[0], s->data[1], c.handshake_seen()});
  }
};

struct Net {
  Limits limits;
  Observer obs;
  std::unique_ptr<FlowTable> table;
  std::uint64_t n = 0;
  std::int64_t t = 1'000'000'000;
  std::string keep;  // payload storage for the current segment
  explicit Net(Limits l = {}) : limits(l) { table = std::make_unique<FlowTable>(limits, obs); }
  void pkt(Endpoint src, Endpoint dst, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
           std::string payload = {}) {
    keep = std::move(payload);
    decode::TcpSegment s;
    s.src = src;
    s.dst = dst;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.payload = Bytes(reinterpret_cast<const std::uint8_t*>(keep.data()), keep.size());
    s.payload_wire_len = static_cast<std::uint32_t>(keep.size());
    t += 1'000'000;
    table->process(s, PacketRef{++n, t});
  }
  void finish() { table->finish(PacketRef{n, t}); }
};

const Endpoint C = ep(1, 40000);
const Endpoint S = ep(2, 8080);

void handshake(Net& net, Endpoint c, Endpoint s, std::uint32_t ci, std::uint32_t si) {
  net.pkt(c, s, tf::syn, ci, 0);
  net.pkt(s, c, tf::syn | tf::ack, si, ci + 1);
  net.pkt(c, s, tf::ack, ci + 1, si + 1);
}

}  // namespace

TEST_CASE("the SYN sender is the client; FIN both ways closes", "[flow]") {
  Net net;
  handshake(net, C, S, 100, 900);
  net.pkt(C, S, tf::ack | tf::psh, 101, 901, "GET / HTTP/1.1\r\n\r\n");
  net.pkt(S, C, tf::ack | tf::psh, 901, 119, "HTTP/1.1 101 OK\r\n\r\n");
  net.pkt(C, S, tf::ack | tf::fin, 119, 920);
  net.pkt(S, C, tf::ack | tf::fin, 920, 120);
  net.pkt(C, S, tf::ack, 120, 921);
  net.finish();
  REQUIRE(net.obs.closed.size() == 1);
  const auto& c = net.obs.closed[0];
  CHECK(c.client == "10.0.0.1:40000");
  CHECK(c.server == "10.0.0.2:8080");
  CHECK(c.handshake);
  CHECK(c.history == "ShADdFf");  // the server never sent a bare ACK
  CHECK(c.reason == reassembly::EndReason::fin);
  CHECK(c.c2s == "GET / HTTP/1.1\r\n\r\n");
  CHECK(c.s2c == "HTTP/1.1 101 OK\r\n\r\n");
}

TEST_CASE("the sink is made at the first byte, FIN or RST, else just before on_close", "[flow]") {
  SECTION("handshake and pure ACKs: no sink until the connection is reported") {
    Net net;
    handshake(net, C, S, 100, 900);
    net.pkt(C, S, tf::ack, 101, 901);
    CHECK(net.obs.opened == 0);
    net.finish();
    CHECK(net.obs.opened == 1);
    REQUIRE(net.obs.closed.size() == 1);  // on_close still sees a sink that got both ends
    CHECK(net.obs.closed[0].history == "ShA");
  }
  SECTION("the first payload byte") {
    Net net;
    handshake(net, C, S, 100, 900);
    net.pkt(C, S, tf::ack | tf::psh, 101, 901, "GET / HTTP/1.1\r\n\r\n");
    CHECK(net.obs.opened == 1);
    net.finish();
    CHECK(net.obs.closed.at(0).c2s == "GET / HTTP/1.1\r\n\r\n");
  }
  SECTION("a FIN or a RST without payload") {
    Net net;
    handshake(net, C, S, 100, 900);
    net.pkt(C, S, tf::ack | tf::fin, 101, 901);
    CHECK(net.obs.opened == 1);
    net.pkt(ep(3, 40001), S, tf::rst, 5, 0);
    CHECK(net.obs.opened == 2);
    net.finish();
    CHECK(net.obs.closed.size() == 2);
  }
}

TEST_CASE("roles mid-stream: HTTP request line, status line, then the port rule", "[flow]") {
  SECTION("the request's sender is the client even on the higher port") {
    Net net;
    net.pkt(ep(2, 50000), ep(1, 80), tf::ack, 5, 7);  // a pure ACK first: port guess says 80 serves
    net.pkt(ep(1, 80), ep(2, 50000), tf::ack | tf::psh, 7, 5, "GET /ws HTTP/1.1\r\n\r\n");
    net.finish();
    REQUIRE(net.obs.closed.size() == 1);
    CHECK(net.obs.closed[0].client == "10.0.0.1:80");
    CHECK(net.obs.closed[0].c2s == "GET /ws HTTP/1.1\r\n\r\n");
    CHECK(net.obs.closed[0].history.front() == '^');
    CHECK(!net.obs.closed[0].handshake);
  }
  SECTION("status line sender is the server") {
    Net net;
    net.pkt(ep(1, 1000), ep(2, 2000), tf::ack | tf::psh, 1, 1, "HTTP/1.1 101 Switching\r\n\r\n");
    net.finish();
    CHECK(net.obs.closed[0].server == "10.0.0.1:1000");
    CHECK(net.obs.closed[0].s2c.size() == 26);
  }
  SECTION("otherwise the lower port is the server") {
    Net net;
    net.pkt(ep(1, 8080), ep(2, 51000), tf::ack | tf::psh, 1, 1, "\x81\x02hi");
    net.finish();
    CHECK(net.obs.closed[0].server == "10.0.0.1:8080");
  }
  SECTION("a first payload that is a masked WebSocket frame comes from the client, on any port") {
    Net net;
    net.pkt(ep(1, 51000), ep(2, 60000), tf::ack | tf::psh, 1, 1, std::string("\x81\x82\x01\x02\x03\x04ik", 8));
    net.finish();
    CHECK(net.obs.closed[0].client == "10.0.0.1:51000");
    Net net2;  // an unmasked one comes from the server, even from the higher port
    net2.pkt(ep(1, 60000), ep(2, 40000), tf::ack | tf::psh, 1, 1, "\x81\x02hi");
    net2.finish();
    CHECK(net2.obs.closed[0].server == "10.0.0.1:60000");
    Net net3;  // not a frame header (RSV2/RSV3, reserved opcode): the port rule
    net3.pkt(ep(1, 40000), ep(2, 60000), tf::ack | tf::psh, 1, 1, "\x16\x03\x01\x00\x05");
    net3.finish();
    CHECK(net3.obs.closed[0].server == "10.0.0.1:40000");
  }
  SECTION("SYN-ACK only: its receiver is the client") {
    Net net;
    net.pkt(S, C, tf::syn | tf::ack, 900, 101);
    net.pkt(C, S, tf::ack | tf::psh, 101, 901, "hello");
    net.finish();
    CHECK(net.obs.closed[0].client == "10.0.0.1:40000");
    CHECK(net.obs.closed[0].c2s == "hello");
  }
}

TEST_CASE("port reuse: a new SYN on a closed tuple starts a new connection", "[flow]") {
  Net net;
  handshake(net, C, S, 100, 900);
  net.pkt(C, S, tf::ack | tf::psh, 101, 901, "one");
  net.pkt(C, S, tf::ack | tf::rst, 104, 901);
  handshake(net, C, S, 5000, 7000);
  net.pkt(C, S, tf::ack | tf::psh, 5001, 7001, "two");
  net.finish();
  REQUIRE(net.obs.closed.size() == 2);
  CHECK(net.obs.closed[0].id == 1);
  CHECK(net.obs.closed[0].c2s == "one");
  CHECK(net.obs.closed[0].reason == reassembly::EndReason::rst);
  CHECK(net.obs.closed[1].id == 2);
  CHECK(net.obs.closed[1].c2s == "two");
  CHECK(net.obs.closed[1].reason == reassembly::EndReason::capture_end);
  CHECK(net.table->stats().port_reuse == 1);
}

TEST_CASE("a retransmitted SYN is not a new connection", "[flow]") {
  Net net;
  net.pkt(C, S, tf::syn, 100, 0);
  net.pkt(C, S, tf::syn, 100, 0);
  net.pkt(S, C, tf::syn | tf::ack, 900, 101);
  net.finish();
  CHECK(net.obs.closed.size() == 1);
}

TEST_CASE("the table is bounded: the least recently active connection is evicted", "[flow]") {
  Limits l;
  l.max_connections = 3;
  Net net(l);
  for (std::uint16_t i = 0; i < 5; ++i) handshake(net, ep(1, static_cast<std::uint16_t>(40000 + i)), S, 10, 20);
  CHECK(net.table->open_connections() == 3);
  CHECK(net.table->stats().evicted == 2);
  REQUIRE(net.obs.closed.size() == 2);
  CHECK(net.obs.closed[0].id == 1);
  CHECK(net.obs.closed[0].reason == reassembly::EndReason::evicted);
  CHECK(net.obs.closed[1].id == 2);
  net.finish();
  CHECK(net.obs.closed.size() == 5);
}

TEST_CASE("closed connections are freed after the linger time, idle ones on timeout", "[flow]") {
  Limits l;
  l.closed_linger_ns = 2'000'000'000;
  l.idle_timeout_ns = 10'000'000'000;
  Net net(l);
  handshake(net, C, S, 1, 1);
  net.pkt(C, S, tf::ack | tf::rst, 2, 2);
  handshake(net, ep(3, 40001), S, 1, 1);
  CHECK(net.table->open_connections() == 2);
  net.t += 3'000'000'000;
  net.pkt(ep(3, 40001), S, tf::ack, 2, 2);
  CHECK(net.table->open_connections() == 1);  // the reset one is gone
  net.t += 11'000'000'000;
  net.pkt(ep(4, 40002), S, tf::syn, 1, 0);
  CHECK(net.table->stats().idle_timeouts == 1);
  REQUIRE(net.obs.closed.size() == 2);
  CHECK(net.obs.closed[1].reason == reassembly::EndReason::idle_timeout);
}

TEST_CASE("a reset ends both directions", "[flow]") {
  Net net;
  handshake(net, C, S, 100, 900);
  net.pkt(S, C, tf::ack | tf::psh, 901, 101, "bye");
  net.pkt(S, C, tf::rst, 904, 0);
  net.finish();
  REQUIRE(net.obs.closed.size() == 1);
  CHECK(net.obs.closed[0].reason == reassembly::EndReason::rst);
  CHECK(net.obs.closed[0].history == "ShAdr");
}

TEST_CASE("eviction follows activity order at scale, closed connections first", "[flow]") {
  // Hundreds of connections (more than one batch of eviction candidates), touched in a
  // pseudo-random order, some reset (closed, lingering), against a model of the activity order.
  Limits l;
  l.max_connections = 300;
  l.closed_linger_ns = 1'000'000'000'000;  // no linger sweep: only evictions free connections
  Net net(l);
  std::vector<std::uint64_t> order;   // model: connection ids, least recently active first
  std::vector<std::uint64_t> closed;  // model: closed ids, least recently active first
  std::vector<std::uint16_t> port_of(1, 0);
  std::uint64_t rng = 12345;
  auto next = [&rng](std::uint64_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (rng >> 33) % n;
  };
  auto touch = [](std::vector<std::uint64_t>& v, std::uint64_t id) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (*it == id) {
        v.erase(it);
        v.push_back(id);
        return true;
      }
    }
    return false;
  };
  auto drop = [](std::vector<std::uint64_t>& v, std::uint64_t id) { std::erase(v, id); };
  std::uint64_t next_id = 1;
  std::size_t checked = 0;
  for (int step = 0; step < 3000; ++step) {
    const auto r = next(10);
    if (r < 4 || order.empty()) {
      // A new connection; beyond the bound the model's victim must be the one evicted.
      const std::size_t closed_before = net.obs.closed.size();
      std::uint64_t victim = 0;
      const bool victim_open = closed.empty();
      if (order.size() >= l.max_connections) victim = !closed.empty() ? closed.front() : order.front();
      const auto port = static_cast<std::uint16_t>(port_of.size());
      port_of.push_back(port);
      net.pkt(ep(1, port), S, tf::syn, 1000, 0);
      if (victim != 0) {
        REQUIRE(net.obs.closed.size() == closed_before + 1);
        CHECK(net.obs.closed.back().id == victim);
        // A closed one ended with its RST, whenever it is freed.
        CHECK(net.obs.closed.back().reason ==
              (victim_open ? reassembly::EndReason::evicted : reassembly::EndReason::rst));
        drop(order, victim);
        drop(closed, victim);
        ++checked;
      } else {
        CHECK(net.obs.closed.size() == closed_before);
      }
      order.push_back(next_id++);
    } else {
      // A packet of a tracked connection: an ACK, now and then a RST.
      const std::uint64_t id = order[next(order.size())];
      const bool rst = next(20) == 0;
      net.pkt(ep(1, port_of[id]), S, rst ? tf::rst : tf::ack, 1001, 0);
      touch(order, id);
      const bool was_closed = touch(closed, id);  // a late packet of a closed one: most recent
      if (rst && !was_closed) closed.push_back(id);
    }
  }
  CHECK(checked > 500);
  CHECK(net.table->open_connections() == l.max_connections);
}
