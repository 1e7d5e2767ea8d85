// wsdiag — decode layer internals shared by decoder.cpp (link layers), ip.cpp (IPv4/IPv6/TCP)
// and tunnels.cpp (encapsulations). Not a public header.
//
// Every function takes the captured bytes of its layer (`data`, never more than the enclosing
// length fields allow) and the layer's length on the wire (`wire`, >= data.size()), so a snaplen
// cut (truncated) is told apart from headers that lie (malformed) at every depth.
#pragma once

#include <cstdint>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/decode/decoder.h"
#include "wsdiag/decode/ip_fragments.h"

namespace wsdiag::decode::detail {

/// Per-call state shared by the layer functions.
struct Ctx {
  TcpSegment& out;
  DecodeStats& stats;
  FragmentTable& frags;
  std::int64_t ts_ns;
  std::size_t max_layers;       ///< min(Limits::tunnel_layers, Encap::kMaxLayers)
  bool fragment_used = false;   ///< one reassembly per packet (its buffer backs later views)
};

inline constexpr std::uint16_t kEtherIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherIpv6 = 0x86dd;
inline constexpr std::uint16_t kEtherVlan = 0x8100;
inline constexpr std::uint16_t kEtherQinq = 0x88a8;
inline constexpr std::uint16_t kEtherQinqOld = 0x9100;
inline constexpr std::uint16_t kEtherMplsUnicast = 0x8847;
inline constexpr std::uint16_t kEtherMplsMulticast = 0x8848;
inline constexpr std::uint16_t kEtherPppoeSession = 0x8864;
inline constexpr std::uint16_t kEtherTeb = 0x6558;  ///< transparent Ethernet bridging (gretap)

/// Status when `need` bytes from the start of a layer are not all captured: the snaplen cut them
/// if the wire carried them, otherwise the headers lie.
inline DecodeStatus short_status(std::uint64_t need, std::uint64_t wire) noexcept {
  return need <= wire ? DecodeStatus::truncated : DecodeStatus::malformed;
}

/// The bytes after the first `n` of a layer: captured part and wire length (n <= data.size()).
struct Rest {
  Bytes data;
  std::uint64_t wire;
};
inline Rest after(Bytes data, std::uint64_t wire, std::size_t n) noexcept {
  return {data.subspan(n), wire - n};
}

/// Adds an encapsulation layer to c.out.encap; nullptr when the nesting limit is reached (the
/// caller returns DecodeStatus::tunnel_limit).
EncapLayer* push_layer(Ctx& c, EncapKind kind, const IpAddr* src = nullptr,
                       const IpAddr* dst = nullptr) noexcept;

// ip.cpp
DecodeStatus decode_ipv4(Ctx& c, Bytes ip, std::uint64_t wire);
DecodeStatus decode_ipv6(Ctx& c, Bytes ip, std::uint64_t wire);
/// IPv4 or IPv6 by the version nibble.
DecodeStatus decode_ip_any(Ctx& c, Bytes ip, std::uint64_t wire);
/// What follows an IP header (or IPv6 extension chain) with protocol `proto`.
DecodeStatus decode_ip_payload(Ctx& c, std::uint8_t proto, Bytes data, std::uint64_t wire,
                               const IpAddr& src, const IpAddr& dst);

// tunnels.cpp
/// Bytes after an EtherType: VLAN tags, IPv4, IPv6, MPLS, PPPoE session; anything else not_ip.
DecodeStatus decode_ethertype(Ctx& c, std::uint16_t type, Bytes data, std::uint64_t wire);
/// A whole Ethernet frame (destination, source, EtherType, ...).
DecodeStatus decode_ethernet(Ctx& c, Bytes frame, std::uint64_t wire);
DecodeStatus decode_udp(Ctx& c, Bytes data, std::uint64_t wire, const IpAddr& src,
                        const IpAddr& dst);
DecodeStatus decode_gre(Ctx& c, Bytes data, std::uint64_t wire, const IpAddr& src,
                        const IpAddr& dst);
DecodeStatus decode_mpls(Ctx& c, Bytes data, std::uint64_t wire);
DecodeStatus decode_pppoe_session(Ctx& c, Bytes data, std::uint64_t wire);

}  // namespace wsdiag::decode::detail
