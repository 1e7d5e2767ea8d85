// Helpers for the TLS unit tests: TLS 1.3 records sealed with libcrypto (the tests' own sealer,
// RFC 8446 §5.2-§5.3: inner content type, one byte of padding, nonce = iv XOR sequence number),
// and the hex of key log lines.
#pragma once

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wsdiag/tls/crypto.h"

namespace wsdiag::tls::test {

struct Sealer {
  const SuiteInfo* suite;
  TrafficKeys k;
  std::uint64_t seq = 0;
  explicit Sealer(const std::vector<std::uint8_t>& secret, std::uint16_t suite_id = 0x1301)
      : suite(suite_info(suite_id)) {
    REQUIRE(suite != nullptr);
    REQUIRE(tls13_traffic_keys(*suite, secret, k));
  }
  std::vector<std::uint8_t> seal(std::uint8_t inner_type, const std::vector<std::uint8_t>& plain) {
    std::vector<std::uint8_t> inner = plain;
    inner.push_back(inner_type);
    inner.push_back(0);  // one byte of padding
    const std::size_t len = inner.size() + 16;
    std::vector<std::uint8_t> rec{23, 3, 3, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)};
    std::array<std::uint8_t, 12> nonce = k.iv;
    for (int i = 0; i < 8; ++i) nonce[static_cast<std::size_t>(11 - i)] ^= static_cast<std::uint8_t>(seq >> (8 * i));
    ++seq;
    const EVP_CIPHER* c = suite->bulk == Bulk::aes_128_gcm   ? EVP_aes_128_gcm()
                          : suite->bulk == Bulk::aes_256_gcm ? EVP_aes_256_gcm()
                                                             : EVP_chacha20_poly1305();
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::vector<std::uint8_t> out(inner.size() + 16);
    int n = 0, f = 0;
    REQUIRE(EVP_EncryptInit_ex(ctx, c, nullptr, k.key.data(), nonce.data()) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, nullptr, &n, rec.data(), 5) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &n, inner.data(), static_cast<int>(inner.size())) == 1);
    REQUIRE(EVP_EncryptFinal_ex(ctx, out.data() + n, &f) == 1);
    REQUIRE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + inner.size()) == 1);
    EVP_CIPHER_CTX_free(ctx);
    rec.insert(rec.end(), out.begin(), out.end());
    return rec;
  }
};

inline std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

inline std::string hex_of(const std::vector<std::uint8_t>& v) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto b : v) {
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

/// The hex of a client random of 32 bytes `b`, as a key log line has it.
inline std::string random_hex(std::uint8_t b) { return hex_of(std::vector<std::uint8_t>(32, b)); }

}  // namespace wsdiag::tls::test
