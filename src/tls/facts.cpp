// wsdiag — names for TLS facts (IANA TLS registries, RFC 8446 §6.2). See facts.h.
#include "wsdiag/tls/facts.h"

#include <fmt/format.h>

#include "wsdiag/tls/crypto.h"

namespace wsdiag::tls {

const char* to_string(KeyStatus k) noexcept {
  switch (k) {
    case KeyStatus::no_keylog: return "no-keylog";
    case KeyStatus::no_hello: return "no-client-hello";
    case KeyStatus::not_found: return "key-not-found";
    case KeyStatus::unsupported: return "unsupported";
    case KeyStatus::decrypted: return "decrypted";
    case KeyStatus::failed: return "failed";
  }
  return "";
}

std::string version_name(std::uint16_t v) {
  switch (v) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: return fmt::format("0x{:04x}", v);
  }
}

std::string cipher_name(std::uint16_t suite) {
  if (const auto* s = suite_info(suite)) return std::string(s->name);
  return fmt::format("0x{:04X}", suite);
}

const char* alert_name(std::uint8_t d) noexcept {
  switch (d) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown_alert";
  }
}

}  // namespace wsdiag::tls
