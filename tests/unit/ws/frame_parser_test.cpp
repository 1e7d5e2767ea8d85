// Tests for the RFC 6455 §5.2 frame parser: header decoding, unmasking, segmentation invariance
// (the stream split at every byte and in every chunk size gives the same events), capture gaps,
// huge lengths, Close payload prefix.
#include "wsdiag/ws/frame_parser.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using wsdiag::Bytes;
using wsdiag::PacketRef;
using wsdiag::ws::FrameHeader;
using wsdiag::ws::FrameParser;
using Buf = std::vector<std::uint8_t>;

namespace {

// ---------------------------------------------------------------------------------------------
// Building frames

struct Spec {
  bool fin = true;
  std::uint8_t rsv = 0;
  std::uint8_t op = 2;
  bool masked = false;
  std::uint32_t key = 0;
  Buf payload;
  int len_bytes = -1;  // -1: minimal encoding; 0, 2 or 8: force that extended length size
};

Buf payload_bytes(std::size_t n, std::uint8_t seed) {
  Buf p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(seed + i * 31 + (i >> 8));
  return p;
}

int minimal_len_bytes(std::uint64_t n) { return n < 126 ? 0 : n <= 0xFFFF ? 2 : 8; }

void put_be(Buf& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

/// Header bytes for `len` (payload not appended).
Buf encode_header(const Spec& s, std::uint64_t len) {
  Buf out;
  out.push_back(static_cast<std::uint8_t>((s.fin ? 0x80 : 0) | (s.rsv << 4) | s.op));
  const int lb = s.len_bytes < 0 ? minimal_len_bytes(len) : s.len_bytes;
  const std::uint8_t len7 = lb == 0 ? static_cast<std::uint8_t>(len) : lb == 2 ? 126 : 127;
  out.push_back(static_cast<std::uint8_t>((s.masked ? 0x80 : 0) | len7));
  if (lb != 0) put_be(out, len, lb);
  if (s.masked) put_be(out, s.key, 4);
  return out;
}

Buf encode(const Spec& s) {
  Buf out = encode_header(s, s.payload.size());
  const std::size_t base = out.size();
  out.insert(out.end(), s.payload.begin(), s.payload.end());
  if (s.masked) {
    for (std::size_t i = 0; i < s.payload.size(); ++i)
      out[base + i] ^= static_cast<std::uint8_t>(s.key >> (24 - 8 * (i % 4)));
  }
  return out;
}

FrameHeader expected_header(const Spec& s, std::uint64_t len) {
  FrameHeader h;
  h.fin = s.fin;
  h.rsv = s.rsv;
  h.opcode = s.op;
  h.masked = s.masked;
  h.mask_key = s.masked ? s.key : 0;
  h.payload_len = len;
  const int lb = s.len_bytes < 0 ? minimal_len_bytes(len) : s.len_bytes;
  h.len_field_bytes = static_cast<std::uint8_t>(lb);
  h.header_len = static_cast<std::uint8_t>(2 + lb + (s.masked ? 4 : 0));
  h.length_not_minimal = lb > minimal_len_bytes(len);
  h.length_msb_set = lb == 8 && (len >> 63) != 0;
  return h;
}

/// A stream of frames plus where each one's header and payload end in it.
struct Stream {
  Buf bytes;
  std::vector<Spec> specs;
  std::vector<std::size_t> header_end;  // stream offset just past each header
  std::vector<std::size_t> frame_end;   // stream offset just past each frame
  void add(const Spec& s) {
    const Buf f = encode(s);
    specs.push_back(s);
    header_end.push_back(bytes.size() + f.size() - s.payload.size());
    bytes.insert(bytes.end(), f.begin(), f.end());
    frame_end.push_back(bytes.size());
  }
};

// ---------------------------------------------------------------------------------------------
// Recording events

struct Piece {
  std::size_t frame;
  std::uint64_t offset;
  std::uint64_t len;
  std::uint64_t packet;
};

struct FrameRec {
  FrameHeader h;
  std::uint64_t header_packet = 0;
  Buf payload;  // concatenated; gap bytes filled with 0xEE
  std::uint64_t gap_bytes = 0;
  bool ended = false;
  std::uint64_t end_packet = 0;
};

class Recorder : public wsdiag::ws::FrameHandler {
 public:
  std::vector<FrameRec> frames;
  std::vector<Piece> pieces;
  std::vector<std::string> errors;
  std::size_t max_masked_piece = 0;

  void on_frame_header(const FrameHeader& h, PacketRef at) override {
    if (!frames.empty() && !frames.back().ended) errors.push_back("header before previous end");
    FrameRec r;
    r.h = h;
    r.header_packet = at.index;
    frames.push_back(r);
  }
  void on_frame_payload(const FrameHeader& h, Bytes data, std::uint64_t offset,
                        PacketRef at) override {
    if (!check_open(h, "payload")) return;
    FrameRec& r = frames.back();
    if (data.empty()) errors.push_back("empty payload piece");
    if (offset != r.payload.size()) errors.push_back("payload offset not contiguous");
    if (offset + data.size() > h.payload_len) errors.push_back("payload beyond length");
    r.payload.insert(r.payload.end(), data.begin(), data.end());
    pieces.push_back({frames.size() - 1, offset, data.size(), at.index});
    if (h.masked) max_masked_piece = std::max(max_masked_piece, data.size());
  }
  void on_frame_end(const FrameHeader& h, PacketRef at) override {
    if (!check_open(h, "end")) return;
    FrameRec& r = frames.back();
    if (r.payload.size() != h.payload_len) errors.push_back("end before all payload");
    r.ended = true;
    r.end_packet = at.index;
  }
  void on_frame_gap(const FrameHeader& h, std::uint64_t offset, std::uint64_t len,
                    PacketRef at) override {
    (void)at;
    if (!check_open(h, "gap")) return;
    FrameRec& r = frames.back();
    if (offset != r.payload.size()) errors.push_back("gap offset not contiguous");
    if (len == 0) errors.push_back("empty gap");
    r.gap_bytes += len;
    r.payload.insert(r.payload.end(), static_cast<std::size_t>(len), 0xEE);
  }

 private:
  bool check_open(const FrameHeader& h, const char* what) {
    if (frames.empty() || frames.back().ended) {
      errors.push_back(std::string(what) + " outside a frame");
      return false;
    }
    if (!(h == frames.back().h)) errors.push_back(std::string(what) + " with another header");
    return true;
  }
};

/// Chunk boundaries: chunk k (PacketRef index k + 1) covers [starts[k], starts[k + 1]).
using Cuts = std::vector<std::size_t>;

Cuts cuts_every(std::size_t total, std::size_t size) {
  Cuts c;
  for (std::size_t p = 0; p < total; p += size) c.push_back(p);
  c.push_back(total);
  return c;
}

/// Index of the chunk holding stream byte `byte` (the last chunk starting at or before it).
std::uint64_t packet_of(const Cuts& cuts, std::size_t byte) {
  if (cuts.empty() || byte >= cuts.back()) return 0;
  const auto it = std::upper_bound(cuts.begin(), cuts.end(), byte);
  return static_cast<std::uint64_t>(it - cuts.begin());
}

void feed_cuts(FrameParser& p, const Buf& bytes, const Cuts& cuts) {
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    const PacketRef at{k + 1, static_cast<std::int64_t>(k) * 1000};
    p.feed(Bytes(bytes.data() + cuts[k], cuts[k + 1] - cuts[k]), at);
  }
}

/// Feeds `s` cut at `cuts` and checks every event against what the stream was built from.
void check_stream(const Stream& s, const Cuts& cuts) {
  Recorder rec;
  FrameParser p(rec);
  feed_cuts(p, s.bytes, cuts);
  REQUIRE(rec.errors.empty());
  REQUIRE(rec.frames.size() == s.specs.size());
  REQUIRE(p.frames() == s.specs.size());
  REQUIRE_FALSE(p.mid_frame());
  REQUIRE_FALSE(p.desynced());
  for (std::size_t i = 0; i < s.specs.size(); ++i) {
    INFO("frame " << i);
    const FrameRec& r = rec.frames[i];
    REQUIRE(r.h == expected_header(s.specs[i], s.specs[i].payload.size()));
    REQUIRE(r.payload == s.specs[i].payload);
    REQUIRE(r.ended);
    REQUIRE(r.header_packet == packet_of(cuts, s.header_end[i] - 1));
    REQUIRE(r.end_packet == packet_of(cuts, s.frame_end[i] - 1));
  }
  for (const Piece& pc : rec.pieces) {
    // Each piece's bytes all lie in the chunk whose PacketRef it carries.
    const std::size_t first = s.header_end[pc.frame] + static_cast<std::size_t>(pc.offset);
    const std::size_t last = first + static_cast<std::size_t>(pc.len) - 1;
    REQUIRE(packet_of(cuts, first) == pc.packet);
    REQUIRE(packet_of(cuts, last) == pc.packet);
  }
  REQUIRE(rec.max_masked_piece <= FrameParser::kScratchBytes);
}

Stream small_stream() {
  Stream s;
  s.add({true, 0, 1, false, 0, {}, -1});                              // empty text
  s.add({true, 0, 1, true, 0x37FA213Du, {'H'}, -1});                  // 1 byte, masked
  s.add({true, 0, 2, true, 0x01020304u, payload_bytes(125, 1), -1});  // largest 7-bit
  s.add({true, 0, 2, false, 0, payload_bytes(126, 2), -1});           // smallest 16-bit
  s.add({true, 0, 2, true, 0xA5A5A5A5u, payload_bytes(127, 3), -1});
  s.add({true, 0, 1, true, 0xDEADBEEFu, payload_bytes(5, 4), 2});    // non-minimal 16
  s.add({true, 0, 1, false, 0, {}, 2});                              // 0 in 16 bits
  s.add({true, 0, 2, true, 0x00FF00FFu, payload_bytes(126, 5), 8});  // non-minimal 64
  s.add({true, 0, 2, false, 0, payload_bytes(3, 6), 8});             // 3 in 64 bits
  for (std::uint8_t op = 0; op < 16; ++op) {                         // every opcode and rsv
    s.add({op % 2 == 0, static_cast<std::uint8_t>(op & 7), op, op % 3 != 0, 0x11223344u * (op + 1u),
           payload_bytes(op, op), -1});
  }
  for (std::size_t n = 5; n <= 9; ++n)
    s.add({false, 0, 0, true, 0x9ABCDEF0u, payload_bytes(n, 7), -1});
  s.add({true, 0, 8, true, 0x0BADF00Du, {0x03, 0xE8, 'b', 'y', 'e'}, -1});  // close 1000 "bye"
  return s;
}

Stream big_stream() {
  Stream s;
  s.add({true, 0, 1, true, 0x12345678u, payload_bytes(3, 9), -1});
  s.add({true, 0, 2, false, 0, payload_bytes(65535, 10), -1});           // largest 16-bit
  s.add({true, 0, 2, true, 0xCAFEBABEu, payload_bytes(65536, 11), -1});  // smallest 64-bit
  s.add({true, 0, 9, false, 0, {}, -1});
  s.add({true, 4, 2, false, 0, payload_bytes(65536, 12), -1});
  s.add({false, 0, 1, true, 0x0F0F0F0Fu, payload_bytes(70001, 13), -1});
  s.add({true, 0, 0, true, 0x80808080u, payload_bytes(1, 14), -1});
  return s;
}

}  // namespace

