// wsdiag — incremental UTF-8 validator: RFC 3629 §4 (syntax of UTF-8 byte sequences), as required
// for text messages and close reasons by RFC 6455 §5.6 and §8.1 (failure = close code 1007).
//
// Well-formed sequences (RFC 3629 §4; Unicode Table 3-7):
//
//   U+0000..U+007F     00..7F
//   U+0080..U+07FF     C2..DF  80..BF
//   U+0800..U+0FFF     E0      A0..BF  80..BF
//   U+1000..U+CFFF     E1..EC  80..BF  80..BF
//   U+D000..U+D7FF     ED      80..9F  80..BF         (D800..DFFF are surrogates: rejected)
//   U+E000..U+FFFF     EE..EF  80..BF  80..BF
//   U+10000..U+3FFFF   F0      90..BF  80..BF  80..BF
//   U+40000..U+FFFFF   F1..F3  80..BF  80..BF  80..BF
//   U+100000..U+10FFFF F4      80..8F  80..BF  80..BF
//
// C0, C1 and F5..FF never appear. The validator fails "fast": the error offset is the first byte at
// which the stream can no longer be the prefix of a valid UTF-8 text (for E0 80 that is the 80, for
// C0 it is the C0), which is where RFC 6455 §8.1 says an endpoint should fail the connection.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wsdiag/common/byte_reader.h"

namespace wsdiag::ws {

namespace detail {
enum class Utf8Kernel : std::uint8_t;
[[nodiscard]] bool utf8_kernel_valid(Utf8Kernel k, Bytes text) noexcept;
}  // namespace detail

/// Validates a UTF-8 stream delivered in chunks of any size (split anywhere, even inside a
/// sequence). Carries 3 bytes of state; no allocation. The bulk of a chunk is checked 64 bytes at
/// a time with SSE4.1 or AVX2 when the CPU has them (chosen once at run time); a byte-at-a-time
/// path finishes a sequence split across chunks and pins down the exact offset of an error.
class Utf8Validator {
 public:
  enum class Result : std::uint8_t { ok, incomplete, invalid };

  /// Validates the next chunk. Returns false at the first invalid byte (and for every later call);
  /// its offset in the whole stream is kept in error_offset().
  bool feed(Bytes chunk) noexcept;
  /// True when the stream so far is valid and does not end inside a multi-byte sequence. Call it at
  /// the end of a message: false then means "truncated sequence" (or an earlier failure).
  [[nodiscard]] bool finish() const noexcept { return !failed_ && need_ == 0; }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  [[nodiscard]] Result result() const noexcept {
    if (failed_) return Result::invalid;
    return need_ == 0 ? Result::ok : Result::incomplete;
  }
  /// Offset, in the whole validated stream, of the first invalid byte (meaningful when failed()).
  [[nodiscard]] std::uint64_t error_offset() const noexcept { return error_offset_; }
  /// Offset of the lead byte of the unfinished sequence (meaningful when result() == incomplete).
  [[nodiscard]] std::uint64_t pending_offset() const noexcept { return seq_start_; }
  /// Bytes accepted so far (up to, not including, the first invalid byte).
  [[nodiscard]] std::uint64_t bytes_validated() const noexcept { return consumed_; }
  void reset() noexcept { *this = Utf8Validator{}; }

 private:
  friend bool detail::utf8_kernel_valid(detail::Utf8Kernel k, Bytes text) noexcept;
  bool fail_at(std::uint64_t offset) noexcept;
  bool feed_scalar(const std::uint8_t* p, std::size_t i, std::size_t n) noexcept;

  std::uint64_t consumed_ = 0;
  std::uint64_t error_offset_ = 0;
  std::uint64_t seq_start_ = 0;
  std::uint8_t need_ = 0;   // continuation bytes still expected in the current sequence
  std::uint8_t lo_ = 0x80;  // allowed range of the next continuation byte
  std::uint8_t hi_ = 0xBF;
  bool failed_ = false;
};

/// One-shot check of a complete text (e.g. a Close reason).
[[nodiscard]] bool is_valid_utf8(Bytes text) noexcept;

namespace detail {

/// The block checkers Utf8Validator can use. `scalar` means "no block checker": every byte goes
/// through the byte-at-a-time path.
enum class Utf8Kernel : std::uint8_t { scalar, sse41, avx2 };

/// Whether this build and this CPU can run `k` (scalar always can).
[[nodiscard]] bool utf8_kernel_supported(Utf8Kernel k) noexcept;
/// The kernel every validator in the process uses now (the best supported one by default).
[[nodiscard]] Utf8Kernel utf8_kernel() noexcept;
/// Test hook: makes every validator use `k`. Returns false (and changes nothing) if unsupported.
/// Not for use while other threads validate.
bool set_utf8_kernel(Utf8Kernel k) noexcept;
/// Test hook: runs kernel `k` alone over `text`. True iff `text` is a complete, valid UTF-8 text
/// (the answer only, no offset). Scalar, or an unsupported `k`, uses the byte-at-a-time path.
[[nodiscard]] bool utf8_kernel_valid(Utf8Kernel k, Bytes text) noexcept;

}  // namespace detail

}  // namespace wsdiag::ws
