// Fuzz target "tunnel": the encapsulation decoders of src/decode/tunnels.cpp (VXLAN, Geneve, GTP-U,
// GRE with ERSPAN and gretap, IP-in-IP, MPLS, PPPoE) through decode::Decoder. The harness writes a
// valid outer Ethernet / IP / UDP header with the right lengths and ports around each record, so
// the fuzzer's bytes start at the tunnel header instead of spending its time on outer layers.
//
// Input: byte 0 picks the carrier (kCarriers below: the UDP port, IP protocol or EtherType that
// leads to a tunnel decoder), byte 1 the limits (bits 0-1: Limits::tunnel_layers 1..4; bit 2: tiny
// IP fragment limits); then records, each: u16le length, u8 "bytes the snaplen cut", and the bytes
// that follow the outer header (at most 256 records).
//
// Checks beyond ASan + UBSan: a decoded TCP segment's payload lies inside the record and never
// exceeds its wire length, and its encapsulation has at most Limits::tunnel_layers layers, the
// carrier's first. Wrapping is transparent: the same Ethernet frame inside one more VXLAN layer
// (outer IPv4/UDP 4789) decodes, with a second decoder, to the same status and the same segment
// (endpoints, sequence numbers, flags, options, payload bytes and wire length), its encapsulation
// one VXLAN layer longer; or to tunnel_limit when that layer is one too many (the two decoders'
// fragment stores then differ, so comparing stops there).
#include <array>
#include <cstdint>
#include <vector>

#include "fuzz_input.h"
#include "wsdiag/capture/capture.h"
#include "wsdiag/decode/decoder.h"

namespace {

using namespace wsdiag;

enum class Outer : std::uint8_t { udp4, ip4, ip6, ether };
struct Carrier {
  Outer outer;
  std::uint16_t value;  // UDP destination port, IP protocol / next header, or EtherType
  EncapKind first;      // the layer the decoder must report first (none: not checked)
};
constexpr std::array<Carrier, 13> kCarriers = {{
    {Outer::udp4, 4789, EncapKind::vxlan},
    {Outer::udp4, 8472, EncapKind::vxlan},
    {Outer::udp4, 6081, EncapKind::geneve},
    {Outer::udp4, 2152, EncapKind::gtpu},
    {Outer::ip4, 47, EncapKind::none},  // GRE, ERSPAN II/III: the kind depends on the GRE protocol
    {Outer::ip4, 4, EncapKind::ip_in_ip},
    {Outer::ip4, 41, EncapKind::ip_in_ip},
    {Outer::ip6, 47, EncapKind::none},
    {Outer::ip6, 4, EncapKind::ip_in_ip},
    {Outer::ip6, 41, EncapKind::ip_in_ip},
    {Outer::ip4, 137, EncapKind::mpls},
    {Outer::ether, 0x8847, EncapKind::mpls},
    {Outer::ether, 0x8864, EncapKind::pppoe},
}};

void be16(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) {
  v[at] = static_cast<std::uint8_t>(x >> 8);
  v[at + 1] = static_cast<std::uint8_t>(x);
}

// Ethernet + (IPv4 | IPv6) [+ UDP] headers for `inner_wire` bytes after them on the wire.
std::vector<std::uint8_t> outer_header(Outer o, std::uint16_t value, std::size_t inner_wire) {
  std::vector<std::uint8_t> h = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0, 0};
  if (o == Outer::ether) {
    be16(h, 12, value);
    return h;
  }
  const bool udp = o == Outer::udp4;
  const std::size_t l4 = udp ? 8 : 0;
  if (o == Outer::ip6) {
    be16(h, 12, 0x86dd);
    const std::size_t at = h.size();
    h.resize(at + 40);
    h[at] = 0x60;
    be16(h, at + 4, static_cast<std::uint32_t>(std::min<std::size_t>(inner_wire, 0xffff)));
    h[at + 6] = static_cast<std::uint8_t>(value);
    h[at + 7] = 64;
    h[at + 8 + 15] = 1;   // 2001::1 style addresses, enough to be distinct
    h[at + 24 + 15] = 2;
    h[at + 8] = 0x20;
    h[at + 24] = 0x20;
    return h;
  }
  be16(h, 12, 0x0800);
  const std::size_t at = h.size();
  h.resize(at + 20 + l4);
  h[at] = 0x45;
  be16(h, at + 2, static_cast<std::uint32_t>(std::min<std::size_t>(20 + l4 + inner_wire, 0xffff)));
  be16(h, at + 6, 0x4000);  // DF
  h[at + 8] = 64;
  h[at + 9] = static_cast<std::uint8_t>(udp ? 17 : value);
  h[at + 12] = 10;
  h[at + 15] = 1;
  h[at + 16] = 10;
  h[at + 19] = 2;
  if (udp) {
    be16(h, at + 20, 40000);
    be16(h, at + 22, value);
    be16(h, at + 24, static_cast<std::uint32_t>(std::min<std::size_t>(8 + inner_wire, 0xffff)));
  }
  return h;
}

