// wsdiag — WebSocket session state machine: handshake handoff (RFC 6455 §4), framing rules (§5.2-
// §5.5), fragmentation (§5.4), UTF-8 (§5.6, §8.1), ping/pong (§5.5.2-5.5.3), close handshake
// (§5.5.1, §7). See ws_session.h for the design note.
#include "session_internal.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/http/message.h"
#include "wsdiag/tls/tls_front.h"
#include "wsdiag/ws/inflater.h"


namespace wsdiag::session {

// -----------------------------------------------------------------------------------------------
// PortRanges

bool PortRanges::add(std::string_view spec) {
  auto number = [](std::string_view t, std::uint16_t& out) {
    if (t.empty() || t.size() > 5) return false;
    std::uint32_t v = 0;
    for (const char ch : t) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + static_cast<std::uint32_t>(ch - '0');
    }
    if (v == 0 || v > 65535) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
  };
  std::uint16_t lo = 0, hi = 0;
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) {
    if (!number(spec, lo)) return false;
    hi = lo;
  } else if (!number(spec.substr(0, dash), lo) || !number(spec.substr(dash + 1), hi) || lo > hi) {
    return false;
  }
  add(lo, hi);
  return true;
}

// -----------------------------------------------------------------------------------------------
// WsSession

WsSession::WsSession(const flow::Connection& conn, const Limits& limits, const SessionOptions& opt)
    : limits_(&limits), opt_(opt), conn_id_(conn.id()), tcp_handshake_seen_(conn.handshake_seen()) {
  side_[0] = std::make_unique<Side>(*this, Dir::c2s);
  side_[1] = std::make_unique<Side>(*this, Dir::s2c);
  if (opt_.ws_ports.contains(conn.server().port) || opt_.ws_ports.contains(conn.client().port)) {
    forced_ = true;  // confirmed (or dropped) once the first bytes show whether there is a handshake
  }
}

WsSession::~WsSession() = default;

bool WsSession::bump_finding(RuleId rule, diag::Side side) {
  for (auto& f : findings_) {
    if (f.rule == rule && f.side == side) {
      ++f.count;
      return true;
    }
  }
  return false;
}

void WsSession::add_finding(RuleId rule, diag::Side side, PacketRef at, std::string message) {
  for (auto& f : findings_) {
    if (f.rule == rule && f.side == side) {
      ++f.count;
      return;
    }
  }
  findings_.push_back(diag::Finding{rule, side, at, std::move(message), 1});
}

FrameRecord WsSession::frame_record(Dir d, const FrameHeader& h, PacketRef at, const ws::ClosePayload* close) const {
  FrameRecord rec;
  rec.at = at;
  rec.conn = conn_id_;
  rec.dir = d;
  rec.fin = h.fin;
  rec.rsv = h.rsv;
  rec.opcode = h.opcode;
  rec.masked = h.masked;
  rec.payload_len = h.payload_len;
  if (close != nullptr && close->has_code) {
    rec.close_code = close->code;
    rec.close_reason.assign(close->reason.begin(), close->reason.end());
  }
  return rec;
}

bool WsSession::side_resumed(Dir d) const noexcept { return side_[static_cast<int>(d)]->resumed; }

void WsSession::emit_frame(FrameRecord&& rec) {
  if (probe_rejected_) return;
  if (probing_) {
    probe_records_.push_back(std::move(rec));  // at most kProbeFrames (+1 given up) before a decision
    return;
  }
  opt_.frames->on_frame(rec);
}

void WsSession::probe_frame_done() {
  ++probe_frames_;
  if (probe_frames_ < kProbeFrames || probe_chunks_ < 2) return;
  // A side that sent data on probation must have sent frames too: frames one way and bytes that
  // never parse the other way are not WebSocket (it waits, e.g. past the end of a long frame).
  for (const auto& side : side_) {
    if (side->probe_data && side->probe_frames == 0) return;
  }
  probing_ = false;  // recognised: frames from here on are reported as they come
  if (opt_.frames != nullptr) {
    for (auto& r : probe_records_) opt_.frames->on_frame(r);
  }
  probe_records_ = std::vector<FrameRecord>();
}