TEST_CASE("frame: decode_frame_header field by field", "[ws][frame]") {
  FrameHeader h;
  SECTION("minimal unmasked text") {
    const Buf b = {0x81, 0x05};
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(b.data(), b.size()), h) == 2);
    CHECK(h.fin);
    CHECK(h.rsv == 0);
    CHECK(h.opcode == 1);
    CHECK_FALSE(h.masked);
    CHECK(h.payload_len == 5);
    CHECK(h.header_len == 2);
    CHECK(h.len_field_bytes == 0);
    CHECK_FALSE(h.length_not_minimal);
    CHECK_FALSE(h.length_msb_set);
  }
  SECTION("RFC 6455 §5.7 masked 'Hello'") {
    const Buf b = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(b.data(), b.size()), h) == 6);
    CHECK(h.masked);
    CHECK(h.mask_key == 0x37fa213du);
    CHECK(h.payload_len == 5);
  }
  SECTION("rsv bits as tshark shows them, fin clear") {
    const Buf b = {0x42, 0x00};  // RSV1 only
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(b.data(), b.size()), h) == 2);
    CHECK_FALSE(h.fin);
    CHECK(h.rsv == wsdiag::ws::rsv_bit::rsv1);
    const Buf c = {0x1A, 0x00};  // RSV3, pong
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(c.data(), c.size()), h) == 2);
    CHECK(h.rsv == wsdiag::ws::rsv_bit::rsv3);
    CHECK(h.opcode == wsdiag::ws::opcode::pong);
  }
  SECTION("16-bit lengths") {
    const Buf b = {0x82, 0x7E, 0x01, 0x00};
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(b.data(), b.size()), h) == 4);
    CHECK(h.payload_len == 256);
    CHECK(h.len_field_bytes == 2);
    CHECK_FALSE(h.length_not_minimal);
    const Buf c = {0x82, 0xFE, 0x00, 0x7D, 1, 2, 3, 4};  // 125 in 16 bits, masked
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(c.data(), c.size()), h) == 8);
    CHECK(h.payload_len == 125);
    CHECK(h.length_not_minimal);
    CHECK(h.mask_key == 0x01020304u);
  }
  SECTION("64-bit lengths") {
    const Buf b = {0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0};
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(b.data(), b.size()), h) == 10);
    CHECK(h.payload_len == 65536);
    CHECK(h.len_field_bytes == 8);
    CHECK_FALSE(h.length_not_minimal);
    const Buf c = {0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(c.data(), c.size()), h) == 10);
    CHECK(h.length_not_minimal);
    const Buf d = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 9, 8, 7, 6};
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(d.data(), d.size()), h) == 14);
    CHECK(h.length_msb_set);
    CHECK_FALSE(h.length_not_minimal);
    CHECK(h.payload_len == (std::uint64_t{1} << 63));
    CHECK(h.header_len == 14);
    CHECK(h.mask_key == 0x09080706u);
    const Buf e = {0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};  // largest legal
    REQUIRE(wsdiag::ws::decode_frame_header(Bytes(e.data(), e.size()), h) == 10);
    CHECK(h.payload_len == 0x7FFFFFFFFFFFFFFFull);
    CHECK_FALSE(h.length_msb_set);
    CHECK_FALSE(h.length_not_minimal);
  }
  SECTION("a prefix of a header is not a header") {
    const Buf d = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 9, 8, 7, 6};
    FrameHeader untouched;
    untouched.opcode = 0xC;
    for (std::size_t n = 0; n < d.size(); ++n) {
      h = untouched;
      CHECK(wsdiag::ws::decode_frame_header(Bytes(d.data(), n), h) == 0);
      CHECK(h == untouched);
    }
  }
}

