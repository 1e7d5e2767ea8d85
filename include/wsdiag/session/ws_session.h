// wsdiag — the WebSocket session of one TCP connection (RFC 6455 §4-§7).
//
// Design note. A WsSession is the StreamSink of one connection. Per direction it runs:
//   http   the Upgrade request (client) or response (server) head is collected;
//   wait   the client's bytes after its request, held (bounded) until the server's response says
//          whether they are WebSocket frames (data-before-101) or not;
//   ws     the frame parser, whose events drive the message, ping/pong and close state machine;
//   other  not WebSocket (plain HTTP, TLS, ...): bytes are ignored.
// Bytes that follow the 101 response in the same segment go straight to the server's frame parser
// (a Ping coalesced with the 101 decodes). Every rule check is here, each emitting a Finding with
// its rule id, side and packet; findings of one rule and side fold into one with a count.
// summarize() turns the session plus the flow layer's TCP facts into a ConnectionSummary.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wsdiag/common/limits.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/flow/flow_table.h"
#include "wsdiag/http/handshake.h"
#include "wsdiag/http/head_collector.h"
#include "wsdiag/reassembly/stream_sink.h"
#include "wsdiag/session/frame_record.h"
#include "wsdiag/session/heartbeat.h"
#include "wsdiag/tls/keylog.h"
#include "wsdiag/ws/frame_parser.h"
#include "wsdiag/ws/utf8.h"

namespace wsdiag::session {

/// --ws-port: ports whose TCP is WebSocket even when the handshake was not captured. Given as
/// single ports or ranges ("8080", "8000-8100"), any number of them.
class PortRanges {
 public:
  /// Adds "PORT" or "LOW-HIGH" (1-65535, LOW <= HIGH); false (nothing added) for anything else.
  bool add(std::string_view spec);
  void add(std::uint16_t low, std::uint16_t high) { ranges_.emplace_back(low, high); }
  [[nodiscard]] bool contains(std::uint16_t port) const noexcept {
    for (const auto& [lo, hi] : ranges_) {
      if (port >= lo && port <= hi) return true;
    }
    return false;
  }
  [[nodiscard]] bool empty() const noexcept { return ranges_.empty(); }

 private:
  std::vector<std::pair<std::uint16_t, std::uint16_t>> ranges_;
};

struct SessionOptions {
  /// Treat TCP on these ports as WebSocket even without a captured handshake (empty = off).
  PortRanges ws_ports;
  FrameListener* frames = nullptr;  ///< receives every frame (for --frames), may be null
  const tls::KeyLog* keylog = nullptr;  ///< TLS secrets (--tls-keylog, SSLKEYLOGFILE, pcapng), may be null
};

class WsSession : public reassembly::StreamSink {
 public:
  WsSession(const flow::Connection& conn, const Limits& limits, const SessionOptions& opt);
  ~WsSession() override;
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  void on_data(Dir d, Bytes bytes, PacketRef at) override;
  void on_gap(Dir d, std::uint64_t len, reassembly::GapReason why, PacketRef at) override;
  void on_end(Dir d, reassembly::EndReason how, PacketRef at) override;

  /// True once the connection is known to be WebSocket (Upgrade request seen, or --ws-port).
  [[nodiscard]] bool websocket() const noexcept { return websocket_; }
  /// Everything known about the connection, after both directions ended.
  [[nodiscard]] diag::ConnectionSummary summarize(const flow::Connection& c);

 private:
  // recognize: a stream that began without a captured handshake, whose first bytes are not HTTP,
  // held until they can be judged as a frame start (recognize()).
  enum class Mode : std::uint8_t { http, recognize, wait, ws, other };
  class Side;  // per-direction state, also the FrameHandler of that direction

