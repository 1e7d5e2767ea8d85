// wsdiag — TLS key schedule and record protection, all from OpenSSL's libcrypto:
// HKDF-Expand-Label (RFC 8446 §7.1, EVP_KDF "HKDF" expand-only), the TLS 1.2 PRF (RFC 5246 §5,
// EVP_KDF "TLS1-PRF"), AEAD decryption (EVP AES-GCM / ChaCha20-Poly1305) and TLS 1.1/1.2 CBC
// records (EVP AES-CBC with EVP_MAC HMAC-SHA1/256/384, MAC-then-encrypt or RFC 7366
// encrypt-then-MAC). Nothing here implements a cipher or a hash.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "wsdiag/common/byte_reader.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace wsdiag::tls {

enum class Bulk : std::uint8_t { aes_128_gcm, aes_256_gcm, chacha20_poly1305, aes_128_cbc, aes_256_cbc };

struct SuiteInfo {
  std::uint16_t id;
  std::string_view name;
  bool tls13;
  Bulk bulk;
  bool sha384;               ///< the suite's hash (HKDF / PRF): SHA-384, else SHA-256
  std::uint8_t key_len;
  std::uint8_t fixed_iv_len; ///< TLS 1.3 and ChaCha20: 12; TLS 1.2 GCM: 4 (+ 8 explicit bytes per record); CBC: 0
  std::uint8_t mac_len = 0;  ///< CBC suites: HMAC-SHA1 20, -SHA256 32, -SHA384 48; AEAD: 0
  [[nodiscard]] bool cbc() const noexcept { return mac_len != 0; }
};

/// The cipher suites wsdiag decrypts (AEAD, and AES-CBC with HMAC for TLS 1.1/1.2), or nullptr.
const SuiteInfo* suite_info(std::uint16_t id) noexcept;

inline constexpr std::size_t kTagLen = 16;

/// RFC 8446 §7.1 HKDF-Expand-Label(secret, label, context, out.size()). False if libcrypto fails.
bool hkdf_expand_label(bool sha384, Bytes secret, std::string_view label, Bytes context,
                       std::span<std::uint8_t> out);

/// RFC 5246 §5 PRF(secret, label, seed_a + seed_b) of out.size() bytes.
bool tls12_prf(bool sha384, Bytes secret, std::string_view label, Bytes seed_a, Bytes seed_b,
               std::span<std::uint8_t> out);

/// Keys of one direction and epoch.
struct TrafficKeys {
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 12> iv{};
  std::array<std::uint8_t, 48> mac{};  ///< CBC suites: the HMAC key (mac_len bytes)
};

/// TLS 1.3: key and iv of a traffic secret (RFC 8446 §7.3).
bool tls13_traffic_keys(const SuiteInfo& s, Bytes secret, TrafficKeys& out);
/// TLS 1.3: the next application traffic secret after a KeyUpdate (RFC 8446 §7.2).
bool tls13_next_secret(const SuiteInfo& s, Bytes secret, std::span<std::uint8_t> out);
/// TLS 1.2: client and server write keys and IVs (CBC: MAC keys, keys) from the master secret
/// (RFC 5246 §6.3); TLS 1.1 and 1.0 (`version` below 0x0303): the same key block from their
/// MD5/SHA-1 PRF (RFC 4346 §5, §6.3).
bool tls12_key_block(const SuiteInfo& s, Bytes master, Bytes client_random, Bytes server_random,
                     TrafficKeys& client, TrafficKeys& server, std::uint16_t version = 0x0303);

/// One direction's record decryptor: the EVP context is made once and re-keyed on key changes.
class RecordDecryptor {
 public:
  RecordDecryptor();
  ~RecordDecryptor();
  RecordDecryptor(const RecordDecryptor&) = delete;
  RecordDecryptor& operator=(const RecordDecryptor&) = delete;

  /// Installs keys; the record sequence number restarts at 0. `etm`: CBC records use RFC 7366
  /// encrypt-then-MAC (both hellos carried the extension), else MAC-then-encrypt.
  bool set_keys(const SuiteInfo& s, bool tls13, const TrafficKeys& k, bool etm = false);
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  [[nodiscard]] std::uint64_t seq() const noexcept { return seq_; }

  /// Decrypts one record body (TLSCiphertext.encrypted_record) into out, which must hold
  /// body.size() bytes. TLS 1.3: returns the plaintext length including the inner content type and
  /// padding (the caller strips them). TLS 1.2: `type`/`version` go into the additional data
  /// (CBC: into the MAC, and the result is the content length, without MAC and padding).
  /// Returns -1 if the record does not authenticate (the sequence number is not advanced).
  long open(std::uint8_t type, std::uint16_t version, Bytes body, std::span<std::uint8_t> out);

 private:
  long open_cbc(std::uint8_t type, std::uint16_t version, Bytes body, std::span<std::uint8_t> out);
  /// HMAC(seq || type || version || length || a || b) into mac (suite_->mac_len bytes).
  bool record_mac(std::uint8_t type, std::uint16_t version, Bytes a, Bytes b, std::uint8_t* mac);

  EVP_CIPHER_CTX* ctx_ = nullptr;
  EVP_MAC_CTX* mac_ = nullptr;  // CBC suites only
  bool etm_ = false;
  bool gcm_fixed_ = false;  // AES-GCM: the nonce's fixed part is set, records set the other 8 bytes
  bool chacha_ = false;      // ChaCha20-Poly1305: records set their nonce as a parameter...
  bool chacha_clean_ = false;  // ...when the last record ran to its final (else: re-initialised)
  const SuiteInfo* suite_ = nullptr;
  bool tls13_ = true;
  bool ready_ = false;
  TrafficKeys keys_{};
  std::uint64_t seq_ = 0;
};

}  // namespace wsdiag::tls
