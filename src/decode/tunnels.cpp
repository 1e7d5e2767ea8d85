// wsdiag — encapsulations around the TCP segment: Ethernet and its EtherTypes (VLAN tags, MPLS,
// PPPoE), tunnels over UDP (VXLAN, Geneve, GTP-U) and GRE (with ERSPAN). Each layer is recorded
// in TcpSegment::encap; nesting is bounded by Limits::tunnel_layers (push_layer).
//
//   VXLAN   (RFC 7348 §5)   | flags 8 (I = 0x08) | reserved 24 | VNI 24 | reserved 8 | Ethernet
//   Geneve  (RFC 8926 §3.4) | ver 2 | opt len 6 | O | C | rsvd 6 | protocol 16 | VNI 24 | rsvd 8 |
//                           | options: [ class 16 | type 8 | rsvd 3 | len 5 | data len*4 ]* |
//   GTP-U   (TS 29.281 §5)  | ver 3 = 1 | PT 1 | * | E | S | PN | type 8 (255: G-PDU) | length 16 |
//                           | TEID 32 | [ seq 16 | N-PDU 8 | next ext 8 ] | [ len 8 | ... | next 8 ]*
//   GRE     (RFC 2784, 2890)| C | R | K | S | ... | ver 3 | protocol 16 | [csum 16 | offset 16]
//                           | [key 32] | [seq 32] |
//   ERSPAN II  (GRE 0x88be) | ver 4 = 1 | VLAN 12 | COS 3 | En 2 | T | session 10 | rsvd 12 |
//                           | index 20 | Ethernet       (no GRE sequence number: type I, no header)
//   ERSPAN III (GRE 0x22eb) | ver 4 = 2 | VLAN 12 | COS 3 | BSO 2 | T | session 10 | timestamp 32 |
//                           | SGT 16 | P | FT 5 | HW ID 6 | D | Gra 2 | O | [platform 64] | Ethernet
//   MPLS    (RFC 3032 §2.1) | label 20 | TC 3 | S 1 | TTL 8 |* up to S, then IPv4/IPv6 by version
//                           (nibble 0: a pseudowire control word, RFC 4385, then Ethernet)
//   PPPoE   (RFC 2516 §4)   | ver 4 = 1 | type 4 = 1 | code 8 = 0 | session 16 | length 16 | PPP |
//                           PPP protocol 0x0021 IPv4, 0x0057 IPv6 (RFC 1661 §2, 1-byte if odd)
#include <algorithm>

#include "internal.h"