TEST_CASE("frame: opcode helpers", "[ws][frame]") {
  using namespace wsdiag::ws;
  for (std::uint8_t op = 0; op < 16; ++op) {
    const bool reserved = (op >= 3 && op <= 7) || op >= 11;
    CHECK(is_reserved_opcode(op) == reserved);
    CHECK(is_control_opcode(op) == (op >= 8));
    CHECK((std::string(opcode_name(op)) == "reserved") == reserved);
  }
  CHECK(std::string(opcode_name(opcode::close)) == "close");
}

TEST_CASE("frame: RFC 6455 §5.7 examples", "[ws][frame]") {
  Recorder rec;
  FrameParser p(rec);
  const Buf b = {
      0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,                          // unmasked "Hello"
      0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,  // masked "Hello"
      0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f,              // fragmented "Hel" + "lo"
      0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,                          // ping "Hello"
      0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,  // masked pong
  };
  p.feed(Bytes(b.data(), b.size()), PacketRef{7, 0});
  REQUIRE(rec.errors.empty());
  REQUIRE(rec.frames.size() == 6);
  const auto text = [](const FrameRec& r) {
    return std::string(r.payload.begin(), r.payload.end());
  };
  CHECK(text(rec.frames[0]) == "Hello");
  CHECK_FALSE(rec.frames[0].h.masked);
  CHECK(text(rec.frames[1]) == "Hello");
  CHECK(rec.frames[1].h.masked);
  CHECK(text(rec.frames[2]) == "Hel");
  CHECK_FALSE(rec.frames[2].h.fin);
  CHECK(rec.frames[2].h.opcode == wsdiag::ws::opcode::text);
  CHECK(text(rec.frames[3]) == "lo");
  CHECK(rec.frames[3].h.opcode == wsdiag::ws::opcode::continuation);
  CHECK(rec.frames[3].h.fin);
  CHECK(text(rec.frames[4]) == "Hello");
  CHECK(rec.frames[4].h.opcode == wsdiag::ws::opcode::ping);
  CHECK(text(rec.frames[5]) == "Hello");
  CHECK(rec.frames[5].h.opcode == wsdiag::ws::opcode::pong);
  for (const auto& r : rec.frames) CHECK(r.end_packet == 7);
  CHECK(p.frames() == 6);
}

