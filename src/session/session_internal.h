// wsdiag — internals of the WebSocket session shared by its source files (ws_session.cpp, side.cpp,
// summarize.cpp, framing_probe.cpp): limits of the state machine, the framing probes and the
// per-direction state (WsSession::Side). Not a public header.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "wsdiag/session/ws_session.h"
#include "wsdiag/ws/inflater.h"

namespace wsdiag::session {

using diag::RuleId;
using ws::FrameHeader;
namespace op = ws::opcode;

namespace detail {

inline constexpr std::size_t kMaxHeldBytes = 64 * 1024;  // client bytes held while awaiting the response
inline constexpr std::size_t kMaxPings = 8;               // outstanding Pings remembered per side
inline constexpr std::uint64_t kMaxPlausiblePayload = 1ull << 26;  // for resynchronisation only
// Regaining framing (regain_framing): a candidate frame whose payload is at most this long is judged
// with the whole header that follows it, held until that header is here; a longer one by its own
// header (random bytes pass a 126/127-length header ~0.03% of the time, a short one ~2%).
inline constexpr std::uint64_t kJudgedPayload = 125;
// The most bytes that judging needs: the candidate's header and payload, the next header.
inline constexpr std::size_t kResyncHold = 2 * ws::kMaxFrameHeader + kJudgedPayload;
inline constexpr std::int64_t kPingGraceNs = 1'000'000'000;        // a Pong may take this long
// Mid-stream recognition: this many valid frames, back to back over at least two segments, with
// no violation among them (issue #10 §5; scripts/measure-midstream-fp measures false positives).
inline constexpr std::uint32_t kProbeFrames = 4;

// What a byte stream that is not WebSocket produces when parsed as frames. Any of these before
// recognition means the connection is not taken for WebSocket.
inline bool probe_violation(RuleId r) {
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
inline constexpr std::size_t kMaxControlKept = 4096;

inline const char* side_name(Dir d) { return d == Dir::c2s ? "client" : "server"; }

// "HTTP/1.x 101" at the start of a (possibly cut) response head.
inline bool starts_with_101(std::string_view head) {
  return head.size() >= 12 && head.substr(0, 7) == "HTTP/1." && head[8] == ' ' && head.substr(9, 3) == "101";
}

// Framing probes (framing_probe.cpp): used to regain framing after a gap or when decoding starts
// mid-stream, and to recognise WebSocket without its handshake.
bool plausible_header(const ws::FrameHeader& h, Dir d, bool deflate);
/// Would a frame plausibly start here? The header must be valid for this direction and, if the
/// chunk holds more bytes than the frame, the next header must be valid too.
bool plausible_frame_start(Bytes b, Dir d, bool deflate, int depth = 0);
enum class Start : std::uint8_t { no, yes, need_more };
/// Does a frame plausibly start at `held` (bytes of earlier segments, fewer than kResyncHold)
/// followed by `bytes`? Its header must be valid for this direction and, when its payload is at
/// most kJudgedPayload, so must the whole next header: need_more until those bytes are all here
/// (`at_end`: something else came first, a short frame stands without it). The same answer however
/// TCP cut the bytes.
Start plausible_start_across(Bytes held, Bytes bytes, Dir d, bool deflate, bool at_end = false);
/// The chunk holds only whole, valid frames for this direction (up to 32), ending at its end.
bool looks_like_frames(Bytes b, Dir d, bool* has_close = nullptr);

}  // namespace detail

using namespace detail;  // NOLINT: internal header of this layer only

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
  /// The first framing rule a control frame's header breaks (size, FIN, mask, RSV), if any.
  [[nodiscard]] std::optional<RuleId> first_control_framing_rule(const FrameHeader& h, bool deflate) const;

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
  // --frames only (made at the first message then): room for 80 characters of 4-byte UTF-8
  std::unique_ptr<std::array<char, 320>> preview;
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
  // to judge it (its header, or a short frame and the header after it), judged together with the
  // next segment (regain_framing). Bit i of resync_starts: a segment began at resync_held[i], a
  // candidate too.
  std::array<std::uint8_t, kResyncHold - 1> resync_held{};
  std::uint8_t resync_len = 0;
  std::bitset<kResyncHold - 1> resync_starts;
  PacketRef resync_at{};
  std::vector<std::uint8_t> ctrl;  // the current control frame's payload (bounded)
  bool ctrl_gap = false;
  // The framing rule the current control frame's header broke (receivers fail the connection on
  // it: a Close with one is not a Close they accept), if any.
  std::optional<RuleId> ctrl_rule;
  // close and ping state
  bool close_sent = false;
  PacketRef close_at{};
  // Outstanding Pings, at most kMaxPings, grown one slot at a time: most connections never send
  // one, and most that do wait for its Pong before the next (one 152-byte slot, not 1.2 KB).
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

}  // namespace wsdiag::session