  void add_finding(diag::RuleId rule, diag::Side side, PacketRef at, std::string message);
  /// Counts one more occurrence of an existing (rule, side) finding; false if there is none yet.
  bool bump_finding(diag::RuleId rule, diag::Side side);
  void on_request_head(PacketRef at);
  void on_response_head(PacketRef at, Bytes rest);
  void start_ws(Dir d, PacketRef at);
  void feed_ws(Dir d, Bytes bytes, PacketRef at);
  /// While framing is lost: true when a frame plausibly starts at a segment start among the bytes
  /// held from earlier segments, or at this one's (then resume_framing()); `at_end`: see
  /// settle_held().
  bool regain_framing(Dir d, Bytes bytes, PacketRef at, bool at_end = false);
  /// Framing regained: the parser goes on from the candidate (held bytes fed first).
  void resume_framing(Dir d);
  /// Judges a candidate held for the header after it with what there is (the stream ended, a
  /// hole, the peer sent): regained there or dropped.
  void settle_held(Dir d, PacketRef at);
  /// Mid-stream recognition: judges the side's first bytes (held with earlier ones while too few,
  /// so the judgement is the same however TCP cut them) as a frame start: probation starts there,
  /// or the side is not WebSocket. `at_end`: judged with what there is (see settle_held()).
  void recognize(Dir d, Bytes bytes, PacketRef at, bool at_end);
  void start_probe();
  /// Framing lost on an impossible length (issue #10 §3): whether the frame in progress announced
  /// a length that cannot be right, and the check of each segment that follows; true = held.
  [[nodiscard]] static bool doubtful_length(const ws::FrameHeader& h) noexcept;
  bool check_doubtful_frame(Dir d, Bytes bytes, PacketRef at);
  void flush_carry(Dir d);
  [[nodiscard]] FrameRecord frame_record(Dir d, const ws::FrameHeader& h, PacketRef at,
                                         const ws::ClosePayload* close) const;
  [[nodiscard]] bool side_resumed(Dir d) const noexcept;
  void finish_tcp_facts(const flow::Connection& c, diag::ConnectionSummary& s);

  const Limits* limits_;
  SessionOptions opt_;
  std::uint64_t conn_id_;
  bool websocket_ = false;
  bool forced_ = false;  ///< --ws-port or recognised frames, without a captured handshake
  bool snap_switched_ = false;  ///< a 101 status line seen in a response the snaplen cut
  bool request_snapped_ = false;  ///< an Upgrade request the snaplen cut
  // Mid-stream recognition (no handshake captured, no --ws-port): frames are parsed at once but
  // the connection counts as WebSocket only after kProbeFrames valid frames over at least two
  // segments; a violation before that means it is not WebSocket. Their --frames records wait.
  bool tcp_handshake_seen_ = false;  ///< the capture saw the SYN: its first bytes are the stream's
  bool probing_ = false;
  bool probe_rejected_ = false;
  std::uint32_t probe_frames_ = 0;
  std::uint32_t probe_chunks_ = 0;
  std::vector<FrameRecord> probe_records_;
  void emit_frame(FrameRecord&& rec);
  void probe_frame_done();
  void reject_probe();
  void forget_probe();
  std::unique_ptr<Side> side_[2];
  http::Handshake hs_;
  HeartbeatContext hb_ctx_;  ///< which application heartbeats the handshake allows (heartbeat.h)
  PacketRef request_at_{}, response_at_{};
  // client bytes received after the request while waiting for the response (bounded)
  std::vector<std::uint8_t> held_;
  std::vector<std::pair<std::size_t, PacketRef>> held_marks_;  // offset in held_ -> packet
  std::uint64_t held_dropped_ = 0;
  diag::CloseSummary close_;
  std::vector<diag::Finding> findings_;
  // The timeline's control events (diag::WireEvents): the first Close of each side, and a ring of
  // the last Limits::timeline_pings Pings/Pongs, each allocated at its first use.
  void record_event(diag::WireEventKind kind, Dir d, PacketRef at, std::optional<std::uint16_t> code = {});
  std::vector<diag::WireEvent> events_;
  std::vector<diag::WireEvent> ping_ring_;
  std::size_t ring_next_ = 0;
  std::uint64_t ring_dropped_ = 0;
  PacketRef last_message_{};
  friend class Side;
};

/// The flow observer that gives every connection a WsSession and hands finished summaries on.
class Analyzer : public flow::ConnectionObserver {
 public:
  class Output {
   public:
    virtual ~Output() = default;
    /// A connection ended and was summarised (all TCP connections; check summary.websocket).
    virtual void on_connection(diag::ConnectionSummary&& s) = 0;
  };
  Analyzer(const Limits& limits, const SessionOptions& opt, Output& out)
      : limits_(limits), opt_(opt), out_(&out) {}
  std::unique_ptr<reassembly::StreamSink> on_open(flow::Connection& c) override;
  void on_close(flow::Connection& c) override;

 private:
  Limits limits_;
  SessionOptions opt_;
  Output* out_;
};

}  // namespace wsdiag::session
