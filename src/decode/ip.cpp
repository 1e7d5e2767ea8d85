// wsdiag — IPv4 (RFC 791 §3.1) / IPv6 (RFC 8200 §3, §4) -> TCP
// (RFC 9293 §3.1, options RFC 9293 §3.2 and RFC 7323 §2-3).
//
// IPv4 header (RFC 791 §3.1):
//    0                   1                   2                   3
//   |Version|  IHL  |    TOS        |          Total Length         |
//   |         Identification        |Flags|     Fragment Offset     |
//   |  TTL          |   Protocol    |        Header Checksum        |
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options (IHL > 5)                          |
//
// IPv6 header (RFC 8200 §3): | Version 4 | TC 8 | Flow 20 | Payload Length 16 | Next 8 | Hop 8 |
//   | Source 128 | Destination 128 |, then extension headers (§4): | Next 8 | Len 8 | ... |
//   Fragment header (§4.5): | Next 8 | Res 8 | Offset 13 | Res 2 | M 1 | Identification 32 |
//
// TCP header (RFC 9293 §3.1):
//   | Source Port 16 | Destination Port 16 | Sequence 32 | Acknowledgment 32 |
//   | Data Offset 4 | Rsrvd 4 | Flags 8 | Window 16 | Checksum 16 | Urgent Pointer 16 | Options |
//
// Bounds: every read is through ByteReader. When bytes run out, the result is `truncated` if the
// wire length says they existed (snaplen cut) and `malformed` if the headers claim more than the
// wire carried. IP length fields bound what follows (Ethernet padding is ignored).
#include <algorithm>
#include <limits>
#include <optional>

#include "internal.h"

