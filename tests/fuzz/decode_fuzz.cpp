// Fuzz target "decode": raw link-layer packets through decode::Decoder (every supported link type,
// VLAN tags, IPv4 options, IPv6 extension headers, IP fragment reassembly within Limits).
//
// Input: byte 0 picks the link type (one of those decode() supports, or an unsupported one), byte
// 1 bit 0 picks tiny fragment limits; then records, each: u16le length, u8 "bytes the snaplen cut"
// (wire length = length + that), u8 milliseconds since the previous record, and the bytes. Each
// record is an exact-size heap copy (an over-read is an AddressSanitizer report).
//
// Checks beyond the sanitizers: a decoded TCP segment's captured payload never exceeds its wire
// length, and (unless it came out of fragment reassembly) lies inside the record's bytes.
#include <array>
#include <cstdint>

#include "fuzz_input.h"
#include "wsdiag/capture/capture.h"
#include "wsdiag/decode/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wsdiag;
  fuzz::FuzzInput in(data, size);
  // NULL, EN10MB, RAW (Linux, OpenBSD), LINKTYPE_RAW, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2; USER0.
  static constexpr std::array<int, 11> kLinkTypes = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147};
  const int linktype = kLinkTypes[in.u8() % kLinkTypes.size()];
  Limits limits;
  if ((in.u8() & 1) != 0) {
    limits.ip_frag_datagrams = 2;
    limits.ip_frag_bytes = 3000;
    limits.ip_frag_timeout_ns = 5'000'000;
  }
  decode::Decoder dec(limits);
  decode::TcpSegment seg;
  std::int64_t ts = 1'700'000'000'000'000'000;
  for (std::uint64_t index = 1; !in.empty() && index <= 256; ++index) {
    const std::size_t len = in.u16();
    const std::uint32_t cut = in.u8();
    ts += static_cast<std::int64_t>(in.u8()) * 1'000'000;
    const fuzz::Owned bytes(in.bytes(len));
    capture::PacketRecord rec;
    rec.index = index;
    rec.ts_ns = ts;
    rec.linktype = linktype;
    rec.bytes = bytes.span();
    rec.caplen = static_cast<std::uint32_t>(rec.bytes.size());
    rec.wire_len = rec.caplen + cut;
    const auto st = dec.decode(rec, seg);
    if (st != decode::DecodeStatus::tcp) continue;
    WSDIAG_FUZZ_CHECK(seg.payload.size() <= seg.payload_wire_len);
    if (!seg.from_fragments && !seg.payload.empty()) {
      const auto* lo = rec.bytes.data();
      const auto* hi = lo + rec.bytes.size();
      WSDIAG_FUZZ_CHECK(seg.payload.data() >= lo && seg.payload.data() + seg.payload.size() <= hi);
    }
  }
  const auto& s = dec.stats();
  WSDIAG_FUZZ_CHECK(s.tcp + s.not_ip + s.not_tcp + s.truncated + s.malformed + s.unsupported_link + s.fragments <=
                    s.packets + s.fragments_reassembled + s.fragments);
  return 0;
}
