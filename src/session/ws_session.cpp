// wsdiag — WebSocket session state machine: handshake handoff (RFC 6455 §4), framing rules (§5.2-
// §5.5), fragmentation (§5.4), UTF-8 (§5.6, §8.1), ping/pong (§5.5.2-5.5.3), close handshake
// (§5.5.1, §7). See ws_session.h for the design note.
#include "wsdiag/session/ws_session.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/http/message.h"
#include "wsdiag/tls/tls_front.h"
#include "wsdiag/ws/inflater.h"

namespace wsdiag::session {

using diag::RuleId;
using ws::FrameHeader;
namespace op = ws::opcode;

namespace {

constexpr std::size_t kMaxHeldBytes = 64 * 1024;  // client bytes held while awaiting the response
constexpr std::size_t kMaxPings = 8;               // outstanding Pings remembered per side
constexpr std::uint64_t kMaxPlausiblePayload = 1ull << 26;  // for resynchronisation only
constexpr std::int64_t kPingGraceNs = 1'000'000'000;        // a Pong may take this long
// Mid-stream recognition: this many valid frames, back to back over at least two segments, with
// no violation among them (issue #10 §5; scripts/measure-midstream-fp measures false positives).
constexpr std::uint32_t kProbeFrames = 4;

// What a byte stream that is not WebSocket produces when parsed as frames. Any of these before
// recognition means the connection is not taken for WebSocket.
bool probe_violation(RuleId r) {
  switch (r) {
    case RuleId::client_unmasked: case RuleId::server_masked: case RuleId::rsv_bits:
    case RuleId::reserved_opcode: case RuleId::length_not_minimal: case RuleId::length_msb:
    case RuleId::control_too_long: case RuleId::control_fragmented: case RuleId::unexpected_continuation:
    case RuleId::expected_continuation: case RuleId::invalid_utf8: case RuleId::close_payload_1:
    case RuleId::close_code_invalid: case RuleId::close_reason_utf8: case RuleId::data_after_close:
    case RuleId::ws_desync: case RuleId::inflate_error:
      return true;
    default:
      return false;
  }
}
// Control payloads are kept for the Close code/reason and Ping/Pong matching. Legal ones hold at
// most 125 bytes; of an oversized one (control-too-long) this much is kept so its reason can be
// shown, the rest is counted and skipped.
constexpr std::size_t kMaxControlKept = 4096;

const char* side_name(Dir d) { return d == Dir::c2s ? "client" : "server"; }

double ms_between(PacketRef a, PacketRef b) {
  return static_cast<double>(b.ts_ns - a.ts_ns) / 1e6;
}

// The header checks of plausible_frame_start.
bool plausible_header(const FrameHeader& h, Dir d, bool deflate) {
  if (ws::is_reserved_opcode(h.opcode)) return false;
  if ((h.rsv & 3) != 0 || ((h.rsv & 4) != 0 && !deflate)) return false;
  if (h.masked != (d == Dir::c2s)) return false;
  if (ws::is_control_opcode(h.opcode) && (!h.fin || h.payload_len > 125)) return false;
  if (h.length_not_minimal || h.payload_len > kMaxPlausiblePayload) return false;
  return true;
}

// Would a frame plausibly start here? Used to regain framing after a gap or when decoding starts
// mid-stream: the header must be valid for this direction and, if the chunk holds more bytes than
// the frame, the next header must be valid too.
bool plausible_frame_start(Bytes b, Dir d, bool deflate, int depth = 0) {
  FrameHeader h;
  const std::size_t n = ws::decode_frame_header(b, h);
  if (n == 0) return depth > 0;  // a cut-off second header is fine
  if (!plausible_header(h, d, deflate)) return false;
  const std::uint64_t frame_end = n + h.payload_len;
  if (depth == 0 && frame_end < b.size()) {
    return plausible_frame_start(b.subspan(static_cast<std::size_t>(frame_end)), d, deflate, 1);
  }
  return true;
}

enum class Start : std::uint8_t { no, yes, need_more };

// plausible_frame_start on `held` (the start of a header cut off at the end of earlier segments,
// fewer bytes than a header) followed by `bytes`: need_more while the two together are still too
// short to hold the header. Only the header's bytes are joined (no payload copy).
Start plausible_start_across(Bytes held, Bytes bytes, Dir d, bool deflate) {
  // held (at most 13 bytes) and enough of `bytes` for this header and, when the frame ends inside
  // held, the next one.
  std::array<std::uint8_t, 3 * ws::kMaxFrameHeader> head{};
  const std::size_t from_bytes = std::min(bytes.size(), head.size() - held.size());
  std::copy(held.begin(), held.end(), head.begin());
  std::copy_n(bytes.begin(), from_bytes, head.begin() + static_cast<std::ptrdiff_t>(held.size()));
  const Bytes view(head.data(), held.size() + from_bytes);
  FrameHeader h;
  const std::size_t n = ws::decode_frame_header(view, h);
  if (n == 0) return Start::need_more;  // fewer bytes than the header needs (never 14 or more)
  if (!plausible_header(h, d, deflate)) return Start::no;
  const std::uint64_t frame_end = n + h.payload_len;
  if (frame_end >= held.size() + bytes.size()) return Start::yes;
  // The next header: inside the joined bytes when the frame ends within held, else in `bytes`.
  const Bytes after = frame_end < held.size() ? view.subspan(static_cast<std::size_t>(frame_end))
                                              : bytes.subspan(static_cast<std::size_t>(frame_end - held.size()));
  return plausible_frame_start(after, d, deflate, 1) ? Start::yes : Start::no;
}

// Stricter than plausible_frame_start: the chunk must hold only whole, valid frames for this
// direction (up to 32), ending exactly at the chunk's end. Sets *has_close when one is a Close.
bool looks_like_frames(Bytes b, Dir d, bool* has_close = nullptr) {
  std::size_t pos = 0;
  for (int n = 0; n < 32 && pos < b.size(); ++n) {
    const Bytes rest = b.subspan(pos);
    if (!plausible_frame_start(rest, d, /*deflate=*/true, 1)) return false;
    FrameHeader h;
    const std::size_t hl = ws::decode_frame_header(rest, h);
    if (hl == 0 || h.payload_len > rest.size() - hl) return false;
    if (has_close != nullptr && h.opcode == op::close) *has_close = true;
    pos += hl + static_cast<std::size_t>(h.payload_len);
  }
  return pos == b.size();
}

// "HTTP/1.x 101" at the start of a (possibly cut) response head.
bool starts_with_101(std::string_view head) {
  return head.size() >= 12 && head.substr(0, 7) == "HTTP/1." && head[8] == ' ' && head.substr(9, 3) == "101";
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Per-direction state and frame handler

class WsSession::Side : public ws::FrameHandler, public ws::InflateSink {
 public:
  Side(WsSession& s, Dir d)
      : s_(s), dir_(d), parser_(*this), head_(s.limits_->http_head_bytes) {}

  void on_frame_header(const FrameHeader& h, PacketRef at) override;
  void on_frame_payload(const FrameHeader& h, Bytes data, std::uint64_t offset, PacketRef at) override;
  void on_frame_end(const FrameHeader& h, PacketRef at) override;
  void on_frame_gap(const FrameHeader& h, std::uint64_t offset, std::uint64_t len, PacketRef at) override;
  void on_inflated(Bytes data) override { message_data(data); }

  /// Message bytes as the application sees them (inflated when compressed).
  void message_data(Bytes data);
  /// The frame that ends the current data message ended: finish inflating and validating.
  void end_message(PacketRef at, FrameRecord* rec);
  void inflate_status(ws::Inflater::Status st, PacketRef at);
  /// The message that just ended was an application heartbeat (or not: m.kind == none).
  void record_heartbeat(HeartbeatMatch m, PacketRef at);
  /// The frame in progress announced a length that cannot be right: give it up (its record, if
  /// --frames, shows the announced length) and take the next byte as a frame start.
  void lose_framing(PacketRef at, const char* why);

  /// Records a finding; the message is formatted only the first time (later ones just count).
  template <typename... Args>
  void add(RuleId r, PacketRef at, fmt::format_string<Args...> f, Args&&... args) {
    if (s_.probe_rejected_) return;
    if (s_.probing_ && probe_violation(r)) {
      s_.reject_probe();
      return;
    }
    if (s_.bump_finding(r, diag::side_of(dir_))) return;
    s_.add_finding(r, diag::side_of(dir_), at, fmt::format(f, std::forward<Args>(args)...));
  }

  struct Ping {
    std::array<std::uint8_t, 125> data{};  // the first 125 bytes (all of a legal Ping)
    std::uint64_t len = 0;                 // the whole payload length
    PacketRef at;
    [[nodiscard]] bool answered_by(Bytes pong, std::uint64_t pong_len) const {
      const std::size_t kept = std::min<std::size_t>(static_cast<std::size_t>(std::min<std::uint64_t>(len, 125)), pong.size());
      return pong_len == len && std::equal(pong.begin(), pong.begin() + static_cast<std::ptrdiff_t>(kept), data.begin());
    }
  };

  WsSession& s_;
  Dir dir_;
  Mode mode = Mode::http;
  ws::FrameParser parser_;
  http::HeadCollector head_;
  diag::DirCounters counters;

  // message in progress
  bool in_message = false;
  std::uint8_t msg_opcode = 0;
  bool msg_compressed = false;
  bool msg_unverifiable = false;
  bool msg_utf8_bad = false;
  bool msg_utf8_bad_new = false;   // found in the current piece, not reported yet
  std::uint64_t msg_bytes = 0;     // on the wire
  std::uint64_t msg_app_bytes = 0; // after inflating
  ws::Utf8Validator utf8;
  HeartbeatMatcher heartbeat;  // is the message in progress an application heartbeat?
  std::unique_ptr<ws::Inflater> inflater;  // created at the first compressed message
  bool inflate_context_lost = false;       // a gap or error broke a context-takeover stream
  std::array<char, 320> preview{};  // room for 80 characters of 4-byte UTF-8
  std::size_t preview_len = 0;
  PacketRef msg_at{};
  // frame in progress
  bool frame_in_message = false;  // the frame's payload belongs to the message above
  PacketRef frame_at{};           // where the current frame's header was
  // mid-stream recognition: this side sent data / completed frames while on probation
  bool probe_data = false;
  std::uint32_t probe_frames = 0;
  // The start of a segment held while a frame of impossible length is in progress (see
  // check_doubtful_frame): fewer bytes than a frame header.
  std::array<std::uint8_t, ws::kMaxFrameHeader> carry{};
  std::size_t carry_len = 0;
  PacketRef carry_at{};
  // While framing is lost: the bytes since the oldest candidate frame start that are still too few
  // for a header (segments shorter than a header), judged together with the next segment
  // (regain_framing). Bit i of resync_starts: a segment began at resync_held[i], a candidate too.
  std::array<std::uint8_t, ws::kMaxFrameHeader - 1> resync_held{};
  std::uint8_t resync_len = 0;
  std::uint16_t resync_starts = 0;
  PacketRef resync_at{};
  std::vector<std::uint8_t> ctrl;  // the current control frame's payload (bounded)
  bool ctrl_gap = false;
  // close and ping state
  bool close_sent = false;
  PacketRef close_at{};
  // kMaxPings slots, allocated at the side's first Ping: most connections never send one, and
  // 1.2 KB per side on every tracked connection made a SYN flood cost ~6 KB per table entry.
  std::vector<Ping> pings;
  std::size_t n_pings = 0;
  std::uint64_t pings_forgotten = 0;  // pushed out of the ring unanswered
  // capture facts
  std::uint64_t gap_bytes = 0;
  std::uint64_t gaps = 0;
  std::uint64_t snaplen_bytes = 0;
  PacketRef first_gap{}, first_snaplen{};
  bool desync_reported = false;
  bool ended = false;
  bool start_desynced = false;  // decoding began mid-stream: wait for a plausible frame start
  bool resumed = false;         // framing was (re)gained mid-stream: earlier deflate context unknown
};

void WsSession::Side::on_frame_header(const FrameHeader& h, PacketRef at) {
  ++counters.frames;
  counters.payload_bytes += h.payload_len;
  frame_at = at;
  const char* name = ws::opcode_name(h.opcode);
  const bool deflate = s_.hs_.deflate.enabled;
  const bool control = ws::is_control_opcode(h.opcode);

  // RFC 6455 §5.1/§5.3: clients mask every frame, servers none.
  if (dir_ == Dir::c2s && !h.masked) add(RuleId::client_unmasked, at, "unmasked {} frame", name);
  if (dir_ == Dir::s2c && h.masked) add(RuleId::server_masked, at, "masked {} frame", name);
  // §5.2 and RFC 7692 §6: RSV1 only for permessage-deflate, on the first frame of a data message.
  if ((h.rsv & 3) != 0) {
    add(RuleId::rsv_bits, at, "RSV2/RSV3 set on a {} frame (rsv={})", name, h.rsv);
  }
  if ((h.rsv & 4) != 0) {
    if (!deflate && s_.forced_) {
      // Handshake not captured: RSV1 is taken as permessage-deflate and inflated where possible.
    } else if (!deflate) {
      add(RuleId::rsv_bits, at, "RSV1 set on a {} frame, but no extension was negotiated", name);
    } else if (control || h.opcode == op::continuation) {
      add(RuleId::rsv_bits, at,
          "RSV1 set on a {} frame: permessage-deflate allows it only on the first frame of a "
                      "data message",
                      name);
    }
  }
  if (ws::is_reserved_opcode(h.opcode)) add(RuleId::reserved_opcode, at, "reserved opcode 0x{:X}", h.opcode);
  if (h.length_not_minimal) {
    add(RuleId::length_not_minimal, at,
        "payload length {} sent in a {}-bit field", h.payload_len, h.len_field_bytes * 8);
  }
  if (h.length_msb_set) add(RuleId::length_msb, at, "64-bit payload length with its most significant bit set");

  frame_in_message = false;
  if (control) {
    ctrl.clear();
    ctrl.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(h.payload_len, kMaxControlKept)));
    ctrl_gap = false;
    if (h.payload_len > 125) {
      add(RuleId::control_too_long, at, "{} frame with a {}-byte payload", name, h.payload_len);
    }
    if (!h.fin) add(RuleId::control_fragmented, at, "{} frame without FIN", name);
    return;
  }
  if (ws::is_reserved_opcode(h.opcode)) return;