TEST_CASE("frame: small stream split at every byte and in every chunk size", "[ws][frame]") {
  const Stream s = small_stream();
  const std::size_t n = s.bytes.size();
  INFO("stream size " << n);
  check_stream(s, {0, n});
  for (std::size_t at = 0; at <= n; ++at) {
    INFO("split at " << at);
    check_stream(s, {0, at, n});  // at == 0 or n gives an empty chunk
  }
  for (std::size_t c = 1; c <= n; ++c) {
    INFO("chunk size " << c);
    check_stream(s, cuts_every(n, c));
  }
}

TEST_CASE("frame: small stream under random segmentation with empty chunks", "[ws][frame]") {
  const Stream s = small_stream();
  std::mt19937 rng(13);  // fixed seed: deterministic
  for (int iter = 0; iter < 500; ++iter) {
    Cuts cuts{0};
    while (cuts.back() < s.bytes.size()) {
      const std::size_t step = rng() % 5 == 0 ? 0 : 1 + rng() % 40;
      cuts.push_back(std::min(s.bytes.size(), cuts.back() + step));
    }
    INFO("iteration " << iter);
    check_stream(s, cuts);
  }
}

TEST_CASE("frame: 16/64-bit frames in many chunk sizes and splits", "[ws][frame]") {
  const Stream s = big_stream();
  const std::size_t n = s.bytes.size();
  for (std::size_t c :
       {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{8},
        std::size_t{13}, std::size_t{1448}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
        std::size_t{9000}, std::size_t{65535}, std::size_t{65536}, std::size_t{65537}, n}) {
    INFO("chunk size " << c);
    check_stream(s, cuts_every(n, c));
  }
  // Every split within 20 bytes of every header and frame end.
  for (std::size_t i = 0; i < s.specs.size(); ++i) {
    for (std::size_t centre : {s.header_end[i], s.frame_end[i]}) {
      const std::size_t from = centre > 20 ? centre - 20 : 0;
      for (std::size_t at = from; at <= std::min(n, centre + 20); ++at) {
        INFO("split at " << at);
        check_stream(s, {0, at, n});
      }
    }
  }
}

