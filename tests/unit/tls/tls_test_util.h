// Helpers for the TLS unit tests: hex, hand-built handshake messages and records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wsdiag::tls::test {

inline std::vector<std::uint8_t> hex(std::string_view s) {
  std::vector<std::uint8_t> out;
  int hi = -1;
  for (char c : s) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline void put16(std::vector<std::uint8_t>& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put24(std::vector<std::uint8_t>& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  put16(b, v & 0xFFFF);
}
inline void append(std::vector<std::uint8_t>& b, const std::vector<std::uint8_t>& x) { b.insert(b.end(), x.begin(), x.end()); }
inline void append(std::vector<std::uint8_t>& b, std::string_view s) { b.insert(b.end(), s.begin(), s.end()); }

inline std::vector<std::uint8_t> extension(std::uint16_t type, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> e;
  put16(e, type);
  put16(e, data.size());
  append(e, data);
  return e;
}

/// A handshake message (type + 24-bit length + body).
inline std::vector<std::uint8_t> handshake(std::uint8_t type, const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> m{type};
  put24(m, body.size());
  append(m, body);
  return m;
}

/// A record (type, 0x0303 or the given version, length, body).
inline std::vector<std::uint8_t> record(std::uint8_t type, const std::vector<std::uint8_t>& body,
                                        std::uint16_t version = 0x0303) {
  std::vector<std::uint8_t> r{type};
  put16(r, version);
  put16(r, body.size());
  append(r, body);
  return r;
}

/// A ClientHello body: random = 32 bytes of `rnd`, SNI, ALPN list, TLS 1.3 + 1.2 offered, key_share.
inline std::vector<std::uint8_t> client_hello_body(std::uint8_t rnd, std::string_view sni,
                                                   const std::vector<std::string>& alpn, bool early = false) {
  std::vector<std::uint8_t> b;
  put16(b, 0x0303);
  b.insert(b.end(), 32, rnd);
  b.push_back(32);
  b.insert(b.end(), 32, 0xEE);  // legacy_session_id
  put16(b, 4);
  put16(b, 0x1301);
  put16(b, 0xC02F);
  b.push_back(1);
  b.push_back(0);
  std::vector<std::uint8_t> exts;
  {
    std::vector<std::uint8_t> name{0};
    put16(name, sni.size());
    append(name, sni);
    std::vector<std::uint8_t> list;
    put16(list, name.size());
    append(list, name);
    append(exts, extension(0, list));
  }
  if (!alpn.empty()) {
    std::vector<std::uint8_t> names;
    for (const auto& a : alpn) {
      names.push_back(static_cast<std::uint8_t>(a.size()));
      append(names, a);
    }
    std::vector<std::uint8_t> list;
    put16(list, names.size());
    append(list, names);
    append(exts, extension(16, list));
  }
  append(exts, extension(43, {6, 0x3A, 0x3A, 0x03, 0x04, 0x03, 0x03}));  // GREASE, 1.3, 1.2
  append(exts, extension(51, {0x00, 0x00}));
  if (early) append(exts, extension(42, {}));
  put16(b, exts.size());
  append(b, exts);
  return b;
}

/// A ServerHello body with the cipher suite, and supported_versions when tls13.
inline std::vector<std::uint8_t> server_hello_body(std::uint16_t cipher, bool tls13, std::uint8_t rnd = 0x55,
                                                   std::string_view alpn = {}) {
  std::vector<std::uint8_t> b;
  put16(b, 0x0303);
  b.insert(b.end(), 32, rnd);
  b.push_back(0);
  put16(b, cipher);
  b.push_back(0);
  std::vector<std::uint8_t> exts;
  if (tls13) append(exts, extension(43, {0x03, 0x04}));
  if (!alpn.empty()) {
    std::vector<std::uint8_t> list;
    put16(list, alpn.size() + 1);
    list.push_back(static_cast<std::uint8_t>(alpn.size()));
    append(list, alpn);
    append(exts, extension(16, list));
  }
  put16(b, exts.size());
  append(b, exts);
  return b;
}

}  // namespace wsdiag::tls::test
