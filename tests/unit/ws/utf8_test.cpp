// Tests for the incremental UTF-8 validator (RFC 3629 §4), including split-anywhere invariance and
// an independent reference checker run over every short string of boundary bytes.
#include "wsdiag/ws/utf8.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using wsdiag::Bytes;
using wsdiag::ws::Utf8Validator;
using Result = Utf8Validator::Result;
using Buf = std::vector<std::uint8_t>;

namespace {

struct Outcome {
  Result result = Result::ok;
  std::uint64_t offset = 0;  // error offset (invalid) or pending lead offset (incomplete)
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  const char* r = o.result == Result::ok           ? "ok"
                  : o.result == Result::incomplete ? "incomplete"
                                                   : "invalid";
  return std::string(r) + "@" + std::to_string(o.offset);
}

Outcome outcome_of(const Utf8Validator& v) {
  switch (v.result()) {
    case Result::ok:
      return {Result::ok, 0};
    case Result::incomplete:
      return {Result::incomplete, v.pending_offset()};
    case Result::invalid:
      return {Result::invalid, v.error_offset()};
  }
  return {};
}

Outcome run_chunks(const Buf& in, std::size_t chunk) {
  Utf8Validator v;
  for (std::size_t pos = 0; pos < in.size(); pos += chunk) {
    const std::size_t n = std::min(chunk, in.size() - pos);
    v.feed(Bytes(in.data() + pos, n));
  }
  return outcome_of(v);
}

Outcome run_split(const Buf& in, std::size_t at) {
  Utf8Validator v;
  v.feed(Bytes(in.data(), at));
  v.feed(Bytes{});
  v.feed(Bytes(in.data() + at, in.size() - at));
  return outcome_of(v);
}

Outcome run_whole(const Buf& in) {
  Utf8Validator v;
  v.feed(Bytes(in.data(), in.size()));
  return outcome_of(v);
}

// Independent reference: a byte is bad as soon as the bytes so far cannot be the prefix of a valid
// UTF-8 text. For a partial sequence, the code points it can still become form an interval; the
// prefix is viable when that interval holds a non-overlong, non-surrogate scalar <= U+10FFFF.
bool viable(const Buf& seq, std::size_t total) {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  const std::uint8_t lead_bits = total == 2 ? 0x1F : total == 3 ? 0x0F : 0x07;
  lo = hi = seq[0] & lead_bits;
  for (std::size_t k = 1; k < total; ++k) {
    if (k < seq.size()) {
      lo = (lo << 6) | (seq[k] & 0x3Fu);
      hi = (hi << 6) | (seq[k] & 0x3Fu);
    } else {
      lo = lo << 6;
      hi = (hi << 6) | 0x3Fu;
    }
  }
  const std::uint32_t min_cp = total == 2 ? 0x80 : total == 3 ? 0x800 : 0x10000;
  const std::uint32_t a = std::max(lo, min_cp);
  const std::uint32_t b = std::min(hi, 0x10FFFFu);
  if (a > b) return false;
  if (a >= 0xD800 && b <= 0xDFFF) return false;
  return true;
}

Outcome reference(const Buf& in) {
  std::size_t i = 0;
  while (i < in.size()) {
    const std::uint8_t b = in[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t total = 0;
    if (b >= 0xC0 && b <= 0xDF)
      total = 2;
    else if (b >= 0xE0 && b <= 0xEF)
      total = 3;
    else if (b >= 0xF0 && b <= 0xF7)
      total = 4;
    else
      return {Result::invalid, i};  // continuation byte as lead, or F8..FF
    Buf seq{b};
    if (!viable(seq, total)) return {Result::invalid, i};
    for (std::size_t k = 1; k < total; ++k) {
      if (i + k >= in.size()) return {Result::incomplete, i};
      const std::uint8_t c = in[i + k];
      if ((c & 0xC0) != 0x80) return {Result::invalid, i + k};
      seq.push_back(c);
      if (!viable(seq, total)) return {Result::invalid, i + k};
    }
    i += total;
  }
  return {Result::ok, 0};
}

// Every way of cutting `in` into pieces we try must agree with the one-shot answer.
void check_invariant(const Buf& in, const Outcome& want) {
  INFO("input size " << in.size() << ", want " << show(want));
  REQUIRE(run_whole(in) == want);
  for (std::size_t at = 0; at <= in.size(); ++at) {
    INFO("split at " << at);
    REQUIRE(run_split(in, at) == want);
  }
  for (std::size_t c = 1; c <= in.size(); ++c) {
    INFO("chunk size " << c);
    REQUIRE(run_chunks(in, c) == want);
  }
}

Buf encode(std::uint32_t cp) {
  if (cp < 0x80) return {static_cast<std::uint8_t>(cp)};
  if (cp < 0x800)
    return {static_cast<std::uint8_t>(0xC0 | (cp >> 6)),
            static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
  if (cp < 0x10000)
    return {static_cast<std::uint8_t>(0xE0 | (cp >> 12)),
            static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
  return {static_cast<std::uint8_t>(0xF0 | (cp >> 18)),
          static_cast<std::uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
          static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
          static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
}

Buf cat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Buf ascii(const std::string& s) { return Buf(s.begin(), s.end()); }

}  // namespace

TEST_CASE("utf8: reference checker agrees with encoder on sample code points", "[ws][utf8]") {
  for (std::uint32_t cp :
       {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    CHECK(reference(encode(cp)) == Outcome{Result::ok, 0});
  }
  CHECK(reference(encode(0xD800)) == Outcome{Result::invalid, 1});
  CHECK(reference(encode(0x110000)) == Outcome{Result::invalid, 1});
}

TEST_CASE("utf8: valid samples", "[ws][utf8]") {
  const std::vector<Buf> samples = {
      {},
      ascii("Hello, WebSocket! 0123456789 abcdefghijklmnopqrstuvwxyz"),
      encode(0x80),
      encode(0xE9),
      encode(0x7FF),
      encode(0x800),
      encode(0x20AC),  // euro sign
      encode(0xD7FF),
      encode(0xE000),
      encode(0xFFFD),
      encode(0xFFFF),
      encode(0x10000),
      encode(0x1F600),
      encode(0x10FFFF),
      cat({ascii("caf"), encode(0xE9), ascii(" \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 "),
           encode(0x1F600), ascii("0123456789abcdef"), encode(0x10FFFF), ascii("end")}),
  };
  for (const auto& s : samples) {
    CHECK(reference(s) == Outcome{Result::ok, 0});
    check_invariant(s, {Result::ok, 0});
    Utf8Validator v;
    CHECK(v.feed(Bytes(s.data(), s.size())));
    CHECK(v.finish());
    CHECK_FALSE(v.failed());
    CHECK(v.bytes_validated() == s.size());
    CHECK(wsdiag::ws::is_valid_utf8(Bytes(s.data(), s.size())));
  }
}

TEST_CASE("utf8: each invalid class fails at the exact byte", "[ws][utf8]") {
  struct Case {
    const char* name;
    Buf bytes;
    Outcome want;
  };
  const Buf pre = ascii("0123456789abcdefXYZ");  // 19 ASCII bytes: exercises the 8-byte fast path
  const std::uint64_t p = pre.size();
  const std::vector<Case> cases = {
      {"overlong 2-byte C0 80", {0xC0, 0x80}, {Result::invalid, 0}},
      {"overlong 2-byte C1 BF", {0xC1, 0xBF}, {Result::invalid, 0}},
      {"overlong 3-byte E0 80 80", {0xE0, 0x80, 0x80}, {Result::invalid, 1}},
      {"overlong 3-byte E0 9F BF", {0xE0, 0x9F, 0xBF}, {Result::invalid, 1}},
      {"overlong 4-byte F0 80 80 80", {0xF0, 0x80, 0x80, 0x80}, {Result::invalid, 1}},
      {"overlong 4-byte F0 8F BF BF", {0xF0, 0x8F, 0xBF, 0xBF}, {Result::invalid, 1}},
      {"surrogate D800", {0xED, 0xA0, 0x80}, {Result::invalid, 1}},
      {"surrogate DFFF", {0xED, 0xBF, 0xBF}, {Result::invalid, 1}},
      {"surrogate pair", {0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}, {Result::invalid, 1}},
      {"above U+10FFFF (F4 90)", {0xF4, 0x90, 0x80, 0x80}, {Result::invalid, 1}},
      {"above U+10FFFF (F5)", {0xF5, 0x80, 0x80, 0x80}, {Result::invalid, 0}},
      {"F7 BF BF BF", {0xF7, 0xBF, 0xBF, 0xBF}, {Result::invalid, 0}},
      {"F8", {0xF8}, {Result::invalid, 0}},
      {"FE", {0xFE}, {Result::invalid, 0}},
      {"FF", {0xFF}, {Result::invalid, 0}},
      {"lone continuation 80", {0x80}, {Result::invalid, 0}},
      {"lone continuation BF after ASCII", {0x41, 0xBF}, {Result::invalid, 1}},
      {"extra continuation", {0xC3, 0xA9, 0x80}, {Result::invalid, 2}},
      {"lead then ASCII", {0xC3, 0x41}, {Result::invalid, 1}},
      {"3-byte lead then ASCII", {0xE2, 0x82, 0x41}, {Result::invalid, 2}},
      {"4-byte lead then new lead", {0xF0, 0x9F, 0x98, 0xF0}, {Result::invalid, 3}},
      {"truncated 2-byte", {0xC3}, {Result::incomplete, 0}},
      {"truncated 3-byte", {0x41, 0xE2, 0x82}, {Result::incomplete, 1}},
      {"truncated 4-byte", {0xF0, 0x9F, 0x98}, {Result::incomplete, 0}},
      {"after fast path: overlong", cat({pre, {0xC0, 0xAF}}), {Result::invalid, p}},
      {"after fast path: surrogate",
       cat({pre, encode(0xE9), {0xED, 0xB0, 0x80}}),
       {Result::invalid, p + 3}},
      {"after fast path: truncated",
       cat({pre, pre, {0xF4, 0x8F, 0xBF}}),
       {Result::incomplete, 2 * p}},
      {"after fast path: FF then more", cat({pre, {0xFF}, pre}), {Result::invalid, p}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(reference(c.bytes) == c.want);
    check_invariant(c.bytes, c.want);
    Utf8Validator v;
    const bool fed = v.feed(Bytes(c.bytes.data(), c.bytes.size()));
    CHECK(fed == (c.want.result != Result::invalid));
    CHECK_FALSE(v.finish());
    CHECK(v.failed() == (c.want.result == Result::invalid));
    if (c.want.result == Result::invalid) CHECK(v.bytes_validated() == c.want.offset);
    CHECK_FALSE(wsdiag::ws::is_valid_utf8(Bytes(c.bytes.data(), c.bytes.size())));
  }
}

TEST_CASE("utf8: failure is sticky and reset clears it", "[ws][utf8]") {
  Utf8Validator v;
  const Buf good = ascii("abc");
  const Buf bad = {0x61, 0xC0};
  CHECK(v.feed(Bytes(good.data(), good.size())));
  CHECK_FALSE(v.feed(Bytes(bad.data(), bad.size())));
  CHECK(v.error_offset() == 4);
  CHECK_FALSE(v.feed(Bytes(good.data(), good.size())));
  CHECK_FALSE(v.feed(Bytes{}));
  CHECK(v.error_offset() == 4);
  CHECK(v.result() == Result::invalid);
  v.reset();
  CHECK(v.result() == Result::ok);
  CHECK(v.feed(Bytes(good.data(), good.size())));
  CHECK(v.finish());
}

TEST_CASE("utf8: a sequence may be split across any number of chunks", "[ws][utf8]") {
  const Buf smile = encode(0x1F600);
  Utf8Validator v;
  for (std::size_t i = 0; i < smile.size(); ++i) {
    CHECK(v.feed(Bytes(smile.data() + i, 1)));
    CHECK(v.finish() == (i + 1 == smile.size()));
    CHECK(v.result() == (i + 1 == smile.size() ? Result::ok : Result::incomplete));
  }
}

TEST_CASE("utf8: all strings of up to 4 boundary bytes match the reference", "[ws][utf8]") {
  const std::vector<std::uint8_t> alphabet = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                              0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                              0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF};
  const std::size_t a = alphabet.size();
  std::size_t checked = 0;
  std::size_t mismatches = 0;
  for (std::size_t len = 1; len <= 4; ++len) {
    std::size_t count = 1;
    for (std::size_t k = 0; k < len; ++k) count *= a;
    Buf s(len);
    for (std::size_t idx = 0; idx < count; ++idx) {
      std::size_t x = idx;
      for (std::size_t k = 0; k < len; ++k) {
        s[k] = alphabet[x % a];
        x /= a;
      }
      const Outcome want = reference(s);
      bool ok = run_whole(s) == want;
      for (std::size_t at = 1; at < len && ok; ++at) ok = run_split(s, at) == want;
      ok = ok && run_chunks(s, 1) == want;
      if (!ok && mismatches++ < 5) {
        std::string hex;
        for (auto b : s) hex += std::to_string(b) + " ";
        FAIL_CHECK("mismatch on bytes " << hex << "want " << show(want) << " got "
                                        << show(run_whole(s)));
      }
      ++checked;
    }
  }
  CHECK(mismatches == 0);
  CHECK(checked == 27 + 27 * 27 + 27 * 27 * 27 + 27 * 27 * 27 * 27);
}

TEST_CASE("utf8: all 2-byte strings match the reference", "[ws][utf8]") {
  std::size_t mismatches = 0;
  Buf s(2);
  for (unsigned x = 0; x < 0x10000; ++x) {
    s[0] = static_cast<std::uint8_t>(x >> 8);
    s[1] = static_cast<std::uint8_t>(x);
    if (!(run_whole(s) == reference(s)) || !(run_split(s, 1) == reference(s))) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("utf8: random texts with injected errors, every chunk size", "[ws][utf8]") {
  std::mt19937 rng(6455);  // fixed seed: deterministic
  const std::vector<std::uint32_t> cps = {0x24,   0x41,   0xA2,   0x7FF,   0x800,   0x20AC,
                                          0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x10348, 0x10FFFF};
  const std::vector<Buf> junk = {{0xC0},       {0x80}, {0xED, 0xA0}, {0xF4, 0x90},
                                 {0xE0, 0x9F}, {0xFF}, {0xF0},       {0xE2, 0x82}};
  for (int iter = 0; iter < 300; ++iter) {
    Buf s;
    const int pieces = static_cast<int>(rng() % 40);
    for (int k = 0; k < pieces; ++k) {
      const auto r = rng() % 10;
      if (r < 4) {
        const auto run = ascii(std::string(rng() % 20, 'a'));
        s.insert(s.end(), run.begin(), run.end());
      } else {
        const Buf e = encode(cps[rng() % cps.size()]);
        s.insert(s.end(), e.begin(), e.end());
      }
    }
    if (iter % 2 == 1 && !s.empty()) {
      const Buf& j = junk[rng() % junk.size()];
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(rng() % (s.size() + 1)), j.begin(), j.end());
    }
    const Outcome want = reference(s);
    if (iter % 2 == 0) REQUIRE(want == Outcome{Result::ok, 0});
    check_invariant(s, want);
  }
}