TEST_CASE("frame: masked payload is delivered in scratch-sized pieces", "[ws][frame]") {
  Stream s;
  s.add({true, 0, 2, true, 0xCAFEBABEu, payload_bytes(3 * FrameParser::kScratchBytes + 5, 3), -1});
  Recorder rec;
  FrameParser p(rec);
  p.feed(Bytes(s.bytes.data(), s.bytes.size()), PacketRef{1, 0});
  REQUIRE(rec.errors.empty());
  REQUIRE(rec.pieces.size() == 4);
  CHECK(rec.pieces[0].len == FrameParser::kScratchBytes);
  CHECK(rec.pieces[3].len == 5);
  CHECK(rec.frames[0].payload == s.specs[0].payload);
  // An unmasked payload is passed through as one view of the chunk.
  Stream u;
  u.add({true, 0, 2, false, 0, payload_bytes(3 * FrameParser::kScratchBytes + 5, 3), -1});
  Recorder rec2;
  FrameParser p2(rec2);
  p2.feed(Bytes(u.bytes.data(), u.bytes.size()), PacketRef{1, 0});
  REQUIRE(rec2.pieces.size() == 1);
  CHECK(rec2.pieces[0].len == u.specs[0].payload.size());
}

TEST_CASE("frame: parser state is small and feed(empty) does nothing", "[ws][frame]") {
  CHECK(sizeof(FrameParser) <= 96);  // the 4 KiB scratch lives on the stack, not in the parser
  Recorder rec;
  FrameParser p(rec);
  p.feed(Bytes{}, PacketRef{1, 0});
  CHECK(rec.frames.empty());
  CHECK_FALSE(p.mid_frame());
  const Buf b = {0x82};
  p.feed(Bytes(b.data(), b.size()), PacketRef{2, 0});
  CHECK(p.mid_frame());
  CHECK_FALSE(p.in_payload());
  CHECK(p.header_bytes_pending() == 1);
  p.feed(Bytes{}, PacketRef{3, 0});
  CHECK(p.header_bytes_pending() == 1);
  const Buf c = {0x02, 0xAB};
  p.feed(Bytes(c.data(), c.size()), PacketRef{4, 0});
  CHECK(p.in_payload());
  CHECK(p.payload_remaining() == 1);
  CHECK(p.current_header().payload_len == 2);
  CHECK(rec.frames.size() == 1);
  CHECK(rec.frames[0].header_packet == 4);
  CHECK_FALSE(rec.frames[0].ended);
}

