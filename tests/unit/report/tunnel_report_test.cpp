// The tunnel fact in the reports: absent for untunnelled connections, one compact line when both
// directions mirror each other, one per direction otherwise.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "unit/report/report_fixture.h"
#include "wsdiag/report/describe.h"

using namespace report_test;

namespace {

EncapLayer layer(EncapKind kind, std::uint32_t id, std::uint8_t from, std::uint8_t to) {
  EncapLayer l;
  l.kind = kind;
  l.has_id = true;
  l.id = id;
  l.src.family = l.dst.family = 4;
  l.src.bytes = {10, 200, 0, from};
  l.dst.bytes = {10, 200, 0, to};
  return l;
}

diag::TunnelSide side(EncapLayer l, std::uint64_t packets, std::uint64_t of) {
  diag::TunnelSide s;
  s.encap.depth = 1;
  s.encap.layers[0] = l;
  s.packets = packets;
  s.of = of;
  return s;
}

}  // namespace

TEST_CASE("tunnel: untunnelled connections show no tunnel fact anywhere", "[report][tunnel]") {
  const auto c = closed_conn();
  CHECK(report::describe_tunnel(c.summary.tunnel).empty());
  CHECK_FALSE(report::to_json(c).contains("tunnel"));
  CHECK(report::format_connection_text(c, {}).find("tunnel") == std::string::npos);
}

TEST_CASE("tunnel: mirrored directions give one line, others one per side", "[report][tunnel]") {
  diag::TunnelSummary t;
  t.client = side(layer(EncapKind::vxlan, 42, 1, 2), 10, 10);
  t.server = side(layer(EncapKind::vxlan, 42, 2, 1), 9, 9);
  auto lines = report::describe_tunnel(t);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "VXLAN VNI 42 10.200.0.1 <-> 10.200.0.2");

  t.server.packets = 5;  // some packets were seen decapsulated
  lines = report::describe_tunnel(t);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "VXLAN VNI 42 10.200.0.1 <-> 10.200.0.2 (15 of 19 packets)");

  t.client = side(layer(EncapKind::gtpu, 0x1111, 1, 2), 3, 3);
  t.server = side(layer(EncapKind::gtpu, 0x2222, 2, 1), 2, 2);
  lines = report::describe_tunnel(t);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "client->server: GTP-U TEID 0x00001111 10.200.0.1 -> 10.200.0.2");
  CHECK(lines[1] == "server->client: GTP-U TEID 0x00002222 10.200.0.2 -> 10.200.0.1");

  t.server = {};
  lines = report::describe_tunnel(t);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == "server->client: not encapsulated");
}

TEST_CASE("tunnel: every kind has words, JSON has kind, id and addresses", "[report][tunnel]") {
  CHECK(report::encap_layer_text(layer(EncapKind::geneve, 7, 1, 2)) == "Geneve VNI 7");
  EncapLayer g = layer(EncapKind::gre, 9, 1, 2);
  g.aux = 0x6558;
  CHECK(report::encap_layer_text(g) == "GRE key 9 (Ethernet)");
  CHECK(report::encap_layer_text(layer(EncapKind::erspan3, 6, 1, 2)) == "ERSPAN type III session 6");
  EncapLayer ip = layer(EncapKind::ip_in_ip, 0, 1, 2);
  ip.inner_family = 6;
  CHECK(report::encap_layer_text(ip) == "IPv6 in IPv4");
  EncapLayer m = layer(EncapKind::mpls, 16, 0, 0);
  m.aux = 3;
  CHECK(report::encap_layer_text(m) == "MPLS label 16 (stack of 3)");
  CHECK(report::encap_layer_text(layer(EncapKind::pppoe, 0x101, 0, 0)) == "PPPoE session 0x0101");

  auto c = closed_conn();
  c.summary.tunnel.client = side(layer(EncapKind::vxlan, 42, 1, 2), 40, 40);
  c.summary.tunnel.server = side(layer(EncapKind::vxlan, 42, 2, 1), 0, 0);
  const auto j = report::to_json(c);
  REQUIRE(j.contains("tunnel"));
  const auto& l = j["tunnel"]["client"]["layers"][0];
  CHECK(l["kind"] == "vxlan");
  CHECK(l["vni"] == 42);
  CHECK(l["src"] == "10.200.0.1");
  CHECK(l["dst"] == "10.200.0.2");
  CHECK(j["tunnel"]["client"]["packets"] == 40);
  const auto text = report::format_connection_text(c, {});
  CHECK(text.find("tunnel     client->server: VXLAN VNI 42 10.200.0.1 -> 10.200.0.2") !=
        std::string::npos);
}
