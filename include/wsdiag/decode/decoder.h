// wsdiag — decode layer: link layer -> IPv4/IPv6 -> TCP.
//
// Link types: Ethernet (with any number of 802.1Q/802.1ad tags), Linux cooked SLL and SLL2,
// NULL/LOOP (BSD loopback, either byte order), raw IP (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6).
// Encapsulations (tunnels.cpp), nested up to Limits::tunnel_layers: VXLAN (UDP 4789, 8472),
// Geneve (UDP 6081, options), GRE with key/sequence carrying IP, Ethernet (gretap) or MPLS,
// ERSPAN types I-III, IPv4/IPv6 in IPv4/IPv6, GTP-U (UDP 2152, extension headers), MPLS label
// stacks, PPPoE sessions. The TCP segment is the innermost one; `TcpSegment::encap` says what
// it came in.
// IPv4 with options; IPv6 with extension headers; IP fragments reassembled within Limits.
// Checksums are not verified (offload makes them wrong on the sender's own captures).
//
// Every read goes through ByteReader. A packet cut by the snaplen decodes as far as its bytes go:
// TCP payload that is missing is reported through `payload_wire_len > payload.size()`.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "wsdiag/capture/capture.h"
#include "wsdiag/common/encap.h"
#include "wsdiag/common/limits.h"
#include "wsdiag/common/types.h"

namespace wsdiag::decode {

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

/// TCP options present in a segment (TcpSegment::options), one bit per kind.
namespace tcp_opt {
inline constexpr std::uint8_t mss = 0x01;        ///< kind 2
inline constexpr std::uint8_t wscale = 0x02;     ///< kind 3
inline constexpr std::uint8_t sack_perm = 0x04;  ///< kind 4
inline constexpr std::uint8_t sack = 0x08;       ///< kind 5
inline constexpr std::uint8_t timestamp = 0x10;  ///< kind 8
inline constexpr std::uint8_t other = 0x20;      ///< any other kind (MD5, TCP-AO, MPTCP, ...)
}  // namespace tcp_opt

struct TcpSegment {
  Endpoint src;
  Endpoint dst;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::int8_t wscale = -1;  ///< window scale option, -1 if absent
  std::uint16_t mss = 0;    ///< MSS option, 0 if absent
  bool sack_permitted = false;
  std::uint8_t options = 0;  ///< tcp_opt bits of the options present
  /// The innermost IP header: version (4 or 6), TTL / hop limit, IPv4 identification (0 for IPv6).
  /// For a datagram rebuilt from fragments, those of the fragment that completed it.
  std::uint8_t ip_version = 0;
  std::uint8_t ttl = 0;
  std::uint16_t ip_id = 0;
  /// Captured payload bytes. Valid until the next Decoder::decode() call (it may point into the
  /// capture buffer or into the decoder's fragment-reassembly buffer).
  Bytes payload;
  /// Payload length on the wire (from the IP length): more than payload.size() when the snaplen cut it.
  std::uint32_t payload_wire_len = 0;
  /// The IP header's length fields claim more bytes than the link layer carried (caplen == len).
  bool ip_length_exceeds_frame = false;
  /// The segment came out of IP fragment reassembly.
  bool from_fragments = false;
  /// Tunnels / label stacks / PPPoE around the segment, outermost first (empty: none).
  Encap encap;

  [[nodiscard]] bool has(std::uint8_t f) const noexcept { return (flags & f) != 0; }
  [[nodiscard]] bool truncated() const noexcept { return payload_wire_len > payload.size(); }
};

enum class DecodeStatus : std::uint8_t {
  tcp,               ///< a TCP segment was decoded into `out`
  not_ip,            ///< link layer carried something else (ARP, LLDP, ...)
  not_tcp,           ///< IP but not TCP (UDP, ICMP, ...)
  fragment_pending,  ///< an IP fragment was stored; its datagram is not complete yet
  fragment_dropped,  ///< an IP fragment could not be kept (limits, overlap, bad offsets)
  truncated,         ///< the snaplen cut the packet before the TCP header ended
  malformed,         ///< bytes present but invalid (bad IP version, header length, ...)
  unsupported_link,  ///< the capture's link type is not one we decode
  tunnel_limit,      ///< nested deeper than Limits::tunnel_layers encapsulations
};

const char* to_string(DecodeStatus s) noexcept;

/// Per-capture counters of what the decoder saw, for the report's capture summary.
struct DecodeStats {
  std::uint64_t packets = 0;
  std::uint64_t tcp = 0;
  std::uint64_t not_ip = 0;
  std::uint64_t not_tcp = 0;
  std::uint64_t truncated = 0;  ///< cut before the end of the TCP header
  std::uint64_t payload_truncated = 0;  ///< TCP segments whose payload the snaplen cut
  std::uint64_t malformed = 0;
  std::uint64_t fragments = 0;  ///< IP fragments seen
  std::uint64_t fragments_reassembled = 0;  ///< datagrams rebuilt from fragments
  std::uint64_t fragments_dropped = 0;
  std::uint64_t fragments_evicted = 0;  ///< incomplete datagrams evicted (timeout or limits)
  std::uint64_t unsupported_link = 0;
  std::uint64_t ip_length_exceeds_frame = 0;  ///< IP length fields claimed more than the frame had
  std::uint64_t ip_total_length_zero = 0;     ///< IPv4 total length 0 (TSO): frame length used
  std::uint64_t tunnelled = 0;     ///< TCP segments decoded from inside an encapsulation
  std::uint64_t tunnel_limit = 0;  ///< packets nested deeper than Limits::tunnel_layers
};

/// True if decode() understands this DLT/LINKTYPE value: 0 NULL, 1 EN10MB, 12 and 14 RAW (Linux,
/// OpenBSD), 101 LINKTYPE_RAW, 108 LOOP, 113 LINUX_SLL, 228 IPV4, 229 IPV6, 276 LINUX_SLL2.
bool link_type_supported(int linktype) noexcept;

class Decoder {
 public:
  explicit Decoder(const Limits& limits = {});
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// Decodes one capture record. On DecodeStatus::tcp, `out` holds the segment.
  DecodeStatus decode(const capture::PacketRecord& rec, TcpSegment& out);
  /// Decodes one raw packet of link type `linktype` (captured bytes `data`, `wire_len` on the
  /// wire): the entry point for fuzzing and tests. Allocation-free unless IP fragments are kept.
  DecodeStatus decode(int linktype, Bytes data, std::uint64_t wire_len, std::int64_t ts_ns,
                      TcpSegment& out);

  [[nodiscard]] const DecodeStats& stats() const noexcept { return stats_; }

 private:
  struct Fragments;  // IPv4/IPv6 fragment reassembly state (bounded)
  Limits limits_;
  DecodeStats stats_;
  std::unique_ptr<Fragments> frags_;
};

}  // namespace wsdiag::decode