TEST_CASE("frame: a gap inside a payload keeps framing and the mask phase", "[ws][frame]") {
  Stream s;
  s.add({true, 0, 1, true, 0x01234567u, payload_bytes(100, 21), -1});
  s.add({true, 0, 2, true, 0x89ABCDEFu, payload_bytes(10, 22), -1});
  const std::size_t h0 = s.header_end[0];
  Recorder rec;
  FrameParser p(rec);
  // header + 10 payload bytes, then 7 bytes lost, then the rest and the next frame.
  p.feed(Bytes(s.bytes.data(), h0 + 10), PacketRef{1, 0});
  p.gap(7, PacketRef{2, 0});
  CHECK_FALSE(p.desynced());
  CHECK(p.payload_remaining() == 83);
  p.feed(Bytes(s.bytes.data() + h0 + 17, s.bytes.size() - h0 - 17), PacketRef{3, 0});
  REQUIRE(rec.errors.empty());
  REQUIRE(rec.frames.size() == 2);
  CHECK(rec.frames[0].gap_bytes == 7);
  Buf want = s.specs[0].payload;
  std::fill(want.begin() + 10, want.begin() + 17, std::uint8_t{0xEE});
  CHECK(rec.frames[0].payload == want);  // bytes after the gap unmasked with the right key phase
  CHECK(rec.frames[0].end_packet == 3);
  CHECK(rec.frames[1].payload == s.specs[1].payload);
  CHECK(p.frames() == 2);
  CHECK_FALSE(p.mid_frame());
}