namespace wsdiag::decode::detail {

namespace {

constexpr std::uint8_t kProtoHopByHop = 0;
constexpr std::uint8_t kProtoIpip = 4;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoIpv6 = 41;
constexpr std::uint8_t kProtoRouting = 43;
constexpr std::uint8_t kProtoFragment = 44;
constexpr std::uint8_t kProtoGre = 47;
constexpr std::uint8_t kProtoEsp = 50;
constexpr std::uint8_t kProtoAh = 51;
constexpr std::uint8_t kProtoNoNext = 59;
constexpr std::uint8_t kProtoDstOpts = 60;
constexpr std::uint8_t kProtoMpls = 137;  // MPLS in IP, RFC 4023

constexpr int kMaxIpv6ExtHeaders = 16;

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kTcpMinHeader = 20;

/// Fragments of these are reassembled: TCP, and the tunnels that can carry it straight in IP.
/// UDP is not (tunnels over UDP set DF; other UDP would only spend the fragment budget).
bool worth_reassembling(std::uint8_t proto) noexcept {
  return proto == kProtoTcp || proto == kProtoGre || proto == kProtoIpip || proto == kProtoIpv6 ||
         proto == kProtoMpls;
}

void set_addr(IpAddr& a, std::uint8_t family, Bytes raw) noexcept {
  a.family = family;
  a.bytes.fill(0);
  std::copy(raw.begin(), raw.end(), a.bytes.begin());
}
void set_addr(IpAddr& a, std::uint8_t family, const std::array<std::uint8_t, 16>& raw) noexcept {
  a.family = family;
  a.bytes = raw;
}

std::array<std::uint8_t, 16> addr_array(Bytes raw) noexcept {
  std::array<std::uint8_t, 16> a{};
  std::copy(raw.begin(), raw.end(), a.begin());
  return a;
}

/// TCP header and options. `data` holds the captured bytes of the TCP segment (never more than the
/// IP length allows), `wire` its length on the wire as the IP header gives it.
DecodeStatus decode_tcp(Bytes data, std::uint64_t wire, TcpSegment& out, DecodeStats& stats) {
  if (wire < kTcpMinHeader) return DecodeStatus::malformed;
  ByteReader r(data);
  const std::uint16_t sport = r.u16be();
  const std::uint16_t dport = r.u16be();
  const std::uint32_t seq = r.u32be();
  const std::uint32_t ack = r.u32be();
  const std::uint8_t off_byte = r.u8();
  const std::uint8_t flags = r.u8();
  const std::uint16_t window = r.u16be();
  r.skip(4);  // checksum (not verified), urgent pointer
  if (!r.ok()) return DecodeStatus::truncated;

  const std::size_t header_len = std::size_t{static_cast<std::uint8_t>(off_byte >> 4)} * 4;
  if (header_len < kTcpMinHeader || header_len > wire) return DecodeStatus::malformed;
  const Bytes options = r.bytes(header_len - kTcpMinHeader);
  if (!r.ok()) return DecodeStatus::truncated;

  out.src.port = sport;
  out.dst.port = dport;
  out.seq = seq;
  out.ack = ack;
  out.flags = flags;
  out.window = window;

  // Options (RFC 9293 §3.2): kind 0 ends, kind 1 pads, others are kind, length, data. A bad
  // length stops option parsing; the segment itself stays usable.
  ByteReader o(options);
  while (o.remaining() > 0) {
    const std::uint8_t kind = o.u8();
    if (kind == 0) break;
    if (kind == 1) continue;
    if (!o.can_read(1)) break;
    const std::uint8_t len = o.u8();
    if (len < 2 || std::size_t{len} - 2 > o.remaining()) break;
    const Bytes body = o.bytes(std::size_t{len} - 2);
    switch (kind) {
      case 2:  // MSS
        out.options |= tcp_opt::mss;
        if (len == 4) out.mss = static_cast<std::uint16_t>((body[0] << 8) | body[1]);
        break;
      case 3:  // window scale; RFC 7323 §2.3: values above 14 are used as 14
        out.options |= tcp_opt::wscale;
        if (len == 3) out.wscale = static_cast<std::int8_t>(std::min<std::uint8_t>(body[0], 14));
        break;
      case 4:  // SACK permitted
        out.options |= tcp_opt::sack_perm;
        if (len == 2) out.sack_permitted = true;
        break;
      case 5:  // SACK blocks
        out.options |= tcp_opt::sack;
        break;
      case 8:  // timestamps
        out.options |= tcp_opt::timestamp;
        break;
      default:
        out.options |= tcp_opt::other;
        break;
    }
  }

  const Bytes payload = r.rest();
  const std::uint64_t payload_wire = wire - header_len;
  out.payload = payload.first(std::min<std::uint64_t>(payload.size(), payload_wire));
  out.payload_wire_len = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(payload_wire, std::numeric_limits<std::uint32_t>::max()));
  if (out.truncated()) ++stats.payload_truncated;
  return DecodeStatus::tcp;
}


DecodeStatus decode_ipv6_chain(Ctx& c, std::uint8_t next, Bytes data, std::uint64_t wire,
                               bool allow_fragment, const std::array<std::uint8_t, 16>& src,
                               const std::array<std::uint8_t, 16>& dst);

// Stores one IPv4 or IPv6 fragment. nullopt when it completed its datagram (then in
// c.frags.datagram()), else the status to return for this packet. Only one fragment per packet
// (an outer or an inner one): a second add() would overwrite the datagram the first returned.
std::optional<DecodeStatus> add_fragment(Ctx& c, const Fragment& f) {
  if (c.fragment_used) return DecodeStatus::fragment_dropped;
  c.fragment_used = true;
  switch (c.frags.add(f)) {
    case FragmentResult::pending:
      return DecodeStatus::fragment_pending;
    case FragmentResult::dropped:
      return DecodeStatus::fragment_dropped;
    case FragmentResult::complete:
      break;
  }
  ++c.stats.fragments_reassembled;
  c.out.from_fragments = true;
  c.out.ip_length_exceeds_frame = false;
  return std::nullopt;
}

}  // namespace

