// Fuzz target "frame_parser": one direction's byte stream through ws::FrameParser (RFC 6455 §5.2,
// §5.3), cut into chunks the input picks, some chunks lost as capture gaps, against a byte-at-a-time
// reference parser written here from the RFC's frame diagram.
//
// Input: byte 0 flags (bit 0: some chunks are gaps; bit 1: resync() after the parser loses framing),
// bytes 1-4 seed the chunking (0..40 bytes, sometimes 1, sometimes 14, sometimes the rest), then the
// stream. Both parsers turn the stream into one log: each header's fields, each payload byte unmasked
// (or "missing" for gap bytes inside a payload), each frame end, and "desync" when a gap reaches a
// header; the logs and the final state (frames, mid-frame, header bytes pending, payload remaining)
// must be equal. decode_frame_header() and parse_close_payload() are checked on the way.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "wsdiag/ws/frame_parser.h"

namespace {

using namespace wsdiag;

void log_header(std::string& log, const ws::FrameHeader& h) {
  log += 'H';
  log += static_cast<char>((h.fin ? 0x80 : 0) | (h.rsv << 4) | h.opcode);
  log += h.masked ? 'M' : 'u';
  for (int i = 0; i < 8; ++i) log += static_cast<char>(h.payload_len >> (8 * i));
  for (int i = 0; i < 4; ++i) log += static_cast<char>(h.mask_key >> (8 * i));
  log += static_cast<char>(h.header_len);
  log += static_cast<char>(h.len_field_bytes);
  log += h.length_not_minimal ? 'n' : '-';
  log += h.length_msb_set ? 'm' : '-';
}

// ---- the parser under test ----
class Recorder : public ws::FrameHandler {
 public:
  std::string log;
  std::uint64_t expect_offset = 0;
  std::vector<std::uint8_t> payload;  // current frame, while it fits a control frame
  bool payload_complete = true;

  void on_frame_header(const ws::FrameHeader& h, PacketRef) override {
    log_header(log, h);
    expect_offset = 0;
    payload.clear();
    payload_complete = true;
  }
  void on_frame_payload(const ws::FrameHeader& h, Bytes b, std::uint64_t off, PacketRef) override {
    WSDIAG_FUZZ_CHECK(!b.empty());
    WSDIAG_FUZZ_CHECK(off == expect_offset);
    WSDIAG_FUZZ_CHECK(b.size() <= h.payload_len - off);
    for (const auto c : b) {
      log += 'd';
      log += static_cast<char>(c);
      if (payload.size() < 126) payload.push_back(c);
    }
    expect_offset += b.size();
  }
  void on_frame_gap(const ws::FrameHeader& h, std::uint64_t off, std::uint64_t len, PacketRef) override {
    WSDIAG_FUZZ_CHECK(off == expect_offset);
    WSDIAG_FUZZ_CHECK(len <= h.payload_len - off);
    WSDIAG_FUZZ_CHECK(len != 0 || h.payload_len == off);
    for (std::uint64_t i = 0; i < len && i < 4096; ++i) log += 'g';
    if (len > 4096) log += "G" + std::to_string(len);
    expect_offset += len;
    payload_complete = false;
  }
  void on_frame_end(const ws::FrameHeader& h, PacketRef) override {
    WSDIAG_FUZZ_CHECK(expect_offset == h.payload_len);
    log += 'E';
    if (h.opcode == ws::opcode::close && payload_complete && h.payload_len <= 125) {
      const auto c = ws::parse_close_payload(Bytes(payload.data(), payload.size()));
      WSDIAG_FUZZ_CHECK(c.malformed == (payload.size() == 1));
      WSDIAG_FUZZ_CHECK(c.has_code == (payload.size() >= 2));
      if (c.has_code) {
        WSDIAG_FUZZ_CHECK(c.code == ((payload[0] << 8) | payload[1]));
        WSDIAG_FUZZ_CHECK(c.reason.size() == payload.size() - 2);
        WSDIAG_FUZZ_CHECK(c.reason.data() == payload.data() + 2);
      }
    }
  }
};

// ---- the reference: one byte (or one missing byte) at a time ----
class Reference {
 public:
  std::string log;

  void byte(std::uint8_t b) {
    if (desync_) return;
    if (!in_payload_) {
      hdr_.push_back(b);
      if (hdr_.size() >= 2 && hdr_.size() == header_size()) start_frame();
      return;
    }
    const auto key = static_cast<std::uint8_t>(h_.masked ? h_.mask_key >> (24 - 8 * (off_ % 4)) : 0);
    log += 'd';
    log += static_cast<char>(b ^ key);
    advance();
  }
  void missing(std::uint64_t n) {
    // Inside a payload the bytes are skipped; one byte that falls on a header loses framing.
    while (n > 0 && !desync_) {
      if (!in_payload_) {
        desync_ = true;  // a partly gathered header is dropped with the framing
        hdr_.clear();
        log += "desync";
        return;
      }
      const std::uint64_t k = std::min(n, h_.payload_len - off_);
      for (std::uint64_t i = 0; i < k && i < 4096; ++i) log += 'g';
      if (k > 4096) log += "G" + std::to_string(k);
      off_ += k - 1;
      n -= k;
      advance();
    }
  }
  void resync() {
    desync_ = false;
    in_payload_ = false;
    hdr_.clear();
  }
  [[nodiscard]] bool desynced() const { return desync_; }
  [[nodiscard]] std::uint64_t frames() const { return frames_; }
  [[nodiscard]] bool mid_frame() const { return in_payload_ || !hdr_.empty(); }
  [[nodiscard]] std::size_t pending() const { return hdr_.size(); }
  [[nodiscard]] std::uint64_t remaining() const { return in_payload_ ? h_.payload_len - off_ : 0; }