  // A data frame.
  if (close_sent) {
    add(RuleId::data_after_close, at, "{} frame after its own Close (packet {})", name, close_at.index);
  } else if (s_.side_[static_cast<int>(other(dir_))]->close_sent) {
    add(RuleId::frame_after_close_received, at, "{} frame after receiving a Close", name);
  }
  if (h.opcode == op::continuation) {
    if (!in_message) {
      add(RuleId::unexpected_continuation, at, "continuation frame with no fragmented message in progress");
      return;
    }
  } else {
    if (in_message) {
      add(RuleId::expected_continuation, at,
          "new {} frame while a fragmented {} message is in progress", name,
                      ws::opcode_name(msg_opcode));
    }
    in_message = true;
    msg_opcode = h.opcode;
    // Without a captured handshake, RSV1 on a data frame can only mean permessage-deflate.
    msg_compressed = (deflate || s_.forced_) && (h.rsv & 4) != 0;
    msg_unverifiable = false;
    msg_utf8_bad = false;
    msg_bytes = 0;
    msg_app_bytes = 0;
    preview_len = 0;
    msg_at = at;
    heartbeat.start(h.opcode, s_.hb_ctx_);
    utf8.reset();
    if (msg_compressed) {
      ++counters.compressed_messages;
      if (!inflater) {
        const auto& p = s_.hs_.deflate;
        const bool c2s = dir_ == Dir::c2s;
        // The sender's parameters: its window and whether it keeps its context between messages.
        const int bits = deflate ? (c2s ? p.client_max_window_bits : p.server_max_window_bits) : 15;
        const bool no_takeover = deflate && (c2s ? p.client_no_context_takeover : p.server_no_context_takeover);
        inflater = std::make_unique<ws::Inflater>(bits, no_takeover, s_.limits_->inflate_bytes_per_message);
      }
      inflater->begin_message();
      if (inflate_context_lost && inflater->context_takeover()) {
        msg_unverifiable = true;
      } else {
        inflate_context_lost = false;
      }
      if (inflater->status() == ws::Inflater::Status::no_context) msg_unverifiable = true;
    }
  }
  frame_in_message = true;
}

void WsSession::Side::on_frame_payload(const FrameHeader& h, Bytes data, std::uint64_t offset, PacketRef at) {
  if (ws::is_control_opcode(h.opcode)) {
    // Pieces arrive in order; after a gap (ctrl_gap) the payload is not used.
    if (offset == ctrl.size() && ctrl.size() < kMaxControlKept) {
      const std::size_t n = std::min<std::size_t>(data.size(), kMaxControlKept - ctrl.size());
      ctrl.insert(ctrl.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return;
  }
  if (!frame_in_message) return;
  msg_bytes += data.size();
  if (!msg_compressed) {
    message_data(data);
  } else if (!msg_unverifiable) {
    inflate_status(inflater->feed(data, *this), at);
  }
  if (msg_utf8_bad_new) {
    msg_utf8_bad_new = false;
    add(RuleId::invalid_utf8, at,
        "text message {} has invalid UTF-8 at byte {}{}", counters.messages + 1, utf8.error_offset(),
                    msg_compressed ? " (after inflating)" : "");
  }
}

void WsSession::Side::message_data(Bytes data) {
  msg_app_bytes += data.size();
  heartbeat.feed(data);
  if (msg_opcode != op::text) return;
  if (preview_len < preview.size()) {
    const std::size_t n = std::min(data.size(), preview.size() - preview_len);
    std::copy_n(data.begin(), n, preview.begin() + static_cast<std::ptrdiff_t>(preview_len));
    preview_len += n;
  }
  // Text is validated as it arrives, failing at the first bad byte (§8.1, §5.6; after inflating,
  // RFC 7692 §6).
  if (!msg_unverifiable && !msg_utf8_bad && !utf8.feed(data)) {
    msg_utf8_bad = true;
    msg_utf8_bad_new = true;
  }
}

void WsSession::Side::inflate_status(ws::Inflater::Status st, PacketRef at) {
  using St = ws::Inflater::Status;
  if (st == St::ok) return;
  msg_unverifiable = true;
  if (st == St::over_limit) {
    add(RuleId::message_too_big, at,
        "compressed message inflates past {} bytes: not inflated further", s_.limits_->inflate_bytes_per_message);
    inflate_context_lost = true;
  } else if (st == St::error && (s_.forced_ || s_.side_resumed(dir_))) {
    // Picked up mid-stream: the message may refer to data sent before the capture began.
    add(RuleId::compressed_unverified, at,
        "a compressed message could not be inflated: it needs context from before the capture started");
    inflate_context_lost = true;
  } else if (st == St::error) {
    add(RuleId::inflate_error, at, "compressed message does not inflate: {}", inflater->error_text());
    inflate_context_lost = true;
  } else {
    add(RuleId::compressed_unverified, at, "compressed message after an earlier inflate failure: not verifiable");
  }
}

void WsSession::Side::on_frame_gap(const FrameHeader& h, std::uint64_t, std::uint64_t, PacketRef) {
  if (ws::is_control_opcode(h.opcode)) {
    ctrl_gap = true;
  } else if (frame_in_message) {
    msg_unverifiable = true;
    if (msg_compressed) inflate_context_lost = true;  // the deflate stream cannot be followed past a hole
  }
}

void WsSession::Side::on_frame_end(const FrameHeader& h, PacketRef at) {
  const Bytes ctrl_payload(ctrl);
  const bool close_known = h.opcode == op::close && !ctrl_gap;
  const auto cp = ws::parse_close_payload(close_known ? ctrl_payload : Bytes{});
  if (s_.opt_.frames != nullptr) {  // --frames: only then is a record built
    FrameRecord rec = s_.frame_record(dir_, h, at, close_known ? &cp : nullptr);
    if (frame_in_message && h.fin) end_message(at, &rec);
    s_.emit_frame(std::move(rec));
  } else if (frame_in_message && h.fin) {
    end_message(at, nullptr);
  }

  if (close_known) {
    if (cp.malformed) add(RuleId::close_payload_1, at, "Close frame with a 1-byte payload");
    if (cp.has_code) {
      if (!diag::close_code_valid_on_wire(cp.code)) {
        add(RuleId::close_code_invalid, at, "Close with code {}", cp.code);
      }
      if (!ws::is_valid_utf8(cp.reason)) add(RuleId::close_reason_utf8, at, "Close reason is not valid UTF-8");
    }
    auto& cs = s_.close_;
    const auto me = diag::side_of(dir_);
    const bool valid = !cp.malformed && (!cp.has_code || (diag::close_code_valid_on_wire(cp.code) &&
                                                           ws::is_valid_utf8(cp.reason)));
    if (valid && !cs.valid_seen) {
      cs.valid_seen = true;
      cs.valid_by = me;
      if (cp.has_code) cs.valid_code = cp.code;
      cs.valid_reason.assign(cp.reason.begin(), cp.reason.end());
      cs.valid_at = at;
    }
    if (!cs.seen) {
      cs.seen = true;
      cs.initiator = me;
      cs.valid = valid;
      if (cp.has_code) cs.code = cp.code;
      cs.reason.assign(cp.reason.begin(), cp.reason.end());
      cs.at = at;
    } else if (!cs.echoed && cs.initiator != me && !close_sent) {
      cs.echoed = true;
      if (cp.has_code) cs.echo_code = cp.code;
      cs.echo_at = at;
      if (cs.code && cp.has_code && *cs.code != cp.code) {
        add(RuleId::close_echo_mismatch, at, "answered Close {} with Close {}", *cs.code, cp.code);
      }
    }
    if (!close_sent) {
      s_.record_event(diag::WireEventKind::close, dir_, at,
                      cp.has_code ? std::optional<std::uint16_t>(cp.code) : std::nullopt);
      close_sent = true;
      close_at = at;
    }
  } else if (h.opcode == op::ping) {
    s_.record_event(diag::WireEventKind::ping, dir_, at);
    ++counters.pings;
    if (counters.first_ping.index == 0) counters.first_ping = at;
    counters.last_ping = at;
    if (pings.empty()) pings.resize(kMaxPings);
    if (n_pings == pings.size()) {
      std::move(pings.begin() + 1, pings.end(), pings.begin());
      --n_pings;
      ++pings_forgotten;
    }
    auto& p = pings[n_pings++];
    const std::size_t kept = std::min(ctrl_payload.size(), p.data.size());
    p.len = h.payload_len;
    std::copy_n(ctrl_payload.begin(), kept, p.data.begin());
    p.at = at;
  } else if (h.opcode == op::pong) {
    s_.record_event(diag::WireEventKind::pong, dir_, at);
    ++counters.pongs;
    // A Pong answers the Ping with the same payload, and with it every older one (§5.5.3 lets a
    // side answer only the most recent). An unsolicited Pong (no Ping outstanding) is a heartbeat.
    auto& peer = *s_.side_[static_cast<int>(other(dir_))];
    std::size_t match = peer.n_pings;
    for (std::size_t i = peer.n_pings; i-- > 0;) {
      if (peer.pings[i].answered_by(ctrl_payload, h.payload_len)) {
        match = i;
        break;
      }
    }
    if (match < peer.n_pings) {
      // Answers this Ping and every older one, remembered or not.
      std::move(peer.pings.begin() + static_cast<std::ptrdiff_t>(match + 1),
                peer.pings.begin() + static_cast<std::ptrdiff_t>(peer.n_pings), peer.pings.begin());
      peer.n_pings -= match + 1;
      peer.pings_forgotten = 0;
    } else if (peer.pings_forgotten > 0) {
      // Likely the answer to a Ping too old to be remembered (more than kMaxPings outstanding).
      --peer.pings_forgotten;
    } else if (peer.n_pings > 0 && !ctrl_gap) {
      add(RuleId::pong_mismatch, at,
          "Pong payload ({} bytes) matches no outstanding Ping (last Ping at packet {})",
                      ctrl_payload.size(), peer.pings[peer.n_pings - 1].at.index);
    }
  }


  frame_in_message = false;
  if (s_.probing_) {
    ++probe_frames;
    s_.probe_frame_done();
  }
}

void WsSession::Side::lose_framing(PacketRef at, const char* why) {
  const FrameHeader h = parser_.current_header();
  counters.payload_bytes -= parser_.payload_remaining();  // announced, never carried
  if (s_.opt_.frames != nullptr) s_.emit_frame(s_.frame_record(dir_, h, frame_at, nullptr));
  if (frame_in_message) {
    // The message's content is unknown: it is neither counted nor validated.
    in_message = false;
    msg_unverifiable = true;
  }
  frame_in_message = false;
  ctrl.clear();
  add(RuleId::ws_desync, at,
      "framing lost after the {} frame at packet {} announcing {} payload bytes ({}); resumed at packet {}",
      ws::opcode_name(h.opcode), frame_at.index, h.payload_len, why, at.index);
  desync_reported = true;
  parser_.resync();
  resumed = true;
}

void WsSession::Side::record_heartbeat(HeartbeatMatch m, PacketRef at) {
  if (m.kind == diag::AppHeartbeat::none) return;
  diag::AppHeartbeats& hb = counters.app;
  hb.kind = m.kind;
  if (m.role == HeartbeatRole::pong) {
    // An answer: to the peer's latest heartbeat, if it sent one since its last answered one.
    ++hb.answers;
    diag::AppHeartbeats& peer = s_.side_[static_cast<int>(other(dir_))]->counters.app;
    if (peer.last.index != 0) peer.last_answered = peer.last;
    return;
  }
  ++hb.sent;
  if (hb.first.index == 0) hb.first = at;
  hb.last = at;
}

void WsSession::Side::end_message(PacketRef at, FrameRecord* rec) {
  if (msg_compressed && !msg_unverifiable) inflate_status(inflater->end_message(*this), at);
  if (msg_utf8_bad_new) {
    msg_utf8_bad_new = false;
    add(RuleId::invalid_utf8, at,
        "text message {} has invalid UTF-8 at byte {}{}", counters.messages + 1, utf8.error_offset(),
                    msg_compressed ? " (after inflating)" : "");
  }
  ++counters.messages;
  counters.last_message = at;
  if (!msg_unverifiable) record_heartbeat(heartbeat.finish(msg_app_bytes), at);
  s_.last_message_ = at;
  // A compressed message that failed to inflate has no defined size: how much came out before the
  // failure depends on the backend and on where TCP cut the payload, so none of it is counted.
  const bool inflate_failed = msg_compressed && msg_unverifiable;
  if (!inflate_failed) {
    counters.message_bytes += msg_app_bytes;
    counters.max_message = std::max(counters.max_message, msg_app_bytes);
  }
  if (msg_opcode == op::text && !msg_unverifiable && !msg_utf8_bad && !utf8.finish()) {
    msg_utf8_bad = true;
    add(RuleId::invalid_utf8, at, "text message {} ends inside a UTF-8 sequence", counters.messages);
  }
  if (rec != nullptr && !msg_unverifiable) {
    rec->message_len = msg_app_bytes;
    if (msg_opcode == op::text) {
      // the first 80 characters (code points), as tshark previews text
      std::size_t end = 0;
      for (int chars = 0; end < preview_len; ++end) {
        if ((static_cast<unsigned char>(preview[end]) & 0xC0) != 0x80 && chars++ == 80) break;
      }
      rec->text_preview.assign(preview.data(), end);
    }
  }
  in_message = false;
}

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
  for (auto& side : side_) {
    side->mode = Mode::other;
    const std::uint64_t gap = side->counters.gap_bytes;  // a capture fact, kept
    side->counters = diag::DirCounters{};
    side->counters.gap_bytes = gap;
  }
  probe_records_ = std::vector<FrameRecord>();
  findings_.clear();
  close_ = diag::CloseSummary{};
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
    s.start_desynced = false;
    if (s.parser_.desynced()) s.parser_.resync();
    s.in_message = false;
    s.resumed = true;
    if (s.resync_len > 0) {
      // The frame started in earlier, shorter segments: its first bytes go first.
      const std::size_t n = s.resync_len;
      s.resync_len = 0;
      s.resync_starts = 0;
      if (probing_) ++probe_chunks_;
      s.parser_.feed(Bytes(s.resync_held.data(), n), s.resync_at);
    }
  }
  if (probing_) ++probe_chunks_;
  s.parser_.feed(bytes, at);
}

bool WsSession::regain_framing(Dir d, Bytes bytes, PacketRef at) {
  // Candidates are segment starts. A segment shorter than a frame header cannot be judged alone:
  // its bytes are held (fewer than a header, so at most 13) and judged with what follows, so
  // framing is regained however finely TCP cut the stream. A candidate that fails gives way to
  // the next segment start among the held bytes, then to this segment's own start.
  auto& s = *side_[static_cast<int>(d)];
  const bool deflate = hs_.deflate.enabled || forced_;
  for (;;) {
    const Bytes held(s.resync_held.data(), s.resync_len);
    const Start r = plausible_start_across(held, bytes, d, deflate);
    if (r == Start::yes) return true;
    if (r == Start::need_more) {
      // held + bytes are fewer than a header: keep them all.
      if (s.resync_len == 0) s.resync_at = at;
      s.resync_starts = static_cast<std::uint16_t>(s.resync_starts | (1u << s.resync_len));
      std::copy(bytes.begin(), bytes.end(), s.resync_held.begin() + s.resync_len);
      s.resync_len = static_cast<std::uint8_t>(s.resync_len + bytes.size());
      return false;
    }
    if (s.resync_len == 0) return false;  // this segment does not start a frame: dropped
    // Drop the oldest candidate; the next one is the next held segment start, if any.
    const std::uint16_t later = static_cast<std::uint16_t>(s.resync_starts & ~1u);
    if (later == 0) {
      s.resync_len = 0;
      s.resync_starts = 0;
      continue;
    }
    const auto k = static_cast<std::uint8_t>(std::countr_zero(later));
    std::copy(s.resync_held.begin() + k, s.resync_held.begin() + s.resync_len, s.resync_held.begin());
    s.resync_len = static_cast<std::uint8_t>(s.resync_len - k);
    s.resync_starts = static_cast<std::uint16_t>(later >> k);
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
  auto& c = *side_[0];
  if (!hs_.switched()) {
    s.mode = Mode::other;
    c.mode = Mode::other;
    held_.clear();
    held_marks_.clear();
    return;
  }
  start_ws(Dir::s2c, at);
  feed_ws(Dir::s2c, rest, at);
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
}

void WsSession::on_data(Dir d, Bytes bytes, PacketRef at) {
  auto& s = *side_[static_cast<int>(d)];
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
      if (!hs_.request && !tcp_handshake_seen_ && !probe_rejected_ && s.head_.bytes_seen() == 0 &&
          plausible_frame_start(bytes, d, /*deflate=*/true)) {
        // The handshake was not captured (nor the SYN: a stream whose first bytes were seen and
        // were not an HTTP Upgrade is never WebSocket), and a frame plausibly starts here: parse
        // on probation until enough valid frames prove it is WebSocket.
        websocket_ = true;
        forced_ = true;
        probing_ = true;
        for (auto& side : side_) {
          if (side->mode == Mode::http || side->mode == Mode::other) {
            side->mode = Mode::ws;
            side->start_desynced = true;
          }
        }
        feed_ws(d, bytes, at);
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
      s.resync_len = 0;  // bytes held to regain framing do not join what follows a hole
      s.resync_starts = 0;
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
        if (c.mode == Mode::wait || c.mode == Mode::http || c.mode == Mode::other) {
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

void WsSession::finish_tcp_facts(const flow::Connection& c, diag::ConnectionSummary& s) {
  auto& t = s.tcp_end;
  const auto& ce = c.endpoint(Dir::c2s);
  const auto& se = c.endpoint(Dir::s2c);
  t.client_fin = ce.fin;
  t.server_fin = se.fin;
  t.client_rst = ce.rst;
  t.server_rst = se.rst;
  t.client_fin_at = ce.first_fin;
  t.server_fin_at = se.first_fin;
  t.client_rst_at = ce.first_rst;
  t.server_rst_at = se.first_rst;
  auto first_of = [](bool a, PacketRef pa, bool b, PacketRef pb, diag::Side& by, PacketRef& at) {
    if (a && (!b || pa.index <= pb.index)) {
      by = diag::Side::client;
      at = pa;
    } else {
      by = diag::Side::server;
      at = pb;
    }
  };
  diag::Side rst_by = diag::Side::none, fin_by = diag::Side::none;
  PacketRef rst_at{}, fin_at{};
  if (ce.rst || se.rst) first_of(ce.rst, ce.first_rst, se.rst, se.first_rst, rst_by, rst_at);
  if (ce.fin || se.fin) first_of(ce.fin, ce.first_fin, se.fin, se.first_fin, fin_by, fin_at);
  if (rst_by != diag::Side::none) {
    t.how = diag::TcpEndHow::rst;
    t.by = rst_by;
    t.at = rst_at;
  } else if (fin_by != diag::Side::none) {
    t.how = diag::TcpEndHow::fin;
    t.by = fin_by;
    t.at = fin_at;
  } else {
    t.how = diag::TcpEndHow::open;
    t.by = diag::Side::none;
    t.at = c.last_packet();
  }
  // The ending started with the first FIN or RST: a RST that only answers the peer's FIN does not
  // make its sender the cause.
  if (rst_by != diag::Side::none && (fin_by == diag::Side::none || rst_at.index <= fin_at.index)) {
    t.initiator = rst_by;
    t.initiated_at = rst_at;
    t.initiated_by_rst = true;
  } else if (fin_by != diag::Side::none) {
    t.initiator = fin_by;
    t.initiated_at = fin_at;
  }
  // Idle time: from the last payload either side sent before the ending packet.
  PacketRef last_data{};
  for (const auto* ep : {&ce, &se}) {
    if (ep->last_payload.index != 0 && ep->last_payload.index < t.initiated_at.index &&
        ep->last_payload.index > last_data.index) {
      last_data = ep->last_payload;
    }
  }
  if (t.how != diag::TcpEndHow::open) {
    const PacketRef from = last_data.index != 0 ? last_data : c.first_packet();
    t.idle_before_ms = ms_between(from, t.initiated_at);
  } else {
    // Still open: the time from the last payload either side sent to the end of the capture.
    const PacketRef from = ce.last_payload.index >= se.last_payload.index ? ce.last_payload : se.last_payload;
    if (from.index != 0) t.idle_before_ms = ms_between(from, c.last_packet());
  }
}

diag::ConnectionSummary WsSession::summarize(const flow::Connection& c) {
  if (probing_) reject_probe();  // too few frames to tell WebSocket from chance
  diag::ConnectionSummary s;
  s.id = c.id();
  s.client = c.client().to_string();
  s.server = c.server().to_string();
  s.websocket = websocket_;
  s.handshake_captured = !(forced_ && websocket_);
  s.tcp_handshake_seen = c.handshake_seen();
  s.history = c.history();
  s.tunnel.client = {c.encap(Dir::c2s), c.encap_packets(Dir::c2s), c.endpoint(Dir::c2s).packets};
  s.tunnel.server = {c.encap(Dir::s2c), c.encap_packets(Dir::s2c), c.endpoint(Dir::s2c).packets};
  s.first = c.first_packet();
  s.last = c.last_packet();
  s.packets = c.packets();
  s.c2s = side_[0]->counters;
  s.s2c = side_[1]->counters;
  s.client_path = c.path(Dir::c2s);
  s.server_path = c.path(Dir::s2c);
  finish_tcp_facts(c, s);
  s.events.kept = std::move(events_);
  s.events.kept.insert(s.events.kept.end(), ping_ring_.begin(), ping_ring_.end());
  std::stable_sort(s.events.kept.begin(), s.events.kept.end(),
                   [](const diag::WireEvent& a, const diag::WireEvent& b) { return a.at.index < b.at.index; });
  s.events.pings_pongs_not_kept = ring_dropped_;
  s.events.last_message = last_message_;
  if (!websocket_) return s;

  // Handshake facts.
  auto& h = s.handshake;
  h.request_seen = hs_.request.has_value();
  h.response_seen = hs_.response.has_value();
  if (hs_.response) h.status = hs_.status;
  h.reason_phrase = hs_.reason;
  h.ok = hs_.ok();
  if (hs_.request) h.method = hs_.request->method;
  h.path = hs_.path;
  h.host = hs_.host;
  h.origin = hs_.origin;
  h.user_agent = hs_.user_agent;
  h.server_software = hs_.server;
  h.via_request = hs_.via_request;
  h.via_response = hs_.via_response;
  h.forwarded_for = hs_.forwarded_for;
  for (const auto& p : hs_.subprotocols_offered) {
    if (!h.subprotocols_offered.empty()) h.subprotocols_offered += ", ";
    h.subprotocols_offered += p;
  }
  h.subprotocol = hs_.subprotocol;
  h.extensions_offered = hs_.extensions_offered;
  h.extensions = hs_.extensions_accepted;
  h.deflate = hs_.deflate.enabled;
  h.request_at = request_at_;
  h.response_at = response_at_;
  for (const auto& p : hs_.problems) {
    const auto rule = diag::rule_by_name(p.id());
    if (!rule) continue;
    if (std::find(h.problems.begin(), h.problems.end(), *rule) == h.problems.end()) h.problems.push_back(*rule);
    add_finding(*rule, diag::side_of(p.side), p.side == Dir::c2s ? request_at_ : response_at_, p.message);
  }

  s.close = close_;
  if (snap_switched_ && !hs_.response) {
    h.status = 101;
    h.response_seen = true;
    h.reason_phrase = "(cut by the snaplen)";
  }
  // Headers the snaplen cut cannot be checked: the handshake is not verifiable (not invalid).
  h.request_cut = request_snapped_ && !hs_.request;
  if (h.request_cut || (snap_switched_ && !hs_.response)) h.verifiable = false;
  const auto& t = s.tcp_end;
  const bool tcp_ended = t.how != diag::TcpEndHow::open;
  const char* end_by = t.by == diag::Side::client ? "client" : "server";

  if (!s.handshake_captured) {
    add_finding(RuleId::capture_started_midstream, diag::Side::none, c.first_packet(),
                "the WebSocket handshake was not captured: subprotocol, extensions (permessage-deflate) and the "
                "Sec-WebSocket-Accept check cannot be verified");
  }
  if (h.request_seen && !h.response_seen && tcp_ended) {
    add_finding(RuleId::no_response, diag::Side::server, t.at,
                fmt::format("no response to the Upgrade request (packet {}) before the {} ended the connection",
                            request_at_.index, end_by));
  }
  // How TCP ended, relative to the close handshake.
  if (t.how == diag::TcpEndHow::rst) {  // tcp_end's by/at are then the first RST's
    const auto rst_side = t.by;
    const PacketRef rst_at = t.at;
    std::string when;
    if (!close_.seen) {
      when = "with no Close frame sent by either side";
    } else if (close_.echoed && rst_at.index > close_.echo_at.index) {
      when = "after the close handshake completed";
    } else if (rst_at.index > close_.at.index) {
      when = "during the close handshake (the Close was not answered yet)";
    } else {
      when = "before any Close frame";
    }
    if (!t.initiated_by_rst && t.initiator != diag::Side::none) {
      when += fmt::format(", after the {}'s FIN", diag::to_string(t.initiator));
    }
    add_finding(RuleId::rst, rst_side, rst_at, fmt::format("the {} reset the connection {}", end_by, when));
  }
  // Established (101, a 101 cut by the snaplen, or frames without a captured handshake) and closed
  // with a FIN but no Close frame.
  const bool established = hs_.switched() || snap_switched_ || forced_;
  if (!close_.seen && (t.client_fin || t.server_fin) && established) {
    const bool cf = t.client_fin && (!t.server_fin || t.client_fin_at.index <= t.server_fin_at.index);
    const auto side = cf ? diag::Side::client : diag::Side::server;
    const PacketRef at = cf ? t.client_fin_at : t.server_fin_at;
    add_finding(RuleId::fin_without_close, side, at,
                fmt::format("the {} closed TCP (FIN) without sending a Close frame", cf ? "client" : "server"));
  }
  if (close_.seen && !close_.echoed && tcp_ended) {
    const auto peer = close_.initiator == diag::Side::client ? diag::Side::server : diag::Side::client;
    add_finding(RuleId::close_not_echoed, peer, t.at,
                fmt::format("the {} never answered the {}'s Close (packet {}); TCP ended by {} from the {} {:.0f} ms "
                            "later",
                            diag::to_string(peer), diag::to_string(close_.initiator), close_.at.index,
                            t.how == diag::TcpEndHow::rst ? "RST" : "FIN", end_by, ms_between(close_.at, t.at)));
  }
  if (close_.seen && close_.echoed && tcp_ended) {
    // §7.1.1: the server should close the TCP connection first.
    const bool client_first_fin = t.client_fin && (!t.server_fin || t.client_fin_at.index < t.server_fin_at.index);
    const bool client_first_rst = t.client_rst && (!t.server_fin || t.client_rst_at.index < t.server_fin_at.index) &&
                                  (!t.server_rst || t.client_rst_at.index < t.server_rst_at.index);
    if (client_first_fin || client_first_rst) {
      add_finding(RuleId::client_closed_tcp_first, diag::Side::client, t.at,
                  "after the close handshake the client closed TCP before the server did");
    }
  }
  if (!tcp_ended) {
    add_finding(RuleId::open_at_end, diag::Side::none, c.last_packet(), "the connection was still open when the capture ended");
  }
  // Pings never answered.
  for (int i = 0; i < 2; ++i) {
    const auto& sd = *side_[i];
    if (sd.n_pings == 0 && sd.pings_forgotten == 0) continue;
    const PacketRef end_at = tcp_ended ? t.at : c.last_packet();
    std::size_t stale = 0;
    PacketRef first{};
    for (std::size_t k = 0; k < sd.n_pings; ++k) {
      if (end_at.ts_ns - sd.pings[k].at.ts_ns >= kPingGraceNs) {
        if (stale == 0) first = sd.pings[k].at;
        ++stale;
      }
    }
    if (stale + sd.pings_forgotten == 0) continue;
    const Dir d = static_cast<Dir>(i);
    add_finding(RuleId::ping_unanswered, diag::side_of(other(d)), first.index != 0 ? first : end_at,
                fmt::format("{} Ping(s) from the {} never answered by a Pong{}", stale + sd.pings_forgotten,
                            side_name(d),
                            first.index != 0 ? fmt::format(" (first unanswered at packet {}, {:.1f} s before the end)",
                                                           first.index, ms_between(first, end_at) / 1000.0)
                                             : std::string()));
  }
  // Capture problems.
  for (int i = 0; i < 2; ++i) {
    const auto& sd = *side_[i];
    const Dir d = static_cast<Dir>(i);
    if (sd.gap_bytes > 0) {
      add_finding(RuleId::capture_gap, diag::side_of(d), sd.first_gap,
                  fmt::format("{} bytes from the {} missing from the capture in {} gap(s)", sd.gap_bytes, side_name(d),
                              sd.gaps));
    }
    if (sd.snaplen_bytes > 0) {
      add_finding(RuleId::snaplen_truncated, diag::side_of(d), sd.first_snaplen,
                  fmt::format("{} payload bytes from the {} cut off by the capture's snaplen", sd.snaplen_bytes,
                              side_name(d)));
    }
    if (c.stream(d).stats().limit_hits > 0) {
      add_finding(RuleId::limit_ooo_buffer, diag::side_of(d), c.last_packet(),
                  fmt::format("out-of-order buffer limit reached {} time(s) for the {}'s stream",
                              c.stream(d).stats().limit_hits, side_name(d)));
    }
  }
  if (c.end_reason() == reassembly::EndReason::evicted) {
    add_finding(RuleId::conn_evicted, diag::Side::none, c.last_packet(),
                "the connection table was full: tracking of this connection stopped early");
  } else if (c.end_reason() == reassembly::EndReason::idle_timeout) {
    add_finding(RuleId::idle_timeout, diag::Side::none, c.last_packet(), "idle past the timeout: reported and evicted");
  }
  std::stable_sort(findings_.begin(), findings_.end(),
                   [](const diag::Finding& a, const diag::Finding& b) { return a.at.index < b.at.index; });
  s.findings = std::move(findings_);
  findings_.clear();
  return s;
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
  if (sink->front.is_tls()) {
    s.tls = sink->front.facts();
    diag::add_tls_findings(s);
    std::stable_sort(s.findings.begin(), s.findings.end(),
                     [](const diag::Finding& a, const diag::Finding& b) { return a.at.index < b.at.index; });
  }
  out_->on_connection(std::move(s));
}

}  // namespace wsdiag::session
