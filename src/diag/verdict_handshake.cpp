// wsdiag — verdict row handshake-failed (RFC 6455 §4.1-§4.2.2): the Upgrade request got no
// response, an unreadable one, or a status other than 101. What each status means and what to do
// about it are data rows (kStatusRows); the row's text names what the capture shows.
#include <climits>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "verdict_text.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag::rows {
namespace {
using namespace vtext;  // NOLINT(google-build-using-namespace)

/// Reason phrases of RFC 9110 for the statuses a WebSocket handshake meets (when the response's is empty).
struct ReasonPhrase {
  int status;
  std::string_view phrase;
};
constexpr ReasonPhrase kReasonPhrases[] = {
    {200, "OK"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

std::string_view standard_reason(int status) {
  for (const ReasonPhrase& r : kReasonPhrases) {
    if (r.status == status) return r.phrase;
  }
  return "";
}

/// What a status other than 101 means, and what to do: the first row whose range holds the status.
/// `cause` may use {status}, {path} ("the requested path" or the quoted path), {request_note} (the
/// request's own problems), {origin_note} (the request's Origin), {version_note} (a missing
/// Sec-WebSocket-Version) and {gateway}; `advice` may use {nginx} (the nginx upgrade lines).
struct StatusRow {
  int lo, hi;
  std::string_view cause;
  std::string_view advice;
};

constexpr std::string_view kNginxUpgrade =
    "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
    "proxy_set_header Connection \"upgrade\";";

constexpr std::string_view kAuthCause =
    "The server refused the client: an authentication or Origin check failed{origin_note}. Browsers cannot set "
    "custom headers on WebSocket requests, so tokens usually travel in a cookie, the query string or a subprotocol.";
constexpr std::string_view kAuthAdvice =
    "Check the server's allowed origins (e.g. Socket.IO cors.origin, Spring setAllowedOrigins, Django Channels "
    "AllowedHostsOriginValidator) and that the credentials reach the server on the upgrade request; the server "
    "log for this request says which check failed.";
constexpr std::string_view kGatewayCause =
    "A proxy or gateway could not get a response from the backend ({gateway}): the backend was down, refused the "
    "connection, or timed out.";
constexpr std::string_view kGatewayAdvice =
    "Check the proxy's error log and the backend's health and listen address at that time.";

constexpr StatusRow kStatusRows[] = {
    {100, 199,
     "The server answered with the interim status {status} instead of 101 Switching Protocols, so the upgrade "
     "never happened.",
     "Check what sits in front of the application: a proxy or framework answering 1xx itself should pass the "
     "Upgrade request through untouched."},
    {200, 299,
     "The server handled the Upgrade request for {path} as a plain HTTP request. Usually the route is not "
     "WebSocket-enabled, or a proxy dropped the hop-by-hop Upgrade/Connection headers so the application never "
     "saw an upgrade.{request_note}",
     "Make sure the path is served by the WebSocket handler and that every proxy forwards the upgrade (nginx: "
     "`{nginx}`)."},
    {300, 399,
     "The server answered with a redirect. WebSocket clients do not follow redirects (browsers fail the "
     "connection), so the client never reached a WebSocket endpoint.",
     "Connect to the final URL directly: check ws:// vs wss://, the host name and a trailing slash, and "
     "HTTP-to-HTTPS redirects on the WebSocket path."},
    {400, 400,
     "The server rejected the request as malformed: usually a missing or invalid Upgrade, Connection, "
     "Sec-WebSocket-Key or Sec-WebSocket-Version header, often because a proxy stripped the hop-by-hop "
     "Upgrade/Connection headers.{request_note}",
     "Compare the request the application receives with the one the client sent; in nginx forward the upgrade "
     "with `{nginx}`. Some frameworks also answer 400 for a rejected Origin or host."},
    {401, 401, kAuthCause, kAuthAdvice},
    {403, 403, kAuthCause, kAuthAdvice},
    {404, 404,
     "No WebSocket endpoint at {path} on this server: wrong path, a missing route, or a proxy forwarding to the "
     "wrong upstream or rewriting the path.",
     "Compare the client's URL with the server's route (prefixes, trailing slashes, Socket.IO's /socket.io/ "
     "path) and with the proxy's location/rewrite rules."},
    {405, 405, "The server does not accept this method on the WebSocket path.",
     "Send the handshake as a GET; check the route allows GET."},
    {426, 426,
     "The server wants a different WebSocket version: per RFC 6455 §4.4 it lists the versions it supports in its "
     "Sec-WebSocket-Version response header.{version_note}",
     "Use a client that speaks RFC 6455 (version 13); check that no proxy rewrites Sec-WebSocket-Version."},
    {429, 429, "The server or a proxy rate-limited the connection attempt.",
     "Reconnect with exponential backoff and jitter; check the rate limits for this client."},
    {431, 431, "The request headers were too large (usually cookies).",
     "Reduce cookie and header size on the WebSocket route, or raise the server's header buffer (nginx "
     "large_client_header_buffers)."},
    {500, 500,
     "The application failed while handling the upgrade request (an exception in the connect/handshake handler "
     "or its middleware).",
     "Find the stack trace for this request in the server's logs."},
    {502, 502, kGatewayCause, kGatewayAdvice},
    {503, 503,
     "The server or a proxy was unavailable: overloaded, in maintenance, draining, or with no healthy backend.",
     "Check backend health checks and capacity at that time; reconnect with backoff."},
    {504, 504, kGatewayCause, kGatewayAdvice},
    {400, 499, "The server rejected the Upgrade request with client error {status}.{request_note}",
     "Read the response body in the capture and the server log for this request."},
    {500, 599, "The server or a proxy failed with server error {status}.",
     "Check the proxy and backend logs for this request."},
    {INT_MIN, INT_MAX, "The server answered with status {status} instead of 101.",
     "Read the response in the capture and the server log for this request."},
};

std::string problem_list(const ConnectionSummary& s) {
  std::string out;
  for (RuleId r : s.handshake.problems) {
    if (!out.empty()) out += ", ";
    out += rule_info(r).name;
  }
  return out;
}

struct StatusText {
  std::string cause;
  std::string advice;
};

StatusText status_text(const ConnectionSummary& s, int status) {
  const HandshakeSummary& h = s.handshake;
  const StatusRow* row = &kStatusRows[std::size(kStatusRows) - 1];
  for (const StatusRow& r : kStatusRows) {
    if (status >= r.lo && status <= r.hi) {
      row = &r;
      break;
    }
  }
  const std::string problems = problem_list(s);
  const std::string path =
      h.path.empty() ? std::string("the requested path") : fmt::format("\"{}\"", printable(h.path));
  const std::string request_note =
      problems.empty() ? std::string() : fmt::format(" The captured request itself has problems: {}.", problems);
  const std::string origin_note =
      h.origin.empty() ? std::string() : fmt::format(" (the request's Origin was \"{}\")", printable(h.origin));
  const std::string_view version_note =
      has_problem(s, RuleId::handshake_version) ? " The client did not send Sec-WebSocket-Version: 13." : "";
  const std::string_view gateway = status == 502 ? "bad gateway" : "gateway timeout";
  return {fmt::format(fmt::runtime(row->cause), fmt::arg("status", status), fmt::arg("path", path),
                      fmt::arg("request_note", request_note), fmt::arg("origin_note", origin_note),
                      fmt::arg("version_note", version_note), fmt::arg("gateway", gateway)),
          fmt::format(fmt::runtime(row->advice), fmt::arg("nginx", kNginxUpgrade))};
}

}  // namespace

bool applies_handshake_failed(const ConnectionSummary& s) {
  const HandshakeSummary& h = s.handshake;
  return h.request_seen && s.handshake_captured && (!h.response_seen || h.status != 101);
}

Verdict make_handshake_failed(const ConnectionSummary& s) {
  const HandshakeSummary& h = s.handshake;
  const TcpEndSummary& t = s.tcp_end;
  Verdict v;
  v.name = "handshake failed";
  v.severity = Severity::error;

  if (!h.response_seen) {
    const std::string req = fmt::format("The client sent the Upgrade request{}{}",
                                        h.path.empty() ? "" : " for ",
                                        h.path.empty() ? "" : printable(h.path));
    if (t.how == TcpEndHow::open) {
      v.side = Side::none;
      v.severity = Severity::warning;  // the response may simply not have been captured yet
      v.summary = "handshake failed: no response to the Upgrade request before the capture ended";
      v.cause = fmt::format(
          "{}{}, but no HTTP response was captured and the connection was still open when the "
          "capture ended. The server may have been slow, or the capture stopped too early.",
          req, at_packet(h.request_at));
      v.advice = "Capture longer to see whether a response arrives; if it never does, check the "
                 "server and proxy logs for the request and their upstream timeouts.";
      return v;
    }
    v.side = t.by;
    const bool rst = t.how == TcpEndHow::rst;
    const std::string ended =
        t.by == Side::none
            ? std::string(rst ? "the connection was reset" : "the connection was closed")
            : fmt::format("{} {}", the_side(t.by), rst ? "reset it" : "closed it");
    v.summary = "handshake failed: no response to the Upgrade request before the connection ended";
    if (t.by != Side::none) {
      v.summary += fmt::format(" ({} sent {})", the_side(t.by), rst ? "RST" : "FIN");
    }
    v.cause = fmt::format(
        "{}{}, but no HTTP response arrived before {}{}. The server or a proxy hung, crashed or "
        "dropped the request (e.g. a proxy without WebSocket support, or a backend that never "
        "accepted it).",
        req, at_packet(h.request_at), ended, " " + tagged(rst ? "RST" : "FIN", t.at));
    if (t.by == Side::client) {
      v.cause += " Here the client gave up first: its connect/handshake timeout may be shorter "
                 "than the server's response time.";
    }
    v.advice = std::string(rule_info(RuleId::no_response).advice);
    return v;
  }

  v.side = Side::server;
  if (!h.status) {
    v.summary = "handshake failed: the server's response to the Upgrade request was not a "
                "readable HTTP status line";
    v.cause = fmt::format("The response{} could not be parsed as HTTP, so no WebSocket "
                          "connection was established. The port may serve another protocol "
                          "(e.g. TLS on a plaintext URL, or a non-HTTP service).",
                          at_packet(h.response_at));
    v.advice = "Check that the URL's scheme and port match the server (ws:// vs wss://) and that "
               "the port is the WebSocket server's.";
    return v;
  }

  const int status = *h.status;
  std::string phrase = printable(h.reason_phrase, 60);
  if (phrase.empty()) phrase = std::string(standard_reason(status));
  const std::string status_line =
      phrase.empty() ? fmt::format("{}", status) : fmt::format("{} {}", status, phrase);
  v.summary = fmt::format("handshake failed: server answered {}", status_line);
  if (status == 426) v.summary += " (it wants another Sec-WebSocket-Version)";

  const StatusText st = status_text(s, status);
  v.cause = fmt::format("The server answered the Upgrade request{} with {}{} instead of 101 "
                        "Switching Protocols. {}",
                        h.path.empty() ? "" : fmt::format(" for \"{}\"", printable(h.path)),
                        status_line, at_packet(h.response_at), st.cause);
  if (!h.server_software.empty()) {
    v.cause += fmt::format(" The response's Server header is \"{}\", which tells whether a proxy "
                           "or the application answered.",
                           printable(h.server_software, 60));
  }
  v.advice = st.advice;
  return v;
}
}  // namespace wsdiag::diag::rows
