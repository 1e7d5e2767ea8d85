// wsdiag — the verdict table: RFC 6455 §7.1.5-§7.1.7 (the WebSocket Connection Close Code as seen
// from the wire), §4.1-§4.2.2 (failed opening handshakes), RULES.md "Verdict per connection".
//
// Rows, first match wins (kTable below):
//   handshake-failed  request seen and captured, but no response or a status other than 101
//   invalid-close     the first Close was malformed: the code of the first valid Close (usually the
//                     peer failing the connection with 1002/1007), or 1006 (verdict_failures.cpp)
//   closed            a Close frame was seen: its code (1005 when empty), as sent
//   client-rejected-101  a 101, then the client ended TCP without sending a frame: the client
//                     failed the handshake (verdict_failures.cpp)
//   abnormal-1006     no Close frame, TCP ended by FIN or RST
//   open              no Close frame, TCP still open when the capture ended
// The rows cover every summary (closed / not closed x TCP ended / open); the fallback is defensive.
//
// Texts state only what the summary shows: packets, times, who, idle gaps. Where a guess is
// offered (an idle timeout, a crash), it is worded as the usual cause, not as a fact.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/diag/verdict.h"
#include "verdict_text.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/ws/utf8.h"

namespace wsdiag::diag {
namespace vtext {

// ---------------------------------------------------------------------------------------------
// Text helpers (shared by the verdict rows in this file and verdict_failures.cpp: verdict_text.h)

std::string the_side(Side s) {
  switch (s) {
    case Side::client:
      return "the client";
    case Side::server:
      return "the server";
    case Side::both:
      return "both sides";
    case Side::none:
      break;
  }
  return "";
}

std::string peer_of(Side s) {
  switch (s) {
    case Side::client:
      return "the server";
    case Side::server:
      return "the client";
    case Side::both:
    case Side::none:
      break;
  }
  return "the other side";
}

std::string capitalised(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
  return text;
}

/// Text from the wire (close reason, HTTP reason phrase, header values) made safe for one line:
/// control bytes, quotes and backslashes escaped, non-UTF-8 bytes shown as \xNN, and cut to
/// `max` bytes on a character boundary.
std::string printable(std::string_view text, std::size_t max) {
  const Bytes bytes{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
  const bool utf8 = ws::is_valid_utf8(bytes);
  std::string out;
  out.reserve(std::min(text.size(), max) + 8);
  std::size_t i = 0;
  for (; i < text.size() && out.size() < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      out += fmt::format("\\x{:02X}", c);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0xC0) {  // lead byte of a valid sequence: copy the whole character
      std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      len = std::min(len, text.size() - i);
      out.append(text.substr(i, len));
      i += len - 1;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

/// "packet 812, 2024-01-02T03:04:05.123456Z", "packet 812", or "" when the packet is unknown.
std::string packet_where(const PacketRef& p) {
  if (p.index == 0) return "";
  if (p.ts_ns == 0) return fmt::format("packet {}", p.index);
  return fmt::format("packet {}, {}", p.index, iso8601_utc(p.ts_ns));
}

/// " (packet 812, 2024-01-02T03:04:05.123456Z)" or "" when the packet is unknown.
std::string at_packet(const PacketRef& p) {
  const std::string w = packet_where(p);
  return w.empty() ? w : fmt::format(" ({})", w);
}

/// "(RST, packet 812, 2024-...)" or "(RST)".
std::string tagged(std::string_view what, const PacketRef& p) {
  const std::string w = packet_where(p);
  return w.empty() ? fmt::format("({})", what) : fmt::format("({}, {})", what, w);
}

std::optional<double> ms_between(const PacketRef& from, const PacketRef& to) {
  if (from.index == 0 || to.index == 0 || from.ts_ns == 0 || to.ts_ns == 0) return std::nullopt;
  return static_cast<double>(to.ts_ns - from.ts_ns) / 1e6;
}

std::string_view standard_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

/// Whether a finding (or handshake problem) of this rule is present.
bool has_problem(const ConnectionSummary& s, RuleId r) {
  return s.has(r) ||
         std::find(s.handshake.problems.begin(), s.handshake.problems.end(), r) !=
             s.handshake.problems.end();
}

Severity close_code_severity(std::uint16_t code, bool empty) {
  if (empty) return Severity::info;
  if (!close_code_valid_on_wire(code)) return Severity::error;
  if (code == 1000 || code == 1001) return Severity::info;
  if (code == 1002 || code == 1007 || code == 1011) return Severity::error;
  if (code >= 3000) return Severity::info;
  return Severity::warning;
}

std::string code_label(std::optional<std::uint16_t> code) {
  if (!code) return "an empty Close (1005 No Status Received)";
  if (!close_code_valid_on_wire(*code)) return fmt::format("invalid close code {}", *code);
  const auto info = close_code_info(*code);
  if (!info) return fmt::format("code {}", *code);
  if (*code >= 3000) return fmt::format("{} ({})", *code, info->name);
  return fmt::format("{} {}", *code, info->name);
}

}  // namespace vtext

namespace {
using namespace vtext;  // NOLINT(google-build-using-namespace): this file's own helpers

std::string problem_list(const ConnectionSummary& s) {
  std::string out;
  for (RuleId r : s.handshake.problems) {
    if (!out.empty()) out += ", ";
    out += rule_info(r).name;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Row a: handshake failed

bool applies_handshake_failed(const ConnectionSummary& s) {
  const HandshakeSummary& h = s.handshake;
  return h.request_seen && s.handshake_captured && (!h.response_seen || h.status != 101);
}

bool explains_handshake_failed(RuleId r) {
  return r == RuleId::handshake_rejected || r == RuleId::no_response || r == RuleId::rst ||
         r == RuleId::fin_without_close || r == RuleId::open_at_end;
}

struct StatusText {
  std::string cause;
  std::string advice;
};

constexpr std::string_view kNginxUpgrade =
    "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
    "proxy_set_header Connection \"upgrade\";";

StatusText status_text(const ConnectionSummary& s, int status) {
  const HandshakeSummary& h = s.handshake;
  const std::string path = h.path.empty() ? std::string("the requested path")
                                          : fmt::format("\"{}\"", printable(h.path));
  const std::string problems = problem_list(s);
  const std::string request_note =
      problems.empty() ? std::string()
                       : fmt::format(" The captured request itself has problems: {}.", problems);
  if (status >= 100 && status < 200) {
    return {fmt::format("The server answered with the interim status {} instead of 101 Switching "
                        "Protocols, so the upgrade never happened.",
                        status),
            "Check what sits in front of the application: a proxy or framework answering 1xx "
            "itself should pass the Upgrade request through untouched."};
  }
  if (status >= 200 && status < 300) {
    return {fmt::format("The server handled the Upgrade request for {} as a plain HTTP request. "
                        "Usually the route is not WebSocket-enabled, or a proxy dropped the "
                        "hop-by-hop Upgrade/Connection headers so the application never saw an "
                        "upgrade.{}",
                        path, request_note),
            fmt::format("Make sure the path is served by the WebSocket handler and that every "
                        "proxy forwards the upgrade (nginx: `{}`).",
                        kNginxUpgrade)};
  }
  if (status >= 300 && status < 400) {
    return {"The server answered with a redirect. WebSocket clients do not follow redirects "
            "(browsers fail the connection), so the client never reached a WebSocket endpoint.",
            "Connect to the final URL directly: check ws:// vs wss://, the host name and a "
            "trailing slash, and HTTP-to-HTTPS redirects on the WebSocket path."};
  }
  switch (status) {
    case 400:
      return {fmt::format("The server rejected the request as malformed: usually a missing or "
                          "invalid Upgrade, Connection, Sec-WebSocket-Key or "
                          "Sec-WebSocket-Version header, often because a proxy stripped the "
                          "hop-by-hop Upgrade/Connection headers.{}",
                          request_note),
              fmt::format("Compare the request the application receives with the one the client "
                          "sent; in nginx forward the upgrade with `{}`. Some frameworks also "
                          "answer 400 for a rejected Origin or host.",
                          kNginxUpgrade)};
    case 401:
    case 403:
      return {fmt::format("The server refused the client: an authentication or Origin check "
                          "failed{}. Browsers cannot set custom headers on WebSocket requests, so "
                          "tokens usually travel in a cookie, the query string or a subprotocol.",
                          h.origin.empty()
                              ? std::string()
                              : fmt::format(" (the request's Origin was \"{}\")",
                                            printable(h.origin))),
              "Check the server's allowed origins (e.g. Socket.IO cors.origin, Spring "
              "setAllowedOrigins, Django Channels AllowedHostsOriginValidator) and that the "
              "credentials reach the server on the upgrade request; the server log for this "
              "request says which check failed."};
    case 404:
      return {fmt::format("No WebSocket endpoint at {} on this server: wrong path, a missing "
                          "route, or a proxy forwarding to the wrong upstream or rewriting the "
                          "path.",
                          path),
              "Compare the client's URL with the server's route (prefixes, trailing slashes, "
              "Socket.IO's /socket.io/ path) and with the proxy's location/rewrite rules."};
    case 405:
      return {"The server does not accept this method on the WebSocket path.",
              "Send the handshake as a GET; check the route allows GET."};
    case 426:
      return {fmt::format(
                  "The server wants a different WebSocket version: per RFC 6455 §4.4 it lists "
                  "the versions it supports in its Sec-WebSocket-Version response header.{}",
                  has_problem(s, RuleId::handshake_version)
                      ? " The client did not send Sec-WebSocket-Version: 13."
                      : ""),
              "Use a client that speaks RFC 6455 (version 13); check that no proxy rewrites "
              "Sec-WebSocket-Version."};
    case 429:
      return {"The server or a proxy rate-limited the connection attempt.",
              "Reconnect with exponential backoff and jitter; check the rate limits for this "
              "client."};
    case 431:
      return {"The request headers were too large (usually cookies).",
              "Reduce cookie and header size on the WebSocket route, or raise the server's "
              "header buffer (nginx large_client_header_buffers)."};
    case 500:
      return {"The application failed while handling the upgrade request (an exception in the "
              "connect/handshake handler or its middleware).",
              "Find the stack trace for this request in the server's logs."};
    case 502:
    case 504:
      return {fmt::format("A proxy or gateway could not get a response from the backend ({}): "
                          "the backend was down, refused the connection, or timed out.",
                          status == 502 ? "bad gateway" : "gateway timeout"),
              "Check the proxy's error log and the backend's health and listen address at that "
              "time."};
    case 503:
      return {"The server or a proxy was unavailable: overloaded, in maintenance, draining, or "
              "with no healthy backend.",
              "Check backend health checks and capacity at that time; reconnect with backoff."};
    default:
      break;
  }
  if (status >= 400 && status < 500) {
    return {fmt::format("The server rejected the Upgrade request with client error {}.{}", status,
                        request_note),
            "Read the response body in the capture and the server log for this request."};
  }
  if (status >= 500 && status < 600) {
    return {fmt::format("The server or a proxy failed with server error {}.", status),
            "Check the proxy and backend logs for this request."};
  }
  return {fmt::format("The server answered with status {} instead of 101.", status),
          "Read the response in the capture and the server log for this request."};
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

  StatusText st = status_text(s, status);
  v.cause = fmt::format("The server answered the Upgrade request{} with {}{} instead of 101 "
                        "Switching Protocols. {}",
                        h.path.empty() ? "" : fmt::format(" for \"{}\"", printable(h.path)),
                        status_line, at_packet(h.response_at), st.cause);
  if (!h.server_software.empty()) {
    v.cause += fmt::format(" The response's Server header is \"{}\", which tells whether a proxy "
                           "or the application answered.",
                           printable(h.server_software, 60));
  }
  v.advice = std::move(st.advice);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Row b: a Close frame was seen

bool applies_closed(const ConnectionSummary& s) { return s.close.seen; }

bool explains_closed(RuleId r) {
  return r == RuleId::close_code_invalid || r == RuleId::close_not_echoed ||
         r == RuleId::close_echo_mismatch ||
         r == RuleId::client_closed_tcp_first || r == RuleId::open_at_end;
}



// Extension names of a Sec-WebSocket-Extensions value ("permessage-deflate; x=1, foo" ->
// {"permessage-deflate", "foo"}).
std::vector<std::string> extension_names(const std::string& header) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= header.size()) {
    const auto comma = header.find(',', pos);
    std::string item = header.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item = item.substr(0, item.find(';'));
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) {
      std::string name = item.substr(b, e - b + 1);
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// For 1010 (RFC 6455 §7.4.1): the extensions the client offered that the server's 101 did not
// accept, as "a, b"; empty if the handshake does not show any.
std::string missing_extensions(const ConnectionSummary& s) {
  std::string out;
  const auto accepted = extension_names(s.handshake.extensions);
  for (const auto& name : extension_names(s.handshake.extensions_offered)) {
    if (std::find(accepted.begin(), accepted.end(), name) != accepted.end()) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Verdict make_closed(const ConnectionSummary& s) {
  const CloseSummary& c = s.close;
  const TcpEndSummary& t = s.tcp_end;
  const bool empty = !c.code;
  const std::uint16_t code = c.code.value_or(1005);
  const bool valid = empty || close_code_valid_on_wire(code);
  const auto info = close_code_info(code);
  // A 1-byte payload also has no code (close-payload-1): it is malformed, not empty.
  const Finding* one = empty ? s.find(RuleId::close_payload_1) : nullptr;
  const bool one_byte = one != nullptr && (one->side == c.initiator || one->at == c.at);

  Verdict v;
  v.code = code;
  v.name = valid && info ? std::string(info->name) : fmt::format("invalid close code {}", code);
  v.severity = close_code_severity(code, empty);
  v.side = c.initiator;

  const std::string by = c.initiator == Side::none
                             ? std::string()
                             : c.initiator == Side::both ? std::string(" by both sides at once")
                                                         : " by " + the_side(c.initiator);
  const std::string reason =
      c.reason.empty() ? std::string() : fmt::format(", reason \"{}\"", printable(c.reason));
  if (!empty && code == 1000) {
    v.summary = fmt::format("closed normally (1000){}{}", by, reason);
  } else if (empty) {
    v.summary = fmt::format("closed{} with {} Close frame (1005 No Status Received)", by,
                            one_byte ? "a malformed 1-byte" : "an empty");
  } else if (code == 1010 && c.initiator == Side::client) {
    // Name the extension the client required (the reason should list it, §7.4.1; else the offer
    // minus what the 101 accepted).
    const std::string missing = missing_extensions(s);
    const std::string needed = !c.reason.empty() ? printable(c.reason) : missing;
    v.summary = fmt::format("closed by the client with 1010 Mandatory Extension: it required {}{}", 
                            needed.empty() ? std::string("an extension") : needed,
                            needed.empty() ? std::string() : std::string(", which the server did not accept"));
  } else {
    v.summary = fmt::format("closed{} with {}{}", by, code_label(c.code), reason);
  }

  if (!c.echoed && t.how != TcpEndHow::open) {
    v.summary += fmt::format("; {} never answered it (close-not-echoed)", peer_of(c.initiator));
  }

  // Evidence: who, what, where.
  const std::string who = c.initiator == Side::none || c.initiator == Side::both
                              ? std::string("A Close frame was sent")
                              : capitalised(the_side(c.initiator)) + " sent a Close frame";
  if (empty) {
    v.cause = fmt::format("{} with no status code{}.", who, at_packet(c.at));
  } else {
    v.cause = fmt::format("{} with {}{}{}.", who, code_label(c.code),
                          c.reason.empty() ? "" : fmt::format(" and reason \"{}\"",
                                                              printable(c.reason)),
                          at_packet(c.at));
  }

  // The reply.
  const std::string peer = peer_of(c.initiator);
  if (c.echoed) {
    std::string reply;
    if (c.echo_code == c.code) {
      reply = c.echo_code ? fmt::format("its own Close ({})", *c.echo_code)
                          : std::string("an empty Close");
    } else {
      reply = c.echo_code ? fmt::format("a Close with a different code, {}, which is allowed",
                                        *c.echo_code)
                          : std::string("an empty Close, which is allowed");
    }
    const auto delay = ms_between(c.at, c.echo_at);
    v.cause += fmt::format(" {} answered{} with {}{}.", capitalised(peer),
                           delay ? fmt::format(" {} later", format_duration_ms(*delay)) : "",
                           reply, at_packet(c.echo_at));
  } else if (t.how != TcpEndHow::open) {
    v.cause += fmt::format(" {} never answered with its own Close before TCP ended "
                           "(close-not-echoed).",
                           capitalised(peer));
  } else {
    v.cause += " No Close reply was seen before the capture ended.";
  }

  // How TCP ended, in the order it happened (issue #13 §4): "then" only after the last Close said
  // above (the echo when there was one); a FIN between the Close and its echo is said to be so.
  const PacketRef said = c.echoed ? c.echo_at : c.at;
  const bool after = t.at.index == 0 || said.index == 0 || t.at.index >= said.index;
  const bool before_echo = !after && c.echoed && c.at.index != 0 && t.at.index >= c.at.index;
  const bool completed = c.echoed && t.at.index != 0 && t.at.index >= c.echo_at.index;
  const std::string tcp_who = t.by == Side::none ? std::string("one side") : the_side(t.by);
  if (t.how == TcpEndHow::fin) {
    if (before_echo) {
      v.cause += fmt::format(" {} had already closed TCP {}, before that reply.", capitalised(tcp_who),
                             tagged("FIN", t.at));
    } else {
      v.cause += fmt::format(" {} {}closed TCP {}.", capitalised(tcp_who), after ? "then " : "",
                             tagged("FIN", t.at));
    }
  } else if (t.how == TcpEndHow::rst) {
    v.cause += fmt::format(" {} {}reset TCP {}, {} the close handshake completed.",
                           capitalised(tcp_who), after ? "then " : before_echo ? "had already " : "",
                           tagged("RST", t.at), completed ? "after" : "before");
  } else {
    v.cause += " TCP was still open when the capture ended.";
  }

  // Meaning and usual causes.
  if (one_byte) {
    v.cause += " A 1-byte Close payload carries no status code, so it is reported as 1005; it is "
               "malformed, not a deliberate empty Close.";
    v.advice = "Fix the sender's close() call or Close framing.";
  } else if (!valid) {
    v.cause += fmt::format(" Code {} must never appear in a Close frame (RFC 6455 §7.4), so the "
                           "receiver must treat it as a protocol error. {}",
                           code, rule_info(RuleId::close_code_invalid).cause);
    v.advice = std::string(rule_info(RuleId::close_code_invalid).advice);
  } else if (info) {
    v.cause += fmt::format(" {} {}", info->meaning, info->cause);
    v.advice = std::string(info->advice);
  }
  if (!c.echoed && t.how != TcpEndHow::open) {
    v.advice += fmt::format(" Also, {} did not complete the close handshake: let its library "
                            "answer the Close before it closes the socket.",
                            peer);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Row c: no Close frame, TCP ended -> 1006

bool applies_abnormal(const ConnectionSummary& s) {
  return !s.close.seen && s.tcp_end.how != TcpEndHow::open;
}

bool explains_abnormal(RuleId r) {
  return r == RuleId::rst || r == RuleId::fin_without_close || r == RuleId::handshake_accept ||
         r == RuleId::handshake_subprotocol || r == RuleId::handshake_extension ||
         r == RuleId::ping_unanswered;
}

struct KnownTimeout {
  double seconds;
  std::string_view who;
};

// Default idle timeouts of common middleboxes and servers (ascending).
constexpr std::array<KnownTimeout, 6> kIdleTimeouts{{
    {55, "the Heroku router's idle timeout (55 s)"},
    {60, "nginx proxy_read_timeout and the AWS ALB/ELB idle timeout (60 s)"},
    {100, "Cloudflare's idle timeout (100 s)"},
    {120, "uWebSockets' default idleTimeout (120 s)"},
    {240, "the Azure Load Balancer idle timeout (4 min)"},
    {350, "the AWS NLB idle timeout (350 s)"},
}};

const KnownTimeout* matching_timeout(double idle_s) {
  const KnownTimeout* match = nullptr;
  for (const KnownTimeout& k : kIdleTimeouts) {
    if (idle_s >= k.seconds - 0.5 && idle_s <= k.seconds + 5.0) match = &k;
  }
  return match;
}

constexpr double kLongIdleSeconds = 25.0;

Verdict make_abnormal(const ConnectionSummary& s) {
  const TcpEndSummary& tcp = s.tcp_end;
  const HandshakeSummary& h = s.handshake;
  // Blame whoever started the ending (a RST that only answers a FIN is not the cause).
  struct {
    Side by;
    PacketRef at;
  } const t{tcp.initiator != Side::none ? tcp.initiator : tcp.by,
            tcp.initiator != Side::none ? tcp.initiated_at : tcp.at};
  const bool rst = tcp.initiator != Side::none ? tcp.initiated_by_rst : tcp.how == TcpEndHow::rst;
  const char* what = rst ? "RST" : "FIN";

  Verdict v;
  v.code = 1006;
  v.name = "Abnormal Closure";
  v.severity = Severity::error;
  v.side = t.by;

  const std::string who = the_side(t.by);
  std::string ending;
  if (t.by == Side::none) {
    ending = rst ? "the connection was reset" : "TCP was closed";
  } else {
    ending = rst ? who + " reset the connection" : who + " closed TCP";
  }
  const std::optional<double> idle_ms = tcp.idle_before_ms;
  const double idle_s = idle_ms ? *idle_ms / 1000.0 : 0.0;
  // A 101 the client must reject (RFC 6455 §4.1): it fails the connection, no Close frame.
  std::optional<RuleId> bad_101;
  if (h.response_seen && h.status == 101) {
    for (RuleId r : {RuleId::handshake_accept, RuleId::handshake_subprotocol,
                     RuleId::handshake_extension}) {
      if (has_problem(s, r)) {
        bad_101 = r;
        break;
      }
    }
  }
  const bool bad_accept = bad_101 == RuleId::handshake_accept;
  const Finding* ping = s.find(RuleId::ping_unanswered);
  const bool lossy = s.has(RuleId::capture_gap) || s.has(RuleId::snaplen_truncated) ||
                     s.has(RuleId::ws_desync) || s.has(RuleId::limit_ooo_buffer);

  // Summary line.
  if (bad_accept) {
    v.summary = fmt::format("abnormal closure (1006): the server's Sec-WebSocket-Accept did not "
                            "match the key, and {} without a Close frame",
                            ending);
  } else if (bad_101) {
    v.summary = fmt::format("abnormal closure (1006): the server's 101 was invalid ({}), and {} "
                            "without a Close frame",
                            rule_info(*bad_101).name, ending);
  } else {
    v.summary = fmt::format("abnormal closure (1006): {} without a Close frame", ending);
    if (idle_ms && idle_s >= 1.0) {
      v.summary += fmt::format(" after {} idle", format_duration_ms(*idle_ms));
    }
  }
  if (ping) v.summary += "; a Ping went unanswered";

  // Cause: the evidence first.
  v.cause = fmt::format("No Close frame was seen in either direction; {} {}", ending,
                        tagged(what, t.at));
  if (idle_ms) {
    v.cause += fmt::format(", {} after the last data", format_duration_ms(*idle_ms));
  }
  v.cause += ". Endpoints report this as 1006 Abnormal Closure (RFC 6455 §7.1.5).";

  if (bad_accept) {
    v.cause += fmt::format(
        " The server answered 101{} but its Sec-WebSocket-Accept was not derived from the "
        "client's Sec-WebSocket-Key, so a compliant client must fail the connection without a "
        "Close frame (RFC 6455 §4.1, §7.1.7){}.",
        at_packet(h.response_at),
        t.by == Side::client ? ", which is what the client did" : "");
  } else if (bad_101) {
    v.cause += fmt::format(" The server answered 101{} but broke {} ({}): {}. A compliant client "
                           "must fail the connection without a Close frame (RFC 6455 §4.1, "
                           "§7.1.7){}.",
                           at_packet(h.response_at), rule_info(*bad_101).spec,
                           rule_info(*bad_101).name, rule_info(*bad_101).title,
                           t.by == Side::client ? ", which is what the client did" : "");
  }

  const KnownTimeout* timeout = idle_ms ? matching_timeout(idle_s) : nullptr;
  const bool long_idle = idle_ms && idle_s >= kLongIdleSeconds;
  if (timeout) {
    v.cause += fmt::format(" The {} of silence before the end matches {}: a proxy, load "
                           "balancer or server closing idle connections looks exactly like "
                           "this.",
                           format_duration_ms(*idle_ms), timeout->who);
  } else if (long_idle) {
    v.cause += fmt::format(" {} of silence before the end is typical of an idle timeout in a "
                           "proxy, load balancer, NAT or firewall (common defaults: 30, 60, 100 "
                           "and 120 s).",
                           capitalised(format_duration_ms(*idle_ms)));
  }
  if (long_idle || timeout) {
    v.cause += fmt::format(" Note that \"{}\" here is whoever holds that address in this capture, "
                           "which may be a proxy in between.",
                           t.by == Side::none ? "the sender" : who);
  }

  if (ping) {
    v.cause += fmt::format(" {} never answered a Ping{}{}.",
                           ping->side == Side::none ? std::string("The peer")
                                                    : capitalised(the_side(ping->side)),
                           at_packet(ping->at),
                           ping->message.empty()
                               ? std::string()
                               : fmt::format(" ({})", printable(ping->message)));
  } else if (long_idle && s.c2s.pings == 0 && s.s2c.pings == 0) {
    v.cause += " No Ping frames were seen, so nothing kept the connection active during that "
               "gap.";
  }

  if (!bad_101 && !long_idle && !timeout) {
    if (t.by == Side::server) {
      v.cause += rst ? " A server-side RST without a Close usually means the process died or was "
                       "killed (crash, OOM kill, restart), closed the socket with unread data, or "
                       "a load balancer or firewall reset the flow."
                     : " A server-side FIN without a Close usually means the process exited or "
                       "restarted without closing its WebSockets, the handler closed the raw "
                       "socket, or a proxy timed the connection out.";
    } else if (t.by == Side::client) {
      v.cause += " A client ending TCP without a Close usually means the app, tab or process was "
                 "killed, the device slept or changed networks, or client code destroyed the "
                 "socket instead of calling close().";
    }
  }
  if (lossy) {
    v.cause += " The capture lost bytes on this connection, so a Close frame may have been sent "
               "and not captured.";
  }

  // Advice.
  if (bad_101) {
    v.advice = std::string(rule_info(*bad_101).advice);
  } else if (timeout || long_idle) {
    v.advice = "Send Pings (or application heartbeats) more often than the shortest idle timeout "
               "on the path, e.g. every 20-30 s, or raise that timeout (nginx "
               "proxy_read_timeout/proxy_send_timeout, AWS ALB idle_timeout.timeout_seconds, "
               "your LB's equivalent). Let clients reconnect with backoff.";
  } else if (t.by == Side::server) {
    v.advice = "Check the server's (or proxy's) logs, restarts and OOM kills at the time of the "
               "end; make shutdown paths send Close 1001 before exiting, and let clients "
               "reconnect with backoff.";
  } else if (t.by == Side::client) {
    v.advice = "Call close(1000) on normal exits (page unload, app shutdown) so the server can "
               "tell intended disconnects from failures; on mobile expect network changes and "
               "reconnect with backoff.";
  } else {
    v.advice = std::string(close_code_info(1006)->advice);
  }
  if (ping) {
    v.advice += " Look at why the Ping went unanswered: blocking work on the peer's event loop, "
                "or a path that was already dead.";
  }
  if (lossy) v.advice += " Re-capture without loss to confirm.";
  return v;
}

// ---------------------------------------------------------------------------------------------
// Row d: still open at the end of the capture

bool applies_open(const ConnectionSummary& s) { return s.tcp_end.how == TcpEndHow::open; }

bool explains_open(RuleId r) { return r == RuleId::open_at_end; }

Verdict make_open(const ConnectionSummary& s) {
  Verdict v;
  v.name = "open";
  v.severity = Severity::info;
  v.side = Side::none;
  const std::optional<double> idle_ms = s.tcp_end.idle_before_ms;
  v.summary = idle_ms ? fmt::format("still open when the capture ended, {} since the last data "
                                    "(open-at-end)",
                                    format_duration_ms(*idle_ms))
                      : std::string("still open when the capture ended (open-at-end)");
  v.cause = fmt::format("Neither a Close frame nor a TCP FIN/RST was seen up to the connection's "
                        "last captured packet{}, so how the connection ends is not in this "
                        "capture.",
                        at_packet(s.last));
  v.advice = fmt::format("{} In live mode (-i) wsdiag reports a connection when it ends.",
                         rule_info(RuleId::open_at_end).advice);
  return v;
}

// ---------------------------------------------------------------------------------------------

constexpr std::array<VerdictRule, 7> kTable{{
    {"tls-not-decrypted", tls_verdict_applies, make_tls_verdict, tls_verdict_explains},
    {"handshake-failed", applies_handshake_failed, make_handshake_failed,
     explains_handshake_failed},
    {"invalid-close", rows::applies_invalid_close, rows::make_invalid_close, rows::explains_invalid_close},
    {"closed", applies_closed, make_closed, explains_closed},
    {"client-rejected-101", rows::applies_rejected_101, rows::make_rejected_101, rows::explains_rejected_101},
    {"abnormal-1006", applies_abnormal, make_abnormal, explains_abnormal},
    {"open", applies_open, make_open, explains_open},
}};

// ---------------------------------------------------------------------------------------------
// Findings in the summary line

struct Item {
  RuleId rule;
  Side side;
  PacketRef at;
  std::uint64_t count;
};

Side handshake_problem_side(RuleId r) {
  switch (r) {
    case RuleId::handshake_method:
    case RuleId::handshake_upgrade_header:
    case RuleId::handshake_key:
    case RuleId::handshake_version:
    case RuleId::data_before_101:
      return Side::client;
    default:
      return Side::server;
  }
}

bool is_request_rule(RuleId r) { return handshake_problem_side(r) == Side::client; }

std::vector<Item> all_findings(const ConnectionSummary& s) {
  std::vector<Item> items;
  items.reserve(s.findings.size() + s.handshake.problems.size());
  for (const Finding& f : s.findings) items.push_back({f.rule, f.side, f.at, f.count});
  for (RuleId r : s.handshake.problems) {
    const bool dup = s.has(r) || std::any_of(items.begin() + static_cast<std::ptrdiff_t>(
                                                                 s.findings.size()),
                                             items.end(),
                                             [r](const Item& i) { return i.rule == r; });
    if (dup) continue;
    items.push_back({r, handshake_problem_side(r),
                     is_request_rule(r) ? s.handshake.request_at : s.handshake.response_at, 1});
  }
  return items;
}

std::string_view count_noun(RuleId r) {
  switch (r) {
    case RuleId::client_unmasked:
    case RuleId::server_masked:
    case RuleId::rsv_bits:
    case RuleId::reserved_opcode:
    case RuleId::length_not_minimal:
    case RuleId::length_msb:
    case RuleId::control_too_long:
    case RuleId::control_fragmented:
    case RuleId::unexpected_continuation:
    case RuleId::expected_continuation:
    case RuleId::data_after_close:
    case RuleId::frame_after_close_received:
      return "frames";
    case RuleId::invalid_utf8:
    case RuleId::inflate_error:
    case RuleId::message_too_big:
    case RuleId::compressed_unverified:
      return "messages";
    case RuleId::pong_mismatch:
      return "Pongs";
    case RuleId::ping_unanswered:
      return "Pings";
    default:
      return "times";
  }
}

std::string where_text(const Item& it) {
  if (it.count > 1) {
    const std::string_view noun = count_noun(it.rule);
    const std::string first =
        it.at.index ? fmt::format(", first at packet {}", it.at.index) : std::string();
    if (noun == "times") return fmt::format(" {} times{}", it.count, first);
    return fmt::format(" in {} {}{}", it.count, noun, first);
  }
  return it.at.index ? fmt::format(" at packet {}", it.at.index) : std::string();
}

bool broke_form(const Item& it) {
  const RuleInfo& r = rule_info(it.rule);
  return r.severity == Severity::error && !r.spec.empty() && it.side != Side::none;
}

/// Orders findings most serious first: severity, then spec violations with a known side, then the
/// earliest packet, then catalogue order.
bool more_serious(const Item& a, const Item& b) {
  const Severity sa = rule_info(a.rule).severity;
  const Severity sb = rule_info(b.rule).severity;
  if (sa != sb) return sa > sb;
  const bool ba = broke_form(a), bb = broke_form(b);
  if (ba != bb) return ba;
  const std::uint64_t pa = a.at.index ? a.at.index : UINT64_MAX;
  const std::uint64_t pb = b.at.index ? b.at.index : UINT64_MAX;
  if (pa != pb) return pa < pb;
  return a.rule < b.rule;
}

}  // namespace

std::string format_duration_ms(double ms) {
  if (!(ms > 0)) ms = 0;  // also maps NaN to 0
  if (ms < 10) return fmt::format("{:.1f} ms", ms);
  if (ms < 1000) return fmt::format("{:.0f} ms", ms);
  if (ms < 600'000) return fmt::format("{:.1f} s", ms / 1000.0);
  return fmt::format("{:.1f} min", ms / 60'000.0);
}

std::span<const VerdictRule> verdict_table() noexcept { return kTable; }

Verdict diagnose(const ConnectionSummary& s) {
  const VerdictRule* row = nullptr;
  for (const VerdictRule& r : kTable) {
    if (r.applies(s)) {
      row = &r;
      break;
    }
  }
  Verdict v;
  if (row) {
    v = row->make(s);
  } else {  // unreachable with the rows above; stay honest if the table changes
    v.name = "unknown";
    v.summary = "no verdict: the capture does not show how this connection ended";
  }
  const Severity ending = v.severity;

  const std::vector<Item> items = all_findings(s);
  const Item* top = nullptr;
  std::size_t others = 0;
  for (const Item& it : items) {
    const Severity sev = rule_info(it.rule).severity;
    if (sev > v.severity) v.severity = sev;
    if (sev == Severity::info) continue;
    if (row && row->explains && row->explains(it.rule)) continue;
    if (top == nullptr) {
      top = &it;
    } else {
      ++others;
      if (more_serious(it, *top)) top = &it;
    }
  }
  if (top) {
    const RuleInfo& r = rule_info(top->rule);
    if (broke_form(*top)) {
      v.summary += ending == Severity::info ? ", but " : "; ";
      v.summary += fmt::format("{}{} broke {} ({}){}", the_side(top->side),
                               ending == Severity::info ? "" : " also", r.spec, r.name,
                               where_text(*top));
    } else {
      v.summary += fmt::format("; {}: {} ({}{}{}){}", to_string(r.severity), r.title, r.name,
                               top->side == Side::none ? "" : ", ", to_string(top->side),
                               where_text(*top));
    }
    if (others > 0) {
      v.summary += fmt::format(" (+{} more finding{})", others, others == 1 ? "" : "s");
    }
    // The ending's texts say nothing about this finding: add its explanation.
    const std::string who = top->side == Side::none ? std::string() : the_side(top->side) + ", ";
    v.cause += fmt::format(" Also found: {} ({}{}{}). {}", r.title, who, r.name,
                           where_text(*top), r.cause);
    v.advice += fmt::format(" For {}: {}", r.name, r.advice);
  }
  return v;
}

}  // namespace wsdiag::diag
