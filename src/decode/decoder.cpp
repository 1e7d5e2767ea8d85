// wsdiag — packet decoder entry point and link layers; IP and TCP are in ip.cpp, encapsulations
// in tunnels.cpp.
//
// Link layers (https://www.tcpdump.org/linktypes.html):
//   EN10MB   | dst 6 | src 6 | type 2 | [ TPID 2 | TCI 2 ]* ...      TPID 0x8100 / 0x88a8 / 0x9100
//   SLL      | pkttype 2 | hatype 2 | addrlen 2 | addr 8 | protocol 2 |
//   SLL2     | protocol 2 | reserved 2 | ifindex 4 | hatype 2 | pkttype 1 | addrlen 1 | addr 8 |
//   NULL/LOOP| family 4 (host order of the capturing machine / network order) |
//   RAW      | IP header ... (version nibble decides), IPV4 / IPV6 fixed
//
// Bounds: every read is through ByteReader. When bytes run out, the result is `truncated` if the
// wire length says they existed (snaplen cut) and `malformed` if the headers claim more than the
// wire carried. IP length fields bound what follows (Ethernet padding is ignored).
#include "wsdiag/decode/decoder.h"

#include <algorithm>

#include "internal.h"

namespace wsdiag::decode {

using detail::Ctx;
using detail::short_status;

namespace {

constexpr int kDltNull = 0;
constexpr int kDltEn10mb = 1;
constexpr int kDltRaw = 12;     // DLT_RAW on Linux and most systems
constexpr int kDltRawBsd = 14;  // DLT_RAW on OpenBSD / BSD/OS
constexpr int kLinktypeRaw = 101;
constexpr int kDltLoop = 108;
constexpr int kDltLinuxSll = 113;
constexpr int kDltIpv4 = 228;
constexpr int kDltIpv6 = 229;
constexpr int kDltLinuxSll2 = 276;

constexpr std::uint16_t kArphrdNetlink = 824;

constexpr std::uint32_t kAfInet = 2;
constexpr std::uint32_t kAfInet6Linux = 10;
constexpr std::uint32_t kAfInet6Bsd = 24;  // NetBSD, OpenBSD, BSD/OS
constexpr std::uint32_t kAfInet6FreeBsd = 28;
constexpr std::uint32_t kAfInet6Darwin = 30;

/// NULL/LOOP address family -> EtherType (0 when neither IPv4 nor IPv6).
std::uint16_t from_address_family(std::uint32_t af) noexcept {
  if (af == kAfInet) return detail::kEtherIpv4;
  if (af == kAfInet6Linux || af == kAfInet6Bsd || af == kAfInet6FreeBsd || af == kAfInet6Darwin) {
    return detail::kEtherIpv6;
  }
  return 0;
}

DecodeStatus decode_link(Ctx& c, int linktype, Bytes data, std::uint64_t wire) {
  ByteReader r(data);
  switch (linktype) {
    case kDltEn10mb:
      return detail::decode_ethernet(c, data, wire);
    case kDltLinuxSll: {
      if (data.size() < 16) return short_status(16, wire);
      r.skip(2);
      const std::uint16_t hatype = r.u16be();
      r.skip(10);
      const std::uint16_t proto = r.u16be();
      if (hatype == kArphrdNetlink) return DecodeStatus::not_ip;
      const auto rest = detail::after(data, wire, 16);
      return detail::decode_ethertype(c, proto, rest.data, rest.wire);
    }
    case kDltLinuxSll2: {
      if (data.size() < 20) return short_status(20, wire);
      const std::uint16_t proto = r.u16be();
      r.skip(6);
      const std::uint16_t hatype = r.u16be();
      if (hatype == kArphrdNetlink) return DecodeStatus::not_ip;
      const auto rest = detail::after(data, wire, 20);
      return detail::decode_ethertype(c, proto, rest.data, rest.wire);
    }
    case kDltNull:
    case kDltLoop: {
      if (data.size() < 4) return short_status(4, wire);
      const Bytes af = r.bytes(4);
      std::uint16_t type = from_address_family(std::uint32_t{af[0]} | (std::uint32_t{af[1]} << 8) |
                                               (std::uint32_t{af[2]} << 16) |
                                               (std::uint32_t{af[3]} << 24));
      if (type == 0) {
        type = from_address_family((std::uint32_t{af[0]} << 24) | (std::uint32_t{af[1]} << 16) |
                                   (std::uint32_t{af[2]} << 8) | std::uint32_t{af[3]});
      }
      if (type == 0) return DecodeStatus::not_ip;
      const auto rest = detail::after(data, wire, 4);
      return detail::decode_ethertype(c, type, rest.data, rest.wire);
    }
    case kDltRaw:
    case kDltRawBsd:
    case kLinktypeRaw:
      return detail::decode_ip_any(c, data, wire);
    case kDltIpv4:
      return detail::decode_ipv4(c, data, wire);
    case kDltIpv6:
      return detail::decode_ipv6(c, data, wire);
    default:
      return DecodeStatus::unsupported_link;
  }
}

}  // namespace

struct Decoder::Fragments {
  explicit Fragments(const Limits& limits) : table(limits) {}
  FragmentTable table;
};

const char* to_string(DecodeStatus s) noexcept {
  switch (s) {
    case DecodeStatus::tcp:
      return "tcp";
    case DecodeStatus::not_ip:
      return "not-ip";
    case DecodeStatus::not_tcp:
      return "not-tcp";
    case DecodeStatus::fragment_pending:
      return "fragment-pending";
    case DecodeStatus::fragment_dropped:
      return "fragment-dropped";
    case DecodeStatus::truncated:
      return "truncated";
    case DecodeStatus::malformed:
      return "malformed";
    case DecodeStatus::unsupported_link:
      return "unsupported-link";
    case DecodeStatus::tunnel_limit:
      return "tunnel-limit";
  }
  return "unknown";
}

bool link_type_supported(int linktype) noexcept {
  switch (linktype) {
    case kDltNull:
    case kDltEn10mb:
    case kDltRaw:
    case kDltRawBsd:
    case kLinktypeRaw:
    case kDltLoop:
    case kDltLinuxSll:
    case kDltIpv4:
    case kDltIpv6:
    case kDltLinuxSll2:
      return true;
    default:
      return false;
  }
}

Decoder::Decoder(const Limits& limits)
    : limits_(limits), frags_(std::make_unique<Fragments>(limits)) {}

Decoder::~Decoder() = default;

DecodeStatus Decoder::decode(const capture::PacketRecord& rec, TcpSegment& out) {
  const Bytes data = rec.bytes.first(std::min<std::size_t>(rec.bytes.size(), rec.caplen));
  return decode(rec.linktype, data, rec.wire_len, rec.ts_ns, out);
}

DecodeStatus Decoder::decode(int linktype, Bytes data, std::uint64_t wire_len, std::int64_t ts_ns,
                             TcpSegment& out) {
  out = TcpSegment{};
  ++stats_.packets;
  const std::uint64_t wire = std::max<std::uint64_t>(wire_len, data.size());
  Ctx c{out, stats_, frags_->table, ts_ns,
        std::min<std::size_t>(limits_.tunnel_layers, Encap::kMaxLayers)};
  const DecodeStatus st = decode_link(c, linktype, data, wire);

  switch (st) {
    case DecodeStatus::tcp:
      ++stats_.tcp;
      if (!out.encap.empty()) ++stats_.tunnelled;
      break;
    case DecodeStatus::not_ip:
      ++stats_.not_ip;
      break;
    case DecodeStatus::not_tcp:
      ++stats_.not_tcp;
      break;
    case DecodeStatus::fragment_pending:
      break;
    case DecodeStatus::fragment_dropped:
      ++stats_.fragments_dropped;
      break;
    case DecodeStatus::truncated:
      ++stats_.truncated;
      break;
    case DecodeStatus::malformed:
      ++stats_.malformed;
      break;
    case DecodeStatus::unsupported_link:
      ++stats_.unsupported_link;
      break;
    case DecodeStatus::tunnel_limit:
      ++stats_.tunnel_limit;
      break;
  }
  stats_.fragments_evicted = frags_->table.evicted();
  if (st != DecodeStatus::tcp) out = TcpSegment{};
  return st;
}

}  // namespace wsdiag::decode
