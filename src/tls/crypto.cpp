// wsdiag — TLS key schedule and AEAD record decryption via libcrypto. See crypto.h.
#include "wsdiag/tls/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace wsdiag::tls {

namespace {

constexpr std::array<SuiteInfo, 30> kSuites{{
    // TLS 1.3 (RFC 8446 §B.4)
    {0x1301, "TLS_AES_128_GCM_SHA256", true, Bulk::aes_128_gcm, false, 16, 12},
    {0x1302, "TLS_AES_256_GCM_SHA384", true, Bulk::aes_256_gcm, true, 32, 12},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, Bulk::chacha20_poly1305, false, 32, 12},
    // TLS 1.2 AEAD suites (RFC 5288, RFC 5289, RFC 7905)
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, Bulk::aes_128_gcm, false, 16, 4},
    {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, Bulk::aes_256_gcm, true, 32, 4},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, Bulk::aes_128_gcm, false, 16, 4},
    {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, Bulk::aes_256_gcm, true, 32, 4},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, Bulk::aes_128_gcm, false, 16, 4},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, Bulk::aes_256_gcm, true, 32, 4},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, Bulk::aes_128_gcm, false, 16, 4},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, Bulk::aes_256_gcm, true, 32, 4},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, Bulk::chacha20_poly1305, false, 32, 12},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, Bulk::chacha20_poly1305, false, 32, 12},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, Bulk::chacha20_poly1305, false, 32, 12},
    // TLS 1.1/1.2 CBC suites (RFC 5246 App. C, RFC 4492, RFC 5289): explicit per-record IV, HMAC;
    // the PRF is SHA-256 except for the *_SHA384 suites.
    {0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", false, Bulk::aes_128_cbc, false, 16, 0, 20},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", false, Bulk::aes_256_cbc, false, 32, 0, 20},
    {0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", false, Bulk::aes_128_cbc, false, 16, 0, 32},
    {0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", false, Bulk::aes_256_cbc, false, 32, 0, 32},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", false, Bulk::aes_128_cbc, false, 16, 0, 20},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", false, Bulk::aes_256_cbc, false, 32, 0, 20},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", false, Bulk::aes_128_cbc, false, 16, 0, 32},
    {0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", false, Bulk::aes_256_cbc, false, 32, 0, 32},
    {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", false, Bulk::aes_128_cbc, false, 16, 0, 20},
    {0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", false, Bulk::aes_256_cbc, false, 32, 0, 20},
    {0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false, Bulk::aes_128_cbc, false, 16, 0, 20},
    {0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false, Bulk::aes_256_cbc, false, 32, 0, 20},
    {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", false, Bulk::aes_128_cbc, false, 16, 0, 32},
    {0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", false, Bulk::aes_256_cbc, true, 32, 0, 48},
    {0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", false, Bulk::aes_128_cbc, false, 16, 0, 32},
    {0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, Bulk::aes_256_cbc, true, 32, 0, 48},
}};

const char* digest_name(bool sha384) { return sha384 ? "SHA384" : "SHA256"; }

// Fetched once (explicit fetches are cached objects; the legacy EVP_aes_*() getters would be
// fetched again on every initialisation).
const EVP_CIPHER* cipher(Bulk a) {
  static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  static EVP_CIPHER* cbc128 = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  static EVP_CIPHER* cbc256 = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  switch (a) {
    case Bulk::aes_128_gcm: return aes128;
    case Bulk::aes_256_gcm: return aes256;
    case Bulk::chacha20_poly1305: return chacha;
    case Bulk::aes_128_cbc: return cbc128;
    case Bulk::aes_256_cbc: return cbc256;
  }
  return nullptr;
}

EVP_MAC* hmac() {
  static EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return m;
}

const char* mac_digest(std::uint8_t mac_len) { return mac_len == 20 ? "SHA1" : mac_len == 48 ? "SHA384" : "SHA256"; }

constexpr std::size_t kBlock = 16;  // AES block and CBC explicit IV size

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

namespace {
// RFC 5246 §5 P_hash, or with "MD5-SHA1" RFC 4346 §5's P_MD5 XOR P_SHA-1 over the halves of the
// secret (OpenSSL's TLS1-PRF does both).
bool prf(const char* digest, Bytes secret, std::string_view label, Bytes seed_a, Bytes seed_b,
         std::span<std::uint8_t> out) {
  std::string seed(label);
  seed.append(reinterpret_cast<const char*>(seed_a.data()), seed_a.size());
  seed.append(reinterpret_cast<const char*>(seed_b.data()), seed_b.size());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
      OSSL_PARAM_construct_end()};
  return kdf_derive("TLS1-PRF", params, out);
}
}  // namespace

bool tls12_prf(bool sha384, Bytes secret, std::string_view label, Bytes seed_a, Bytes seed_b,
               std::span<std::uint8_t> out) {
  return prf(digest_name(sha384), secret, label, seed_a, seed_b, out);
}

bool tls13_traffic_keys(const SuiteInfo& s, Bytes secret, TrafficKeys& out) {
  return hkdf_expand_label(s.sha384, secret, "key", {}, std::span(out.key).first(s.key_len)) &&
         hkdf_expand_label(s.sha384, secret, "iv", {}, std::span(out.iv).first(12));
}

bool tls13_next_secret(const SuiteInfo& s, Bytes secret, std::span<std::uint8_t> out) {
  return hkdf_expand_label(s.sha384, secret, "traffic upd", {}, out);
}

bool tls12_key_block(const SuiteInfo& s, Bytes master, Bytes client_random, Bytes server_random,
                     TrafficKeys& client, TrafficKeys& server, std::uint16_t version) {
  // client MAC key, server MAC key (CBC only), client key, server key, client IV, server IV
  // (AEAD only: CBC records carry their IV).
  std::array<std::uint8_t, 2 * (48 + 32 + 12)> block{};
  const std::size_t need = 2u * (s.mac_len + s.key_len + s.fixed_iv_len);
  // TLS 1.0/1.1 (RFC 4346 §5): the MD5/SHA-1 PRF whatever the suite; TLS 1.2: the suite's hash.
  const char* digest = version < 0x0303 ? "MD5-SHA1" : digest_name(s.sha384);
  if (!prf(digest, master, "key expansion", server_random, client_random, std::span(block).first(need))) {
    return false;
  }
  std::size_t p = 0;
  std::memcpy(client.mac.data(), block.data() + p, s.mac_len);
  p += s.mac_len;
  std::memcpy(server.mac.data(), block.data() + p, s.mac_len);
  p += s.mac_len;
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
RecordDecryptor::~RecordDecryptor() {
  EVP_CIPHER_CTX_free(ctx_);
  EVP_MAC_CTX_free(mac_);
}

bool RecordDecryptor::set_keys(const SuiteInfo& s, bool tls13, const TrafficKeys& k, bool etm) {
  ready_ = false;
  seq_ = 0;
  suite_ = &s;
  tls13_ = tls13;
  etm_ = etm;
  keys_ = k;
  const EVP_CIPHER* c = cipher(s.bulk);
  if (ctx_ == nullptr || c == nullptr) return false;
  // ChaCha20-Poly1305 takes the key and the first nonce here; records set their nonce only (open()).
  const bool chacha = s.bulk == Bulk::chacha20_poly1305;
  if (EVP_DecryptInit_ex2(ctx_, c, keys_.key.data(), chacha ? keys_.iv.data() : nullptr, nullptr) != 1) return false;
  gcm_fixed_ = false;
  chacha_ = chacha;
  chacha_clean_ = chacha;
  if (s.bulk == Bulk::aes_128_gcm || s.bulk == Bulk::aes_256_gcm) {
    // RFC 5288 / RFC 8446 nonces both keep their first 4 bytes per key (the TLS 1.2 salt, the
    // TLS 1.3 IV's first 4 bytes): fixed once here, the other 8 set per record (open()).
    OSSL_PARAM fixed[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, keys_.iv.data(), 4),
        OSSL_PARAM_construct_end()};
    gcm_fixed_ = EVP_CIPHER_CTX_set_params(ctx_, fixed) == 1;
  }
  if (s.cbc()) {
    if (tls13 || hmac() == nullptr) return false;
    if (mac_ == nullptr) mac_ = EVP_MAC_CTX_new(hmac());
    if (mac_ == nullptr) return false;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(mac_digest(s.mac_len)), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(mac_, keys_.mac.data(), s.mac_len, params) != 1) return false;
    EVP_CIPHER_CTX_set_padding(ctx_, 0);  // the record's padding is checked here, not by EVP
  }
  ready_ = true;
  return true;
}

bool RecordDecryptor::record_mac(std::uint8_t type, std::uint16_t version, Bytes a, Bytes b, std::uint8_t* mac) {
  // RFC 5246 §6.2.3.1: MAC(seq_num + type + version + length + content); RFC 7366 §3: the same
  // over IV + ciphertext.
  std::array<std::uint8_t, 13> hdr{};
  for (int i = 0; i < 8; ++i) hdr[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seq_ >> (56 - 8 * i));
  const std::size_t len = a.size() + b.size();
  hdr[8] = type;
  hdr[9] = static_cast<std::uint8_t>(version >> 8);
  hdr[10] = static_cast<std::uint8_t>(version);
  hdr[11] = static_cast<std::uint8_t>(len >> 8);
  hdr[12] = static_cast<std::uint8_t>(len);
  std::size_t got = 0;
  return EVP_MAC_init(mac_, nullptr, 0, nullptr) == 1 && EVP_MAC_update(mac_, hdr.data(), hdr.size()) == 1 &&
         EVP_MAC_update(mac_, a.data(), a.size()) == 1 && EVP_MAC_update(mac_, b.data(), b.size()) == 1 &&
         EVP_MAC_final(mac_, mac, &got, suite_->mac_len) == 1 && got == suite_->mac_len;
}

long RecordDecryptor::open_cbc(std::uint8_t type, std::uint16_t version, Bytes body, std::span<std::uint8_t> out) {
  // body = IV || E(content || MAC || padding || padding_length)       (RFC 5246 §6.2.3.2)
  //     or IV || E(content || padding || padding_length) || MAC       (encrypt-then-MAC, RFC 7366)
  const std::size_t mac_len = suite_->mac_len;
  std::array<std::uint8_t, 48> mac{};
  Bytes enc = body;
  if (etm_) {
    if (body.size() < mac_len) return -1;
    enc = body.first(body.size() - mac_len);
    if (!record_mac(type, version, enc, {}, mac.data()) ||
        CRYPTO_memcmp(mac.data(), body.data() + enc.size(), mac_len) != 0) {
      return -1;
    }
  }
  if (enc.size() < 2 * kBlock || enc.size() % kBlock != 0 || out.size() < enc.size()) return -1;
  const Bytes ct = enc.subspan(kBlock);
  int len = 0, fin = 0;
  if (EVP_DecryptInit_ex2(ctx_, nullptr, nullptr, enc.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx_, out.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx_, out.data() + len, &fin) != 1 || static_cast<std::size_t>(len + fin) != ct.size()) {
    return -1;
  }
  // Padding: padding_length + 1 bytes, each equal to padding_length.
  const std::size_t n = ct.size();
  const std::size_t pad = out[n - 1];
  if (pad + 1 > n) return -1;
  for (std::size_t i = n - 1 - pad; i < n - 1; ++i) {
    if (out[i] != pad) return -1;
  }
  std::size_t content = n - pad - 1;
  if (!etm_) {
    if (content < mac_len) return -1;
    content -= mac_len;
    if (!record_mac(type, version, Bytes(out.data(), content), {}, mac.data()) ||
        CRYPTO_memcmp(mac.data(), out.data() + content, mac_len) != 0) {
      return -1;
    }
  }
  ++seq_;
  return static_cast<long>(content);
}

long RecordDecryptor::open(std::uint8_t type, std::uint16_t version, Bytes body, std::span<std::uint8_t> out) {
  if (!ready_) return -1;
  if (suite_->cbc()) return open_cbc(type, version, body, out);
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
  // The nonce goes in as a parameter, with the expected tag, in one call per record (each call
  // costs a few hundred instructions of name lookups); a full re-initialisation per record
  // (EVP_DecryptInit_ex2, which also queries the IV length through the provider) costs more than
  // decrypting a chat-sized record. AES-GCM takes the nonce's last 8 bytes (the first 4 were fixed
  // with the keys). ChaCha20-Poly1305 takes the whole 12-byte nonce as its "TLS fixed IV" (OpenSSL
  // 3's provider writes it straight into the cipher's nonce words; its first update after a
  // finished record restarts the block counter and Poly1305). A context whose last record stopped
  // half-way is re-initialised with the nonce instead.
  const char* iv_name = gcm_fixed_ ? OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV : OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED;
  const std::size_t iv_off = gcm_fixed_ ? 4 : 0;
  const bool by_param = gcm_fixed_ || chacha_clean_;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), kTagLen),
      OSSL_PARAM_construct_octet_string(iv_name, nonce.data() + iv_off, nonce.size() - iv_off),
      OSSL_PARAM_construct_end()};
  if (!by_param) params[1] = OSSL_PARAM_construct_end();
  const bool iv_ok = by_param ? EVP_CIPHER_CTX_set_params(ctx_, params) == 1
                              : EVP_DecryptInit_ex2(ctx_, nullptr, nullptr, nonce.data(), nullptr) == 1 &&
                                    EVP_CIPHER_CTX_set_params(ctx_, params) == 1;
  chacha_clean_ = false;
  if (!iv_ok || EVP_DecryptUpdate(ctx_, nullptr, &len, aad.data(), static_cast<int>(aad_len)) != 1 ||
      EVP_DecryptUpdate(ctx_, out.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1) {
    return -1;
  }
  // Final ends the record in the provider whether the tag matches or not.
  const bool tag_ok = EVP_DecryptFinal_ex(ctx_, out.data() + len, &fin) == 1;
  chacha_clean_ = chacha_;
  if (!tag_ok) return -1;
  ++seq_;
  return static_cast<long>(len) + fin;
}

}  // namespace wsdiag::tls