 private:
  [[nodiscard]] std::size_t header_size() const {
    const unsigned len7 = hdr_[1] & 0x7Fu;
    return 2u + (len7 == 126 ? 2u : len7 == 127 ? 8u : 0u) + ((hdr_[1] & 0x80u) != 0 ? 4u : 0u);
  }
  void start_frame() {
    ws::FrameHeader h;
    h.fin = (hdr_[0] & 0x80) != 0;
    h.rsv = static_cast<std::uint8_t>((hdr_[0] >> 4) & 7);
    h.opcode = hdr_[0] & 0x0F;
    h.masked = (hdr_[1] & 0x80) != 0;
    const unsigned len7 = hdr_[1] & 0x7Fu;
    std::size_t i = 2;
    if (len7 < 126) {
      h.payload_len = len7;
    } else {
      const std::size_t n = len7 == 126 ? 2 : 8;
      for (std::size_t k = 0; k < n; ++k) h.payload_len = (h.payload_len << 8) | hdr_[i++];
      h.len_field_bytes = static_cast<std::uint8_t>(n);
      h.length_not_minimal = n == 2 ? h.payload_len < 126 : h.payload_len < 65536;
      h.length_msb_set = n == 8 && (h.payload_len >> 63) != 0;
    }
    if (h.masked) {
      for (std::size_t k = 0; k < 4; ++k) h.mask_key = (h.mask_key << 8) | hdr_[i++];
    }
    h.header_len = static_cast<std::uint8_t>(i);
    // The parser's own header decoder on the gathered bytes must agree.
    ws::FrameHeader d;
    WSDIAG_FUZZ_CHECK(ws::decode_frame_header(Bytes(hdr_.data(), hdr_.size()), d) == hdr_.size());
    WSDIAG_FUZZ_CHECK(d == h);
    WSDIAG_FUZZ_CHECK(ws::decode_frame_header(Bytes(hdr_.data(), hdr_.size() - 1), d) == 0);
    h_ = h;
    hdr_.clear();
    log_header(log, h_);
    off_ = 0;
    in_payload_ = true;
    if (h_.payload_len == 0) end_frame();
  }
  void advance() {
    ++off_;
    if (off_ == h_.payload_len) end_frame();
  }
  void end_frame() {
    log += 'E';
    in_payload_ = false;
    ++frames_;
  }

  std::vector<std::uint8_t> hdr_;
  ws::FrameHeader h_;
  std::uint64_t off_ = 0;
  std::uint64_t frames_ = 0;
  bool in_payload_ = false;
  bool desync_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wsdiag::fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.u8();
  wsdiag::fuzz::Rng rng(in.u32());
  const Bytes stream = in.rest();

  Recorder rec;
  ws::FrameParser parser(rec);
  Reference ref;
  std::uint64_t index = 0;
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t pick = rng.below(16);
    std::size_t n = pick == 0 ? 1 : pick == 1 ? 14 : pick == 2 ? stream.size() - at : rng.below(41);
    n = std::min(n, stream.size() - at);
    const PacketRef ref_at{++index, static_cast<std::int64_t>(index)};
    if ((flags & 1) != 0 && rng.below(8) == 0) {
      parser.gap(n, ref_at);
      if (!ref.desynced() && n > 0) ref.missing(n);
    } else {
      const wsdiag::fuzz::Owned chunk(stream.subspan(at, n));
      parser.feed(chunk.span(), ref_at);
      for (const auto b : chunk.span()) ref.byte(b);
    }
    at += n;
    WSDIAG_FUZZ_CHECK(parser.desynced() == ref.desynced());
    if (parser.desynced()) {
      rec.log += "desync";
      if ((flags & 2) == 0) break;
      parser.resync();
      ref.resync();
    }
    WSDIAG_FUZZ_CHECK(rec.log == ref.log);
  }
  WSDIAG_FUZZ_CHECK(rec.log == ref.log);
  WSDIAG_FUZZ_CHECK(parser.frames() == ref.frames());
  WSDIAG_FUZZ_CHECK(parser.mid_frame() == ref.mid_frame());
  WSDIAG_FUZZ_CHECK(parser.header_bytes_pending() == ref.pending());
  WSDIAG_FUZZ_CHECK(parser.payload_remaining() == ref.remaining() || !parser.in_payload());
  return 0;
}
