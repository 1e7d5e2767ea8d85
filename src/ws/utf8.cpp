// wsdiag — incremental UTF-8 validation, RFC 3629 §4 (see the table in wsdiag/ws/utf8.h).
#include "wsdiag/ws/utf8.h"

#include <cstring>

namespace wsdiag::ws {

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

}  // namespace wsdiag::ws
