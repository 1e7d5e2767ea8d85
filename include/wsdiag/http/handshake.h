// wsdiag — the WebSocket opening handshake (RFC 6455 §4.1, §4.2, §4.4; RFC 7692 §5, §7.1).
//
// Client request (§4.1)                      Server response (§4.2.2)
//   GET /chat HTTP/1.1                         HTTP/1.1 101 Switching Protocols
//   Host: server.example.com                   Upgrade: websocket
//   Upgrade: websocket                         Connection: Upgrade
//   Connection: Upgrade                        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
//   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==  Sec-WebSocket-Protocol: chat
//   Sec-WebSocket-Version: 13                  Sec-WebSocket-Extensions: permessage-deflate
//   Sec-WebSocket-Protocol: chat, superchat
//   Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits
//
// Use: parse each head with parse_request()/parse_response(); store the request in
// Handshake::request and pass every response to add_response() (interim 1xx responses such as
// "100 Continue" are counted and the first final one is kept); then call validate(), which fills
// the facts and `problems`. validate() may be called again after more input (it starts over), and
// works with only one side present (capture started mid-handshake, or no response).
//
// Rule ids are the enum HandshakeRule; rule_id() gives the kebab-case id of RULES.md. Each problem
// carries the side that broke the rule (Dir::c2s = client, Dir::s2c = server) and a message.
// Checks of the 101 response (upgrade headers, accept, subprotocol, extensions) run only when the
// final status is 101; any other final status is one handshake-rejected problem.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wsdiag/common/types.h"
#include "wsdiag/http/extensions.h"
#include "wsdiag/http/message.h"

namespace wsdiag::http {

enum class HandshakeRule : std::uint8_t {
  method,          ///< handshake-method: GET, HTTP/1.1 or later (§4.1)
  upgrade_header,  ///< handshake-upgrade-header: Upgrade + Connection headers (§4.1, §4.2.1)
  key,             ///< handshake-key: Sec-WebSocket-Key once, base64 of 16 bytes (§4.1)
  version,         ///< handshake-version: Sec-WebSocket-Version 13; 426 lists them (§4.1, §4.4)
  rejected,        ///< handshake-rejected: final status other than 101 (§4.2.2)
  accept,          ///< handshake-accept: Sec-WebSocket-Accept matches the key (§4.2.2)
  subprotocol,     ///< handshake-subprotocol: selected protocol was offered (§4.1)
  extension,       ///< handshake-extension: accepted extensions/parameters offered and valid
};

[[nodiscard]] constexpr std::string_view rule_id(HandshakeRule r) noexcept {
  switch (r) {
    case HandshakeRule::method:
      return "handshake-method";
    case HandshakeRule::upgrade_header:
      return "handshake-upgrade-header";
    case HandshakeRule::key:
      return "handshake-key";
    case HandshakeRule::version:
      return "handshake-version";
    case HandshakeRule::rejected:
      return "handshake-rejected";
    case HandshakeRule::accept:
      return "handshake-accept";
    case HandshakeRule::subprotocol:
      return "handshake-subprotocol";
    case HandshakeRule::extension:
      return "handshake-extension";
  }
  return "handshake-unknown";
}

struct HandshakeProblem {
  HandshakeRule rule = HandshakeRule::method;
  Dir side = Dir::c2s;  ///< who broke the rule
  std::string message;
  [[nodiscard]] std::string_view id() const noexcept { return rule_id(rule); }
};

enum class AcceptStatus : std::uint8_t {
  not_checked,  ///< no 101 response, or no single request key to check against
  valid,
  missing,   ///< 101 without Sec-WebSocket-Accept
  mismatch,  ///< wrong value (or the header repeated)
};

inline constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
inline constexpr std::size_t kMaxInterimResponses = 16;

struct Handshake {
  // --- inputs ---
  std::optional<HttpRequest> request;
  std::optional<HttpResponse> response;  ///< the final (non-interim) response
  /// 1xx statuses before the final response (at most kMaxInterimResponses).
  std::vector<int> interim_statuses;

  // --- facts, filled by validate() ---
  std::string path;  ///< request-target
  std::string host;
  std::string origin;
  std::string user_agent;
  std::string via_request;     ///< Via header of the request (a proxy on the way to the server)
  std::string forwarded_for;   ///< X-Forwarded-For, else Forwarded, of the request
  std::string key;             ///< Sec-WebSocket-Key as sent (repeats joined)
  std::string client_version;  ///< Sec-WebSocket-Version of the request as sent
  std::vector<std::string> subprotocols_offered;
  std::string extensions_offered;  ///< raw Sec-WebSocket-Extensions of the request
  int status = 0;                  ///< final status, 0 if no response
  std::string reason;
  std::string server;                ///< Server header of the response
  std::string via_response;          ///< Via header of the response
  std::vector<int> server_versions;  ///< Sec-WebSocket-Version list of the response (426)
  std::string subprotocol;           ///< selected by the server; empty if none
  std::string extensions_accepted;   ///< raw Sec-WebSocket-Extensions of the response
  DeflateParams deflate;             ///< permessage-deflate as negotiated (enabled=false if not)
  AcceptStatus accept_status = AcceptStatus::not_checked;
  std::string expected_accept;  ///< base64(SHA-1(key + GUID)) when a key was available

  std::vector<HandshakeProblem> problems;

  /// Stores a response: an interim 1xx is counted, the first final one is kept (later ones are
  /// ignored). Returns true if `resp` is a final response.
  bool add_response(HttpResponse resp);
  /// Frees the request's and response's header lists once validate() has read them (its facts are
  /// in the fields above): a connection keeps its facts, not ~2 KiB of parsed headers, for its life.
  void release_headers() noexcept {
    if (request) request->headers = Headers{};
    if (response) response->headers = Headers{};
  }
  /// The final response is 101: the bytes after it are WebSocket frames.
  [[nodiscard]] bool switched() const noexcept { return status == 101; }
  /// 101 with a Sec-WebSocket-Accept proven valid.
  [[nodiscard]] bool ok() const noexcept {
    return switched() && accept_status == AcceptStatus::valid;
  }
  [[nodiscard]] bool has(HandshakeRule r) const noexcept;
};

/// Recomputes every fact and problem of `hs` from its request and response.
void validate(Handshake& hs);

/// base64(SHA-1(key + kWebSocketGuid)) via OpenSSL libcrypto (RFC 6455 §4.2.2 step 5.4).
/// Empty if libcrypto fails.
[[nodiscard]] std::string compute_accept(std::string_view key);

/// True if `key` is base64 of exactly 16 bytes: 22 base64 characters followed by "==".
[[nodiscard]] bool is_valid_key(std::string_view key) noexcept;

}  // namespace wsdiag::http