TEST_CASE("frame: a gap that ends exactly at the frame end ends the frame", "[ws][frame]") {
  Stream s;
  s.add({true, 0, 2, false, 0, payload_bytes(50, 1), -1});
  s.add({true, 0, 9, false, 0, {'p'}, -1});
  Recorder rec;
  FrameParser p(rec);
  p.feed(Bytes(s.bytes.data(), s.header_end[0] + 20), PacketRef{1, 0});
  p.gap(30, PacketRef{2, 0});
  REQUIRE(rec.frames.size() == 1);
  CHECK(rec.frames[0].ended);
  CHECK(rec.frames[0].end_packet == 2);
  CHECK(rec.frames[0].gap_bytes == 30);
  CHECK_FALSE(p.mid_frame());
  CHECK_FALSE(p.desynced());
  p.feed(Bytes(s.bytes.data() + s.frame_end[0], s.bytes.size() - s.frame_end[0]), PacketRef{3, 0});
  REQUIRE(rec.errors.empty());
  REQUIRE(rec.frames.size() == 2);
  CHECK(rec.frames[1].h.opcode == 9);
  CHECK(rec.frames[1].payload == Buf{'p'});
}

TEST_CASE("frame: a gap that reaches a header desyncs until resync()", "[ws][frame]") {
  Stream s;
  s.add({true, 0, 2, true, 0x55AA55AAu, payload_bytes(40, 1), -1});
  s.add({true, 0, 1, false, 0, {'o', 'k'}, -1});
  const Buf& b = s.bytes;
  const Bytes second(b.data() + s.frame_end[0], b.size() - s.frame_end[0]);

  SECTION("gap inside a split header") {
    Recorder rec;
    FrameParser p(rec);
    p.feed(Bytes(b.data(), 1), PacketRef{1, 0});
    p.gap(1, PacketRef{2, 0});
    CHECK(p.desynced());
    CHECK_FALSE(p.mid_frame());
    p.feed(Bytes(b.data() + 2, b.size() - 2), PacketRef{3, 0});  // ignored
    CHECK(rec.frames.empty());
    p.gap(5, PacketRef{4, 0});  // ignored too
    p.resync();
    CHECK_FALSE(p.desynced());
    p.feed(second, PacketRef{5, 0});
    REQUIRE(rec.errors.empty());
    REQUIRE(rec.frames.size() == 1);
    CHECK(rec.frames[0].payload == Buf{'o', 'k'});
    CHECK(rec.frames[0].end_packet == 5);
  }
  SECTION("gap at a frame boundary") {
    Recorder rec;
    FrameParser p(rec);
    p.feed(Bytes(b.data(), s.frame_end[0]), PacketRef{1, 0});
    REQUIRE(rec.frames.size() == 1);
    p.gap(1, PacketRef{2, 0});
    CHECK(p.desynced());
    p.feed(second, PacketRef{3, 0});
    CHECK(rec.frames.size() == 1);
  }
  SECTION("gap running past the payload end") {
    Recorder rec;
    FrameParser p(rec);
    p.feed(Bytes(b.data(), s.header_end[0] + 4), PacketRef{1, 0});
    p.gap(36 + 1, PacketRef{2, 0});
    REQUIRE(rec.errors.empty());
    REQUIRE(rec.frames.size() == 1);
    CHECK(rec.frames[0].ended);
    CHECK(rec.frames[0].gap_bytes == 36);
    CHECK(p.desynced());
    CHECK(p.frames() == 1);
  }
  SECTION("a gap of zero bytes does nothing") {
    Recorder rec;
    FrameParser p(rec);
    p.feed(Bytes(b.data(), 1), PacketRef{1, 0});
    p.gap(0, PacketRef{2, 0});
    CHECK_FALSE(p.desynced());
    p.feed(Bytes(b.data() + 1, b.size() - 1), PacketRef{3, 0});
    REQUIRE(rec.errors.empty());
    CHECK(rec.frames.size() == 2);
  }
  SECTION("resync drops a half-read payload") {
    Recorder rec;
    FrameParser p(rec);
    p.feed(Bytes(b.data(), s.header_end[0] + 3), PacketRef{1, 0});
    CHECK(p.mid_frame());
    p.resync();
    CHECK_FALSE(p.mid_frame());
    p.feed(second, PacketRef{2, 0});
    CHECK(rec.frames.size() == 2);
    CHECK(rec.frames[1].payload == Buf{'o', 'k'});
  }
}

