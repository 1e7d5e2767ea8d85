// wsdiag — what each WebSocket close status code means, for someone debugging a production app:
// RFC 6455 §7.4 (§7.4.1 defined codes, §7.4.2 ranges) and the IANA "WebSocket Close Code Number"
// registry (1012 Service Restart, 1013 Try Again Later, 1014 Bad Gateway, 1015 TLS handshake).
//
// Ranges (§7.4.2): 0-999 unused; 1000-2999 reserved for RFC 6455 and extensions (only 1000-1003
// and 1007-1014 may be sent today); 3000-3999 registered with IANA by libraries and frameworks;
// 4000-4999 private to applications. 1004 is reserved, and 1005, 1006, 1015 are only reported
// locally, never sent.
#include <array>
#include <cstdint>
#include <optional>

#include "wsdiag/diag/rules.h"

namespace wsdiag::diag {
namespace {

constexpr std::array<CloseCodeInfo, 16> kCodes{{
    {1000, "Normal Closure",
     "The connection did what it was opened for, and one side closed it on purpose.",
     "An explicit close() with the normal code: the user logged out or left, the client finished "
     "its work, or the server ended the session (session expiry, a server-side close(1000)).",
     "The close itself was intended. If users did not expect the disconnect, log where close() "
     "is called on the side that sent it; the reason string, if any, says why.",
     true},
    {1001, "Going Away",
     "The endpoint is going away: a server shutting down, or a browser leaving the page.",
     "From the server: a shutdown or restart during a deploy, scale-in or node drain (graceful "
     "shutdown sends 1001). From a browser: the user navigated away, reloaded or closed the tab.",
     "From the server, match the time with deploys and restarts and make clients reconnect with "
     "jittered backoff. From a browser it is usually normal navigation.",
     true},
    {1002, "Protocol Error",
     "The sender received something that breaks the WebSocket protocol.",
     "A framing or handshake violation by the peer (unmasked client frames, bad RSV bits, "
     "oversized or fragmented control frames, stray continuation frames), or a library or proxy "
     "bug.",
     "Look at this connection's findings: the violation the closer detected is usually among them, "
     "with the side that broke which rule. Fix or upgrade the offending library or proxy.",
     true},
    {1003, "Unsupported Data",
     "The sender received a type of data it cannot accept (e.g. binary on a text-only endpoint).",
     "Client and server disagree on the message type: binary sent to a text-only handler or the "
     "reverse, often after one side changed its serialisation.",
     "Check which message types each side sends and accepts (opcode 1 text, 2 binary in "
     "`wsdiag --frames`) and align them.",
     true},
    {1004, "Reserved",
     "Reserved by RFC 6455 with no defined meaning; it must not be sent.",
     "Seen in a Close frame, it means a buggy sender.",
     "Send a defined code (1000-1003, 1007-1014) or an application code (4000-4999).",
     false},
    {1005, "No Status Received",
     "Never sent: it is what an endpoint reports when the Close frame carried no status code.",
     "The closer called close() without a code; a browser's WebSocket.close() without arguments "
     "sends an empty Close, as do many libraries' defaults.",
     "Usually a deliberate close. Pass an explicit code and reason to close() so the other side "
     "and your logs can tell why.",
     false},
    {1006, "Abnormal Closure",
     "Never sent: it is what an endpoint reports when the connection ended without a Close frame "
     "(TCP FIN or RST, or the network path died).",
     "The connection was dropped without a close handshake: a proxy or load-balancer idle timeout "
     "(nginx proxy_read_timeout 60 s by default, AWS ALB idle timeout 60 s, Cloudflare 100 s), a "
     "server crash, restart or OOM kill, a client that vanished (tab or app killed, laptop sleep, "
     "mobile network change), or a NAT/firewall that forgot the flow.",
     "Find who sent the FIN/RST and how long the connection was idle before it. If the idle gap "
     "matches a proxy timeout, send pings or application heartbeats more often than the shortest "
     "timeout on the path (e.g. every 20-30 s) or raise that timeout. Otherwise check the ending "
     "side's logs for crashes, restarts and OOM kills, and make shutdown paths send a Close "
     "(1001) first.",
     false},
    {1007, "Invalid Frame Payload Data",
     "The sender received data inconsistent with the message type, typically invalid UTF-8 in a "
     "text message.",
     "Binary or non-UTF-8 data (Latin-1, a string cut inside a multi-byte character) sent as a "
     "text message, or a compression mismatch corrupting payloads.",
     "Look for invalid-utf8 or inflate-error findings in this connection; send binary data as "
     "binary messages and encode text as UTF-8.",
     true},
    {1008, "Policy Violation",
     "The sender received a message that violates its policy; the generic code when nothing more "
     "specific fits or details are hidden.",
     "Authentication or authorisation failed after connecting (expired or invalid token), the "
     "Origin is not allowed, a rate limit or abuse protection fired, or application validation "
     "rejected a message. Some libraries use it for internal limits too.",
     "Read the reason string and the closer's logs; check token expiry and refresh, allowed "
     "origins and rate limits.",
     true},
    {1009, "Message Too Big",
     "The sender received a message too big for it to process.",
     "A message exceeded the receiver's size limit: Node ws maxPayload (100 MiB default), python "
     "websockets max_size (1 MiB default), Tomcat/Spring message buffers (8 KiB default), or a "
     "proxy or API gateway message cap.",
     "Find the largest messages before the close (`wsdiag --frames` shows payload lengths); raise "
     "the receiver's limit deliberately or split large messages. Compression does not help when "
     "the limit applies to the inflated size.",
     true},
    {1010, "Mandatory Extension",
     "Sent by a client: it needs an extension that the server did not negotiate.",
     "The client requires an extension (e.g. permessage-deflate) and the server's 101 did not "
     "accept it, sometimes because a proxy stripped Sec-WebSocket-Extensions.",
     "Compare the client's Sec-WebSocket-Extensions offer with the server's answer; enable the "
     "extension on the server or stop requiring it.",
     true},
    {1011, "Internal Error",
     "The server met an unexpected condition that kept it from fulfilling the request.",
     "An unhandled exception in the server's handler. Some libraries also use it for failed "
     "keepalives (python websockets sends 1011 \"keepalive ping timeout\").",
     "Search the server's logs for a stack trace at the close time and wrap handlers so exceptions "
     "are logged. If the reason mentions a ping timeout, look at latency and blocking work on the "
     "peer.",
     true},
    {1012, "Service Restart",
     "The server is restarting; the client may reconnect.",
     "A planned restart, deploy or configuration reload.",
     "Reconnect after a randomised delay (e.g. 5-30 s) to avoid a thundering herd; if the restart "
     "was unexpected, check the deploy or orchestrator history.",
     true},
    {1013, "Try Again Later",
     "The server is temporarily overloaded or unable to serve; try again later.",
     "Server overload, connection limits, or an unavailable backend dependency.",
     "Back off with jitter before reconnecting; check capacity, connection limits and upstream "
     "health at that time.",
     true},
    {1014, "Bad Gateway",
     "A gateway or proxy got an invalid response from the upstream server.",
     "The proxy could not reach the backend or got a bad response from it: backend down or "
     "crashing, or a protocol mismatch between proxy and backend.",
     "Check the proxy's logs and the backend's health at that time.",
     true},
    {1015, "TLS Handshake",
     "Never sent: it is what an endpoint reports when the TLS handshake failed.",
     "An expired, self-signed or wrong-host certificate, a missing intermediate certificate, or no "
     "common TLS version or cipher.",
     "Test with `openssl s_client -connect host:443 -servername host` and fix the certificate "
     "chain or TLS settings.",
     false},
}};

constexpr bool codes_in_order() {
  for (std::size_t i = 0; i < kCodes.size(); ++i) {
    if (kCodes[i].code != 1000 + i) return false;
  }
  return true;
}
static_assert(codes_in_order(), "kCodes: row i must describe code 1000 + i");

constexpr CloseCodeInfo kRegistered{
    3000, "IANA-registered code",
    "A code from the range that libraries, frameworks and applications register with IANA "
    "(3000-3999); RFC 6455 itself gives it no meaning.",
    "Defined by the library or framework that sent it (the IANA WebSocket Close Code registry "
    "names its owner).",
    "Look the code up in the IANA registry and in the sending library's documentation; the "
    "reason string usually explains it.",
    true};

constexpr CloseCodeInfo kApplication{
    4000, "Application-defined code",
    "A private code defined by the application (4000-4999); RFC 6455 gives it no meaning.",
    "Your own application, or a framework it uses, chose this code (e.g. for an expired session, "
    "a kicked user or a server-side timeout).",
    "Look the code up in your application's protocol or source (search client and server code "
    "for it); the reason string usually says more.",
    true};

}  // namespace

std::optional<CloseCodeInfo> close_code_info(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1015) return kCodes[static_cast<std::size_t>(code - 1000)];
  if (code >= 3000 && code <= 3999) {
    CloseCodeInfo info = kRegistered;
    info.code = code;
    return info;
  }
  if (code >= 4000 && code <= 4999) {
    CloseCodeInfo info = kApplication;
    info.code = code;
    return info;
  }
  return std::nullopt;
}

bool close_code_valid_on_wire(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace wsdiag::diag
