// ws::DeflateWalk: the block walk the ISA-L inflate backend runs ahead of the decoder. Real zlib
// output (every level and strategy, sync and full flushes, several blocks, final blocks followed by
// a new stream) walks clean however it is cut; a malformed header or symbol anywhere fails it,
// and stop() says how much of the failing piece precedes the failure.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "wsdiag/ws/deflate_walk.h"

using namespace wsdiag;
using ws::DeflateWalk;

namespace {

using Buf = std::vector<std::uint8_t>;

// zlib's raw deflate of `parts`, each ended with `flush` (Z_FINISH on the last one when `finish`).
Buf deflate_parts(const std::vector<std::string>& parts, int level, int strategy, int flush, bool finish) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy) == Z_OK);
  Buf out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const int f = finish && i + 1 == parts.size() ? Z_FINISH : flush;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(parts[i].data()));
    z.avail_in = static_cast<uInt>(parts[i].size());
    int rc = Z_OK;
    do {
      std::uint8_t buf[4096];
      z.next_out = buf;
      z.avail_out = sizeof buf;
      rc = deflate(&z, f);
      REQUIRE(rc != Z_STREAM_ERROR);
      out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
    } while (z.avail_out == 0 || (f == Z_FINISH && rc != Z_STREAM_END));
  }
  deflateEnd(&z);
  return out;
}

std::string text(std::mt19937& rng, std::size_t n) {
  std::string s;
  while (s.size() < n) {
    s += "word" + std::to_string(rng() % 3000) + " ";
    if (rng() % 7 == 0) s += static_cast<char>(rng());  // some literals of every value
  }
  return s;
}

// Walks `b` in pieces whose sizes `rng` picks (1..max); the result and, if invalid, the offset in
// `b` of the end of the failing piece's usable prefix (and its start: `piece`).
DeflateWalk::Result walk(const Buf& b, std::mt19937& rng, std::size_t max, std::size_t* usable = nullptr,
                         std::size_t* piece = nullptr) {
  DeflateWalk w;
  w.reset();
  for (std::size_t o = 0; o < b.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % max, b.size() - o);
    if (w.feed(Bytes(b.data() + o, n)) == DeflateWalk::Result::invalid) {
      if (usable != nullptr) *usable = o + w.stop();
      if (piece != nullptr) *piece = o;
      return w.result();
    }
    o += n;
  }
  return w.result();
}

}  // namespace

TEST_CASE("deflate walk: zlib's output walks clean however it is cut", "[ws][inflate]") {
  std::mt19937 rng(3);
  const std::vector<std::string> parts = {text(rng, 100), text(rng, 70000), std::string(5000, 'a'), text(rng, 3000),
                                          text(rng, 200000)};
  for (const int level : {0, 1, 6, 9}) {
    for (const int strategy : {Z_DEFAULT_STRATEGY, Z_FIXED, Z_HUFFMAN_ONLY, Z_RLE}) {
      for (const int flush : {Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_NO_FLUSH}) {
        for (const bool finish : {false, true}) {
          Buf b = deflate_parts(parts, level, strategy, flush, finish);
          if (finish) {  // a final block, then a new stream (RFC 7692 §7.2.3.4)
            const Buf again = deflate_parts({parts[0]}, level, strategy, Z_SYNC_FLUSH, false);
            b.insert(b.end(), again.begin(), again.end());
          }
          CAPTURE(level, strategy, flush, finish, b.size());
          for (const std::size_t max : {std::size_t{1}, std::size_t{13}, std::size_t{1500}, b.size()}) {
            CAPTURE(max);
            CHECK(walk(b, rng, max) == DeflateWalk::Result::ok);
          }
        }
      }
    }
  }
}

TEST_CASE("deflate walk: a bad header after good blocks fails where it starts", "[ws][inflate]") {
  std::mt19937 rng(5);
  // Good blocks (sync-flushed, so the stream is byte-aligned at their end), then a dynamic block
  // header whose HLIT says 287 literal/length codes (zlib: "too many length or distance symbols").
  const Buf good = deflate_parts({text(rng, 50000), text(rng, 50000)}, 6, Z_DEFAULT_STRATEGY, Z_SYNC_FLUSH, false);
  Buf bad = good;
  bad.push_back(0x04 | (30 << 3));  // BFINAL 0, BTYPE 10, HLIT 30 (low 5 bits of this byte: 3 of them)
  bad.push_back(0xff);
  bad.push_back(0xff);
  for (const std::size_t max : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, bad.size()}) {
    CAPTURE(max);
    std::size_t usable = 0, piece = 0;
    CHECK(walk(bad, rng, max, &usable, &piece) == DeflateWalk::Result::invalid);
    // the failing piece's usable prefix ends with the header's first byte, or is empty when the
    // header began in an earlier piece: never a byte past it
    if (piece <= good.size()) {
      CHECK(usable == good.size() + 1);
    } else {
      CHECK(usable == piece);
    }
  }
  DeflateWalk w;
  w.reset();
  CHECK(w.feed(Bytes(bad)) == DeflateWalk::Result::invalid);
  CHECK(std::string(w.why()) == "too many length or distance symbols");
  CHECK(w.stop() == good.size() + 1);
  CHECK(w.feed(Bytes(good)) == DeflateWalk::Result::invalid);  // stays failed
  w.reset();
  CHECK(w.feed(Bytes(good)) == DeflateWalk::Result::ok);
}

TEST_CASE("deflate walk: symbols and stored lengths zlib refuses fail the walk", "[ws][inflate]") {
  DeflateWalk w;
  // fixed Huffman, literal/length code 286 (11000110, 8 bits): "invalid literal/length code"
  w.reset();
  // bits: BFINAL 0, BTYPE 01 (LSB first: 0, 1, 0), then the code MSB first: 1 1 0 0 0 1 1 0
  const Buf lit286 = {static_cast<std::uint8_t>(0b00011010), static_cast<std::uint8_t>(0b00000011)};
  CHECK(w.feed(Bytes(lit286)) == DeflateWalk::Result::invalid);
  CHECK(std::string(w.why()) == "invalid literal/length code");
  CHECK(w.stop() == 1);
  // stored block whose NLEN is not LEN's complement: "invalid stored block lengths"
  w.reset();
  const Buf stored = {0x00, 0x05, 0x00, 0xfa, 0xfe, 'a', 'b', 'c', 'd', 'e'};
  CHECK(w.feed(Bytes(stored)) == DeflateWalk::Result::invalid);
  CHECK(std::string(w.why()) == "invalid stored block lengths");
  // and with NLEN right it walks, the 5 bytes skipped, waiting for the next header
  w.reset();
  const Buf stored_ok = {0x00, 0x05, 0x00, 0xfa, 0xff, 'a', 'b', 'c', 'd', 'e', 0x00, 0x00, 0x00, 0xff, 0xff};
  CHECK(w.feed(Bytes(stored_ok)) == DeflateWalk::Result::ok);
}
