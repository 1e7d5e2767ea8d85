// wsdiag — what the TLS layer saw on one connection, as plain facts (no judgement).
//
// Filled by tls::TlsFront from the wire (ClientHello/ServerHello, record headers, plaintext or
// decrypted alerts) and copied into diag::ConnectionSummary. diag decides what it means.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "wsdiag/common/types.h"

namespace wsdiag::tls {

/// Whether the connection's records could be turned into plaintext.
enum class KeyStatus : std::uint8_t {
  no_keylog,    ///< no key log was given (no --tls-keylog, no SSLKEYLOGFILE, no pcapng secrets)
  no_hello,     ///< the ClientHello was not captured: its random is what a key log is indexed by
  not_found,    ///< a key log was given, but it holds no secret for this connection's client random
  unsupported,  ///< secrets found, but the cipher suite or version is not one wsdiag decrypts
  decrypted,    ///< records decrypted
  failed,       ///< secrets found but a record did not authenticate (wrong key or another session)
};
const char* to_string(KeyStatus k) noexcept;

/// An alert record (RFC 8446 §6, RFC 5246 §7.2).
struct AlertFact {
  bool seen = false;
  bool encrypted = false;   ///< level/description unknown (encrypted and not decrypted)
  std::uint8_t level = 0;   ///< 1 warning, 2 fatal
  std::uint8_t description = 0;  ///< 0 close_notify, 40 handshake_failure, ...
  std::uint16_t record_len = 0;
  PacketRef at;
};

/// Per direction.
struct TlsDirFacts {
  std::uint64_t records = 0;
  std::uint64_t app_records = 0;     ///< application_data records (TLS 1.3: every encrypted record)
  std::uint64_t app_bytes = 0;       ///< their ciphertext bytes (record bodies)
  std::uint64_t plaintext_bytes = 0; ///< application data decrypted and handed to HTTP/WebSocket
  PacketRef first_app;               ///< first application_data record
  PacketRef last_app;                ///< last application_data record
  PacketRef last_record;             ///< last record of any type
  PacketRef prev_record;             ///< the record before it (the silence before a closing alert)
  std::uint8_t last_type = 0;        ///< its content type (outer type when encrypted)
  std::uint16_t last_len = 0;        ///< its body length
  AlertFact alert;                   ///< the first alert sent (plaintext, decrypted, or an encrypted alert record)
  bool close_notify = false;         ///< a close_notify alert proven (plaintext or decrypted)
  bool encrypted_alert_record = false;  ///< TLS 1.2: an encrypted record of type alert (21) was sent
  bool change_cipher_spec = false;
  /// This side finished its handshake part: TLS 1.2 ChangeCipherSpec; TLS 1.3 an encrypted record
  /// after the ServerHello that is larger than an alert (a Finished is at least 53 bytes), or a
  /// decrypted Finished.
  bool handshake_done = false;
  bool decrypt_failed = false;       ///< a record did not authenticate with the logged key
  PacketRef decrypt_failed_at;
  std::uint64_t undecrypted_records = 0;  ///< encrypted records left undecrypted (no key, failure, gap)
  bool gap = false;                  ///< bytes missing from the capture: records after it not parsed
  std::uint64_t gap_bytes = 0;       ///< bytes the capture lost in this direction (all gaps)
  std::uint64_t gaps = 0;
  PacketRef first_gap;
  std::uint64_t snaplen_bytes = 0;   ///< bytes the snaplen cut off
  PacketRef first_snaplen;
  bool limit_hit = false;            ///< a record longer than Limits::tls_record_bytes
  /// Live mode: records that arrived before the key log held their secret and were kept until it
  /// did (then decrypted in order, or judged with the secrets logged by the end).
  std::uint64_t waited_records = 0;
  /// Live mode: a record of this direction found the connection's held records at their budget
  /// (Limits::tls_held_*): the connection stopped waiting and judged them with the secrets so far.
  bool held_limit = false;
  PacketRef held_limit_at;
  std::uint64_t held_limit_records = 0;  ///< records held (both directions) when the budget was hit
  std::uint64_t held_limit_bytes = 0;    ///< their bytes
  bool malformed = false;            ///< bytes that are not a TLS record header where one was due
  PacketRef problem_at;              ///< where gap/limit/malformed happened
  std::uint16_t malformed_len = 0;   ///< the record length that was too long (limit) or bad
};

struct TlsFacts {
  bool client_hello = false;
  bool server_hello = false;
  bool hello_retry = false;          ///< the server answered with a HelloRetryRequest
  bool midstream = false;            ///< recognised from record headers: handshake not captured
  std::uint16_t client_legacy_version = 0;  ///< ClientHello.legacy_version (0x0303)
  std::uint16_t client_max_version = 0;     ///< highest supported_versions entry (or legacy)
  std::uint16_t version = 0;         ///< negotiated: ServerHello supported_versions, else its legacy version
  std::uint16_t cipher = 0;          ///< ServerHello cipher suite
  std::string sni;                   ///< server_name (host_name), bytes as sent
  std::string alpn_offered;          ///< comma list, in the client's order
  std::string alpn;                  ///< selected: ServerHello (TLS 1.2) or EncryptedExtensions (1.3, decrypted)
  bool key_share = false;            ///< the ClientHello carried key_share
  bool psk_offered = false;          ///< pre_shared_key in the ClientHello (resumption)
  bool psk_accepted = false;         ///< pre_shared_key in the ServerHello
  bool early_data_offered = false;
  std::uint8_t session_id_len = 0;
  std::array<std::uint8_t, 32> client_random{};
  PacketRef client_hello_at, server_hello_at;
  KeyStatus keys = KeyStatus::no_keylog;
  /// Live mode: records stopped waiting for this connection's secrets (held-record budget) before
  /// any was logged, and the key log held them by the connection's end.
  bool keys_logged_late = false;
  /// Both sides finished the handshake (see TlsDirFacts::handshake_done); true when midstream.
  [[nodiscard]] bool handshake_complete() const noexcept {
    return midstream || (server_hello && c2s.handshake_done && s2c.handshake_done);
  }
  TlsDirFacts c2s, s2c;
  [[nodiscard]] const TlsDirFacts& dir(Dir d) const noexcept { return d == Dir::c2s ? c2s : s2c; }
  [[nodiscard]] TlsDirFacts& dir(Dir d) noexcept { return d == Dir::c2s ? c2s : s2c; }
};

/// "TLS 1.3", "TLS 1.2", ... or "0x7f1c" for anything else.
std::string version_name(std::uint16_t v);
/// IANA name of a cipher suite ("TLS_AES_128_GCM_SHA256"), or "0xC02F" when not known.
std::string cipher_name(std::uint16_t suite);
/// RFC 8446 §6 alert description name ("close_notify", "handshake_failure"...).
const char* alert_name(std::uint8_t description) noexcept;

}  // namespace wsdiag::tls