namespace wsdiag::decode::detail {

namespace {

constexpr std::uint16_t kPortVxlan = 4789;
constexpr std::uint16_t kPortVxlanLinux = 8472;  // Linux's default before IANA's port; flannel
constexpr std::uint16_t kPortGeneve = 6081;
constexpr std::uint16_t kPortGtpu = 2152;

constexpr std::uint16_t kGreErspan2 = 0x88be;
constexpr std::uint16_t kGreErspan3 = 0x22eb;

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kMaxMplsLabels = 16;
constexpr int kMaxGtpExtensions = 16;

bool is_vlan_tpid(std::uint16_t type) noexcept {
  return type == kEtherVlan || type == kEtherQinq || type == kEtherQinqOld;
}

DecodeStatus decode_vxlan(Ctx& c, Bytes data, std::uint64_t wire, const IpAddr& src,
                          const IpAddr& dst) {
  ByteReader r(data);
  const std::uint8_t flags = r.u8();
  r.skip(3);
  const std::uint32_t vni_word = r.u32be();
  if (!r.ok()) return short_status(8, wire);
  if ((flags & 0x08) == 0) return DecodeStatus::not_tcp;  // no valid VNI: not VXLAN as we know it
  EncapLayer* l = push_layer(c, EncapKind::vxlan, &src, &dst);
  if (l == nullptr) return DecodeStatus::tunnel_limit;
  l->has_id = true;
  l->id = vni_word >> 8;
  const auto rest = after(data, wire, 8);
  return decode_ethernet(c, rest.data, rest.wire);
}

DecodeStatus decode_geneve(Ctx& c, Bytes data, std::uint64_t wire, const IpAddr& src,
                           const IpAddr& dst) {
  ByteReader r(data);
  const std::uint8_t b0 = r.u8();
  r.skip(1);  // O, C, reserved
  const std::uint16_t proto = r.u16be();
  const std::uint32_t vni_word = r.u32be();
  if (!r.ok()) return short_status(8, wire);
  if ((b0 >> 6) != 0) return DecodeStatus::not_tcp;  // RFC 8926 §3.4: only version 0 exists
  const std::size_t opt_len = std::size_t{static_cast<std::uint8_t>(b0 & 0x3f)} * 4;
  if (8 + opt_len > wire) return DecodeStatus::malformed;
  const Bytes opts = r.bytes(opt_len);
  if (!r.ok()) return short_status(8 + opt_len, wire);
  // Options must tile the option area exactly (§3.5).
  ByteReader o(opts);
  while (o.remaining() > 0) {
    o.skip(3);  // class, type
    const std::size_t len = std::size_t{static_cast<std::uint8_t>(o.u8() & 0x1f)} * 4;
    o.skip(len);
    if (!o.ok()) return DecodeStatus::malformed;
  }
  EncapLayer* l = push_layer(c, EncapKind::geneve, &src, &dst);
  if (l == nullptr) return DecodeStatus::tunnel_limit;
  l->has_id = true;
  l->id = vni_word >> 8;
  l->aux = static_cast<std::uint16_t>(opt_len);
  const auto rest = after(data, wire, 8 + opt_len);
  if (proto == kEtherTeb) return decode_ethernet(c, rest.data, rest.wire);
  return decode_ethertype(c, proto, rest.data, rest.wire);
}

DecodeStatus decode_gtpu(Ctx& c, Bytes data, std::uint64_t wire, const IpAddr& src,
                         const IpAddr& dst) {
  ByteReader r(data);
  const std::uint8_t flags = r.u8();
  const std::uint8_t type = r.u8();
  const std::uint16_t length = r.u16be();
  const std::uint32_t teid = r.u32be();
  if (!r.ok()) return short_status(8, wire);
  if ((flags >> 5) != 1 || (flags & 0x10) == 0) return DecodeStatus::not_tcp;  // GTPv1, PT=1
  if (type != 0xff) return DecodeStatus::not_tcp;  // echo, error indication, end marker, ...
  // The length counts everything after the mandatory 8 bytes; it bounds the T-PDU.
  const std::uint64_t total = 8 + std::uint64_t{length};
  if (total > wire) return DecodeStatus::malformed;
  const Bytes msg = data.first(static_cast<std::size_t>(std::min<std::uint64_t>(total, data.size())));
  ByteReader m(msg);
  m.skip(8);
  if ((flags & 0x07) != 0) {  // E, S or PN: the 4 optional bytes are all present
    m.skip(3);  // sequence number, N-PDU number
    std::uint8_t next = m.u8();
    for (int i = 0; next != 0; ++i) {
      if (i == kMaxGtpExtensions) return DecodeStatus::malformed;
      const std::size_t start = m.pos();
      const std::size_t len = std::size_t{m.u8()} * 4;  // in 4-byte units, length byte included
      if (!m.ok()) return short_status(std::uint64_t{start} + 1, total);
      if (len == 0) return DecodeStatus::malformed;
      m.skip(len - 2);
      next = m.u8();
      if (!m.ok()) return short_status(std::uint64_t{start} + len, total);
    }
  }
  if (!m.ok()) return short_status(12, total);
  EncapLayer* l = push_layer(c, EncapKind::gtpu, &src, &dst);
  if (l == nullptr) return DecodeStatus::tunnel_limit;
  l->has_id = true;
  l->id = teid;
  const auto rest = after(msg, total, m.pos());
  return decode_ip_any(c, rest.data, rest.wire);
}

DecodeStatus decode_erspan(Ctx& c, bool type3, bool has_seq, Bytes data, std::uint64_t wire,
                           const IpAddr& src, const IpAddr& dst) {
  EncapLayer* l = push_layer(c, type3 ? EncapKind::erspan3 : EncapKind::erspan2, &src, &dst);
  if (l == nullptr) return DecodeStatus::tunnel_limit;
  if (!type3 && !has_seq) {  // type I: the mirrored frame follows the GRE header directly
    l->aux = 1;
    return decode_ethernet(c, data, wire);
  }
  ByteReader r(data);
  const std::uint16_t ver_vlan = r.u16be();
  const std::uint16_t session_word = r.u16be();
  const std::uint32_t word2 = r.u32be();
  std::size_t header = 8;
  if (type3) {
    const std::uint32_t word3 = r.u32be();
    (void)word2;  // timestamp
    header = 12;
    if ((word3 & 1u) != 0) {  // O: an 8-byte platform-specific subheader follows
      r.skip(8);
      header = 20;
    }
    if (((word3 >> 10) & 0x1f) != 0) {  // FT: only Ethernet frames (0) are decoded
      if (!r.ok()) return short_status(header, wire);
      return DecodeStatus::not_ip;
    }
  }
  if (!r.ok()) return short_status(header, wire);
  const unsigned version = ver_vlan >> 12;
  if (version != (type3 ? 2u : 1u)) return DecodeStatus::malformed;
  l->has_id = true;
  l->id = session_word & 0x3ffu;
  l->aux = static_cast<std::uint16_t>(version + 1);  // ERSPAN type: II or III
  const auto rest = after(data, wire, header);
  return decode_ethernet(c, rest.data, rest.wire);
}

}  // namespace

DecodeStatus decode_ethertype(Ctx& c, std::uint16_t type, Bytes data, std::uint64_t wire) {
  ByteReader r(data);
  while (is_vlan_tpid(type)) {  // each tag consumes 4 bytes: bounded by the frame
    r.skip(2);  // TCI
    type = r.u16be();
    if (!r.ok()) return short_status(std::uint64_t{r.pos()} + 4, wire);
  }
  const auto rest = after(data, wire, r.pos());
  switch (type) {
    case kEtherIpv4:
      return decode_ipv4(c, rest.data, rest.wire);
    case kEtherIpv6:
      return decode_ipv6(c, rest.data, rest.wire);
    case kEtherMplsUnicast:
    case kEtherMplsMulticast:
      return decode_mpls(c, rest.data, rest.wire);
    case kEtherPppoeSession:
      return decode_pppoe_session(c, rest.data, rest.wire);
    default:  // ARP, LLDP, PPPoE discovery, ...
      return DecodeStatus::not_ip;
  }
}

DecodeStatus decode_ethernet(Ctx& c, Bytes frame, std::uint64_t wire) {
  if (frame.size() < kEthernetHeader) return short_status(kEthernetHeader, wire);
  const std::uint16_t type = static_cast<std::uint16_t>((frame[12] << 8) | frame[13]);
  const auto rest = after(frame, wire, kEthernetHeader);
  return decode_ethertype(c, type, rest.data, rest.wire);
}

DecodeStatus decode_udp(Ctx& c, Bytes data, std::uint64_t wire, const IpAddr& src,
                        const IpAddr& dst) {
  ByteReader r(data);
  r.skip(2);  // source port (an entropy hash for VXLAN and Geneve)
  const std::uint16_t dport = r.u16be();
  const std::uint16_t length = r.u16be();
  r.skip(2);  // checksum
  if (!r.ok()) return short_status(8, wire);
  if (dport != kPortVxlan && dport != kPortVxlanLinux && dport != kPortGeneve &&
      dport != kPortGtpu) {
    return DecodeStatus::not_tcp;
  }
  // RFC 768: the length covers header and data; 0 is allowed for jumbograms (RFC 2675): then
  // the IP length is the bound.
  std::uint64_t total = length == 0 ? wire : std::uint64_t{length};
  if (total < 8 || total > wire) return DecodeStatus::malformed;
  const Bytes dgram =
      data.first(static_cast<std::size_t>(std::min<std::uint64_t>(total, data.size())));
  const auto rest = after(dgram, total, 8);
  switch (dport) {
    case kPortVxlan:
    case kPortVxlanLinux:
      return decode_vxlan(c, rest.data, rest.wire, src, dst);
    case kPortGeneve:
      return decode_geneve(c, rest.data, rest.wire, src, dst);
    default:
      return decode_gtpu(c, rest.data, rest.wire, src, dst);
  }
}

DecodeStatus decode_gre(Ctx& c, Bytes data, std::uint64_t wire, const IpAddr& src,
                        const IpAddr& dst) {
  ByteReader r(data);
  const std::uint16_t flags = r.u16be();
  const std::uint16_t proto = r.u16be();
  if (!r.ok()) return short_status(4, wire);
  const bool csum = (flags & 0x8000) != 0;
  const bool routing = (flags & 0x4000) != 0;
  const bool key = (flags & 0x2000) != 0;
  const bool seq = (flags & 0x1000) != 0;
  // Version 1 is PPTP's enhanced GRE (PPP inside); routing (RFC 1701) is deprecated.
  if ((flags & 0x0007) != 0 || routing) return DecodeStatus::not_tcp;
  const std::size_t header = 4 + (csum ? 4 : 0) + (key ? 4 : 0) + (seq ? 4 : 0);
  if (csum) r.skip(4);
  std::uint32_t key_value = 0;
  if (key) key_value = r.u32be();
  if (seq) r.skip(4);
  if (!r.ok()) return short_status(header, wire);
  const auto rest = after(data, wire, r.pos());
  if (proto == kGreErspan2 || proto == kGreErspan3) {
    return decode_erspan(c, proto == kGreErspan3, seq, rest.data, rest.wire, src, dst);
  }
  EncapLayer* l = push_layer(c, EncapKind::gre, &src, &dst);
  if (l == nullptr) return DecodeStatus::tunnel_limit;
  l->has_id = key;
  l->id = key_value;
  l->aux = proto;
  if (proto == kEtherTeb) return decode_ethernet(c, rest.data, rest.wire);
  return decode_ethertype(c, proto, rest.data, rest.wire);
}

DecodeStatus decode_mpls(Ctx& c, Bytes data, std::uint64_t wire) {
  ByteReader r(data);
  std::uint32_t top = 0;
  std::size_t labels = 0;
  for (;;) {
    const std::uint32_t entry = r.u32be();
    if (!r.ok()) return short_status(std::uint64_t{labels} * 4 + 4, wire);
    if (labels == 0) top = entry >> 12;
    ++labels;
    if ((entry & 0x100u) != 0) break;  // bottom of stack
    if (labels == kMaxMplsLabels) return DecodeStatus::malformed;
  }
  EncapLayer* l = push_layer(c, EncapKind::mpls);
  if (l == nullptr) return DecodeStatus::tunnel_limit;
  l->has_id = true;
  l->id = top;
  l->aux = static_cast<std::uint16_t>(labels);
  const auto rest = after(data, wire, r.pos());
  if (rest.data.empty()) return short_status(1, rest.wire);
  switch (rest.data[0] >> 4) {
    case 4:
      return decode_ipv4(c, rest.data, rest.wire);
    case 6:
      return decode_ipv6(c, rest.data, rest.wire);
    case 0: {  // pseudowire control word, then the emulated Ethernet frame
      if (rest.data.size() < 4) return short_status(4, rest.wire);
      const auto frame = after(rest.data, rest.wire, 4);
      return decode_ethernet(c, frame.data, frame.wire);
    }
    default:
      return DecodeStatus::not_ip;
  }
}

DecodeStatus decode_pppoe_session(Ctx& c, Bytes data, std::uint64_t wire) {
  ByteReader r(data);
  const std::uint8_t ver_type = r.u8();
  const std::uint8_t code = r.u8();
  const std::uint16_t session = r.u16be();
  const std::uint16_t length = r.u16be();
  if (!r.ok()) return short_status(6, wire);
  if (ver_type != 0x11 || code != 0) return DecodeStatus::malformed;
  const std::uint64_t total = 6 + std::uint64_t{length};
  if (total > wire) return DecodeStatus::malformed;
  const Bytes body =
      data.first(static_cast<std::size_t>(std::min<std::uint64_t>(total, data.size())));
  ByteReader p(body);
  p.skip(6);
  std::uint16_t ppp = p.u8();
  std::size_t need = 7;
  if ((ppp & 1) == 0) {  // not compressed (RFC 1661 §6.5): two bytes
    ppp = static_cast<std::uint16_t>((ppp << 8) | p.u8());
    need = 8;
  }
  if (!p.ok()) return short_status(need, total);
  EncapLayer* l = push_layer(c, EncapKind::pppoe);
  if (l == nullptr) return DecodeStatus::tunnel_limit;
  l->has_id = true;
  l->id = session;
  const auto rest = after(body, total, p.pos());
  switch (ppp) {
    case 0x0021:
      return decode_ipv4(c, rest.data, rest.wire);
    case 0x0057:
      return decode_ipv6(c, rest.data, rest.wire);
    default:  // LCP, IPCP, ...
      return DecodeStatus::not_ip;
  }
}

}  // namespace wsdiag::decode::detail
