// Differential tests of the UTF-8 validator's block checkers (SSE4.1, AVX2) and of the hand-over
// between them and the byte-at-a-time path, against a reference written straight from RFC 3629 §4
// / Unicode Table 3-7. Every test runs once per kernel this machine supports (scalar always).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "wsdiag/ws/utf8.h"

using wsdiag::Bytes;
using wsdiag::ws::Utf8Validator;
using wsdiag::ws::detail::Utf8Kernel;
using Result = Utf8Validator::Result;
using Buf = std::vector<std::uint8_t>;

namespace {

// Everything the validator reports about a stream.
struct Report {
  Result result = Result::ok;
  std::uint64_t error_offset = 0;    // compared when invalid
  std::uint64_t pending_offset = 0;  // compared when incomplete
  std::uint64_t bytes_validated = 0;
  bool operator==(const Report& o) const {
    if (result != o.result || bytes_validated != o.bytes_validated) return false;
    if (result == Result::invalid) return error_offset == o.error_offset;
    if (result == Result::incomplete) return pending_offset == o.pending_offset;
    return true;
  }
};

std::string show(const Report& r) {
  std::ostringstream o;
  o << (r.result == Result::ok ? "ok" : r.result == Result::incomplete ? "incomplete" : "invalid")
    << " error@" << r.error_offset << " pending@" << r.pending_offset << " validated "
    << r.bytes_validated;
  return o.str();
}

std::string hex(const Buf& s) {
  std::ostringstream o;
  o << std::hex;
  for (auto b : s) o << static_cast<unsigned>(b) << ' ';
  return o.str();
}

// Reference: Unicode Table 3-7 read one byte at a time. The first byte after a lead has a range
// that depends on the lead; the others are 80..BF.
Report reference(const Buf& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::uint8_t b = s[i];
    if (b <= 0x7F) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      len = 3;
    } else if (b == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (b == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      len = 4;
    } else if (b == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return {Result::invalid, i, 0, i};  // 80..C1, F5..FF
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k == s.size()) return {Result::incomplete, 0, i, s.size()};
      const std::uint8_t c = s[i + k];
      const bool in_range = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
      if (!in_range) return {Result::invalid, i + k, 0, i + k};
    }
    i += len;
  }
  return {Result::ok, 0, 0, s.size()};
}

Report report_of(const Utf8Validator& v) {
  return {v.result(), v.error_offset(), v.pending_offset(), v.bytes_validated()};
}

// feed() must return false exactly from the piece that holds the first bad byte on. Each piece
// is fed from its own heap block of exactly its size, so that AddressSanitizer catches a read past
// the end of a chunk (or before its start).
struct Run {
  Utf8Validator v;
  bool feed_results_consistent = true;
  void feed(const Buf& s, std::size_t pos, std::size_t n) {
    const bool was_failed = v.failed();
    const std::unique_ptr<std::uint8_t[]> piece(n == 0 ? nullptr : new std::uint8_t[n]);
    if (n != 0) std::copy_n(s.begin() + static_cast<std::ptrdiff_t>(pos), n, piece.get());
    const bool ok = v.feed(Bytes(piece.get(), n));
    if (ok == v.failed() || (was_failed && ok)) feed_results_consistent = false;
  }
};

Report run_chunks(const Buf& s, std::size_t chunk) {
  Run r;
  for (std::size_t pos = 0; pos < s.size(); pos += chunk) r.feed(s, pos, std::min(chunk, s.size() - pos));
  Report rep = report_of(r.v);
  if (!r.feed_results_consistent) rep.bytes_validated = ~0ull;
  return rep;
}

Report run_cuts(const Buf& s, std::vector<std::size_t> cuts) {
  std::sort(cuts.begin(), cuts.end());
  Run r;
  std::size_t pos = 0;
  for (std::size_t c : cuts) {
    r.feed(s, pos, c - pos);
    pos = c;
  }
  r.feed(s, pos, s.size() - pos);
  Report rep = report_of(r.v);
  if (!r.feed_results_consistent) rep.bytes_validated = ~0ull;
  return rep;
}