TEST_CASE("frame: a 64-bit length with the MSB set is only counted down", "[ws][frame]") {
  for (const std::uint64_t len :
       {std::uint64_t{1} << 63, std::numeric_limits<std::uint64_t>::max()}) {
    INFO("length " << len);
    const Spec spec{true, 0, 2, true, 0x0A0B0C0Du, {}, 8};
    Buf b = encode_header(spec, len);
    REQUIRE(b.size() == 14);
    const Buf body = payload_bytes(5000, 1);
    b.insert(b.end(), body.begin(), body.end());
    Recorder rec;
    FrameParser p(rec);
    p.feed(Bytes(b.data(), b.size()), PacketRef{1, 0});
    REQUIRE(rec.errors.empty());
    REQUIRE(rec.frames.size() == 1);
    CHECK(rec.frames[0].h == expected_header(spec, len));
    CHECK(rec.frames[0].h.length_msb_set);
    CHECK(rec.frames[0].payload.size() == 5000);
    CHECK(p.payload_remaining() == len - 5000);
    CHECK(p.mid_frame());
    // Skip all but the last byte as a gap (no allocation for it: the recorder is told not to fill).
    class Counter : public wsdiag::ws::FrameHandler {
     public:
      std::uint64_t payload = 0, gaps = 0, ends = 0, headers = 0;
      void on_frame_header(const FrameHeader&, PacketRef) override { ++headers; }
      void on_frame_payload(const FrameHeader&, Bytes d, std::uint64_t, PacketRef) override {
        payload += d.size();
      }
      void on_frame_end(const FrameHeader&, PacketRef) override { ++ends; }
      void on_frame_gap(const FrameHeader&, std::uint64_t, std::uint64_t len2, PacketRef) override {
        gaps += len2;
      }
    } counter;
    FrameParser q(counter);
    q.feed(Bytes(b.data(), b.size()), PacketRef{1, 0});
    q.gap(len - 5000 - 1, PacketRef{2, 0});
    CHECK(q.payload_remaining() == 1);
    CHECK(counter.ends == 0);
    const Buf tail = {0x00, 0x81, 0x00};  // last payload byte, then an empty text frame
    q.feed(Bytes(tail.data(), tail.size()), PacketRef{3, 0});
    CHECK(counter.payload == 5001);
    CHECK(counter.gaps == len - 5001);
    CHECK(counter.ends == 2);
    CHECK(counter.headers == 2);
    CHECK(q.frames() == 2);
    CHECK_FALSE(q.mid_frame());
  }
}

TEST_CASE("frame: close payload prefix", "[ws][frame]") {
  using wsdiag::ws::parse_close_payload;
  const auto cp = parse_close_payload(Bytes{});
  CHECK_FALSE(cp.has_code);
  CHECK_FALSE(cp.malformed);
  const Buf one = {0x03};
  const auto c1 = parse_close_payload(Bytes(one.data(), one.size()));
  CHECK(c1.malformed);
  CHECK_FALSE(c1.has_code);
  const Buf two = {0x03, 0xE9};
  const auto c2 = parse_close_payload(Bytes(two.data(), two.size()));
  CHECK(c2.has_code);
  CHECK(c2.code == 1001);
  CHECK(c2.reason.empty());
  const Buf more = {0x0F, 0xA0, 'g', 'o', 'n', 'e'};
  const auto c3 = parse_close_payload(Bytes(more.data(), more.size()));
  CHECK(c3.code == 4000);
  CHECK(std::string(c3.reason.begin(), c3.reason.end()) == "gone");
  CHECK(c3.reason.data() == more.data() + 2);
}
