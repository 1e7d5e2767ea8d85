// wsdiag — framing probes: would a WebSocket frame plausibly start at these bytes? Used to regain
// framing after a gap, when decoding starts mid-stream, and to recognise WebSocket without a handshake.
#include "session_internal.h"

namespace wsdiag::session::detail {

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
bool plausible_frame_start(Bytes b, Dir d, bool deflate, int depth) {
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

// plausible_frame_start's judgement of a candidate at `held` + `bytes`, made the same whatever the
// cuts: the look at the next header (only after a short frame) waits until that header is whole,
// instead of using the bytes at hand (issue #16, fuzz finding
// conversation/frame-start-lookahead-depends-on-cuts). Only the bytes judging needs are joined, at
// most kResyncHold (no payload copy beyond a short frame's).
Start plausible_start_across(Bytes held, Bytes bytes, Dir d, bool deflate, bool at_end) {
  std::array<std::uint8_t, kResyncHold> head{};
  const std::size_t kept = std::min(held.size(), head.size());
  const std::size_t from_bytes = std::min(bytes.size(), head.size() - kept);
  std::copy_n(held.begin(), kept, head.begin());
  std::copy_n(bytes.begin(), from_bytes, head.begin() + static_cast<std::ptrdiff_t>(kept));
  const Bytes view(head.data(), kept + from_bytes);
  FrameHeader h;
  const std::size_t n = ws::decode_frame_header(view, h);
  if (n == 0) return Start::need_more;  // fewer bytes than the header needs
  if (!plausible_header(h, d, deflate)) return Start::no;
  if (h.payload_len > kJudgedPayload) return Start::yes;  // judged by its own header, whatever follows
  const auto frame_end = static_cast<std::size_t>(n + h.payload_len);  // at most 139: inside head
  FrameHeader next;
  if (frame_end > view.size() || ws::decode_frame_header(view.subspan(frame_end), next) == 0) {
    // The next header is not all here (with all of `bytes` in view: a partial view holds
    // kResyncHold bytes, enough for it). `at_end`: it will not come first; the frame stands.
    return at_end ? Start::yes : Start::need_more;
  }
  return plausible_header(next, d, deflate) ? Start::yes : Start::no;
}

// Stricter than plausible_frame_start: the chunk must hold only whole, valid frames for this
// direction (up to 32), ending exactly at the chunk's end. Sets *has_close when one is a Close.
bool looks_like_frames(Bytes b, Dir d, bool* has_close) {
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

}  // namespace wsdiag::session::detail