void WsSession::reject_probe() {
  // Not WebSocket: whatever was parsed is forgotten, and the rest of the connection is ignored.
  probing_ = false;
  probe_rejected_ = true;
  websocket_ = false;
  forced_ = false;
  for (auto& side : side_) side->mode = Mode::other;
  forget_probe();
}

void WsSession::forget_probe() {
  // Also called by summarize(): a rejection inside a parser callback lets the rest of that
  // callback, and of the chunk being parsed, count on; none of it may reach the summary.
  for (auto& side : side_) {
    const std::uint64_t gap = side->counters.gap_bytes;  // capture facts, kept
    const std::uint64_t skipped = side->counters.resync_skipped;
    const std::uint64_t doubtful = side->counters.doubtful_length_segments;
    side->counters = diag::DirCounters{};
    side->counters.gap_bytes = gap;
    side->counters.resync_skipped = skipped;
    side->counters.doubtful_length_segments = doubtful;
  }
  probe_records_ = std::vector<FrameRecord>();
  findings_.clear();
  close_ = diag::CloseSummary{};
  events_.clear();
  ping_ring_.clear();
  ring_next_ = 0;
  ring_dropped_ = 0;
  last_message_ = PacketRef{};
}

void WsSession::start_ws(Dir d, PacketRef) {
  auto& s = *side_[static_cast<int>(d)];
  hb_ctx_ = heartbeat_context(hs_.path, hs_.subprotocol, hs_.request.has_value());
  s.mode = Mode::ws;
}

void WsSession::feed_ws(Dir d, Bytes bytes, PacketRef at) {
  auto& s = *side_[static_cast<int>(d)];
  if (bytes.empty()) return;
  if (probing_) s.probe_data = true;
  if (!s.start_desynced && !s.parser_.desynced() && s.parser_.in_payload() && doubtful_length(s.parser_.current_header())) {
    if (check_doubtful_frame(d, bytes, at)) return;  // held: too short to tell yet
  }
  if (s.start_desynced || s.parser_.desynced()) {
    // Regain framing only where a frame plausibly starts (a TCP segment often begins one).
    if (!regain_framing(d, bytes, at)) return;
    resume_framing(d);
  }
  if (probing_) ++probe_chunks_;
  s.parser_.feed(bytes, at);
}

bool WsSession::regain_framing(Dir d, Bytes bytes, PacketRef at, bool at_end) {
  // Candidates are segment starts. A candidate that cannot be judged yet (a segment shorter than a
  // frame header, or a short frame whose next header has not all arrived) is held with what
  // follows it (at most kResyncHold - 1 bytes) and judged with the next segment, so framing is
  // regained, or not, however finely TCP cut the stream. A candidate that fails gives way to the
  // next segment start among the held bytes, then to this segment's own start.
  auto& s = *side_[static_cast<int>(d)];
  const bool deflate = hs_.deflate.enabled || forced_;
  for (;;) {
    const Bytes held(s.resync_held.data(), s.resync_len);
    const Start r = plausible_start_across(held, bytes, d, deflate, at_end);
    if (r == Start::yes) return true;
    if (r == Start::need_more) {
      // held + bytes are too few to judge (fewer than kResyncHold): keep them all.
      if (bytes.empty()) return false;
      if (s.resync_len == 0) s.resync_at = at;
      s.resync_starts.set(s.resync_len);
      std::copy(bytes.begin(), bytes.end(), s.resync_held.begin() + s.resync_len);
      s.resync_len = static_cast<std::uint8_t>(s.resync_len + bytes.size());
      return false;
    }
    if (s.resync_len == 0) {  // this segment does not start a frame: dropped
      s.counters.resync_skipped += bytes.size();
      return false;
    }
    // Drop the oldest candidate; the next one is the next held segment start, if any.
    std::size_t k = 1;
    while (k < s.resync_len && !s.resync_starts.test(k)) ++k;
    s.counters.resync_skipped += k;
    if (k >= s.resync_len) {
      s.resync_len = 0;
      s.resync_starts.reset();
      if (at_end) return false;
      continue;
    }
    std::copy(s.resync_held.begin() + static_cast<std::ptrdiff_t>(k), s.resync_held.begin() + s.resync_len,
              s.resync_held.begin());
    s.resync_len = static_cast<std::uint8_t>(s.resync_len - k);
    s.resync_starts >>= k;
  }
}

