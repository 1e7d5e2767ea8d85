// wsdiag — TLS key schedule and AEAD record decryption via libcrypto. See crypto.h.
#include "wsdiag/tls/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace wsdiag::tls {

namespace {

constexpr std::array<SuiteInfo, 14> kSuites{{
    // TLS 1.3 (RFC 8446 §B.4)
    {0x1301, "TLS_AES_128_GCM_SHA256", true, Aead::aes_128_gcm, false, 16, 12},
    {0x1302, "TLS_AES_256_GCM_SHA384", true, Aead::aes_256_gcm, true, 32, 12},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, Aead::chacha20_poly1305, false, 32, 12},
    // TLS 1.2 AEAD suites (RFC 5288, RFC 5289, RFC 7905)
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, Aead::aes_128_gcm, false, 16, 4},
    {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, Aead::aes_256_gcm, true, 32, 4},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, Aead::aes_128_gcm, false, 16, 4},
    {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, Aead::aes_256_gcm, true, 32, 4},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, Aead::aes_128_gcm, false, 16, 4},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, Aead::aes_256_gcm, true, 32, 4},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, Aead::aes_128_gcm, false, 16, 4},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, Aead::aes_256_gcm, true, 32, 4},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, Aead::chacha20_poly1305, false, 32, 12},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, Aead::chacha20_poly1305, false, 32, 12},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, Aead::chacha20_poly1305, false, 32, 12},
}};

const char* digest_name(bool sha384) { return sha384 ? "SHA384" : "SHA256"; }

// Fetched once (explicit fetches are cached objects; the legacy EVP_aes_*() getters would be
// fetched again on every initialisation).
const EVP_CIPHER* cipher(Aead a) {
  static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  switch (a) {
    case Aead::aes_128_gcm: return aes128;
    case Aead::aes_256_gcm: return aes256;
    case Aead::chacha20_poly1305: return chacha;
  }
  return nullptr;
}

bool kdf_derive(const char* name, OSSL_PARAM* params, std::span<std::uint8_t> out) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, name, nullptr);
  if (kdf == nullptr) return false;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return false;
  const bool ok = EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  return ok;
}

}  // namespace

const SuiteInfo* suite_info(std::uint16_t id) noexcept {
  for (const auto& s : kSuites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool hkdf_expand_label(bool sha384, Bytes secret, std::string_view label, Bytes context,
                       std::span<std::uint8_t> out) {
  // struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; }
  if (label.size() + 6 > 255 || context.size() > 255 || out.size() > 0xFFFF) return false;
  std::array<std::uint8_t, 2 + 1 + 255 + 1 + 255> info{};
  std::size_t n = 0;
  info[n++] = static_cast<std::uint8_t>(out.size() >> 8);
  info[n++] = static_cast<std::uint8_t>(out.size() & 0xFF);
  info[n++] = static_cast<std::uint8_t>(6 + label.size());
  std::memcpy(info.data() + n, "tls13 ", 6);
  n += 6;
  std::memcpy(info.data() + n, label.data(), label.size());
  n += label.size();
  info[n++] = static_cast<std::uint8_t>(context.size());
  if (!context.empty()) std::memcpy(info.data() + n, context.data(), context.size());
  n += context.size();
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest_name(sha384)), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), n),
      OSSL_PARAM_construct_end()};
  return kdf_derive("HKDF", params, out);
}

bool tls12_prf(bool sha384, Bytes secret, std::string_view label, Bytes seed_a, Bytes seed_b,
               std::span<std::uint8_t> out) {
  std::string seed(label);
  seed.append(reinterpret_cast<const char*>(seed_a.data()), seed_a.size());
  seed.append(reinterpret_cast<const char*>(seed_b.data()), seed_b.size());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest_name(sha384)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
      OSSL_PARAM_construct_end()};
  return kdf_derive("TLS1-PRF", params, out);
}

bool tls13_traffic_keys(const SuiteInfo& s, Bytes secret, TrafficKeys& out) {
  return hkdf_expand_label(s.sha384, secret, "key", {}, std::span(out.key).first(s.key_len)) &&
         hkdf_expand_label(s.sha384, secret, "iv", {}, std::span(out.iv).first(12));
}

