// wsdiag — bounds-checked reader over untrusted bytes.
//
// Every read of packet data goes through this class. Integers are assembled from bytes with
// shifts (no reinterpret_cast, no packed structs). Failure is sticky: after one read runs past
// the end, every later read fails too and returns zero, so a parser checks ok() once per header.
// Bounds are compared as `n <= size - pos` (never `p + n <= end`, see tcpdump's netdissect.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace wsdiag {

using Bytes = std::span<const std::uint8_t>;

class ByteReader {
 public:
  explicit ByteReader(Bytes data) noexcept : data_(data) {}

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }
  [[nodiscard]] bool can_read(std::size_t n) const noexcept { return ok_ && n <= remaining(); }

  std::uint8_t u8() noexcept {
    if (!take(1)) return 0;
    return data_[pos_ - 1];
  }
  std::uint16_t u16be() noexcept {
    if (!take(2)) return 0;
    const auto* p = data_.data() + pos_ - 2;
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
  }
  std::uint16_t u16le() noexcept {
    if (!take(2)) return 0;
    const auto* p = data_.data() + pos_ - 2;
    return static_cast<std::uint16_t>((p[1] << 8) | p[0]);
  }
  std::uint32_t u32be() noexcept {
    if (!take(4)) return 0;
    const auto* p = data_.data() + pos_ - 4;
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
  }
  std::uint32_t u32le() noexcept {
    if (!take(4)) return 0;
    const auto* p = data_.data() + pos_ - 4;
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
           std::uint32_t{p[0]};
  }
  std::uint64_t u64be() noexcept {
    const std::uint64_t hi = u32be();
    const std::uint64_t lo = u32be();
    return (hi << 32) | lo;
  }
  /// A view of the next n bytes (empty and failed if fewer remain). No copy.
  Bytes bytes(std::size_t n) noexcept {
    if (!take(n)) return {};
    return data_.subspan(pos_ - n, n);
  }
  void skip(std::size_t n) noexcept { (void)take(n); }
  /// Everything not yet read, without consuming it.
  [[nodiscard]] Bytes rest() const noexcept { return ok_ ? data_.subspan(pos_) : Bytes{}; }
  /// Marks the reader failed (e.g. a field value is invalid).
  void fail() noexcept {
    ok_ = false;
    pos_ = data_.size();
  }

 private:
  bool take(std::size_t n) noexcept {
    if (!ok_ || n > remaining()) {
      fail();
      return false;
    }
    pos_ += n;
    return true;
  }

  Bytes data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace wsdiag