void WsSession::settle_held(Dir d, PacketRef at) {
  // A candidate held for the header after it is judged with what there is once something else
  // happens: the stream ends, a hole, or the peer sends (its frames must not overtake this side's:
  // a Close held until the peer's echo would make the peer the initiator). Which of these comes
  // first is a fact of the capture, not of how TCP cut this direction.
  auto& s = *side_[static_cast<int>(d)];
  if (s.mode == Mode::recognize) {
    recognize(d, Bytes(), at, /*at_end=*/true);
    return;
  }
  if (s.resync_len == 0 || s.mode != Mode::ws || !(s.start_desynced || s.parser_.desynced())) return;
  if (regain_framing(d, Bytes(), at, /*at_end=*/true)) resume_framing(d);
}

void WsSession::resume_framing(Dir d) {
  auto& s = *side_[static_cast<int>(d)];
  s.start_desynced = false;
  if (s.parser_.desynced()) s.parser_.resync();
  s.in_message = false;
  s.resumed = true;
  if (s.resync_len > 0) {
    // The frame started in earlier, shorter segments: its first bytes go first.
    const std::size_t n = s.resync_len;
    s.resync_len = 0;
    s.resync_starts.reset();
    if (probing_) ++probe_chunks_;
    s.parser_.feed(Bytes(s.resync_held.data(), n), s.resync_at);
  }
}

void WsSession::recognize(Dir d, Bytes bytes, PacketRef at, bool at_end) {
  // The side's first bytes, and those held before them, are judged as one frame start, the way
  // regain_framing judges a candidate (issue #16, fuzz finding
  // conversation/midstream-probe-first-segment-depends-on-cuts: they were judged segment by segment).
  auto& s = *side_[static_cast<int>(d)];
  const Bytes held(s.resync_held.data(), s.resync_len);
  const Start r = plausible_start_across(held, bytes, d, /*deflate=*/true, at_end);
  if (r == Start::need_more && !at_end) {
    // Fewer than kResyncHold bytes in all: keep them (one candidate, at the stream's first byte).
    if (s.resync_len == 0) {
      s.resync_at = at;
      s.resync_starts.set(0);
    }
    std::copy(bytes.begin(), bytes.end(), s.resync_held.begin() + s.resync_len);
    s.resync_len = static_cast<std::uint8_t>(s.resync_len + bytes.size());
    return;
  }
  if (r != Start::yes) {
    s.mode = Mode::other;  // not a frame start: not WebSocket
    s.resync_len = 0;
    s.resync_starts.reset();
    return;
  }
  start_probe();  // this side is now desynced with its bytes held: the same judgement regains there
  if (bytes.empty()) {
    settle_held(d, at);
  } else {
    feed_ws(d, bytes, at);
  }
}

void WsSession::start_probe() {
  // Parse on probation until enough valid frames prove it is WebSocket.
  websocket_ = true;
  forced_ = true;
  probing_ = true;
  for (auto& side : side_) {
    if (side->mode == Mode::http || side->mode == Mode::recognize || side->mode == Mode::other) {
      side->mode = Mode::ws;  // a side still held keeps its bytes: regain_framing judges them
      side->start_desynced = true;
    }
  }
}

