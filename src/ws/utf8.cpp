// wsdiag — incremental UTF-8 validation, RFC 3629 §4 (see the table in wsdiag/ws/utf8.h).
//
// Two paths share the work of feed():
//   * a byte-at-a-time path (portable, exact): finishes a sequence split across chunks, handles
//     short chunks and the last 1..3 bytes of a chunk that end inside a sequence, and, whenever the
//     block checker rejects a run, re-reads that run to find the exact offset of the first bad byte;
//   * a block checker (x86 only, SSE4.1 or AVX2, picked once at run time with
//     __builtin_cpu_supports): answers "is this run, which starts at a sequence boundary, complete
//     and valid UTF-8?" 64 bytes at a time, without offsets.
// The block checker classifies every byte by the pair (previous byte, this byte) with three 16-entry
// nibble tables (previous byte's high nibble, its low nibble, this byte's high nibble): each bit of
// the AND of the three lookups is one kind of bad pair (Keiser & Lemire, "Validating UTF-8 in less
// than one instruction per byte", 2021). Third and fourth bytes are checked by requiring a
// continuation byte where the byte two (three) back is a 3-byte (4-byte) lead; a run must not end
// inside a sequence.
#include "wsdiag/ws/utf8.h"

#include <array>
#include <atomic>
#include <cstring>

// WSDIAG_UTF8_NO_SIMD builds the portable path only, as on other architectures.
#if (defined(__x86_64__) || defined(__i386__)) && !defined(WSDIAG_UTF8_NO_SIMD)
#define WSDIAG_UTF8_X86 1
#include <immintrin.h>
#endif

