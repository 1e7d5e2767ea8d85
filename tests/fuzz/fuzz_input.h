// wsdiag fuzz targets — reading a fuzz input as a script.
//
// FuzzInput hands out integers and byte runs from the front of the input and never fails: past
// the end every integer is 0 and every run is empty, so each target reads its script without
// length checks of its own. Runs handed to code under test are copied into a heap buffer of their
// exact size (Owned), so an over-read by one byte is an AddressSanitizer report, not a silent read
// of the next script bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

namespace wsdiag::fuzz {

using ByteSpan = std::span<const std::uint8_t>;

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) noexcept : p_(data), n_(size) {}

  [[nodiscard]] bool empty() const noexcept { return n_ == 0; }
  [[nodiscard]] std::size_t remaining() const noexcept { return n_; }

  std::uint8_t u8() noexcept {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint16_t u16() noexcept {
    const std::uint16_t lo = u8();
    return static_cast<std::uint16_t>(lo | (u8() << 8));
  }
  std::uint32_t u32() noexcept {
    const std::uint32_t lo = u16();
    return lo | (std::uint32_t{u16()} << 16);
  }
  /// The next min(n, remaining) bytes.
  ByteSpan bytes(std::size_t n) noexcept {
    n = std::min(n, n_);
    ByteSpan out(p_, n);
    p_ += n;
    n_ -= n;
    return out;
  }
  /// Everything left.
  ByteSpan rest() noexcept { return bytes(n_); }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

/// An exact-size heap copy of a run (see above). Empty runs get a valid, zero-size allocation.
class Owned {
 public:
  explicit Owned(ByteSpan src) : size_(src.size()), buf_(new std::uint8_t[src.size() == 0 ? 1 : src.size()]) {
    if (size_ != 0) std::memcpy(buf_.get(), src.data(), size_);
  }
  [[nodiscard]] ByteSpan span() const noexcept { return {buf_.get(), size_}; }

 private:
  std::size_t size_;
  std::unique_ptr<std::uint8_t[]> buf_;
};

/// A small deterministic generator (splitmix64) for choices derived from a seed in the input.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : s_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform-ish in [0, n); 0 when n == 0.
  std::size_t below(std::size_t n) noexcept { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t s_;
};

/// True if WSDIAG_FUZZ_IGNORE (a comma list) names `what`: lets a campaign look past a known,
/// reported defect (e.g. "error-prefix") while it is being fixed. Never set in CTest.
inline bool ignoring(const char* what) {
  const char* env = std::getenv("WSDIAG_FUZZ_IGNORE");
  if (env == nullptr) return false;
  const std::size_t n = std::strlen(what);
  for (const char* p = env; (p = std::strstr(p, what)) != nullptr; p += n) {
    const bool start = p == env || p[-1] == ',';
    const bool end = p[n] == '\0' || p[n] == ',';
    if (start && end) return true;
  }
  return false;
}

/// Stops the run with a message: a differential or invariant check failed. libFuzzer records the
/// input as a crash; the replay runner reports the file.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "wsdiag fuzz check failed: %s\n", what);
  std::abort();
}

#define WSDIAG_FUZZ_CHECK(cond)                                                      \
  do {                                                                               \
    if (!(cond)) ::wsdiag::fuzz::fail(#cond " (" __FILE__ ":" WSDIAG_FUZZ_STR(__LINE__) ")"); \
  } while (0)
#define WSDIAG_FUZZ_STR2(x) #x
#define WSDIAG_FUZZ_STR(x) WSDIAG_FUZZ_STR2(x)

}  // namespace wsdiag::fuzz
