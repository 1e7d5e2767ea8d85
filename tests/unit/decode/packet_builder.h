// Test helper: builds link/IP/TCP packets byte by byte for the decode tests.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace wsdiag::test::pb {

using Buf = std::vector<std::uint8_t>;

inline void put8(Buf& b, std::uint8_t v) { b.push_back(v); }
inline void put16(Buf& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Buf& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
inline void put32le(Buf& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void append(Buf& b, const Buf& more) { b.insert(b.end(), more.begin(), more.end()); }
inline Buf cat(Buf a, const Buf& b) {
  append(a, b);
  return a;
}
/// n bytes 0, 1, 2, ... (mod 251) starting at `seed`, so misplaced bytes are noticed.
inline Buf pattern(std::size_t n, std::uint8_t seed = 0) {
  Buf b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((seed + i) % 251);
  return b;
}

struct Tcp {
  std::uint16_t sport = 40000;
  std::uint16_t dport = 80;
  std::uint32_t seq = 0x01020304;
  std::uint32_t ack = 0xa0b0c0d0;
  std::uint8_t flags = 0x18;  // PSH|ACK
  std::uint16_t window = 0x1234;
  Buf options;  ///< padded with EOL to a multiple of 4
  Buf payload;
  std::optional<std::uint8_t> data_offset;  ///< overrides the computed value (in 32-bit words)
};

inline Buf tcp(const Tcp& t) {
  Buf opts = t.options;
  while (opts.size() % 4 != 0) opts.push_back(0);
  Buf b;
  put16(b, t.sport);
  put16(b, t.dport);
  put32(b, t.seq);
  put32(b, t.ack);
  const auto words = t.data_offset.value_or(static_cast<std::uint8_t>(5 + opts.size() / 4));
  put8(b, static_cast<std::uint8_t>(words << 4));
  put8(b, t.flags);
  put16(b, t.window);
  put16(b, 0xbeef);  // checksum: never verified
  put16(b, 0);
  append(b, opts);
  append(b, t.payload);
  return b;
}

using V4 = std::array<std::uint8_t, 4>;
using V6 = std::array<std::uint8_t, 16>;

struct Ip4 {
  V4 src{10, 0, 0, 1};
  V4 dst{192, 168, 1, 2};
  std::uint8_t proto = 6;
  std::uint16_t id = 0x4242;
  std::uint8_t ttl = 64;
  bool more_fragments = false;
  bool dont_fragment = false;
  std::uint16_t frag_offset8 = 0;  ///< in 8-byte units
  Buf options;                     ///< padded with EOL to a multiple of 4
  std::optional<std::uint16_t> total_length;
  std::optional<std::uint8_t> ihl;
  std::uint8_t version = 4;
};

inline Buf ipv4(const Ip4& h, const Buf& payload) {
  Buf opts = h.options;
  while (opts.size() % 4 != 0) opts.push_back(0);
  const auto ihl = h.ihl.value_or(static_cast<std::uint8_t>(5 + opts.size() / 4));
  Buf b;
  put8(b, static_cast<std::uint8_t>((h.version << 4) | (ihl & 0x0f)));
  put8(b, 0);
  put16(b, h.total_length.value_or(static_cast<std::uint16_t>(20 + opts.size() + payload.size())));
  put16(b, h.id);
  std::uint16_t ff = h.frag_offset8 & 0x1fff;
  if (h.more_fragments) ff |= 0x2000;
  if (h.dont_fragment) ff |= 0x4000;
  put16(b, ff);
  put8(b, h.ttl);
  put8(b, h.proto);
  put16(b, 0);
  b.insert(b.end(), h.src.begin(), h.src.end());
  b.insert(b.end(), h.dst.begin(), h.dst.end());
  append(b, opts);
  append(b, payload);
  return b;
}

inline V6 v6addr(std::uint8_t last) {
  V6 a{0x20, 0x01, 0x0d, 0xb8};
  a[15] = last;
  return a;
}

/// IPv6 fixed header + `rest` (extension headers and upper layer already built).
inline Buf ipv6(std::uint8_t next, const Buf& rest, V6 src = v6addr(1), V6 dst = v6addr(2),
                std::optional<std::uint16_t> payload_length = std::nullopt) {
  Buf b;
  put32(b, 0x60000000);
  put16(b, payload_length.value_or(static_cast<std::uint16_t>(rest.size())));
  put8(b, next);
  put8(b, 64);
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  append(b, rest);
  return b;
}

/// Hop-by-hop / routing / destination options header: body padded (PadN-free zeros) to 8k - 2.
inline Buf ext(std::uint8_t next, Buf body = {}) {
  while ((body.size() + 2) % 8 != 0) body.push_back(0);
  Buf b;
  put8(b, next);
  put8(b, static_cast<std::uint8_t>((body.size() + 2) / 8 - 1));
  append(b, body);
  return b;
}

inline Buf frag6(std::uint8_t next, std::uint16_t offset_bytes, bool more, std::uint32_t id) {
  Buf b;
  put8(b, next);
  put8(b, 0);
  put16(b, static_cast<std::uint16_t>((offset_bytes & 0xfff8) | (more ? 1 : 0)));
  put32(b, id);
  return b;
}

inline Buf ether(std::uint16_t type, const Buf& l3,
                 const std::vector<std::pair<std::uint16_t, std::uint16_t>>& tags = {}) {
  Buf b = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
  for (const auto& [tpid, tci] : tags) {
    put16(b, tpid);
    put16(b, tci);
  }
  put16(b, type);
  append(b, l3);
  return b;
}

inline Buf sll(std::uint16_t proto, const Buf& l3, std::uint16_t hatype = 1) {
  Buf b;
  put16(b, 0);  // packet type: to us
  put16(b, hatype);
  put16(b, 6);
  append(b, {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00});
  put16(b, proto);
  append(b, l3);
  return b;
}

inline Buf sll2(std::uint16_t proto, const Buf& l3, std::uint16_t hatype = 1) {
  Buf b;
  put16(b, proto);
  put16(b, 0);
  put32(b, 3);  // ifindex
  put16(b, hatype);
  put8(b, 4);  // outgoing
  put8(b, 6);
  append(b, {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00});
  append(b, l3);
  return b;
}

inline Buf null_hdr(std::uint32_t family, bool little_endian, const Buf& l3) {
  Buf b;
  if (little_endian) {
    put32le(b, family);
  } else {
    put32(b, family);
  }
  append(b, l3);
  return b;
}

}  // namespace wsdiag::test::pb