namespace wsdiag::ws {

using detail::Utf8Kernel;

namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ull;

/// What a lead byte asks for: continuation count and the allowed range of the first continuation
/// byte (the narrowed ranges reject overlongs, surrogates and code points above U+10FFFF).
struct Lead {
  std::uint8_t need;  // 0xFF = never valid as a lead byte
  std::uint8_t lo;
  std::uint8_t hi;
};

constexpr Lead lead_info_slow(std::uint8_t b) noexcept {
  if (b >= 0xC2 && b <= 0xDF) return {1, 0x80, 0xBF};
  if (b == 0xE0) return {2, 0xA0, 0xBF};
  if (b == 0xED) return {2, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {2, 0x80, 0xBF};
  if (b == 0xF0) return {3, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {3, 0x80, 0xBF};
  if (b == 0xF4) return {3, 0x80, 0x8F};
  return {0xFF, 0, 0};  // 80..BF (lone continuation), C0, C1, F5..FF
}

// One table lookup per lead byte instead of a chain of comparisons.
struct LeadTable {
  Lead v[256];
  constexpr LeadTable() : v{} {
    for (int b = 0; b < 256; ++b) v[b] = lead_info_slow(static_cast<std::uint8_t>(b));
  }
};
constexpr LeadTable kLeads{};

constexpr const Lead& lead_info(std::uint8_t b) noexcept { return kLeads.v[b]; }

// Runs shorter than this go to the byte-at-a-time path (its ASCII loop takes 8 bytes at a time);
// the block checkers read the last bytes of a run as one 16-byte vector ending at the run's end.
constexpr std::size_t kMinBlockRun = 16;

/// End of the longest prefix of p[i, n) that does not stop inside a multi-byte sequence: the
/// chunk's last 1..3 bytes are cut off when they are the start of a sequence the chunk does not
/// complete. Only a guess from the lead byte; the checkers verify everything before the cut.
std::size_t complete_prefix_end(const std::uint8_t* p, std::size_t i, std::size_t n) noexcept {
  for (std::size_t k = 1; k <= 3 && k <= n - i; ++k) {
    const std::uint8_t b = p[n - k];
    if (b < 0x80) break;
    if (b >= 0xC0) {
      const std::size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
      return len > k ? n - k : n;
    }
  }
  return n;
}

#ifdef WSDIAG_UTF8_X86

// ---- nibble tables of the block checker ----
//
// A bad pair (previous byte p, byte c) is one of these classes. Each class is a product of three
// nibble sets (p >> 4, p & 15, c >> 4), so one bit per class in each table catches it exactly.
enum PairError : std::uint8_t {
  kTooShort = 1u << 0,    // lead C0..FF, then not a continuation
  kTooLong = 1u << 1,     // ASCII, then a continuation
  kOverlong3 = 1u << 2,   // E0 80..9F
  kTooLarge = 1u << 3,    // F4..FF 90..BF
  kSurrogate = 1u << 4,   // ED A0..BF
  kOverlong2 = 1u << 5,   // C0..C1 80..BF
  kFourByte80 = 1u << 6,  // F0 80..8F (overlong) and F5..FF 80..8F (too large): same high nibbles
  kTwoConts = 1u << 7,    // continuation, then continuation: fine only as a 3rd or 4th byte
};

constexpr std::uint16_t nibbles(unsigned from, unsigned to) noexcept {
  std::uint16_t m = 0;
  for (unsigned v = from; v <= to; ++v) m = static_cast<std::uint16_t>(m | (1u << v));
  return m;
}

struct PairClass {
  std::uint8_t bit;
  std::uint16_t prev_high;  // sets of nibble values
  std::uint16_t prev_low;
  std::uint16_t cur_high;
};

constexpr std::uint16_t kAnyNibble = 0xFFFF;
constexpr std::uint16_t kContNibbles = nibbles(0x8, 0xB);
constexpr std::uint16_t kNotContNibbles = static_cast<std::uint16_t>(~kContNibbles);

constexpr std::array<PairClass, 9> kPairClasses = {{
    {kTooShort, nibbles(0xC, 0xF), kAnyNibble, kNotContNibbles},
    {kTooLong, nibbles(0x0, 0x7), kAnyNibble, kContNibbles},
    {kOverlong3, nibbles(0xE, 0xE), nibbles(0x0, 0x0), nibbles(0x8, 0x9)},
    {kTooLarge, nibbles(0xF, 0xF), nibbles(0x4, 0xF), nibbles(0x9, 0xB)},
    {kSurrogate, nibbles(0xE, 0xE), nibbles(0xD, 0xD), nibbles(0xA, 0xB)},
    {kOverlong2, nibbles(0xC, 0xC), nibbles(0x0, 0x1), kContNibbles},
    {kFourByte80, nibbles(0xF, 0xF), nibbles(0x0, 0x0), nibbles(0x8, 0x8)},
    {kFourByte80, nibbles(0xF, 0xF), nibbles(0x5, 0xF), nibbles(0x8, 0x8)},
    {kTwoConts, kContNibbles, kAnyNibble, kContNibbles},
}};

struct NibbleTables {
  alignas(16) std::array<std::uint8_t, 16> prev_high{};
  alignas(16) std::array<std::uint8_t, 16> prev_low{};
  alignas(16) std::array<std::uint8_t, 16> cur_high{};
};

constexpr NibbleTables make_nibble_tables() noexcept {
  NibbleTables t;
  for (const PairClass& c : kPairClasses) {
    for (unsigned v = 0; v < 16; ++v) {
      if ((c.prev_high >> v) & 1u) t.prev_high[v] = static_cast<std::uint8_t>(t.prev_high[v] | c.bit);
      if ((c.prev_low >> v) & 1u) t.prev_low[v] = static_cast<std::uint8_t>(t.prev_low[v] | c.bit);
      if ((c.cur_high >> v) & 1u) t.cur_high[v] = static_cast<std::uint8_t>(t.cur_high[v] | c.bit);
    }
  }
  return t;
}

constexpr NibbleTables kNibble = make_nibble_tables();

// The two classes that share a bit must not make a third pair bad: F0..FF x {0,5..F} x 8 only.
static_assert((kNibble.prev_low[0x1] & kFourByte80) == 0 && (kNibble.prev_low[0x4] & kFourByte80) == 0);
static_assert(kNibble.prev_high[0xE] == (kTooShort | kOverlong3 | kSurrogate));

// Last-vector bytes above these mean the vector ends inside a sequence: a lead C0+ in the last
// byte, E0+ in the one before, F0+ three from the end.
constexpr std::uint8_t kTailMax[3] = {0xEF, 0xDF, 0xBF};

// pshufb masks that move the last m bytes of a 16-byte vector to its front and zero the rest (an
// index with the high bit set yields 0): the mask for m starts at kShiftDown + 16 - m.
struct ShiftDown {
  std::array<std::uint8_t, 32> v{};
  constexpr ShiftDown() {
    for (unsigned k = 0; k < 32; ++k) v[k] = static_cast<std::uint8_t>(k < 16 ? k : 0x80);
  }
};
constexpr ShiftDown kShiftDown{};

// The intrinsics take vector pointers; loads are unaligned (loadu), so any byte address is fine.
template <class V>
const V* as_vec(const std::uint8_t* p) noexcept {
  return reinterpret_cast<const V*>(p);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

constexpr char as_char(unsigned v) noexcept { return static_cast<char>(static_cast<signed char>(v)); }

// ---- SSE4.1 (SSSE3 pshufb/palignr + ptest): 4 x 16 bytes per block ----

#define WSDIAG_SSE41 __attribute__((target("sse4.1")))

struct SseState {
  __m128i prev;        // previous vector (its last 3 bytes precede the next vector)
  __m128i incomplete;  // non-zero: the previous vector ended inside a sequence
  __m128i error;
};

struct SseConsts {
  __m128i prev_high, prev_low, cur_high, low4, third_base, fourth_base, high_bit, tail_max;
};

WSDIAG_SSE41 SseConsts sse_consts() noexcept {
  SseConsts c;
  c.prev_high = _mm_loadu_si128(as_vec<__m128i>(kNibble.prev_high.data()));
  c.prev_low = _mm_loadu_si128(as_vec<__m128i>(kNibble.prev_low.data()));
  c.cur_high = _mm_loadu_si128(as_vec<__m128i>(kNibble.cur_high.data()));
  c.low4 = _mm_set1_epi8(0x0F);
  c.third_base = _mm_set1_epi8(as_char(0xE0 - 0x80));   // p - base >= 0x80 iff p >= E0
  c.fourth_base = _mm_set1_epi8(as_char(0xF0 - 0x80));  // ... iff p >= F0
  c.high_bit = _mm_set1_epi8(as_char(0x80));
  c.tail_max = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, as_char(kTailMax[0]),
                             as_char(kTailMax[1]), as_char(kTailMax[2]));
  return c;
}

/// Error bits of the 16 bytes of `cur`, given the vector before it.
WSDIAG_SSE41 inline __m128i sse_check(const SseConsts& c, __m128i cur, __m128i prev) noexcept {
  const __m128i p1 = _mm_alignr_epi8(cur, prev, 15);
  const __m128i p2 = _mm_alignr_epi8(cur, prev, 14);
  const __m128i p3 = _mm_alignr_epi8(cur, prev, 13);
  const __m128i p1_high = _mm_and_si128(_mm_srli_epi16(p1, 4), c.low4);
  const __m128i p1_low = _mm_and_si128(p1, c.low4);
  const __m128i cur_high = _mm_and_si128(_mm_srli_epi16(cur, 4), c.low4);
  __m128i bits = _mm_and_si128(_mm_shuffle_epi8(c.prev_high, p1_high),
                               _mm_shuffle_epi8(c.prev_low, p1_low));
  bits = _mm_and_si128(bits, _mm_shuffle_epi8(c.cur_high, cur_high));
  const __m128i must_cont = _mm_and_si128(
      _mm_or_si128(_mm_subs_epu8(p2, c.third_base), _mm_subs_epu8(p3, c.fourth_base)), c.high_bit);
  // Where a 3rd/4th byte is due, kTwoConts is expected: the XOR clears it there, and flags a
  // missing continuation (must_cont without kTwoConts) everywhere else.
  return _mm_xor_si128(bits, must_cont);
}

WSDIAG_SSE41 inline void sse_block(const SseConsts& c, SseState& s, const std::uint8_t* b) noexcept {
  const __m128i v0 = _mm_loadu_si128(as_vec<__m128i>(b));
  const __m128i v1 = _mm_loadu_si128(as_vec<__m128i>(b + 16));
  const __m128i v2 = _mm_loadu_si128(as_vec<__m128i>(b + 32));
  const __m128i v3 = _mm_loadu_si128(as_vec<__m128i>(b + 48));
  const __m128i any = _mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3));
  if (_mm_movemask_epi8(any) == 0) {  // all ASCII: fine unless a sequence was left open
    s.error = _mm_or_si128(s.error, s.incomplete);
    s.incomplete = _mm_setzero_si128();
  } else {
    const __m128i e = _mm_or_si128(_mm_or_si128(sse_check(c, v0, s.prev), sse_check(c, v1, v0)),
                                   _mm_or_si128(sse_check(c, v2, v1), sse_check(c, v3, v2)));
    s.error = _mm_or_si128(s.error, e);
    s.incomplete = _mm_subs_epu8(v3, c.tail_max);
  }
  s.prev = v3;
}

/// Error vector for p[j, n), fewer than 64 bytes, 16 at a time; `prev` holds the 16 bytes before
/// p + j (zeros at the start of a run), `incomplete` says whether they ended inside a sequence.
/// The last 1..15 bytes are read as the 16 bytes ending at p + n (so n >= 16 is required) and
/// moved to the front of the vector, zero-filled: zeros are ASCII, so a sequence left open there is
/// caught like any other cut sequence, and no byte outside [p, p + n) is read.
WSDIAG_SSE41 inline __m128i sse_tail(const SseConsts& c, __m128i prev, __m128i incomplete,
                                     const std::uint8_t* p, std::size_t j, std::size_t n) noexcept {
  __m128i error = _mm_setzero_si128();
  while (j < n) {
    __m128i v;
    if (n - j >= 16) {
      v = _mm_loadu_si128(as_vec<__m128i>(p + j));
      j += 16;
    } else {
      const __m128i shift = _mm_loadu_si128(as_vec<__m128i>(kShiftDown.v.data() + 16 - (n - j)));
      v = _mm_shuffle_epi8(_mm_loadu_si128(as_vec<__m128i>(p + n - 16)), shift);
      j = n;
    }
    if (_mm_movemask_epi8(v) == 0) {
      error = _mm_or_si128(error, incomplete);
      incomplete = _mm_setzero_si128();
    } else {
      error = _mm_or_si128(error, sse_check(c, v, prev));
      incomplete = _mm_subs_epu8(v, c.tail_max);
    }
    prev = v;
  }
  return _mm_or_si128(error, incomplete);
}

/// A run shorter than 16 bytes (only through the test hook: feed() sends none) is checked from a
/// zero-padded copy.
WSDIAG_SSE41 bool valid_short_sse41(const SseConsts& c, const std::uint8_t* p, std::size_t n) noexcept {
  alignas(16) std::uint8_t buf[16] = {};
  if (n != 0) std::memcpy(buf, p, n);
  const __m128i e = sse_tail(c, _mm_setzero_si128(), _mm_setzero_si128(), buf, 0, sizeof buf);
  return _mm_testz_si128(e, e) != 0;
}

/// True iff p[0, n) is complete, valid UTF-8.
WSDIAG_SSE41 bool valid_sse41(const std::uint8_t* p, std::size_t n) noexcept {
  const SseConsts c = sse_consts();
  if (n < 16) return valid_short_sse41(c, p, n);
  SseState s{_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
  std::size_t i = 0;
  for (; n - i >= 64; i += 64) {
    sse_block(c, s, p + i);
    if (_mm_testz_si128(s.error, s.error) == 0) return false;
  }
  const __m128i e = sse_tail(c, s.prev, s.incomplete, p, i, n);
  return _mm_testz_si128(e, e) != 0;
}

// ---- AVX2: 2 x 32 bytes per block ----

#define WSDIAG_AVX2 __attribute__((target("avx2")))

struct AvxState {
  __m256i prev;
  __m256i incomplete;
  __m256i error;
};

struct AvxConsts {
  __m256i prev_high, prev_low, cur_high, low4, third_base, fourth_base, high_bit, tail_max;
};

WSDIAG_AVX2 AvxConsts avx_consts() noexcept {
  AvxConsts c;
  c.prev_high = _mm256_broadcastsi128_si256(_mm_loadu_si128(as_vec<__m128i>(kNibble.prev_high.data())));
  c.prev_low = _mm256_broadcastsi128_si256(_mm_loadu_si128(as_vec<__m128i>(kNibble.prev_low.data())));
  c.cur_high = _mm256_broadcastsi128_si256(_mm_loadu_si128(as_vec<__m128i>(kNibble.cur_high.data())));
  c.low4 = _mm256_set1_epi8(0x0F);
  c.third_base = _mm256_set1_epi8(as_char(0xE0 - 0x80));
  c.fourth_base = _mm256_set1_epi8(as_char(0xF0 - 0x80));
  c.high_bit = _mm256_set1_epi8(as_char(0x80));
  c.tail_max = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                as_char(kTailMax[0]), as_char(kTailMax[1]), as_char(kTailMax[2]));
  return c;
}

WSDIAG_AVX2 inline __m256i avx_check(const AvxConsts& c, __m256i cur, __m256i prev) noexcept {
  // prev's upper half next to cur's lower half, so that palignr (per 128-bit lane) can shift
  // bytes across the lane boundary.
  const __m256i joint = _mm256_permute2x128_si256(prev, cur, 0x21);
  const __m256i p1 = _mm256_alignr_epi8(cur, joint, 15);
  const __m256i p2 = _mm256_alignr_epi8(cur, joint, 14);
  const __m256i p3 = _mm256_alignr_epi8(cur, joint, 13);
  const __m256i p1_high = _mm256_and_si256(_mm256_srli_epi16(p1, 4), c.low4);
  const __m256i p1_low = _mm256_and_si256(p1, c.low4);
  const __m256i cur_high = _mm256_and_si256(_mm256_srli_epi16(cur, 4), c.low4);
  __m256i bits = _mm256_and_si256(_mm256_shuffle_epi8(c.prev_high, p1_high),
                                  _mm256_shuffle_epi8(c.prev_low, p1_low));
  bits = _mm256_and_si256(bits, _mm256_shuffle_epi8(c.cur_high, cur_high));
  const __m256i must_cont = _mm256_and_si256(
      _mm256_or_si256(_mm256_subs_epu8(p2, c.third_base), _mm256_subs_epu8(p3, c.fourth_base)),
      c.high_bit);
  return _mm256_xor_si256(bits, must_cont);
}

WSDIAG_AVX2 inline void avx_block(const AvxConsts& c, AvxState& s, const std::uint8_t* b) noexcept {
  const __m256i v0 = _mm256_loadu_si256(as_vec<__m256i>(b));
  const __m256i v1 = _mm256_loadu_si256(as_vec<__m256i>(b + 32));
  if (_mm256_movemask_epi8(_mm256_or_si256(v0, v1)) == 0) {
    s.error = _mm256_or_si256(s.error, s.incomplete);
    s.incomplete = _mm256_setzero_si256();
  } else {
    s.error = _mm256_or_si256(s.error,
                              _mm256_or_si256(avx_check(c, v0, s.prev), avx_check(c, v1, v0)));
    s.incomplete = _mm256_subs_epu8(v1, c.tail_max);
  }
  s.prev = v1;
}

WSDIAG_AVX2 bool valid_avx2(const std::uint8_t* p, std::size_t n) noexcept {
  if (n < 16) return valid_short_sse41(sse_consts(), p, n);
  const AvxConsts c = avx_consts();
  AvxState s{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  std::size_t i = 0;
  for (; n - i >= 64; i += 64) {
    avx_block(c, s, p + i);
    if (_mm256_testz_si256(s.error, s.error) == 0) return false;
  }
  // The last 0..63 bytes, 16 at a time, after the upper half of the last vector.
  const __m128i e = sse_tail(sse_consts(), _mm256_extracti128_si256(s.prev, 1),
                             _mm256_extracti128_si256(s.incomplete, 1), p, i, n);
  return _mm_testz_si128(e, e) != 0;
}

#endif  // WSDIAG_UTF8_X86

bool cpu_has(Utf8Kernel k) noexcept {
  switch (k) {
    case Utf8Kernel::scalar:
      return true;
#ifdef WSDIAG_UTF8_X86
    case Utf8Kernel::sse41:
      __builtin_cpu_init();
      return __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1");
    case Utf8Kernel::avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2");
#else
    case Utf8Kernel::sse41:
    case Utf8Kernel::avx2:
      return false;
#endif
  }
  return false;
}

Utf8Kernel best_kernel() noexcept {
  if (cpu_has(Utf8Kernel::avx2)) return Utf8Kernel::avx2;
  if (cpu_has(Utf8Kernel::sse41)) return Utf8Kernel::sse41;
  return Utf8Kernel::scalar;
}

constexpr std::uint8_t kKernelUnset = 0xFF;
// Chosen on first use (constant-initialised, so it is valid even during static initialisation).
std::atomic<std::uint8_t> g_kernel{kKernelUnset};

Utf8Kernel current_kernel() noexcept {
  std::uint8_t k = g_kernel.load(std::memory_order_relaxed);
  if (k == kKernelUnset) {  // racing first calls all store the same answer
    k = static_cast<std::uint8_t>(best_kernel());
    g_kernel.store(k, std::memory_order_relaxed);
  }
  return static_cast<Utf8Kernel>(k);
}

/// Runs block checker `k` (which this CPU has) over p[0, n); scalar has none and answers false.
bool run_kernel(Utf8Kernel k, [[maybe_unused]] const std::uint8_t* p,
                [[maybe_unused]] std::size_t n) noexcept {
  switch (k) {
#ifdef WSDIAG_UTF8_X86
    case Utf8Kernel::avx2:
      return valid_avx2(p, n);
    case Utf8Kernel::sse41:
      return valid_sse41(p, n);
#endif
    default:
      return false;
  }
}

}  // namespace

bool Utf8Validator::fail_at(std::uint64_t offset) noexcept {
  failed_ = true;
  error_offset_ = offset;
  consumed_ = offset;
  return false;
}

bool Utf8Validator::feed(Bytes chunk) noexcept {
  if (failed_) return false;
  const std::uint8_t* p = chunk.data();
  const std::size_t n = chunk.size();
  std::size_t i = 0;
  // A sequence begun in an earlier chunk is finished here: block checks start at a boundary.
  while (need_ != 0) {
    if (i == n) {
      consumed_ += n;
      return true;
    }
    const std::uint8_t b = p[i];
    if (b < lo_ || b > hi_) return fail_at(consumed_ + i);
    lo_ = 0x80;
    hi_ = 0xBF;
    --need_;
    ++i;
  }
  if (n - i >= kMinBlockRun) {
    const Utf8Kernel k = current_kernel();
    if (k != Utf8Kernel::scalar) {
      // A run the checker rejects is re-read byte by byte from its start (a known sequence
      // boundary) to find the exact offset; failure is sticky, so this happens once per stream.
      const std::size_t end = complete_prefix_end(p, i, n);
      if (run_kernel(k, p + i, end - i)) i = end;
    }
  }
  return feed_scalar(p, i, n);
}

bool Utf8Validator::feed_scalar(const std::uint8_t* p, std::size_t i, std::size_t n) noexcept {
  while (i < n) {
    if (need_ == 0) {
      // ASCII fast path: 32, then 8 bytes at a time while no byte has its high bit set.
      while (n - i >= 32) {
        std::uint64_t w[4];
        std::memcpy(w, p + i, sizeof w);
        if (((w[0] | w[1] | w[2] | w[3]) & kHighBits) != 0) break;
        i += 32;
      }
      while (n - i >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, sizeof w);
        if ((w & kHighBits) != 0) break;
        i += 8;
      }
      while (i < n && p[i] < 0x80) ++i;
      if (i == n) break;
      const Lead l = lead_info(p[i]);
      if (l.need == 0xFF) return fail_at(consumed_ + i);
      if (n - i > l.need) {
        // The whole sequence is in this chunk: check it in one go (RFC 3629 §4 ranges: the
        // first continuation byte in [lo, hi], the others in 80..BF).
        const std::uint8_t c1 = p[i + 1];
        if (c1 < l.lo || c1 > l.hi) return fail_at(consumed_ + i + 1);
        if (l.need >= 2 && (p[i + 2] & 0xC0) != 0x80) return fail_at(consumed_ + i + 2);
        if (l.need == 3 && (p[i + 3] & 0xC0) != 0x80) return fail_at(consumed_ + i + 3);
        i += 1u + l.need;
        continue;
      }
      seq_start_ = consumed_ + i;
      need_ = l.need;
      lo_ = l.lo;
      hi_ = l.hi;
      ++i;
    } else {
      const std::uint8_t b = p[i];
      if (b < lo_ || b > hi_) return fail_at(consumed_ + i);
      lo_ = 0x80;
      hi_ = 0xBF;
      --need_;
      ++i;
    }
  }
  consumed_ += n;
  return true;
}

bool is_valid_utf8(Bytes text) noexcept {
  Utf8Validator v;
  v.feed(text);
  return v.finish();
}

namespace detail {

bool utf8_kernel_supported(Utf8Kernel k) noexcept { return cpu_has(k); }

Utf8Kernel utf8_kernel() noexcept { return current_kernel(); }

bool set_utf8_kernel(Utf8Kernel k) noexcept {
  if (!cpu_has(k)) return false;
  g_kernel.store(static_cast<std::uint8_t>(k), std::memory_order_relaxed);
  return true;
}

bool utf8_kernel_valid(Utf8Kernel k, Bytes text) noexcept {
  if (k != Utf8Kernel::scalar && cpu_has(k)) return run_kernel(k, text.data(), text.size());
  Utf8Validator v;
  v.feed_scalar(text.data(), 0, text.size());
  return v.finish();
}

}  // namespace detail

}  // namespace wsdiag::ws