bool WsSession::doubtful_length(const FrameHeader& h) noexcept {
  return h.length_msb_set || h.payload_len > kMaxPlausiblePayload;
}

bool WsSession::check_doubtful_frame(Dir d, Bytes bytes, PacketRef at) {
  // §5.2: a 64-bit length with its most significant bit set is impossible, and a length far
  // beyond anything plausible is followed, once the peer failed the connection, by the sender's
  // next frames (its answer to the peer's Close), not by payload. Framing is regained there.
  auto& s = *side_[static_cast<int>(d)];
  ++s.counters.doubtful_length_segments;
  const auto& h = s.parser_.current_header();
  const auto& peer = *side_[static_cast<int>(other(d))];
  // A segment too short to hold a frame header may be the first part of one split across
  // segments: it is held (at most 13 bytes) and judged with the next one.
  std::vector<std::uint8_t> joined;  // only on this rare path (a frame of impossible length)
  Bytes view = bytes;
  if (s.carry_len > 0) {
    joined.assign(s.carry.begin(), s.carry.begin() + static_cast<std::ptrdiff_t>(s.carry_len));
    joined.insert(joined.end(), bytes.begin(), bytes.end());
    view = Bytes(joined);
  }
  FrameHeader next;
  if (ws::decode_frame_header(view, next) == 0 && view.size() < ws::kMaxFrameHeader) {
    std::copy(view.begin(), view.end(), s.carry.begin());
    s.carry_len = view.size();
    s.carry_at = s.carry_len > bytes.size() ? s.carry_at : at;
    return true;
  }
  bool has_close = false;
  if (h.length_msb_set && plausible_frame_start(view, d, hs_.deflate.enabled || forced_)) {
    s.lose_framing(at, "a 64-bit length with its most significant bit set");
  } else if (!h.length_msb_set && peer.close_sent && peer.close_at.index >= s.frame_at.index &&
             looks_like_frames(view, d, &has_close) && has_close) {
    s.lose_framing(at, "a length far beyond what the connection carried: the peer failed the connection and "
                       "this side's Close followed");
  }
  flush_carry(d);
  return false;
}

void WsSession::flush_carry(Dir d) {
  auto& s = *side_[static_cast<int>(d)];
  if (s.carry_len == 0) return;
  const std::size_t n = s.carry_len;
  s.carry_len = 0;
  if (probing_) ++probe_chunks_;
  s.parser_.feed(Bytes(s.carry.data(), n), s.carry_at);
}

void WsSession::on_request_head(PacketRef at) {
  auto& c = *side_[0];
  auto req = http::parse_request(c.head_.head());
  const bool upgrade = req && (req->headers.has_token("Upgrade", "websocket") || req->headers.has("Sec-WebSocket-Key"));
  if (!upgrade) {
    // Plain HTTP (or not HTTP at all): not a WebSocket connection.
    c.mode = Mode::other;
    side_[1]->mode = Mode::other;
    return;
  }
  websocket_ = true;
  forced_ = false;
  request_at_ = at;
  hs_.request = std::move(*req);
  http::validate(hs_);
  c.mode = hs_.switched() ? Mode::ws : Mode::wait;
}

