// wsdiag — the encapsulation a packet arrived in (tunnels, label stacks, PPPoE), as a fixed-size
// fact: the decoder fills it per packet, the flow layer keeps it per connection and direction,
// the report shows it. No heap, no views into capture buffers.
#pragma once

#include <array>
#include <cstdint>

#include "wsdiag/common/types.h"

namespace wsdiag {

enum class EncapKind : std::uint8_t {
  none = 0,
  vxlan,     ///< RFC 7348, UDP 4789 (8472: Linux's default port, flannel)
  geneve,    ///< RFC 8926, UDP 6081
  gre,       ///< RFC 2784/2890 (id: key when has_id), aux: the protocol type (0x0800, 0x6558, ...)
  erspan2,   ///< ERSPAN type II (GRE 0x88be), id: session id
  erspan3,   ///< ERSPAN type III (GRE 0x22eb), id: session id
  ip_in_ip,  ///< IPv4 or IPv6 directly in IPv4/IPv6 (protocol 4 / 41): outer and inner family
  gtpu,      ///< 3GPP TS 29.281, UDP 2152, id: TEID
  mpls,      ///< RFC 3032 label stack, id: top label, aux: labels in the stack
  pppoe,     ///< RFC 2516 session stage, id: session id
};

/// One layer of encapsulation, outermost first in Encap::layers.
struct EncapLayer {
  EncapKind kind = EncapKind::none;
  bool has_id = false;     ///< `id` was on the wire (a GRE key is optional)
  std::uint16_t aux = 0;   ///< per kind (see EncapKind)
  std::uint32_t id = 0;    ///< VNI, key, session id, TEID, top label
  /// The IP header that carried this layer (family 0 for MPLS and PPPoE, which have none).
  IpAddr src{0, {}};
  IpAddr dst{0, {}};
  /// Inner network family (4 or 6) for ip_in_ip, else 0.
  std::uint8_t inner_family = 0;
  friend bool operator==(const EncapLayer&, const EncapLayer&) = default;
};

struct Encap {
  /// Fixed capacity: at most this many layers are decoded (Limits::tunnel_layers may lower it).
  static constexpr std::size_t kMaxLayers = 4;
  std::array<EncapLayer, kMaxLayers> layers{};
  std::uint8_t depth = 0;

  [[nodiscard]] bool empty() const noexcept { return depth == 0; }
  friend bool operator==(const Encap&, const Encap&) = default;
  /// The virtual network a connection lives in: VXLAN/Geneve VNI + 1 of the innermost such
  /// layer, 0 when there is none. Part of the flow key (see flow_table.h).
  [[nodiscard]] std::uint32_t virtual_network() const noexcept {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < depth && i < kMaxLayers; ++i) {
      const auto& l = layers[i];
      if (l.kind == EncapKind::vxlan || l.kind == EncapKind::geneve) v = l.id + 1;
    }
    return v;
  }
};

const char* to_string(EncapKind k) noexcept;

}  // namespace wsdiag