bool tls13_next_secret(const SuiteInfo& s, Bytes secret, std::span<std::uint8_t> out) {
  return hkdf_expand_label(s.sha384, secret, "traffic upd", {}, out);
}

bool tls12_key_block(const SuiteInfo& s, Bytes master, Bytes client_random, Bytes server_random,
                     TrafficKeys& client, TrafficKeys& server) {
  // AEAD suites have no MAC keys: client key, server key, client IV, server IV.
  std::array<std::uint8_t, 2 * (32 + 12)> block{};
  const std::size_t need = 2u * (s.key_len + s.fixed_iv_len);
  if (!tls12_prf(s.sha384, master, "key expansion", server_random, client_random, std::span(block).first(need))) {
    return false;
  }
  std::size_t p = 0;
  std::memcpy(client.key.data(), block.data() + p, s.key_len);
  p += s.key_len;
  std::memcpy(server.key.data(), block.data() + p, s.key_len);
  p += s.key_len;
  std::memcpy(client.iv.data(), block.data() + p, s.fixed_iv_len);
  p += s.fixed_iv_len;
  std::memcpy(server.iv.data(), block.data() + p, s.fixed_iv_len);
  return true;
}

RecordDecryptor::RecordDecryptor() : ctx_(EVP_CIPHER_CTX_new()) {}
RecordDecryptor::~RecordDecryptor() { EVP_CIPHER_CTX_free(ctx_); }

bool RecordDecryptor::set_keys(const SuiteInfo& s, bool tls13, const TrafficKeys& k) {
  ready_ = false;
  seq_ = 0;
  suite_ = &s;
  tls13_ = tls13;
  keys_ = k;
  const EVP_CIPHER* c = cipher(s.aead);
  if (ctx_ == nullptr || c == nullptr) return false;
  if (EVP_DecryptInit_ex2(ctx_, c, keys_.key.data(), nullptr, nullptr) != 1) return false;
  ready_ = true;
  return true;
}

long RecordDecryptor::open(std::uint8_t type, std::uint16_t version, Bytes body, std::span<std::uint8_t> out) {
  if (!ready_) return -1;
  const bool explicit_nonce = !tls13_ && suite_->fixed_iv_len == 4;
  const std::size_t overhead = kTagLen + (explicit_nonce ? 8 : 0);
  if (body.size() < overhead || out.size() < body.size()) return -1;
  std::array<std::uint8_t, 12> nonce{};
  if (explicit_nonce) {
    std::memcpy(nonce.data(), keys_.iv.data(), 4);  // RFC 5288 §3: salt || explicit nonce
    std::memcpy(nonce.data() + 4, body.data(), 8);
  } else {
    nonce = keys_.iv;  // RFC 8446 §5.3, RFC 7905 §2: iv XOR padded sequence number
    for (int i = 0; i < 8; ++i) nonce[static_cast<std::size_t>(11 - i)] ^= static_cast<std::uint8_t>(seq_ >> (8 * i));
  }
  const Bytes ct = body.subspan(explicit_nonce ? 8 : 0, body.size() - overhead);
  std::array<std::uint8_t, kTagLen> tag{};
  std::memcpy(tag.data(), body.data() + body.size() - kTagLen, kTagLen);
  std::array<std::uint8_t, 13> aad{};
  std::size_t aad_len = 0;
  if (tls13_) {  // the record header
    aad = {type, static_cast<std::uint8_t>(version >> 8), static_cast<std::uint8_t>(version),
           static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
    aad_len = 5;
  } else {  // RFC 5246 §6.2.3.3: seq_num + type + version + plaintext length
    for (int i = 0; i < 8; ++i) aad[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seq_ >> (56 - 8 * i));
    aad[8] = type;
    aad[9] = static_cast<std::uint8_t>(version >> 8);
    aad[10] = static_cast<std::uint8_t>(version);
    aad[11] = static_cast<std::uint8_t>(ct.size() >> 8);
    aad[12] = static_cast<std::uint8_t>(ct.size());
    aad_len = 13;
  }
  int len = 0, fin = 0;
  if (EVP_DecryptInit_ex2(ctx_, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad_len)) != 1 ||
      EVP_DecryptUpdate(ctx_, out.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagLen), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx_, out.data() + len, &fin) != 1) {
    return -1;
  }
  ++seq_;
  return static_cast<long>(len) + fin;
}

}  // namespace wsdiag::tls
