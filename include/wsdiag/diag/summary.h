// wsdiag — everything the diagnosis needs to know about one connection, as a plain struct.
//
// The session layer fills it from the wire; the verdict table (verdict.h) and the report writers
// read it. Nothing here points into capture buffers: a summary outlives its connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wsdiag/common/encap.h"
#include "wsdiag/common/path_facts.h"
#include "wsdiag/common/types.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/tls/facts.h"

namespace wsdiag::diag {

struct Finding {
  RuleId rule;
  Side side = Side::none;
  PacketRef at;            ///< first occurrence
  std::string message;     ///< the specific evidence ("Ping of 126 bytes", "code 999")
  std::uint64_t count = 1; ///< occurrences folded into this finding (same rule and side)
};

struct HandshakeSummary {
  bool request_seen = false;
  bool response_seen = false;
  std::optional<int> status;    ///< HTTP status of the final response
  std::string reason_phrase;
  bool ok = false;              ///< 101 with a valid Sec-WebSocket-Accept
  bool verifiable = true;       ///< false when the snaplen cut the request or the response head
  bool request_cut = false;     ///< the Upgrade request was seen, but cut by the snaplen
  std::string method;
  std::string path;
  std::string host;
  std::string origin;
  std::string user_agent;
  std::string server_software;  ///< the response's Server header
  std::string via_request;      ///< the request's Via header (proxies on the way)
  std::string via_response;     ///< the response's Via header
  std::string forwarded_for;    ///< the request's X-Forwarded-For (else Forwarded) header
  std::string subprotocols_offered;
  std::string subprotocol;      ///< selected by the server
  std::string extensions_offered;
  std::string extensions;       ///< accepted by the server, as negotiated
  bool deflate = false;         ///< permessage-deflate in force
  std::vector<RuleId> problems; ///< handshake-* rule ids found
  PacketRef request_at;
  PacketRef response_at;
};

struct CloseSummary {
  bool seen = false;
  Side initiator = Side::none;         ///< who sent the first Close
  std::optional<std::uint16_t> code;   ///< nullopt: empty Close payload (means 1005)
  std::string reason;
  PacketRef at;
  /// The first Close was well-formed: a frame that keeps the control-frame rules (RFC 6455 §5.2,
  /// §5.5: at most 125 bytes, FIN, masked by clients only, no RSV bits), no 1-byte payload, a code
  /// allowed on the wire (§7.4), a UTF-8 reason. A receiver fails the connection on one that is not.
  bool valid = true;
  /// The control-frame rule the first Close's frame broke, if any, and its payload length.
  std::optional<RuleId> frame_rule;
  std::uint64_t payload_len = 0;
  bool echoed = false;
  std::optional<std::uint16_t> echo_code;
  PacketRef echo_at;
  /// The first well-formed Close from either side (the one an endpoint accepts, §7.1.5): the same
  /// frame as above when that was valid; else usually the peer failing the connection (1002/1007).
  bool valid_seen = false;
  Side valid_by = Side::none;
  std::optional<std::uint16_t> valid_code;
  std::string valid_reason;
  PacketRef valid_at;
};

enum class TcpEndHow : std::uint8_t { fin, rst, open };
const char* to_string(TcpEndHow h) noexcept;

struct TcpEndSummary {
  /// How TCP ended: rst if either side reset it (even after FINs, as tshark-derived truth counts
  /// it), else fin if a FIN was sent, else open. by/at: the first RST's sender and packet, or the
  /// first FIN's.
  TcpEndHow how = TcpEndHow::open;
  Side by = Side::none;
  PacketRef at;
  /// Who started the ending: the sender of the first FIN or RST, whichever came first (a RST that
  /// only answers the peer's FIN does not make its sender the cause). The verdict blames this side.
  Side initiator = Side::none;
  PacketRef initiated_at;
  bool initiated_by_rst = false;
  /// Time from the last payload byte to initiated_at; for how == open, the time from the last
  /// payload byte to the end of the capture (used by the "open" verdict when set).
  std::optional<double> idle_before_ms;
  bool client_fin = false, server_fin = false, client_rst = false, server_rst = false;
  PacketRef client_fin_at, server_fin_at, client_rst_at, server_rst_at;
};

/// Application heartbeats wsdiag recognises in data messages (session/heartbeat.h says how).
enum class AppHeartbeat : std::uint8_t {
  none,
  engine_io,      ///< Engine.IO / Socket.IO: text "2" (ping) and "3" (pong)
  stomp,          ///< STOMP heart-beat: a message that is just an EOL (one-way)
  mqtt,           ///< MQTT PINGREQ (0xC0 0x00) and PINGRESP (0xD0 0x00) in binary messages
  graphql_ws,     ///< graphql-transport-ws {"type":"ping"} and {"type":"pong"}
  graphql_ka,     ///< subscriptions-transport-ws (legacy "graphql-ws") {"type":"ka"} keep-alive (one-way)
};
const char* to_string(AppHeartbeat h) noexcept;
/// True for the kinds whose heartbeats ask for an answer (ping/pong), false for one-way beats.
bool answered_kind(AppHeartbeat h) noexcept;

/// One side's application heartbeats: facts only (what was on the wire, when).
struct AppHeartbeats {
  AppHeartbeat kind = AppHeartbeat::none;  ///< the kind of the last one recognised
  std::uint64_t sent = 0;    ///< heartbeats this side sent (pings, or one-way beats)
  std::uint64_t answers = 0; ///< answers this side sent to the peer's heartbeats (pongs)
  PacketRef first;           ///< this side's first and last heartbeat (index 0: none)
  PacketRef last;
  PacketRef last_answered;   ///< this side's latest heartbeat that the peer answered (index 0: none)
};

struct DirCounters {
  std::uint64_t frames = 0;
  std::uint64_t messages = 0;
  std::uint64_t payload_bytes = 0;      ///< frame payload bytes on the wire
  std::uint64_t message_bytes = 0;      ///< message bytes after inflating (== payload for uncompressed)
  std::uint64_t max_message = 0;
  std::uint64_t pings = 0;
  std::uint64_t pongs = 0;
  std::uint64_t compressed_messages = 0;
  std::uint64_t gap_bytes = 0;
  /// Bytes skipped while framing was lost (mid-stream start, a hole, an impossible length): those
  /// before the segment start where a frame plausibly started. Which bytes are segment starts is
  /// up to how TCP cut the stream, so what was skipped, and the frames after, can depend on it.
  std::uint64_t resync_skipped = 0;
  /// Segments judged as a possible frame start inside a frame whose announced length cannot be
  /// right (a 64-bit length with its top bit set, or far beyond anything plausible): the frame
  /// after such a header is looked for at segment starts, which are where TCP cut the stream.
  std::uint64_t doubtful_length_segments = 0;
  PacketRef first_ping;  ///< this side's first and last Ping (index 0: none)
  PacketRef last_ping;
  PacketRef last_message;  ///< this side's last complete data message (index 0: none)
  AppHeartbeats app;       ///< application heartbeats (not counted in pings/pongs)
};

/// One WebSocket control frame on the wire, with the traffic counted before it: the raw material
/// of a connection's timeline (report/timeline.h), with TcpEndSummary's FINs and RSTs. Counters are
/// cumulative from the connection's start, so the traffic between two kept events is their difference.
enum class WireEventKind : std::uint8_t { ping, pong, close, fin, rst };  ///< fin/rst: timeline only
const char* to_string(WireEventKind k) noexcept;

struct WireEvent {
  WireEventKind kind = WireEventKind::ping;
  Side by = Side::none;                ///< the sender
  PacketRef at;
  std::optional<std::uint16_t> code;   ///< Close frames with a code
  std::uint64_t messages[2] = {0, 0};  ///< data messages completed before it: [0] client, [1] server
  std::uint64_t pings[2] = {0, 0};     ///< Pings sent before it, by side
  std::uint64_t pongs[2] = {0, 0};
  PacketRef last_message;              ///< the last data message (either side) before it; index 0: none
};

/// The connection's control frames, bounded (Limits::timeline_pings): each side's first Close is
/// kept; of the Pings and Pongs only the last ones (the others only count).
struct WireEvents {
  std::vector<WireEvent> kept;  ///< in packet order
  std::uint64_t pings_pongs_not_kept = 0;
  PacketRef last_message;       ///< the connection's last data message (either side)
};

/// What one side's packets were encapsulated in (the first tunnelled packet's layers).
struct TunnelSide {
  Encap encap;
  std::uint64_t packets = 0;  ///< this side's packets that came in an encapsulation
  std::uint64_t of = 0;       ///< all of this side's packets
};

struct TunnelSummary {
  TunnelSide client;  ///< client -> server packets
  TunnelSide server;  ///< server -> client packets
  [[nodiscard]] bool any() const noexcept { return client.packets + server.packets != 0; }
};

struct ConnectionSummary {
  std::uint64_t id = 0;
  std::string client;          ///< "ip:port"
  std::string server;
  bool websocket = false;      ///< an Upgrade request was seen, or --ws-port said so
  bool handshake_captured = true;  ///< false when decoding starts after the handshake (--ws-port)
  bool tcp_handshake_seen = false; ///< the client's SYN was captured
  std::string history;         ///< Zeek-style TCP history
  TunnelSummary tunnel;        ///< tunnels, label stacks, PPPoE the packets came in
  PacketRef first;
  PacketRef last;
  std::uint64_t packets = 0;
  HandshakeSummary handshake;
  DirCounters c2s, s2c;
  CloseSummary close;
  TcpEndSummary tcp_end;
  /// What each side's packets said about the path: TTLs, IP IDs, retransmissions, zero windows,
  /// window probes, its first RST (filled by the flow layer, common/path_facts.h).
  SideFacts client_path;
  SideFacts server_path;
  WireEvents events;
  std::vector<Finding> findings;
  std::optional<tls::TlsFacts> tls;  ///< set when the connection is TLS (wss://)

  [[nodiscard]] bool has(RuleId r) const noexcept;
  [[nodiscard]] const Finding* find(RuleId r) const noexcept;
};

struct Verdict {
  std::optional<std::uint16_t> code;  ///< RFC 6455 §7.1.5 close code seen from the wire
  std::string name;                   ///< "Normal Closure", "Abnormal Closure", "open", "handshake failed"
  Severity severity = Severity::info;
  Side side = Side::none;             ///< who caused the ending
  std::string summary;                ///< one line
  std::string cause;                  ///< what it means and what usually causes it, with evidence
  std::string advice;                 ///< what to check and change
  bool client_rejected_101 = false;   ///< the server answered 101 and the client failed the handshake
};

}  // namespace wsdiag::diag