void WsSession::on_response_head(PacketRef at, Bytes rest) {
  auto& s = *side_[1];
  auto resp = http::parse_response(s.head_.head());
  if (!resp) {
    s.mode = Mode::other;
    return;
  }
  if (!hs_.request) {
    // The request was not captured: a 101 to a websocket upgrade still tells us what follows.
    if (resp->status != 101 || !resp->headers.has_token("Upgrade", "websocket")) {
      if (resp->status / 100 != 1) s.mode = Mode::other;
      else s.head_.reset();
      if (s.mode == Mode::other) return;
      on_data(Dir::s2c, rest, at);
      return;
    }
    websocket_ = true;
    forced_ = false;
  }
  const bool final = hs_.add_response(std::move(*resp));
  if (!final) {  // 1xx interim response: the real one follows
    s.head_.reset();
    on_data(Dir::s2c, rest, at);
    return;
  }
  response_at_ = at;
  http::validate(hs_);
  hs_.release_headers();  // validated: nothing reads the header lists again
  auto& c = *side_[0];
  if (!hs_.switched()) {
    s.mode = Mode::other;
    c.mode = Mode::other;
    held_.clear();
    held_marks_.clear();
    return;
  }
  start_ws(Dir::s2c, at);
  // The heads were parsed into hs_: their buffers are not needed any more.
  s.head_ = http::HeadCollector(limits_->http_head_bytes);
  c.head_ = http::HeadCollector(limits_->http_head_bytes);
  if (c.mode == Mode::wait) {
    start_ws(Dir::c2s, at);
    if (!held_.empty()) {
      add_finding(RuleId::data_before_101, diag::Side::client, held_marks_.front().second,
                  fmt::format("{} bytes sent before the server's response (packet {})", held_.size() + held_dropped_,
                              at.index));
      for (std::size_t i = 0; i < held_marks_.size(); ++i) {
        const std::size_t from = held_marks_[i].first;
        const std::size_t to = i + 1 < held_marks_.size() ? held_marks_[i + 1].first : held_.size();
        feed_ws(Dir::c2s, Bytes(held_).subspan(from, to - from), held_marks_[i].second);
      }
      if (held_dropped_ > 0) c.parser_.gap(held_dropped_, at);
    }
    held_.clear();
    held_.shrink_to_fit();
    held_marks_.clear();
  } else if (c.mode == Mode::http) {
    // No request captured: the client's bytes are frames from the next byte on.
    c.mode = Mode::ws;
    c.start_desynced = true;
  }
  // The server's frames after the 101 in the same segment come after the client's held bytes:
  // those were captured before this packet, so the client sent them before it could see any of
  // these frames (and the order must not depend on whether TCP put the frames in the 101's segment).
  feed_ws(Dir::s2c, rest, at);
}

void WsSession::on_data(Dir d, Bytes bytes, PacketRef at) {
  auto& s = *side_[static_cast<int>(d)];
  if (!bytes.empty()) settle_held(other(d), at);  // the peer's held candidate comes first
  switch (s.mode) {
    case Mode::http: {
      if (bytes.empty()) return;
      std::size_t consumed = 0;
      const auto st = s.head_.feed(bytes, consumed);
      if (st == http::HeadCollector::State::collecting) return;
      if (st == http::HeadCollector::State::complete) {
        const Bytes rest = bytes.subspan(consumed);
        if (d == Dir::c2s) {
          on_request_head(at);
          if (!rest.empty()) on_data(d, rest, at);
        } else {
          on_response_head(at, rest);
        }
        return;
      }
      if (st == http::HeadCollector::State::too_large) {
        if (websocket_ || d == Dir::s2c) {
          add_finding(RuleId::http_head_too_large, diag::side_of(d), at,
                      fmt::format("HTTP head longer than {} bytes", s.head_.max_bytes()));
        }
        s.mode = Mode::other;
        return;
      }
      // Not HTTP.
      if (forced_) {
        // --ws-port: frames from the start, handshake not captured.
        websocket_ = true;
        for (auto& side : side_) {
          if (side->mode == Mode::http) {
            side->mode = Mode::ws;
            side->start_desynced = true;
          }
        }
        feed_ws(d, bytes, at);
        return;
      }
      if (d == Dir::c2s && (hs_.switched() || snap_switched_)) {
        s.mode = Mode::ws;
        s.start_desynced = true;
        feed_ws(d, bytes, at);
        return;
      }
      if (!hs_.request && !tcp_handshake_seen_ && !probe_rejected_ && s.head_.bytes_seen() == 0) {
        // The handshake was not captured (nor the SYN: a stream whose first bytes were seen and
        // were not an HTTP Upgrade is never WebSocket): a frame may start here.
        s.mode = Mode::recognize;
        recognize(d, bytes, at, /*at_end=*/false);
        return;
      }
      s.mode = Mode::other;
      return;
    }
    case Mode::wait: {
      // Held bytes stay one contiguous prefix: once something was dropped (bound or capture gap),
      // everything after it is dropped too and replayed as one gap after the prefix.
      if (held_dropped_ > 0 || held_.size() + bytes.size() > kMaxHeldBytes) {
        held_dropped_ += bytes.size();
        return;
      }
      held_marks_.emplace_back(held_.size(), at);
      held_.insert(held_.end(), bytes.begin(), bytes.end());
      return;
    }
    case Mode::recognize:
      recognize(d, bytes, at, /*at_end=*/false);
      return;
    case Mode::ws:
      feed_ws(d, bytes, at);
      return;
    case Mode::other:
      return;
  }
}

