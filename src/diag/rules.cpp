// wsdiag — the rule catalogue (RULES.md; RFC 6455 §4, §5, §7; RFC 7692 §6-§7).
//
// One constexpr row per RuleId, in enum order (checked at compile time below). Severity follows
// RULES.md: a MUST violation is an error; a SHOULD, or a pattern that predicts trouble, a warning;
// context an info. Capture problems: capture-gap, snaplen-truncated, ws-desync and the limit rows
// are warnings because the missing bytes may hide a Close frame or a violation, i.e. the verdict
// itself may be incomplete; capture-started-midstream is info because it only means the handshake
// checks could not run (expected with --ws-port) and says nothing about the application.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "wsdiag/diag/rules.h"

namespace wsdiag::diag {
namespace {

using S = Severity;

constexpr std::array<RuleInfo, kRuleCount> kRules{{
    // ---- Opening handshake (RFC 6455 §4) ----
    {RuleId::handshake_method, "handshake-method", S::error, "RFC 6455 §4.1",
     "Upgrade request is not a GET over HTTP/1.1 or later",
     "The client sent the Upgrade request with another method or an HTTP version below 1.1. "
     "Usually a hand-rolled client, or a proxy that forwards requests upstream as HTTP/1.0.",
     "Send the handshake as `GET <path> HTTP/1.1`. In nginx set `proxy_http_version 1.1;` for the "
     "WebSocket location (the upstream default is HTTP/1.0)."},
    {RuleId::handshake_upgrade_header, "handshake-upgrade-header", S::error,
     "RFC 6455 §4.1, §4.2.1", "Upgrade/Connection headers missing or wrong",
     "The request lacks `Upgrade: websocket` or a `Connection` header holding the `Upgrade` token. "
     "Both are hop-by-hop headers, so a reverse proxy drops them unless told to forward them.",
     "In nginx add `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
     "proxy_set_header Connection \"upgrade\";`. For other proxies, ingresses and CDNs, enable "
     "WebSocket support on this route."},
    {RuleId::handshake_key, "handshake-key", S::error, "RFC 6455 §4.1",
     "Sec-WebSocket-Key missing or not base64 of 16 bytes",
     "The client omitted Sec-WebSocket-Key or sent a value that does not decode to exactly 16 "
     "bytes. Typical of hand-built requests or a proxy rewriting headers.",
     "Send 16 fresh random bytes per connection, base64-encoded (24 characters ending in `==`). "
     "Prefer a maintained client library over building the request by hand."},
    {RuleId::handshake_version, "handshake-version", S::error, "RFC 6455 §4.1, §4.4",
     "Sec-WebSocket-Version is not 13",
     "The client sent an old draft version or none. The server should answer 426 Upgrade Required "
     "listing the versions it supports in Sec-WebSocket-Version.",
     "Use a client that speaks RFC 6455 (version 13). If an intermediary rewrites the header, fix "
     "or bypass it."},
    {RuleId::handshake_rejected, "handshake-rejected", S::error, "RFC 6455 §4.2.2",
     "Server refused the WebSocket upgrade",
     "The server answered the Upgrade request with a status other than 101, so no WebSocket "
     "connection existed. Common: auth or Origin checks (401/403), wrong path (404), missing "
     "headers (400), an unreachable backend behind a proxy (502/503/504).",
     "Read the status, the Server header and the response body in the capture, then the server or "
     "proxy log entry for that request; check the route's WebSocket configuration."},
    {RuleId::handshake_accept, "handshake-accept", S::error, "RFC 6455 §4.2.2",
     "Sec-WebSocket-Accept does not match the key",
     "The server's Sec-WebSocket-Accept is not base64(SHA-1(key + "
     "\"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\")), so the client must fail the connection. Usually "
     "a hand-written server (hex digest, trimmed key) or a proxy that changed the key.",
     "Hash the exact Sec-WebSocket-Key received plus the GUID and base64 the raw 20-byte digest. "
     "Make sure no proxy rewrites Sec-WebSocket-Key or replays a cached 101."},
    {RuleId::handshake_subprotocol, "handshake-subprotocol", S::error, "RFC 6455 §4.1",
     "Server selected a subprotocol the client did not offer",
     "The response's Sec-WebSocket-Protocol names a value the client never offered (or any value "
     "when none was offered); the client must fail the connection.",
     "Make the server choose only from the client's Sec-WebSocket-Protocol list, or omit the "
     "header. Look for client and server versions that disagree on protocol names."},
    {RuleId::handshake_extension, "handshake-extension", S::error, "RFC 6455 §4.1, RFC 7692 §7",
     "Server accepted an extension or parameter the client did not offer",
     "Sec-WebSocket-Extensions in the response names an extension or parameter the client did not "
     "offer (e.g. client_max_window_bits), or an invalid value; the client must fail the "
     "connection.",
     "Align the server's permessage-deflate options with what clients offer. A proxy that "
     "terminates WebSockets must negotiate extensions per hop, not copy the header through."},
    {RuleId::data_before_101, "data-before-101", S::error, "RFC 6455 §4.1",
     "Client sent data before the server's 101 arrived",
     "The client wrote WebSocket frames without waiting for the handshake response. If the server "
     "rejects the upgrade, those bytes are read as HTTP.",
     "Send only after the library reports the connection open; in custom clients wait for and "
     "validate the 101 before writing."},
    {RuleId::no_response, "no-response", S::error, "",
     "No response to the Upgrade request",
     "The client sent the Upgrade request but no HTTP response arrived before the connection "
     "ended: the server or a proxy hung, crashed or dropped the request.",
     "Find the request in the server and proxy logs; check upstream connect/read timeouts and that "
     "the path is routed to a WebSocket-capable backend."},

    // ---- Frames (RFC 6455 §5) ----
    {RuleId::client_unmasked, "client-unmasked", S::error, "RFC 6455 §5.1, §5.3",
     "Client frame not masked",
     "A client-to-server frame had the MASK bit clear; the server must close the connection "
     "(usually with 1002). Typical: a custom client (or server-side framing code reused in a "
     "client), or a proxy that re-frames traffic.",
     "Use a compliant client library (clients must mask every frame). If a proxy re-originates "
     "WebSocket traffic, check that its client side masks."},
    {RuleId::server_masked, "server-masked", S::error, "RFC 6455 §5.1",
     "Server frame masked",
     "A server-to-client frame had the MASK bit set; the client must fail the connection. Usually "
     "a library running in client mode on the server side, or custom framing code.",
     "Run the server side of the library in server mode, or fix the framer so server frames are "
     "never masked."},
    {RuleId::rsv_bits, "rsv-bits", S::error, "RFC 6455 §5.2, RFC 7692 §6",
     "RSV bits set without a negotiated extension",
     "RSV1-3 were set although no negotiated extension defines them, or RSV1 was set on a control "
     "or continuation frame. Typical: compression enabled on one side only, or a proxy that "
     "stripped Sec-WebSocket-Extensions but forwards compressed frames.",
     "Check Sec-WebSocket-Extensions in the 101: enable permessage-deflate end to end or disable it "
     "on both sides."},
    {RuleId::reserved_opcode, "reserved-opcode", S::error, "RFC 6455 §5.2",
     "Reserved opcode used",
     "A frame used opcode 0x3-0x7 or 0xB-0xF, which RFC 6455 does not define. Often a sign of "
     "corrupted framing in the sender.",
     "Check the sender's framing code. If the capture has gaps in this direction, rule out lost "
     "bytes first."},
    {RuleId::length_not_minimal, "length-not-minimal", S::error, "RFC 6455 §5.2",
     "Payload length not minimally encoded",
     "A frame used the 16- or 64-bit length form for a length that fits a shorter form. Strict "
     "peers close the connection with 1002.",
     "Fix the sender's framer: 7-bit length below 126, 16-bit below 65536, 64-bit only above."},
    {RuleId::length_msb, "length-msb", S::error, "RFC 6455 §5.2",
     "64-bit payload length has its top bit set",
     "The most significant bit of a 64-bit length must be 0. Set, it means a framing bug or "
     "corrupted data.",
     "Check the sender's length encoding (an unsigned 63-bit value); rule out capture gaps that "
     "misalign frames."},
    {RuleId::control_too_long, "control-too-long", S::error, "RFC 6455 §5.5",
     "Control frame payload over 125 bytes",
     "A Ping, Pong or Close carried more than 125 bytes; the peer must fail the connection. "
     "Usually large ping payloads or a long close reason.",
     "Keep ping payloads and close reasons short (a close reason may have at most 123 bytes)."},
    {RuleId::control_fragmented, "control-fragmented", S::error, "RFC 6455 §5.5",
     "Control frame fragmented (FIN clear)",
     "A Ping, Pong or Close had FIN=0; control frames cannot be fragmented. A framing bug in the "
     "sender.",
     "Send every control frame as one frame with FIN set."},
    {RuleId::unexpected_continuation, "unexpected-continuation", S::error, "RFC 6455 §5.4",
     "Continuation frame with no message in progress",
     "A continuation frame (opcode 0) arrived while no fragmented message was open. A "
     "fragmentation bug in the sender, or bytes lost from the capture.",
     "Check the sender's fragmentation: first frame text/binary with FIN=0, then continuations, "
     "the last with FIN=1. Rule out capture gaps first."},
    {RuleId::expected_continuation, "expected-continuation", S::error, "RFC 6455 §5.4",
     "New message started inside a fragmented message",
     "A text or binary frame started while a fragmented message was unfinished; messages cannot "
     "interleave. Often two threads or tasks writing to one connection at once.",
     "Serialise sends per connection (one writer task, or a lock/queue around send); most "
     "WebSocket libraries do not support concurrent writers."},
    {RuleId::invalid_utf8, "invalid-utf8", S::error, "RFC 6455 §5.6, §8.1",
     "Text message is not valid UTF-8",
     "A text message (after decompression) contains bytes that are not valid UTF-8; the receiver "
     "must fail the connection, usually with 1007. Commonly binary data sent as text, or a string "
     "cut inside a multi-byte character.",
     "Send binary data as binary messages; encode strings as UTF-8 and split them only on "
     "character boundaries."},
    {RuleId::inflate_error, "inflate-error", S::error, "RFC 7692 §7.2.3",
     "Compressed message does not inflate",
     "A permessage-deflate message failed to decompress with the negotiated settings. Typical: "
     "the peers disagree on context takeover or window bits, or a proxy altered compressed frames.",
     "Compare the negotiated *_no_context_takeover and *_max_window_bits with each side's "
     "configuration; disable compression to confirm."},

    // ---- Close handshake (RFC 6455 §5.5.1, §7) ----
    {RuleId::close_payload_1, "close-payload-1", S::error, "RFC 6455 §5.5.1",
     "Close frame with a 1-byte payload",
     "A Close payload must be empty or start with a 2-byte status code; one byte is malformed and "
     "the peer must treat it as a protocol error.",
     "Send either an empty Close or a 2-byte code optionally followed by a UTF-8 reason."},
    {RuleId::close_code_invalid, "close-code-invalid", S::error, "RFC 6455 §7.4",
     "Close code not allowed on the wire",
     "The Close frame carried a code that must never be sent (below 1000, 1004-1006, 1015, "
     "1016-2999, 5000 and up). Typically an HTTP status or internal error number passed to "
     "close(), or a 1005/1006 from a close event forwarded as is.",
     "Use 1000-1003 or 1007-1014 for protocol reasons and 4000-4999 for application reasons; "
     "never send 1005 or 1006."},
    {RuleId::close_reason_utf8, "close-reason-utf8", S::error, "RFC 6455 §5.5.1, §8.1",
     "Close reason is not valid UTF-8",
     "The reason after the close code is not valid UTF-8, often because it was cut to 123 bytes "
     "in the middle of a character.",
     "Encode the reason as UTF-8 and truncate it on a character boundary."},
    {RuleId::data_after_close, "data-after-close", S::error, "RFC 6455 §5.5.1",
     "Data frame sent after the sender's own Close",
     "An endpoint sent a data frame after sending its own Close frame. Usually a timer, queue or "
     "second task still sending after close() was called.",
     "Stop send loops and timers when closing, and check the connection state before sending."},
    {RuleId::close_not_echoed, "close-not-echoed", S::warning, "RFC 6455 §5.5.1",
     "Close not answered with a Close",
     "One side sent a Close but the other never replied with its own Close before TCP ended, so "
     "the close was not clean. Often the peer was already dying, destroyed the socket on receipt, "
     "or a proxy tore the connection down on the first Close.",
     "Let the library complete the close handshake (don't destroy the socket right after receiving "
     "a Close); check proxies that close on the first Close frame."},
    {RuleId::client_closed_tcp_first, "client-closed-tcp-first", S::info, "RFC 6455 §7.1.1",
     "Client closed TCP before the server",
     "After the close handshake the server should close TCP first, so that the server, not the "
     "client, holds TIME_WAIT; here the client closed first. Harmless for most applications.",
     "No action unless clients reconnect rapidly from the same port; then make the server close "
     "TCP right after the close handshake."},
    {RuleId::pong_mismatch, "pong-mismatch", S::error, "RFC 6455 §5.5.3",
     "Pong payload differs from the Ping",
     "A Pong answering a Ping did not carry the same application data. Keepalive code that matches "
     "Pongs by payload will consider the connection dead.",
     "Echo the Ping payload unchanged (libraries do this by default; check custom ping handlers "
     "and proxies that answer pings themselves)."},

    // ---- Beyond RULES.md ----
    {RuleId::ping_unanswered, "ping-unanswered", S::warning, "RFC 6455 §5.5.2",
     "Ping never answered with a Pong",
     "A Ping got no Pong before the connection ended: the peer was blocked or gone, or the path "
     "was already broken (dead NAT mapping, proxy timeout). Heartbeat code then closes the "
     "connection (python websockets: 1011 \"keepalive ping timeout\").",
     "Check the peer's event loop for blocking work and its logs at that time; compare the ping "
     "interval and timeout with the idle gap before the end."},
    {RuleId::close_echo_mismatch, "close-echo-mismatch", S::info, "RFC 6455 §5.5.1",
     "Close reply carried a different code",
     "The peer answered the Close with a different status code. This is allowed (it usually echoes "
     "the code it received), but it shows that the two sides disagree about why.",
     "Usually no action; the first Close's code is the verdict, the reply shows the peer's view."},
    {RuleId::message_too_big, "message-too-big", S::warning, "",
     "Message larger than wsdiag's inflate limit",
     "A compressed message inflated past wsdiag's per-message limit (64 MiB by default), so the "
     "rest was not validated. Messages this large exceed many libraries' defaults and end in 1009.",
     "Check whether the application really sends messages this big (a compression bomb looks the "
     "same); split large payloads or raise receiver limits deliberately."},
    {RuleId::compressed_unverified, "compressed-unverified", S::info, "RFC 7692 §7.2.3",
     "Compressed message could not be checked",
     "permessage-deflate was in use with context takeover, and earlier bytes of the stream were "
     "not captured, so the message could not be inflated or its UTF-8 checked.",
     "Capture from the start of the connection to verify compressed payloads; this finding says "
     "nothing about the application."},
    {RuleId::frame_after_close_received, "frame-after-close-received", S::info,
     "RFC 6455 §5.5.1", "Data sent after receiving a Close",
     "A side kept sending data frames after it had received the peer's Close and before replying. "
     "Legal, but the peer discards them.",
     "If those messages matter, finish sending before closing; otherwise no action."},

    // ---- TCP and capture ----
    {RuleId::rst, "rst", S::warning, "",
     "TCP connection reset",
     "A side sent RST: its process exited or crashed with the socket open, closed it with unread "
     "data, used SO_LINGER 0, or a load balancer or firewall dropped the connection (often on an "
     "idle timeout).",
     "Check that side's logs and restarts (crash, OOM kill, deploy) at the time of the RST; after a "
     "long idle gap, compare it with proxy/LB idle timeouts and add heartbeats."},
    {RuleId::fin_without_close, "fin-without-close", S::warning, "",
     "TCP closed without a Close frame",
     "A side closed TCP (FIN) without sending a WebSocket Close, so the peer reports 1006. "
     "Typical: the process exited, code destroyed the socket instead of calling close(), or a "
     "proxy timed the connection out.",
     "Call the library's close() with a code before shutting down (1001 on deploys); if it happens "
     "after idle periods, check proxy read/idle timeouts."},
    {RuleId::capture_gap, "capture-gap", S::warning, "",
     "Bytes missing from the capture",
     "Bytes that the receiver acknowledged never appeared in the capture: the capture dropped "
     "packets or saw only part of the traffic. Checks on those bytes were skipped, and a lost "
     "Close frame could change the verdict.",
     "Capture closer to one endpoint with a bigger buffer (tcpdump -B 16384), a filter on the "
     "WebSocket port, and check the drop counters tcpdump prints."},
    {RuleId::snaplen_truncated, "snaplen-truncated", S::warning, "",
     "Packets cut by the capture's snaplen",
     "The capture stored only the first bytes of each packet, so WebSocket payloads (and possibly "
     "frame headers, Close frames included) are missing.",
     "Capture whole packets: tcpdump -s 0, or remove a small -s/--snapshot-length option."},
    {RuleId::capture_started_midstream, "capture-started-midstream", S::info, "",
     "Handshake not captured",
     "The capture began after the connection was opened, so the handshake (subprotocol, "
     "extensions, Sec-WebSocket-Accept) could not be checked, and compressed payloads may be "
     "unverifiable.",
     "Start capturing before the client connects to check the handshake; --ws-port analyses such "
     "connections anyway."},
    {RuleId::open_at_end, "open-at-end", S::info, "",
     "Connection still open when the capture ended",
     "Neither a Close frame nor a FIN/RST was seen before the capture stopped; the connection may "
     "have ended later in any way.",
     "Capture until the connection ends, or until the failure reproduces."},
    {RuleId::capture_ended_mid_frame, "capture-ended-mid-frame", S::info, "",
     "Capture ended in the middle of a frame",
     "The last frame in one direction was incomplete when the capture or the connection ended.",
     "No action unless that frame matters; then capture longer."},
    {RuleId::ws_desync, "ws-desync", S::warning, "",
     "WebSocket framing lost",
     "Bytes missing from the capture covered a frame header, or a frame announced a length that "
     "cannot be right (a 64-bit length with its top bit set, or one far beyond what followed), so "
     "frame boundaries were lost. wsdiag resumed at the next plausible frame start (a Close "
     "answered after it still counts); frames in between are not analysed.",
     "If bytes were missing, re-capture without loss (see capture-gap); if a length was "
     "impossible, fix the sender's frame encoder (see length-msb)."},
    {RuleId::http_head_too_large, "http-head-too-large", S::warning, "",
     "HTTP handshake head over the size limit",
     "The Upgrade request or response head exceeded wsdiag's limit (16 KiB by default), usually "
     "from large cookies or many headers; servers and proxies often reject such requests with "
     "400 or 431.",
     "Check cookie and header sizes on the WebSocket route; proxies cap them too (nginx "
     "large_client_header_buffers)."},
    {RuleId::limit_ooo_buffer, "limit-ooo-buffer", S::warning, "",
     "Out-of-order buffer full: a hole was given up",
     "More out-of-order data arrived than wsdiag buffers per direction while waiting for a missing "
     "segment, so the hole was treated as a gap.",
     "Usually heavy loss in the capture: re-capture, or raise the limit. Checks after the hole may "
     "be incomplete."},
    {RuleId::conn_evicted, "conn-evicted", S::warning, "",
     "Connection dropped from wsdiag's table",
     "The connection table was full, and this connection, the least recently active, stopped "
     "being tracked; its later packets were not analysed.",
     "Filter the capture to the WebSocket host/port (-f), or raise the connection limit."},
    {RuleId::idle_timeout, "idle-timeout", S::info, "",
     "Reported after being idle (live mode)",
     "In live mode the connection was idle longer than the configured idle timeout, so it was "
     "reported and forgotten; it may still be open.",
     "Raise the live idle timeout if your connections are legitimately quiet for long periods."},
    // TLS (wss://)
    {RuleId::tls_decrypt_failed, "tls-decrypt-failed", S::warning, "RFC 8446 §5.2",
     "TLS records did not decrypt with the logged secrets",
     "A secret for this connection's client random was in the key log, but a record failed its "
     "authentication tag: the key log belongs to another session or was cut, or the capture lost "
     "or altered bytes. Nothing after it was decoded (no guessed frames).",
     "Make sure the key log was written by the same client or server process during this capture "
     "(SSLKEYLOGFILE is read at start-up), and that the capture has no gaps."},
    {RuleId::tls_alert, "tls-alert", S::warning, "RFC 8446 §6",
     "A TLS alert other than close_notify was sent",
     "One side reported a TLS error (handshake_failure, bad_certificate, decode_error, ...) and "
     "ended the TLS session: the WebSocket connection dies with it, usually seen as 1006 by the "
     "application.",
     "Check certificates, SNI, protocol versions and cipher suites on both sides; the alert name "
     "says which."},
    {RuleId::tls_malformed, "tls-malformed", S::warning, "RFC 8446 §5.1",
     "Bytes that are not a TLS record where one was due",
     "The stream stopped looking like TLS records (corruption, a non-TLS protocol, or a capture "
     "that started mid-record); TLS analysis of that direction stopped.",
     "Check the capture (gaps, snaplen) and whether this port really carries TLS."},
    {RuleId::limit_tls_record, "limit-tls-record", S::warning, "",
     "TLS record longer than the buffering limit",
     "A TLS record longer than wsdiag buffers per direction was announced, so TLS parsing of that "
     "direction stopped.",
     "Raise the limit, or check whether the stream is really TLS."},
    {RuleId::limit_tls_held, "limit-tls-held", S::warning, "",
     "Too many TLS records waited for their secret",
     "In live mode, records that arrive before the key log holds their secret are kept until it "
     "does (a client logs a secret only after using it). More records than wsdiag keeps per "
     "connection arrived before the secret, so they were judged with the secrets logged by then: "
     "the records they held were not decrypted.",
     "Make sure the key log is written by the client as it connects (not at exit), or analyse the "
     "saved capture (-w) with the key log afterwards."},
    {RuleId::tls_h2, "tls-h2", S::info, "RFC 8441",
     "ALPN selected h2: WebSocket over HTTP/2 is not decoded",
     "The TLS handshake selected HTTP/2, where WebSocket runs as an extended CONNECT stream "
     "(RFC 8441). wsdiag decodes WebSocket over HTTP/1.1 only.",
     "To analyse it, make the client use HTTP/1.1 for WebSocket (ALPN http/1.1), or read the "
     "HTTP/2 frames in Wireshark."},
}};

constexpr bool rows_in_enum_order() {
  for (std::size_t i = 0; i < kRules.size(); ++i) {
    if (static_cast<std::size_t>(kRules[i].id) != i) return false;
    if (kRules[i].name.empty() || kRules[i].title.empty() || kRules[i].cause.empty() ||
        kRules[i].advice.empty())
      return false;
  }
  return true;
}
static_assert(rows_in_enum_order(), "kRules: row i must describe RuleId i and be complete");

constexpr RuleInfo kUnknownRule{static_cast<RuleId>(0xFF), "unknown", S::info, "",
                                "Unknown rule", "", ""};

}  // namespace

const char* to_string(Severity s) noexcept {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "info";
}

const char* to_string(Side s) noexcept {
  switch (s) {
    case Side::client:
      return "client";
    case Side::server:
      return "server";
    case Side::both:
      return "both";
    case Side::none:
      return "";
  }
  return "";
}

const RuleInfo& rule_info(RuleId id) noexcept {
  const auto i = static_cast<std::size_t>(id);
  return i < kRules.size() ? kRules[i] : kUnknownRule;
}

const std::array<RuleInfo, kRuleCount>& all_rules() noexcept { return kRules; }

std::optional<RuleId> rule_by_name(std::string_view name) noexcept {
  for (const RuleInfo& r : kRules) {
    if (r.name == name) return r.id;
  }
  return std::nullopt;
}

}  // namespace wsdiag::diag
