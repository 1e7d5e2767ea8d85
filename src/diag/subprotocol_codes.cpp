// wsdiag — data: close codes that WebSocket subprotocols define (4000-4999 are the application's,
// RFC 6455 §7.4.2). One row per code; read by the app-close-code cause.
//
// graphql-transport-ws: the graphql-ws library's protocol (github.com/enisdenjo/graphql-ws,
// PROTOCOL.md and src/common.ts CloseCode).
#include <array>

#include "wsdiag/diag/causes.h"

namespace wsdiag::diag {
namespace {

constexpr std::array<SubprotocolCode, 10> kCodes{{
    {"graphql-transport-ws", 4400, "Bad Request", "a message the server could not parse or did not expect"},
    {"graphql-transport-ws", 4401, "Unauthorized", "a subscribe before the connection was acknowledged"},
    {"graphql-transport-ws", 4403, "Forbidden", "the server's onConnect refused the connection_init"},
    {"graphql-transport-ws", 4406, "Subprotocol Not Acceptable", "the client did not offer a supported subprotocol"},
    {"graphql-transport-ws", 4408, "Connection initialisation timeout",
     "the client did not send connection_init within connectionInitWaitTimeout"},
    {"graphql-transport-ws", 4409, "Subscriber already exists", "a subscribe reused the id of a running operation"},
    {"graphql-transport-ws", 4429, "Too many initialisation requests", "connection_init was sent more than once"},
    {"graphql-transport-ws", 4499, "Terminated", "the client terminated the socket (client-side only code)"},
    {"graphql-transport-ws", 4500, "Internal Server Error", "the server failed while handling a message"},
    {"graphql-transport-ws", 4504, "Connection Acknowledgement Timeout", "the server did not acknowledge in time"},
}};

}  // namespace

std::optional<SubprotocolCode> subprotocol_code(std::string_view subprotocol, std::uint16_t code) noexcept {
  for (const SubprotocolCode& c : kCodes) {
    if (c.code == code && c.subprotocol == subprotocol) return c;
  }
  return std::nullopt;
}

}  // namespace wsdiag::diag