void WsSession::on_gap(Dir d, std::uint64_t len, reassembly::GapReason why, PacketRef at) {
  auto& s = *side_[static_cast<int>(d)];
  if (why == reassembly::GapReason::snaplen) {
    if (s.snaplen_bytes == 0) s.first_snaplen = at;
    s.snaplen_bytes += len;
  } else {
    if (s.gaps == 0) s.first_gap = at;
    ++s.gaps;
    s.gap_bytes += len;
  }
  s.counters.gap_bytes += len;
  switch (s.mode) {
    case Mode::ws:
      flush_carry(d);
      settle_held(d, at);
      s.counters.resync_skipped += s.resync_len;
      s.resync_len = 0;  // bytes held to regain framing do not join what follows a hole
      s.resync_starts.reset();
      if (s.start_desynced) return;
      s.parser_.gap(len, at);
      if (s.parser_.desynced() && !s.desync_reported) {
        s.desync_reported = true;
        add_finding(RuleId::ws_desync, diag::side_of(d), at,
                    fmt::format("{} bytes missing inside a frame header: framing lost, resumed at the next "
                                "plausible frame start",
                                len));
      }
      return;
    case Mode::wait:
      held_dropped_ += len;
      return;
    case Mode::recognize:
      recognize(d, Bytes(), at, /*at_end=*/true);  // judged with what came before the hole
      if (s.mode == Mode::ws) on_gap(d, len, why, at);
      return;
    case Mode::http:
      if (why == reassembly::GapReason::snaplen && d == Dir::s2c && starts_with_101(s.head_.head())) {
        // The snaplen cut the response, but its status line says 101: frames follow. The headers
        // are lost, so the handshake cannot be validated (snaplen-truncated says why).
        websocket_ = true;
        snap_switched_ = true;
        response_at_ = at;
        s.mode = Mode::ws;
        s.start_desynced = true;
        auto& c = *side_[0];
        if (c.mode == Mode::wait || c.mode == Mode::http || c.mode == Mode::recognize || c.mode == Mode::other) {
          c.mode = Mode::ws;
          c.start_desynced = true;
          held_.clear();
          held_marks_.clear();
        }
        return;
      }
      if (why == reassembly::GapReason::snaplen && d == Dir::c2s && s.head_.head().substr(0, 4) == "GET ") {
        // A request cut by the snaplen: wait for the response to tell what it was.
        request_at_ = at;
        request_snapped_ = true;
        s.mode = Mode::wait;
        return;
      }
      // A hole in the handshake: what follows cannot be parsed as HTTP.
      if (websocket_ && d == Dir::s2c) {
        s.mode = Mode::ws;  // assume the response switched; frames resync at a plausible start
        s.start_desynced = true;
      } else {
        s.mode = Mode::other;
      }
      return;
    case Mode::other:
      return;
  }
}

