// wsdiag — TLS handshake message parsing (RFC 8446 §4, RFC 5246 §7.4): ClientHello, ServerHello
// (and HelloRetryRequest), EncryptedExtensions, and the handshake message framing.
//
// Each parser takes one complete handshake message body (after the 4-byte msg_type/length
// header) as a byte buffer and reads it only through ByteReader; malformed input returns false
// and leaves whatever was parsed so far. Callable on any buffer (fuzz targets).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/tls/facts.h"

namespace wsdiag::tls {

namespace hs {
inline constexpr std::uint8_t client_hello = 1;
inline constexpr std::uint8_t server_hello = 2;
inline constexpr std::uint8_t new_session_ticket = 4;
inline constexpr std::uint8_t end_of_early_data = 5;
inline constexpr std::uint8_t encrypted_extensions = 8;
inline constexpr std::uint8_t certificate = 11;
inline constexpr std::uint8_t finished = 20;
inline constexpr std::uint8_t key_update = 24;
}  // namespace hs

/// Parses a ClientHello body into the client fields of `f` (versions, random, session id, SNI,
/// ALPN offered, key_share, pre_shared_key, early_data).
bool parse_client_hello(Bytes body, TlsFacts& f);

struct ServerHelloInfo {
  std::uint16_t legacy_version = 0;
  std::uint16_t version = 0;  ///< supported_versions when present, else legacy_version
  std::array<std::uint8_t, 32> random{};
  std::uint16_t cipher = 0;
  bool hello_retry = false;   ///< RFC 8446 §4.1.3: the special HelloRetryRequest random
  bool psk = false;           ///< pre_shared_key selected
  bool encrypt_then_mac = false;  ///< RFC 7366 extension echoed: CBC records are encrypt-then-MAC
  std::string alpn;           ///< TLS 1.2: selected protocol
};
bool parse_server_hello(Bytes body, ServerHelloInfo& out);

/// TLS 1.3 EncryptedExtensions: the selected ALPN protocol ("" if none).
bool parse_encrypted_extensions(Bytes body, std::string& alpn);

/// Splits a stream of handshake messages (which may cross record boundaries) into messages.
/// Bodies of interesting messages (those keep() accepts) are collected up to `max_keep` bytes;
/// others are skipped without copying. One per direction and encryption epoch.
class HandshakeStream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    /// Whether the body of a message of this type should be kept (and its size limit allows it).
    virtual bool keep(std::uint8_t type) = 0;
    /// A complete message. body is empty when not kept or over the limit (truncated = true).
    virtual void on_message(std::uint8_t type, Bytes body, bool truncated) = 0;
  };
  explicit HandshakeStream(std::size_t max_keep) : max_keep_(max_keep) {}
  void feed(Bytes bytes, Handler& h);
  void reset() noexcept {
    hdr_len_ = 0;
    in_body_ = false;
    body_.clear();
  }

 private:
  std::size_t max_keep_;
  std::array<std::uint8_t, 4> hdr_{};
  std::size_t hdr_len_ = 0;
  bool in_body_ = false;
  bool keep_ = false;
  bool truncated_ = false;
  std::uint8_t type_ = 0;
  std::uint32_t len_ = 0;
  std::uint32_t got_ = 0;
  std::vector<std::uint8_t> body_;  // bytes of a kept message (bounded by max_keep)
};

}  // namespace wsdiag::tls