DecodeStatus decode_ipv4(Ctx& c, Bytes ip, std::uint64_t ip_wire) {
  ByteReader r(ip);
  const std::uint8_t vihl = r.u8();
  r.skip(1);  // TOS
  const std::uint16_t total_field = r.u16be();
  const std::uint16_t id = r.u16be();
  const std::uint16_t frag_field = r.u16be();
  const std::uint8_t ttl = r.u8();
  const std::uint8_t proto = r.u8();
  r.skip(2);  // checksum (not verified)
  const Bytes src = r.bytes(4);
  const Bytes dst = r.bytes(4);
  if (!r.ok()) return short_status(kIpv4MinHeader, ip_wire);
  if ((vihl >> 4) != 4) return DecodeStatus::malformed;
  const std::size_t header_len = std::size_t{static_cast<std::uint8_t>(vihl & 0x0f)} * 4;
  if (header_len < kIpv4MinHeader) return DecodeStatus::malformed;

  const bool more_fragments = (frag_field & 0x2000) != 0;
  const std::uint32_t frag_offset =
      std::uint32_t{static_cast<std::uint16_t>(frag_field & 0x1fff)} * 8;
  const bool is_fragment = more_fragments || frag_offset != 0;

  std::uint64_t total = total_field;
  if (total == 0 && !is_fragment) {
    // Segmentation offload on the capturing host leaves 0 here; the frame length is the truth.
    ++c.stats.ip_total_length_zero;
    total = ip_wire;
  }
  if (total < header_len) return DecodeStatus::malformed;
  if (ip.size() < header_len) return short_status(header_len, ip_wire);
  if (total > ip_wire) {
    c.out.ip_length_exceeds_frame = true;
    ++c.stats.ip_length_exceeds_frame;
    total = ip_wire;
  }
  const std::size_t captured = static_cast<std::size_t>(std::min<std::uint64_t>(total, ip.size()));
  const Bytes body = ip.subspan(header_len, captured - header_len);
  const std::uint64_t body_wire = total - header_len;

  IpAddr sa{}, da{};
  set_addr(sa, 4, src);
  set_addr(da, 4, dst);
  c.out.src.addr = sa;
  c.out.dst.addr = da;
  // The innermost header wins: a tunnel's inner IP header is decoded after its outer one.
  c.out.ip_version = 4;
  c.out.ttl = ttl;
  c.out.ip_id = id;

  if (is_fragment) {
    ++c.stats.fragments;
    if (!worth_reassembling(proto)) return DecodeStatus::not_tcp;
    if (body.size() < body_wire || c.out.ip_length_exceeds_frame) {
      return DecodeStatus::fragment_dropped;  // a fragment missing bytes can never complete
    }
    Fragment f;
    f.key.family = 4;
    f.key.protocol = proto;
    f.key.id = id;
    f.key.src = addr_array(src);
    f.key.dst = addr_array(dst);
    f.offset = frag_offset;
    f.more = more_fragments;
    f.next_header = proto;
    f.data = body;
    f.ts_ns = c.ts_ns;
    if (const auto st = add_fragment(c, f)) return *st;
    const Bytes datagram = c.frags.datagram();
    return decode_ip_payload(c, proto, datagram, datagram.size(), sa, da);
  }
  return decode_ip_payload(c, proto, body, body_wire, sa, da);
}

DecodeStatus decode_ipv6(Ctx& c, Bytes ip, std::uint64_t ip_wire) {
  ByteReader r(ip);
  const std::uint8_t version = static_cast<std::uint8_t>(r.u8() >> 4);
  r.skip(3);  // traffic class, flow label
  const std::uint16_t payload_len = r.u16be();
  const std::uint8_t next = r.u8();
  const std::uint8_t hop_limit = r.u8();
  const Bytes src = r.bytes(16);
  const Bytes dst = r.bytes(16);
  if (!r.ok()) return short_status(kIpv6Header, ip_wire);
  if (version != 6) return DecodeStatus::malformed;
  if (payload_len == 0) {
    // Nothing follows, or a Jumbo Payload option (RFC 2675), which we do not decode.
    return next == kProtoNoNext ? DecodeStatus::not_tcp : DecodeStatus::malformed;
  }
  std::uint64_t total = kIpv6Header + payload_len;
  if (total > ip_wire) {
    c.out.ip_length_exceeds_frame = true;
    ++c.stats.ip_length_exceeds_frame;
    total = ip_wire;
  }
  const std::size_t captured = static_cast<std::size_t>(std::min<std::uint64_t>(total, ip.size()));
  set_addr(c.out.src.addr, 6, src);
  set_addr(c.out.dst.addr, 6, dst);
  c.out.ip_version = 6;
  c.out.ttl = hop_limit;
  c.out.ip_id = 0;
  return decode_ipv6_chain(c, next, ip.subspan(kIpv6Header, captured - kIpv6Header),
                           total - kIpv6Header, true, addr_array(src), addr_array(dst));
}