Report run_whole(const Buf& s) { return run_chunks(s, s.empty() ? 1 : s.size()); }

Buf encode(std::uint32_t cp) {
  if (cp < 0x80) return {static_cast<std::uint8_t>(cp)};
  if (cp < 0x800)
    return {static_cast<std::uint8_t>(0xC0 | (cp >> 6)), static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
  if (cp < 0x10000)
    return {static_cast<std::uint8_t>(0xE0 | (cp >> 12)),
            static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
  return {static_cast<std::uint8_t>(0xF0 | (cp >> 18)),
          static_cast<std::uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
          static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
          static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
}

void append(Buf& out, const Buf& b) { out.insert(out.end(), b.begin(), b.end()); }

std::uint32_t pick(std::mt19937& rng, std::uint32_t lo, std::uint32_t hi) {
  return lo + static_cast<std::uint32_t>(rng() % (hi - lo + 1));
}

// A valid non-ASCII code point: boundary values often, otherwise any scalar of 2, 3 or 4 bytes.
std::uint32_t random_code_point(std::mt19937& rng) {
  static const std::uint32_t kEdges[] = {0x80,   0xE9,   0xFC,    0x7FF,   0x800,   0x416,
                                         0x4E2D, 0x20AC, 0xD7FF,  0xE000,  0xFFFD,  0xFFFF,
                                         0x10000, 0x1F600, 0x3FFFF, 0x40000, 0xFFFFF, 0x10FFFF};
  switch (rng() % 5) {
    case 0:
      return kEdges[rng() % std::size(kEdges)];
    case 1:
      return pick(rng, 0x80, 0x7FF);
    case 2:
      return rng() % 2 ? pick(rng, 0x800, 0xD7FF) : pick(rng, 0xE000, 0xFFFF);
    default:
      return pick(rng, 0x10000, 0x10FFFF);
  }
}

// Chat-like text: ASCII words, and with probability `p_nonascii` per word a word of 1..4
// non-ASCII characters.
Buf chat_text(std::mt19937& rng, std::size_t min_len, double p_nonascii) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Buf s;
  while (s.size() < min_len) {
    if (u(rng) < p_nonascii) {
      const auto n = 1 + rng() % 4;
      for (unsigned k = 0; k < n; ++k) append(s, encode(random_code_point(rng)));
    } else {
      const auto n = 1 + rng() % 9;
      for (unsigned k = 0; k < n; ++k) s.push_back(static_cast<std::uint8_t>('a' + rng() % 26));
    }
    s.push_back(rng() % 8 == 0 ? '\n' : ' ');
  }
  return s;
}

// Byte sequences that are wrong (or cut short) in each way Table 3-7 forbids.
Buf bad_sequence(std::mt19937& rng) {
  const auto cont = [&] { return static_cast<std::uint8_t>(pick(rng, 0x80, 0xBF)); };
  const auto u8 = [](std::uint32_t v) { return static_cast<std::uint8_t>(v); };
  switch (rng() % 12) {
    case 0:  // surrogate
      return {0xED, u8(pick(rng, 0xA0, 0xBF)), cont()};
    case 1:  // 2-byte overlong
      return {u8(pick(rng, 0xC0, 0xC1)), cont()};
    case 2:  // 3-byte overlong
      return {0xE0, u8(pick(rng, 0x80, 0x9F)), cont()};
    case 3:  // 4-byte overlong
      return {0xF0, u8(pick(rng, 0x80, 0x8F)), cont(), cont()};
    case 4:  // above U+10FFFF
      return {0xF4, u8(pick(rng, 0x90, 0xBF)), cont(), cont()};
    case 5:  // never a lead
      return {u8(pick(rng, 0xF5, 0xFF)), cont(), cont(), cont()};
    case 6:  // lone continuation
      return {cont()};
    case 7: {  // truncated sequence followed by whatever comes next
      Buf e = encode(random_code_point(rng));
      e.resize(1 + rng() % (e.size() - 1));
      return e;
    }
    case 8: {  // one continuation too many
      Buf e = encode(random_code_point(rng));
      e.push_back(cont());
      return e;
    }
    case 9: {  // a continuation replaced by ASCII or a lead
      Buf e = encode(pick(rng, 0x800, 0xD7FF));
      e[1 + rng() % 2] = rng() % 2 ? 'x' : 0xC3;
      return e;
    }
    case 10:
      return {u8(rng() % 256)};
    default:
      return {0xF4, 0x8F, 0xBF};  // valid prefix, then the text goes on with ASCII
  }
}

// Sets the kernel for the current scope, restoring the one before.
class KernelScope {
 public:
  explicit KernelScope(Utf8Kernel k) : before_(wsdiag::ws::detail::utf8_kernel()) {
    REQUIRE(wsdiag::ws::detail::set_utf8_kernel(k));
  }
  ~KernelScope() { wsdiag::ws::detail::set_utf8_kernel(before_); }
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;

 private:
  Utf8Kernel before_;
};

const char* name(Utf8Kernel k) {
  return k == Utf8Kernel::scalar ? "scalar" : k == Utf8Kernel::sse41 ? "sse4.1" : "avx2";
}

std::vector<Utf8Kernel> kernels() {
  std::vector<Utf8Kernel> out;
  for (Utf8Kernel k : {Utf8Kernel::scalar, Utf8Kernel::sse41, Utf8Kernel::avx2})
    if (wsdiag::ws::detail::utf8_kernel_supported(k)) out.push_back(k);
  return out;
}

// Counts disagreements with the reference; details of the first few go to the test log.
struct Mismatches {
  std::size_t count = 0;
  void check(const Report& got, const Report& want, const Buf& s, const std::string& how) {
    if (got == want) return;
    if (count++ < 5)
      FAIL_CHECK(how << ": got " << show(got) << ", want " << show(want) << "; " << s.size()
                     << " bytes: " << hex(s));
  }
};

}  // namespace

TEST_CASE("utf8 simd: the reference follows Table 3-7", "[ws][utf8]") {
  CHECK(reference(encode(0x10FFFF)) == Report{Result::ok, 0, 0, 4});
  CHECK(reference({0xE0, 0x9F, 0x80}) == Report{Result::invalid, 1, 0, 1});
  CHECK(reference({0x41, 0xED, 0xA0, 0x80}) == Report{Result::invalid, 2, 0, 2});
  CHECK(reference({0x41, 0xF0, 0x9F}) == Report{Result::incomplete, 0, 1, 3});
  CHECK(reference({0xC2}) == Report{Result::incomplete, 0, 0, 1});
  CHECK(reference({0xC1, 0x80}) == Report{Result::invalid, 0, 0, 0});
  CHECK(reference({0xF4, 0x90, 0x80, 0x80}) == Report{Result::invalid, 1, 0, 1});
  CHECK(reference({0xE1, 0x80, 0x41}) == Report{Result::invalid, 2, 0, 2});
  CHECK_FALSE(reference({0x80}) == reference({0x41}));
}

TEST_CASE("utf8 simd: kernel selection hook", "[ws][utf8]") {
  using namespace wsdiag::ws::detail;
  CHECK(utf8_kernel_supported(Utf8Kernel::scalar));
  // Every test restores the kernel it changed, so this is still the default: the best one.
  const Utf8Kernel before = utf8_kernel();
  CHECK(before == kernels().back());
  for (Utf8Kernel k : kernels()) {
    INFO(name(k));
    CHECK(set_utf8_kernel(k));
    CHECK(utf8_kernel() == k);
  }
  for (Utf8Kernel k : {Utf8Kernel::sse41, Utf8Kernel::avx2}) {
    if (utf8_kernel_supported(k)) continue;
    CHECK_FALSE(set_utf8_kernel(k));
  }
  CHECK(set_utf8_kernel(before));
  std::string names;
  for (Utf8Kernel k : kernels()) names += std::string(name(k)) + " ";
  WARN("UTF-8 kernels tested on this machine: " << names);
}

TEST_CASE("utf8 simd: kernels alone, every byte pair across each vector boundary", "[ws][utf8]") {
  for (Utf8Kernel k : kernels()) {
    INFO(name(k));
    std::size_t mismatches = 0;
    for (std::size_t at : {0u, 15u, 31u, 62u, 63u, 78u}) {
      for (std::size_t tail : {0u, 1u, 2u, 40u}) {
        Buf s(at + 2 + tail, 'a');
        for (unsigned x = 0; x < 0x10000; ++x) {
          s[at] = static_cast<std::uint8_t>(x >> 8);
          s[at + 1] = static_cast<std::uint8_t>(x);
          const bool want = reference(s).result == Result::ok;
          if (wsdiag::ws::detail::utf8_kernel_valid(k, Bytes(s.data(), s.size())) != want &&
              mismatches++ < 5)
            FAIL_CHECK("pair at " << at << ", tail " << tail << ": " << hex(s) << " want " << want);
        }
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("utf8 simd: kernels alone, all strings of up to 4 boundary bytes", "[ws][utf8]") {
  const std::vector<std::uint8_t> alphabet = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                              0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                              0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFF};
  const std::size_t a = alphabet.size();
  for (Utf8Kernel k : kernels()) {
    INFO(name(k));
    std::size_t mismatches = 0;
    std::size_t checked = 0;
    for (std::size_t len = 1; len <= 4; ++len) {
      std::size_t count = 1;
      for (std::size_t j = 0; j < len; ++j) count *= a;
      // Offsets put the string astride the 16-, 32- and 64-byte boundaries, and at the end.
      const std::vector<std::size_t> offsets =
          len < 4 ? std::vector<std::size_t>{0, 13, 14, 15, 29, 30, 31, 61, 62, 63, 64}
                  : std::vector<std::size_t>{0, 14, 30, 62};
      for (std::size_t at : offsets) {
        for (std::size_t tail : {std::size_t{0}, std::size_t{5}}) {
          Buf s(at + len + tail, ' ');
          for (std::size_t idx = 0; idx < count; ++idx) {
            std::size_t x = idx;
            for (std::size_t j = 0; j < len; ++j) {
              s[at + j] = alphabet[x % a];
              x /= a;
            }
            const bool want = reference(s).result == Result::ok;
            ++checked;
            if (wsdiag::ws::detail::utf8_kernel_valid(k, Bytes(s.data(), s.size())) != want &&
                mismatches++ < 5)
              FAIL_CHECK(hex(s) << " want " << want);
          }
        }
      }
    }
    CHECK(mismatches == 0);
    CHECK(checked > 4'000'000);
  }
}

TEST_CASE("utf8 simd: random chat text, every chunk size 1..70 and random splits", "[ws][utf8]") {
  for (Utf8Kernel k : kernels()) {
    KernelScope scope(k);
    INFO(name(k));
    std::mt19937 rng(3629);  // same inputs for every kernel
    Mismatches bad;
    std::size_t invalid = 0;
    std::size_t incomplete = 0;
    for (int iter = 0; iter < 1500; ++iter) {
      const double density = iter % 4 == 0 ? 0.0 : iter % 4 == 1 ? 0.03 : iter % 4 == 2 ? 0.3 : 1.0;
      Buf s = chat_text(rng, rng() % 300, density);
      const int mutation = iter % 5 == 0 ? 0 : static_cast<int>(rng() % 4);
      const auto at = [&](std::size_t extra) {
        return static_cast<std::ptrdiff_t>(rng() % (s.size() + extra));
      };
      if (mutation == 1 && !s.empty()) {
        s[static_cast<std::size_t>(at(0))] = static_cast<std::uint8_t>(rng() % 256);
      } else if (mutation == 2) {
        const Buf e = bad_sequence(rng);
        s.insert(s.begin() + at(1), e.begin(), e.end());
      } else if (mutation == 3 && !s.empty()) {
        s.resize(static_cast<std::size_t>(at(0)));  // may cut a sequence short
        if (rng() % 2 && !s.empty()) s.erase(s.begin() + at(0));
      }
      const Report want = reference(s);
      invalid += want.result == Result::invalid;
      incomplete += want.result == Result::incomplete;
      bad.check(run_whole(s), want, s, "whole");
      for (std::size_t c = 1; c <= 70; ++c) bad.check(run_chunks(s, c), want, s, "chunk " + std::to_string(c));
      for (int t = 0; t < 6; ++t) {
        std::vector<std::size_t> cuts(1 + rng() % 5);
        for (auto& c : cuts) c = rng() % (s.size() + 1);
        bad.check(run_cuts(s, cuts), want, s, "random cuts");
      }
    }
    CHECK(bad.count == 0);
    CHECK(invalid > 300);  // the generator does produce each outcome
    CHECK(incomplete > 30);
  }
}

TEST_CASE("utf8 simd: an error or a sequence at every position of a block", "[ws][utf8]") {
  std::vector<Buf> patterns = {
      {0xED, 0xA0, 0x80}, {0xC0, 0x80},       {0xC1, 0xBF},       {0xE0, 0x9F, 0xBF},
      {0xF0, 0x8F, 0xBF, 0xBF}, {0xF4, 0x90, 0x80, 0x80}, {0xF5}, {0xFF}, {0x80},
      {0xC3, 0x41},       {0xE2, 0x82, 0x41}, {0xF0, 0x9F, 0x98, 0x41}, {0xC3, 0xA9, 0x80},
      {0xE2, 0x82, 0xAC, 0xBF}, {0xF0, 0x9F, 0x98, 0x80, 0x80}, {0xF0, 0x9F, 0x98, 0xF0},
      // valid ones, so that carries across vector and block boundaries are seen to pass too
      encode(0x80), encode(0x7FF), encode(0x800), encode(0xD7FF), encode(0xE000), encode(0x10000),
      encode(0x10FFFF)};
  const std::size_t chunkings[] = {1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 70, 1400};
  for (Utf8Kernel k : kernels()) {
    KernelScope scope(k);
    INFO(name(k));
    std::mt19937 rng(6455);
    Mismatches bad;
    for (const Buf& pat : patterns) {
      for (std::size_t pos = 0; pos <= 200; ++pos) {
        // Valid text of exactly `pos` bytes (non-ASCII right before the pattern at times), the
        // pattern, then valid text to 0..100 bytes past it.
        Buf s = chat_text(rng, pos, 0.3);
        s.resize(pos);
        while (!s.empty() && reference(s).result != Result::ok) s.pop_back();  // cut mid-sequence
        s.resize(pos, 'z');
        append(s, pat);
        if (rng() % 4 != 0) {
          Buf tail = chat_text(rng, rng() % 100, 0.3);
          append(s, tail);
        }
        const Report want = reference(s);
        bad.check(run_whole(s), want, s, "whole");
        for (std::size_t c : chunkings) bad.check(run_chunks(s, c), want, s, "chunk " + std::to_string(c));
        bad.check(run_cuts(s, {pos}), want, s, "cut before the pattern");
        bad.check(run_cuts(s, {pos + 1}), want, s, "cut inside the pattern");
      }
    }
    CHECK(bad.count == 0);
  }
}

TEST_CASE("utf8 simd: long messages in segment-sized chunks", "[ws][utf8]") {
  for (Utf8Kernel k : kernels()) {
    KernelScope scope(k);
    INFO(name(k));
    std::mt19937 rng(1007);
    Mismatches bad;
    for (int iter = 0; iter < 60; ++iter) {
      Buf s = chat_text(rng, 1000 + rng() % 8000, iter % 3 == 0 ? 1.0 : 0.05);
      if (iter % 2 == 1) {
        const Buf e = bad_sequence(rng);
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(rng() % (s.size() + 1)), e.begin(), e.end());
      }
      const Report want = reference(s);
      if (iter % 2 == 0) REQUIRE(want.result == Result::ok);
      bad.check(run_whole(s), want, s, "whole");
      for (std::size_t c : {1400u, 1448u, 4096u, 65u, 7u})
        bad.check(run_chunks(s, c), want, s, "chunk " + std::to_string(c));
      std::vector<std::size_t> cuts(20);
      for (auto& c : cuts) c = rng() % (s.size() + 1);
      bad.check(run_cuts(s, cuts), want, s, "random cuts");
      CHECK(wsdiag::ws::is_valid_utf8(Bytes(s.data(), s.size())) == (want.result == Result::ok));
    }
    CHECK(bad.count == 0);
  }
}
