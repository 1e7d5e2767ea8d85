// RFC 1951 §3.2.7 block headers judged the way zlib judges them, fed whole and a byte at a time
// (ws::DeflateHeaderCheck, used by the ISA-L inflate backend).
#include <catch2/catch.hpp>
#include <zlib.h>

#include <string>
#include <vector>

#include "wsdiag/ws/deflate_header.h"

using namespace wsdiag;
using ws::DeflateHeaderCheck;

namespace {

using Buf = std::vector<std::uint8_t>;

// What the checker says of `b` fed in pieces of `piece` bytes (the header starts at bit 0).
DeflateHeaderCheck::Result judge(const Buf& b, std::size_t piece, std::string* why = nullptr) {
  DeflateHeaderCheck c;
  c.begin(0, 0);
  auto r = DeflateHeaderCheck::Result::need_more;
  for (std::size_t o = 0; o < b.size() && r == DeflateHeaderCheck::Result::need_more; o += piece) {
    r = c.feed(Bytes(b.data() + o, std::min(piece, b.size() - o)));
  }
  if (why != nullptr) *why = c.why();
  return r;
}

// zlib's raw deflate output for `text` at `level` and `strategy` (Z_SYNC_FLUSH).
Buf deflate_raw(const std::string& text, int level, int strategy) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy) == Z_OK);
  Buf out(text.size() + 256);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("deflate header: zlib's own headers pass, whole and a byte at a time", "[ws][inflate]") {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "the quick brown fox " + std::to_string(i * 7919 % 1000) + " ";
  for (int strategy : {Z_DEFAULT_STRATEGY, Z_FIXED, Z_HUFFMAN_ONLY, Z_RLE}) {
    for (int level : {0, 1, 6, 9}) {
      CAPTURE(strategy, level);
      const Buf b = deflate_raw(text, level, strategy);
      CHECK(judge(b, b.size()) == DeflateHeaderCheck::Result::ok);
      CHECK(judge(b, 1) == DeflateHeaderCheck::Result::ok);
    }
  }
}

TEST_CASE("deflate header: malformed code sets are refused with zlib's words", "[ws][inflate]") {
  // BFINAL 1, BTYPE 10, then HLIT/HDIST/HCLEN and the code-length code lengths: hand-set bits.
  struct W {
    Buf out;
    int n = 0;
    void put(std::uint32_t v, int bits) {
      for (int i = 0; i < bits; ++i) {
        if (n % 8 == 0) out.push_back(0);
        out.back() = static_cast<std::uint8_t>(out.back() | (((v >> i) & 1) << (n % 8)));
        ++n;
      }
    }
  };
  std::string why;
  {
    W w;  // 30 literal/length codes over the limit
    w.put(1, 1), w.put(2, 2), w.put(30, 5), w.put(0, 5), w.put(0, 4);
    CHECK(judge(w.out, 1, &why) == DeflateHeaderCheck::Result::invalid);
    CHECK(why == "too many length or distance symbols");
  }
  {
    W w;  // code-length code with a single 1-bit code: incomplete, never allowed for it
    w.put(1, 1), w.put(2, 2), w.put(0, 5), w.put(0, 5), w.put(0, 4);
    w.put(0, 3), w.put(0, 3), w.put(1, 3), w.put(0, 3);  // 16 17 18 0: only 18 has a length
    CHECK(judge(w.out, 1, &why) == DeflateHeaderCheck::Result::invalid);
    CHECK(why == "invalid code lengths set");
  }
  {
    W w;  // code-length code over-subscribed: three 1-bit codes
    w.put(1, 1), w.put(2, 2), w.put(0, 5), w.put(0, 5), w.put(0, 4);
    w.put(0, 3), w.put(1, 3), w.put(1, 3), w.put(1, 3);
    CHECK(judge(w.out, 2, &why) == DeflateHeaderCheck::Result::invalid);
    CHECK(why == "invalid code lengths set");
  }
  {
    W w;  // a repeat of the previous length with no previous length
    w.put(1, 1), w.put(2, 2), w.put(0, 5), w.put(0, 5), w.put(0, 4);
    w.put(1, 3), w.put(0, 3), w.put(0, 3), w.put(1, 3);  // 16 and 0 one bit each: complete
    w.put(1, 1);                                         // code 1: symbol 16 first
    w.put(0, 2);
    CHECK(judge(w.out, 1, &why) == DeflateHeaderCheck::Result::invalid);
    CHECK(why == "invalid bit length repeat");
  }
  {
    W w;  // stored and fixed blocks have nothing to check; BTYPE 11 is refused
    w.put(0, 1), w.put(0, 2);
    CHECK(judge(w.out, 1) == DeflateHeaderCheck::Result::ok);
    W f;
    f.put(0, 1), f.put(1, 2);
    CHECK(judge(f.out, 1) == DeflateHeaderCheck::Result::ok);
    W r;
    r.put(0, 1), r.put(3, 2);
    CHECK(judge(r.out, 1, &why) == DeflateHeaderCheck::Result::invalid);
    CHECK(why == "invalid block type");
  }
}

TEST_CASE("deflate header: bits held over from the previous block come first", "[ws][inflate]") {
  // Where ISA-L waits for a header, its bit buffer holds the header's first bits (after the end of
  // the previous block, at any bit offset) and the input goes on from the next whole byte.
  std::string text(500, 'z');
  text += "abcdefghijklmnopqrstuvwxyz0123456789";
  const Buf b = deflate_raw(text, 9, Z_DEFAULT_STRATEGY);
  for (int shift = 0; shift < 8; ++shift) {
    // The stream: `shift` bits of the previous block, then the header.
    Buf st(b.size() + 1, 0);
    for (std::size_t i = 0; i < b.size() * 8; ++i) {
      const std::size_t j = i + static_cast<std::size_t>(shift);
      st[j / 8] = static_cast<std::uint8_t>(st[j / 8] | (((b[i / 8] >> (i % 8)) & 1) << (j % 8)));
    }
    for (std::size_t held = 1; held <= 8; ++held) {
      CAPTURE(shift, held);
      std::uint64_t bits = 0;
      for (std::size_t k = 0; k < held; ++k) bits |= std::uint64_t{st[k]} << (8 * k);
      DeflateHeaderCheck c;
      c.begin(bits >> shift, static_cast<int>(8 * held) - shift);
      auto r = DeflateHeaderCheck::Result::need_more;
      for (std::size_t o = held; o < st.size() && r == DeflateHeaderCheck::Result::need_more; ++o) {
        r = c.feed(Bytes(&st[o], 1));
      }
      CHECK(r == DeflateHeaderCheck::Result::ok);
    }
  }
}