namespace {

/// Walks IPv6 extension headers (RFC 8200 §4) starting with `next`, over `data` (captured) of
/// `wire` bytes on the wire, up to TCP.
DecodeStatus decode_ipv6_chain(Ctx& c, std::uint8_t next, Bytes data, std::uint64_t wire,
                               bool allow_fragment, const std::array<std::uint8_t, 16>& src,
                               const std::array<std::uint8_t, 16>& dst) {
  ByteReader r(data);
  for (int i = 0; i < kMaxIpv6ExtHeaders; ++i) {
    const std::size_t start = r.pos();
    switch (next) {
      case kProtoTcp:
      case kProtoUdp:
      case kProtoGre:
      case kProtoIpip:
      case kProtoIpv6:
      case kProtoMpls: {
        IpAddr sa{}, da{};
        set_addr(sa, 6, src);
        set_addr(da, 6, dst);
        return decode_ip_payload(c, next, r.rest(), wire - start, sa, da);
      }
      case kProtoHopByHop:
      case kProtoRouting:
      case kProtoDstOpts:
      case kProtoAh: {
        const std::uint8_t following = r.u8();
        const std::uint8_t len_field = r.u8();
        if (!r.ok()) return short_status(std::uint64_t{start} + 2, wire);
        // AH counts 4-byte units minus 2 (RFC 4302 §2.2); the others 8-byte units minus 1.
        const std::size_t len =
            next == kProtoAh ? (std::size_t{len_field} + 2) * 4 : (std::size_t{len_field} + 1) * 8;
        r.skip(len - 2);
        if (!r.ok()) return short_status(std::uint64_t{start} + len, wire);
        next = following;
        break;
      }
      case kProtoFragment: {
        const std::uint8_t following = r.u8();
        r.skip(1);
        const std::uint16_t off_field = r.u16be();
        const std::uint32_t id = r.u32be();
        if (!r.ok()) return short_status(std::uint64_t{start} + 8, wire);
        const std::uint32_t offset = off_field & 0xfff8u;
        const bool more = (off_field & 1u) != 0;
        if (offset == 0 && !more) {  // atomic fragment (RFC 6946): just continue
          next = following;
          break;
        }
        ++c.stats.fragments;
        if (!allow_fragment) return DecodeStatus::malformed;
        if (!worth_reassembling(following) && following != kProtoRouting &&
            following != kProtoDstOpts && following != kProtoAh) {
          return DecodeStatus::not_tcp;  // UDP, ICMPv6, ...: not worth reassembling
        }
        const Bytes rest = r.rest();
        if (rest.size() < wire - r.pos() || c.out.ip_length_exceeds_frame) {
          return DecodeStatus::fragment_dropped;
        }
        Fragment f;
        f.key.family = 6;
        f.key.id = id;
        f.key.src = src;
        f.key.dst = dst;
        f.offset = offset;
        f.more = more;
        f.next_header = following;
        f.data = rest;
        f.ts_ns = c.ts_ns;
        if (const auto st = add_fragment(c, f)) return *st;
        const Bytes datagram = c.frags.datagram();
        return decode_ipv6_chain(c, c.frags.datagram_next_header(), datagram, datagram.size(),
                                 false, src, dst);
      }
      case kProtoEsp:  // encrypted: whatever follows is not readable
      case kProtoNoNext:
        return DecodeStatus::not_tcp;
      default:  // UDP, ICMPv6, ...
        return DecodeStatus::not_tcp;
    }
  }
  return DecodeStatus::malformed;  // absurdly long header chain
}


}  // namespace

DecodeStatus decode_ip_any(Ctx& c, Bytes ip, std::uint64_t wire) {
  if (ip.empty()) return short_status(1, wire);
  switch (ip[0] >> 4) {
    case 4:
      return decode_ipv4(c, ip, wire);
    case 6:
      return decode_ipv6(c, ip, wire);
    default:
      return DecodeStatus::malformed;
  }
}

DecodeStatus decode_ip_payload(Ctx& c, std::uint8_t proto, Bytes data, std::uint64_t wire,
                               const IpAddr& src, const IpAddr& dst) {
  switch (proto) {
    case kProtoTcp:
      return decode_tcp(data, wire, c.out, c.stats);
    case kProtoUdp:
      return decode_udp(c, data, wire, src, dst);
    case kProtoGre:
      return decode_gre(c, data, wire, src, dst);
    case kProtoIpip:
    case kProtoIpv6: {  // RFC 2003 (IPv4 in IP), RFC 4213 (IPv6 in IPv4), RFC 2473 (in IPv6)
      EncapLayer* l = push_layer(c, EncapKind::ip_in_ip, &src, &dst);
      if (l == nullptr) return DecodeStatus::tunnel_limit;
      l->inner_family = proto == kProtoIpip ? 4 : 6;
      return proto == kProtoIpip ? decode_ipv4(c, data, wire) : decode_ipv6(c, data, wire);
    }
    case kProtoMpls:
      return decode_mpls(c, data, wire);
    default:
      return DecodeStatus::not_tcp;
  }
}

EncapLayer* push_layer(Ctx& c, EncapKind kind, const IpAddr* src, const IpAddr* dst) noexcept {
  auto& e = c.out.encap;
  if (e.depth >= c.max_layers || e.depth >= Encap::kMaxLayers) return nullptr;
  EncapLayer& l = e.layers[e.depth++];
  l = EncapLayer{};
  l.kind = kind;
  if (src != nullptr) l.src = *src;
  if (dst != nullptr) l.dst = *dst;
  return &l;
}

}  // namespace wsdiag::decode::detail