decode::DecodeStatus run_decoder(decode::Decoder& dec, const std::vector<std::uint8_t>& frame, std::uint32_t cut,
                            std::uint64_t index, std::int64_t ts, decode::TcpSegment& seg, fuzz::Owned& keep) {
  keep = fuzz::Owned(frame);  // exact size: an over-read is an ASan report
  capture::PacketRecord rec;
  rec.index = index;
  rec.ts_ns = ts;
  rec.linktype = 1;  // Ethernet
  rec.bytes = keep.span();
  rec.caplen = static_cast<std::uint32_t>(frame.size());
  rec.wire_len = rec.caplen + cut;
  return dec.decode(rec, seg);
}

bool same_segment(const decode::TcpSegment& a, const decode::TcpSegment& b) {
  return a.src == b.src && a.dst == b.dst && a.seq == b.seq && a.ack == b.ack && a.flags == b.flags &&
         a.window == b.window && a.wscale == b.wscale && a.mss == b.mss && a.sack_permitted == b.sack_permitted &&
         a.payload_wire_len == b.payload_wire_len && a.ip_length_exceeds_frame == b.ip_length_exceeds_frame &&
         a.from_fragments == b.from_fragments && a.payload.size() == b.payload.size() &&
         std::equal(a.payload.begin(), a.payload.end(), b.payload.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput in(data, size);
  const Carrier carrier = kCarriers[in.u8() % kCarriers.size()];
  const std::uint8_t lim = in.u8();
  Limits limits;
  limits.tunnel_layers = 1 + (lim & 3);
  if ((lim & 4) != 0) {
    limits.ip_frag_datagrams = 2;
    limits.ip_frag_bytes = 3000;
  }
  decode::Decoder plain(limits), wrapped(limits);
  decode::TcpSegment a, b;
  fuzz::Owned keep_a(fuzz::ByteSpan{}), keep_b(fuzz::ByteSpan{});
  bool comparing = true;
  std::int64_t ts = 1'700'000'000'000'000'000;
  for (std::uint64_t index = 1; !in.empty() && index <= 256; ++index) {
    const std::size_t len = in.u16();
    const std::uint32_t cut = in.u8();
    const fuzz::ByteSpan body = in.bytes(len);
    ts += 1'000'000;
    std::vector<std::uint8_t> frame = outer_header(carrier.outer, carrier.value, body.size() + cut);
    frame.insert(frame.end(), body.begin(), body.end());
    const auto sa = run_decoder(plain, frame, cut, index, ts, a, keep_a);
    if (sa == decode::DecodeStatus::tcp) {
      WSDIAG_FUZZ_CHECK(a.payload.size() <= a.payload_wire_len);
      WSDIAG_FUZZ_CHECK(a.encap.depth >= 1 && a.encap.depth <= limits.tunnel_layers);
      if (carrier.first != EncapKind::none) WSDIAG_FUZZ_CHECK(a.encap.layers[0].kind == carrier.first);
      if (!a.from_fragments && !a.payload.empty()) {
        const auto* lo = keep_a.span().data();
        WSDIAG_FUZZ_CHECK(a.payload.data() >= lo && a.payload.data() + a.payload.size() <= lo + frame.size());
      }
    }
    if (!comparing) continue;
    // The same frame inside VXLAN (VNI 0x123) over IPv4/UDP 4789.
    const std::array<std::uint8_t, 8> vxlan = {0x08, 0, 0, 0, 0x00, 0x01, 0x23, 0};
    std::vector<std::uint8_t> outer = outer_header(Outer::udp4, 4789, vxlan.size() + frame.size() + cut);
    outer.insert(outer.end(), vxlan.begin(), vxlan.end());
    outer.insert(outer.end(), frame.begin(), frame.end());
    const auto sb = run_decoder(wrapped, outer, cut, index, ts, b, keep_b);
    if (sb == decode::DecodeStatus::tunnel_limit && sa != decode::DecodeStatus::tunnel_limit) {
      comparing = false;  // one layer too many for the wrapped copy: its fragment store differs now
      continue;
    }
    WSDIAG_FUZZ_CHECK(sa == sb);
    if (sa != decode::DecodeStatus::tcp) continue;
    WSDIAG_FUZZ_CHECK(same_segment(a, b));
    WSDIAG_FUZZ_CHECK(b.encap.depth == a.encap.depth + 1 && b.encap.layers[0].kind == EncapKind::vxlan &&
                      b.encap.layers[0].id == 0x123);
    for (std::size_t i = 0; i < a.encap.depth; ++i) WSDIAG_FUZZ_CHECK(b.encap.layers[i + 1] == a.encap.layers[i]);
  }
  return 0;
}