void WsSession::record_event(diag::WireEventKind kind, Dir d, PacketRef at, std::optional<std::uint16_t> code) {
  diag::WireEvent e;
  e.kind = kind;
  e.by = diag::side_of(d);
  e.at = at;
  e.code = code;
  for (int i = 0; i < 2; ++i) {
    e.messages[i] = side_[i]->counters.messages;
    e.pings[i] = side_[i]->counters.pings;
    e.pongs[i] = side_[i]->counters.pongs;
  }
  e.last_message = last_message_;
  if (kind == diag::WireEventKind::close) {
    if (events_.empty()) events_.reserve(2);  // the first Close of each side
    events_.push_back(e);
    return;
  }
  const std::size_t cap = limits_->timeline_pings;
  if (cap == 0) {
    ++ring_dropped_;
    return;
  }
  if (ping_ring_.size() < cap) {
    if (ping_ring_.empty()) ping_ring_.reserve(cap);
    ping_ring_.push_back(e);
    return;
  }
  ping_ring_[ring_next_] = e;  // overwrite the oldest
  ring_next_ = (ring_next_ + 1) % cap;
  ++ring_dropped_;
}

void WsSession::on_end(Dir d, reassembly::EndReason, PacketRef at) {
  auto& s = *side_[static_cast<int>(d)];
  if (s.mode == Mode::ws) flush_carry(d);
  settle_held(d, at);
  s.ended = true;
  // Nothing more will be delivered in this direction: free what it held (the connection may
  // linger in the flow table for late ACKs; memory must follow open connections only).
  s.inflater.reset();
  s.ctrl = std::vector<std::uint8_t>();
  s.head_ = http::HeadCollector(limits_->http_head_bytes);
  if (d == Dir::c2s) {
    held_ = std::vector<std::uint8_t>();
    held_marks_ = std::vector<std::pair<std::size_t, PacketRef>>();
  }
  if (s.mode == Mode::ws && !s.start_desynced && !s.parser_.desynced() && s.parser_.mid_frame()) {
    if (s.parser_.in_payload()) {
      const auto& h = s.parser_.current_header();
      add_finding(RuleId::capture_ended_mid_frame, diag::side_of(d), at,
                  fmt::format("the {}'s last {} frame is incomplete: {} of {} payload bytes never arrived", side_name(d),
                              ws::opcode_name(h.opcode), s.parser_.payload_remaining(), h.payload_len));
    } else {
      add_finding(RuleId::capture_ended_mid_frame, diag::side_of(d), at,
                  fmt::format("the {}'s stream ends inside a frame header ({} bytes)", side_name(d),
                              s.parser_.header_bytes_pending()));
    }
  }
}

// -----------------------------------------------------------------------------------------------
// Analyzer

namespace {

// The sink of one connection: the TLS layer in front of the HTTP/WebSocket session (plain
// connections pass through it untouched).
struct ConnSink final : reassembly::StreamSink {
  ConnSink(const flow::Connection& c, const Limits& limits, const SessionOptions& opt)
      : ws(c, limits, opt), front(ws, limits, opt.keylog) {}
  void on_data(Dir d, Bytes bytes, PacketRef at) override { front.on_data(d, bytes, at); }
  void on_gap(Dir d, std::uint64_t len, reassembly::GapReason why, PacketRef at) override {
    front.on_gap(d, len, why, at);
  }
  void on_end(Dir d, reassembly::EndReason how, PacketRef at) override { front.on_end(d, how, at); }
  WsSession ws;
  tls::TlsFront front;
};

}  // namespace

std::unique_ptr<reassembly::StreamSink> Analyzer::on_open(flow::Connection& c) {
  return std::make_unique<ConnSink>(c, limits_, opt_);
}

void Analyzer::on_close(flow::Connection& c) {
  auto* sink = static_cast<ConnSink*>(c.sink());
  if (sink == nullptr) return;
  diag::ConnectionSummary s = sink->ws.summarize(c);
  if (sink->front.is_tls()) s.tls = sink->front.facts();  // diag judges them (diag::add_tls_findings)
  out_->on_connection(std::move(s));
}

}  // namespace wsdiag::session
