// wsdiag — WebSocket base framing, RFC 6455 §5.2 (frame layout, lengths) and §5.3 (masking);
// Close payload layout from §5.5.1. Byte diagram and design note: wsdiag/ws/frame_parser.h.
#include "wsdiag/ws/frame_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace wsdiag::ws {

namespace {

/// dst[i] = src[i] ^ key[(phase + i) % 4] (RFC 6455 §5.3), 8 bytes at a time. `dst` may not alias
/// `src` (the capture buffer is read-only).
void unmask(const std::uint8_t* src, std::uint8_t* dst, std::size_t n, std::uint32_t key,
            std::size_t phase) noexcept {
  std::array<std::uint8_t, 8> m{};
  for (std::size_t i = 0; i < m.size(); ++i) {
    const std::size_t k = (phase + i) & 3;
    m[i] = static_cast<std::uint8_t>(key >> (24 - 8 * k));
  }
  std::uint64_t mw;
  std::memcpy(&mw, m.data(), sizeof mw);
  std::size_t i = 0;
  for (; n - i >= 8; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, src + i, sizeof w);
    w ^= mw;
    std::memcpy(dst + i, &w, sizeof w);
  }
  for (; i < n; ++i) dst[i] = static_cast<std::uint8_t>(src[i] ^ m[i & 7]);
}

}  // namespace

const char* opcode_name(std::uint8_t op) noexcept {
  switch (op) {
    case opcode::continuation:
      return "continuation";
    case opcode::text:
      return "text";
    case opcode::binary:
      return "binary";
    case opcode::close:
      return "close";
    case opcode::ping:
      return "ping";
    case opcode::pong:
      return "pong";
    default:
      return "reserved";
  }
}

std::size_t decode_frame_header(Bytes in, FrameHeader& out) noexcept {
  if (in.size() < 2) return 0;
  const std::size_t size = frame_header_size(in[1]);
  if (in.size() < size) return 0;

  ByteReader r(in.first(size));
  FrameHeader h;
  const std::uint8_t b0 = r.u8();
  const std::uint8_t b1 = r.u8();
  h.fin = (b0 & 0x80) != 0;
  h.rsv = static_cast<std::uint8_t>((b0 >> 4) & 0x7);
  h.opcode = b0 & 0x0F;
  h.masked = (b1 & 0x80) != 0;
  const std::uint8_t len7 = b1 & 0x7F;
  if (len7 == 126) {
    h.len_field_bytes = 2;
    h.payload_len = r.u16be();
    h.length_not_minimal = h.payload_len < 126;
  } else if (len7 == 127) {
    h.len_field_bytes = 8;
    h.payload_len = r.u64be();
    h.length_not_minimal = h.payload_len <= 0xFFFF;
    h.length_msb_set = (h.payload_len >> 63) != 0;
  } else {
    h.payload_len = len7;
  }
  if (h.masked) h.mask_key = r.u32be();
  if (!r.ok()) return 0;  // unreachable: size was checked above
  h.header_len = static_cast<std::uint8_t>(size);
  out = h;
  return size;
}

void FrameParser::feed(Bytes chunk, PacketRef at) noexcept {
  if (desynced_) return;
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    const Bytes rest = chunk.subspan(pos);
    if (!in_payload_) {
      if (spill_len_ == 0) {
        // Fast path: the whole header is in this chunk.
        const std::size_t n = decode_frame_header(rest, hdr_);
        if (n != 0) {
          pos += n;
          start_payload(at);
          continue;
        }
      }
      // Slow path: gather the header in the spill; first 2 bytes, then the size they announce.
      const std::size_t want = spill_len_ < 2 ? 2 : frame_header_size(spill_[1]);
      const std::size_t take = std::min(want - spill_len_, rest.size());
      std::memcpy(spill_ + spill_len_, rest.data(), take);
      spill_len_ = static_cast<std::uint8_t>(spill_len_ + take);
      pos += take;
      if (decode_frame_header(Bytes(spill_, spill_len_), hdr_) != 0) {
        spill_len_ = 0;
        start_payload(at);
      }
      continue;
    }
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
    deliver(rest.first(n), at);
    pos += n;
    remaining_ -= n;
    payload_offset_ += n;
    if (remaining_ == 0) end_frame(at);
  }
}

void FrameParser::start_payload(PacketRef at) noexcept {
  handler_->on_frame_header(hdr_, at);
  remaining_ = hdr_.payload_len;
  payload_offset_ = 0;
  in_payload_ = true;
  if (remaining_ == 0) end_frame(at);
}

void FrameParser::end_frame(PacketRef at) noexcept {
  in_payload_ = false;
  ++frames_;
  handler_->on_frame_end(hdr_, at);
}

void FrameParser::deliver(Bytes payload, PacketRef at) noexcept {
  if (payload.empty()) return;
  if (!hdr_.masked) {
    handler_->on_frame_payload(hdr_, payload, payload_offset_, at);
    return;
  }
  // Deliberately uninitialised: every byte handed out is written first.
  std::array<std::uint8_t, kScratchBytes>
      scratch;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  std::size_t done = 0;
  while (done < payload.size()) {
    const std::size_t n = std::min(kScratchBytes, payload.size() - done);
    const std::uint64_t off = payload_offset_ + done;
    unmask(payload.data() + done, scratch.data(), n, hdr_.mask_key,
           static_cast<std::size_t>(off & 3));
    handler_->on_frame_payload(hdr_, Bytes(scratch.data(), n), off, at);
    done += n;
  }
}

void FrameParser::gap(std::uint64_t len, PacketRef at) noexcept {
  if (desynced_ || len == 0) return;
  if (in_payload_) {
    const std::uint64_t n = std::min(len, remaining_);
    handler_->on_frame_gap(hdr_, payload_offset_, n, at);
    remaining_ -= n;
    payload_offset_ += n;
    len -= n;
    if (remaining_ == 0) end_frame(at);
    if (len == 0) return;
  }
  // Some of the missing bytes belong to a header: frame boundaries can no longer be trusted.
  desynced_ = true;
  spill_len_ = 0;
}

void FrameParser::resync() noexcept {
  desynced_ = false;
  in_payload_ = false;
  spill_len_ = 0;
  remaining_ = 0;
  payload_offset_ = 0;
}

ClosePayload parse_close_payload(Bytes payload) noexcept {
  ClosePayload c;
  if (payload.size() == 1) {
    c.malformed = true;
    return c;
  }
  ByteReader r(payload);
  if (r.can_read(2)) {
    c.has_code = true;
    c.code = r.u16be();
    c.reason = r.rest();
  }
  return c;
}

}  // namespace wsdiag::ws
