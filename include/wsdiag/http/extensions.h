// wsdiag — Sec-WebSocket-Extensions lists (RFC 6455 §9.1) and permessage-deflate parameters
// (RFC 7692 §7.1).
//
//   extension-list  = 1#extension
//   extension       = extension-token *( ";" extension-param )
//   extension-param = token [ "=" ( token / quoted-string ) ]
//   (implied OWS around separators; a quoted value must be a token once unescaped)
//
// permessage-deflate parameters (RFC 7692 §7.1), each at most once per element:
//   server_no_context_takeover   no value                  offer and response (§7.1.1.1)
//   client_no_context_takeover   no value                  offer and response (§7.1.1.2)
//   server_max_window_bits       8..15, value required     offer and response (§7.1.2.1)
//   client_max_window_bits       offer: value optional; response: value required, and only if the
//                                accepted offer carried the parameter (§7.1.2.2)
// Values are decimal without leading zeroes. Any other parameter is invalid (§7.1).
// A response accepts an offer (§7.1.1.1, §7.1.2.1) only if it echoes server_no_context_takeover
// when offered, and carries server_max_window_bits <= the offered value when one was offered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsdiag::http {

struct ExtensionParam {
  std::string name;
  std::optional<std::string> value;  ///< unquoted; nullopt when the parameter has no "="
};

struct Extension {
  std::string name;
  std::vector<ExtensionParam> params;
};

/// Parses a Sec-WebSocket-Extensions value (repeated headers joined with ", "). Empty list
/// elements are ignored. nullopt if the value breaks the grammar; `error` then says where.
[[nodiscard]] std::optional<std::vector<Extension>> parse_extensions(std::string_view value,
                                                                     std::string* error = nullptr);

inline constexpr std::string_view kPermessageDeflate = "permessage-deflate";

/// The permessage-deflate parameters in effect for a connection (RFC 7692 §7.1).
struct DeflateParams {
  bool enabled = false;  ///< the server accepted permessage-deflate
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;  ///< 8..15, 15 when not negotiated
  /// 8..15: the response's value, lowered to the accepted offer's value when the offer carried a
  /// smaller one (the client promised not to exceed it, §7.1.2.2); 15 when neither limits it.
  int client_max_window_bits = 15;
  friend bool operator==(const DeflateParams&, const DeflateParams&) = default;
};

/// One permessage-deflate element as written (an offer or a response).
struct DeflateElement {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0;  ///< 0 = absent
  bool client_max_window_bits_present = false;
  int client_max_window_bits = 0;  ///< 0 = absent or present without a value (offer only)
};

enum class DeflateRole : std::uint8_t { offer, response };

/// Reads the parameters of a permessage-deflate element, checking names, duplicates and values
/// for `role`. nullopt if any is invalid; `error` then names the first problem.
[[nodiscard]] std::optional<DeflateElement> parse_deflate(const Extension& ext, DeflateRole role,
                                                          std::string* error = nullptr);

/// True if `response` is a valid acceptance of `offer` (both already parsed); otherwise `error`
/// says why.
[[nodiscard]] bool deflate_accepts(const DeflateElement& offer, const DeflateElement& response,
                                   std::string* error = nullptr);

/// The parameters in effect after `response` accepted `offer` (nullptr if the offer is unknown).
[[nodiscard]] DeflateParams negotiated_deflate(const DeflateElement* offer,
                                               const DeflateElement& response) noexcept;

}  // namespace wsdiag::http
