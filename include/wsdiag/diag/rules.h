// wsdiag — the rule catalogue: every finding wsdiag can report, as data (RULES.md).
//
// Code emits Finding{RuleId, side, packet, detail}; all explanatory text (title, spec reference,
// likely cause, advice) lives in one constexpr table row per rule. Adding a rule = one enum value,
// one row, the check that emits it, and a test.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wsdiag/common/types.h"

namespace wsdiag::diag {

enum class Severity : std::uint8_t { info = 0, warning = 1, error = 2 };
const char* to_string(Severity s) noexcept;

/// Which side a finding is about.
enum class Side : std::uint8_t { none, client, server, both };
const char* to_string(Side s) noexcept;  // "client", "server", "both", "" for none
/// The side as a noun in cause texts: "client", "server", "one side" (none or both).
constexpr const char* side_name(Side s) noexcept {
  return s == Side::client ? "client" : s == Side::server ? "server" : "one side";
}
constexpr Side side_of(Dir d) noexcept { return d == Dir::c2s ? Side::client : Side::server; }

enum class RuleId : std::uint8_t {
  // Opening handshake (RFC 6455 §4)
  handshake_method,
  handshake_upgrade_header,
  handshake_key,
  handshake_version,
  handshake_rejected,
  handshake_accept,
  handshake_subprotocol,
  handshake_extension,
  data_before_101,
  no_response,
  // Frames (§5)
  client_unmasked,
  server_masked,
  rsv_bits,
  reserved_opcode,
  length_not_minimal,
  length_msb,
  control_too_long,
  control_fragmented,
  unexpected_continuation,
  expected_continuation,
  invalid_utf8,
  inflate_error,
  // Close handshake (§5.5.1, §7)
  close_payload_1,
  close_code_invalid,
  close_reason_utf8,
  data_after_close,
  close_not_echoed,
  client_closed_tcp_first,
  pong_mismatch,
  // Beyond RULES.md: what real traffic needs too
  ping_unanswered,       ///< a Ping never answered by a Pong before the connection ended
  close_echo_mismatch,   ///< the Close reply carried a different code (allowed, but worth showing)
  message_too_big,       ///< inflated message over Limits::inflate_bytes_per_message (finding, not failure)
  compressed_unverified, ///< compressed payload that could not be inflated/validated (no context)
  frame_after_close_received, ///< a side kept sending data after receiving a Close (legal until it replies, shown as info)
  // TCP and capture
  rst,
  fin_without_close,
  capture_gap,
  snaplen_truncated,
  capture_started_midstream,
  open_at_end,
  capture_ended_mid_frame,
  ws_desync,             ///< framing lost (gap in a frame header, impossible length); resumed at a plausible frame start
  http_head_too_large,
  limit_ooo_buffer,      ///< out-of-order store full: a hole was given up
  conn_evicted,          ///< connection table full: this connection stopped being tracked
  idle_timeout,          ///< live mode: evicted after being idle too long
  // TLS (wss://), see diag/tls_verdict.h
  tls_decrypt_failed,    ///< secrets were found but a record did not authenticate
  tls_alert,             ///< a fatal TLS alert (plaintext or decrypted)
  tls_malformed,         ///< bytes where a TLS record header was due are not one
  limit_tls_record,      ///< a TLS record over Limits::tls_record_bytes: TLS parsing stopped
  limit_tls_held,        ///< live: records waiting for their secret over Limits::tls_held_*
  tls_h2,                ///< ALPN h2: WebSocket would run over HTTP/2 (RFC 8441), not decoded
};

inline constexpr std::size_t kRuleCount = static_cast<std::size_t>(RuleId::tls_h2) + 1;

struct RuleInfo {
  RuleId id;
  std::string_view name;      ///< stable kebab-case id used in JSON and --fail-on
  Severity severity;
  std::string_view spec;      ///< "RFC 6455 §5.1", or "" where no RFC applies
  std::string_view title;     ///< one line: what was broken / observed
  std::string_view cause;     ///< what usually causes it in production
  std::string_view advice;    ///< what to check and change
};

/// The catalogue row for a rule (every RuleId has exactly one).
const RuleInfo& rule_info(RuleId id) noexcept;
/// All rows, in enum order.
const std::array<RuleInfo, kRuleCount>& all_rules() noexcept;
/// Looks a rule up by its kebab-case name.
std::optional<RuleId> rule_by_name(std::string_view name) noexcept;

/// What a close status code means (RFC 6455 §7.4.1 and the IANA registry), for someone debugging
/// a production app: when users see it, what usually causes it, what to do.
struct CloseCodeInfo {
  std::uint16_t code;
  std::string_view name;     ///< "Normal Closure", "Going Away", ...
  std::string_view meaning;  ///< what the code says
  std::string_view cause;    ///< typical causes in production
  std::string_view advice;   ///< what to check and change
  bool sendable;             ///< may appear on the wire (1005, 1006, 1015 may not)
};

/// Information for 1000-1015; for 3000-3999 and 4000-4999 a generic row ("registered" /
/// "application-defined"); nullopt for codes that are invalid on the wire.
std::optional<CloseCodeInfo> close_code_info(std::uint16_t code) noexcept;
/// RFC 6455 §7.4: may this code appear in a Close frame? (1000-1003, 1007-1014, 3000-4999)
bool close_code_valid_on_wire(std::uint16_t code) noexcept;

}  // namespace wsdiag::diag
