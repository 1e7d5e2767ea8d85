// Test helper: tunnel headers built byte by byte (on top of packet_builder.h), following the
// layouts quoted in src/decode/tunnels.cpp.
#pragma once

#include "unit/decode/packet_builder.h"

namespace wsdiag::test::pb {

inline Buf udp(std::uint16_t sport, std::uint16_t dport, const Buf& payload,
               std::optional<std::uint16_t> length = std::nullopt) {
  Buf b;
  put16(b, sport);
  put16(b, dport);
  put16(b, length.value_or(static_cast<std::uint16_t>(8 + payload.size())));
  put16(b, 0);
  append(b, payload);
  return b;
}

inline Buf vxlan(std::uint32_t vni, const Buf& frame, std::uint8_t flags = 0x08) {
  Buf b;
  put8(b, flags);
  put8(b, 0);
  put16(b, 0);
  put32(b, vni << 8);
  append(b, frame);
  return b;
}

/// Geneve with `options` (each option: class, type, data padded to 4 bytes).
struct GeneveOpt {
  std::uint16_t cls;
  std::uint8_t type;
  Buf data;
};
inline Buf geneve(std::uint32_t vni, std::uint16_t proto, const Buf& inner,
                  const std::vector<GeneveOpt>& opts = {}) {
  Buf o;
  for (const auto& opt : opts) {
    Buf data = opt.data;
    while (data.size() % 4 != 0) data.push_back(0);
    put16(o, opt.cls);
    put8(o, opt.type);
    put8(o, static_cast<std::uint8_t>(data.size() / 4));
    append(o, data);
  }
  Buf b;
  put8(b, static_cast<std::uint8_t>(o.size() / 4));
  put8(b, 0);
  put16(b, proto);
  put32(b, vni << 8);
  append(b, o);
  append(b, inner);
  return b;
}

struct Gre {
  std::uint16_t proto = 0x0800;
  std::optional<std::uint32_t> key;
  std::optional<std::uint32_t> seq;
  bool checksum = false;
  std::uint8_t version = 0;
};
inline Gre gre_hdr(std::uint16_t proto, std::optional<std::uint32_t> key = std::nullopt,
                   std::optional<std::uint32_t> seq = std::nullopt, bool checksum = false,
                   std::uint8_t version = 0) {
  Gre g;
  g.proto = proto;
  g.key = key;
  g.seq = seq;
  g.checksum = checksum;
  g.version = version;
  return g;
}
inline Buf gre(const Gre& g, const Buf& inner) {
  std::uint16_t flags = g.version & 7;
  if (g.checksum) flags |= 0x8000;
  if (g.key) flags |= 0x2000;
  if (g.seq) flags |= 0x1000;
  Buf b;
  put16(b, flags);
  put16(b, g.proto);
  if (g.checksum) put32(b, 0);
  if (g.key) put32(b, *g.key);
  if (g.seq) put32(b, *g.seq);
  append(b, inner);
  return b;
}

inline Buf erspan2(std::uint16_t session, const Buf& frame) {
  Buf b;
  put16(b, 0x1000 | 0x0064);  // version 1, VLAN 100
  put16(b, session & 0x3ff);
  put32(b, 7);  // index
  append(b, frame);
  return b;
}

inline Buf erspan3(std::uint16_t session, const Buf& frame, bool platform = false) {
  Buf b;
  put16(b, 0x2000);  // version 2
  put16(b, session & 0x3ff);
  put32(b, 0x01020304);  // timestamp
  put32(b, platform ? 1u : 0u);  // SGT 0, FT 0 (Ethernet), HW ID 0, O
  if (platform) {
    put32(b, 0);
    put32(b, 0);
  }
  append(b, frame);
  return b;
}

/// GTP-U G-PDU; `ext` is a list of extension headers' contents (each padded so that
/// 2 + content is a multiple of 4).
inline Buf gtpu(std::uint32_t teid, const Buf& tpdu, const std::vector<Buf>& ext = {},
                std::uint8_t type = 0xff) {
  Buf opt;
  if (!ext.empty()) {
    put16(opt, 0);  // sequence
    put8(opt, 0);   // N-PDU
    put8(opt, 0x85);  // PDU session container
    for (std::size_t i = 0; i < ext.size(); ++i) {
      Buf c = ext[i];
      while ((c.size() + 2) % 4 != 0) c.push_back(0);
      put8(opt, static_cast<std::uint8_t>((c.size() + 2) / 4));
      append(opt, c);
      put8(opt, static_cast<std::uint8_t>(i + 1 < ext.size() ? 0x85 : 0x00));
    }
  }
  Buf b;
  put8(b, static_cast<std::uint8_t>(ext.empty() ? 0x30 : 0x34));
  put8(b, type);
  put16(b, static_cast<std::uint16_t>(opt.size() + tpdu.size()));
  put32(b, teid);
  append(b, opt);
  append(b, tpdu);
  return b;
}

inline Buf mpls(const std::vector<std::uint32_t>& labels, const Buf& inner) {
  Buf b;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    put32(b, (labels[i] << 12) | (i + 1 == labels.size() ? 0x100u : 0u) | 64u);
  }
  append(b, inner);
  return b;
}

inline Buf pppoe(std::uint16_t session, std::uint16_t ppp_proto, const Buf& inner) {
  Buf b;
  put8(b, 0x11);
  put8(b, 0);
  put16(b, session);
  put16(b, static_cast<std::uint16_t>(inner.size() + 2));
  put16(b, ppp_proto);
  append(b, inner);
  return b;
}

}  // namespace wsdiag::test::pb
