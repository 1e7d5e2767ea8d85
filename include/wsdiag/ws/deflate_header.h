// wsdiag — validation of a DEFLATE block header (RFC 1951 §3.2.3, §3.2.7), incrementally.
//
// Design note. zlib refuses a dynamic-Huffman block whose code-length sets do not form a complete
// prefix code (over-subscribed or incomplete; the one exception RFC 1951 §3.2.7 allows is a single
// code of one bit, a set with one unused code), a header with more than 286 literal/length or 30
// distance codes, a repeat with nothing to repeat or past the end, and a literal/length set without
// an end-of-block code. ISA-L (src/ws/inflater.cpp's faster backend) builds its tables without the
// completeness check and so accepts blocks zlib refuses: a message's verdict would depend on the
// backend. The ISA-L backend therefore runs every block header through this checker first, by way
// of DeflateWalk (deflate_walk.h), which finds where each block ends. The header is read bit by bit
// (LSB first, as DEFLATE packs it) from bytes given in pieces: a header is at most 286 bytes long, and nothing is kept but the bits still unread of the last
// byte and the state of the parse (a few hundred bytes, no allocation).
#pragma once

#include <array>
#include <cstdint>

#include "wsdiag/common/byte_reader.h"

namespace wsdiag::ws {

class DeflateHeaderCheck {
 public:
  enum class Result : std::uint8_t {
    need_more,  ///< the header goes on past the bytes given so far
    ok,         ///< a stored or fixed-Huffman block, or a well-formed dynamic header
    invalid,    ///< a header zlib (and RFC 1951) refuses; why() says what
  };

  /// Starts a header whose first `nbits` bits (0..64) are the low bits of `bits`.
  void begin(std::uint64_t bits, int nbits) noexcept;
  /// Reads on into `more`; once ok or invalid, later calls change nothing.
  Result feed(Bytes more) noexcept;
  [[nodiscard]] Result result() const noexcept { return result_; }
  [[nodiscard]] const char* why() const noexcept { return why_; }

  // Once ok (for DeflateWalk, which goes on decoding the block):
  /// BFINAL and BTYPE (0 stored, 1 fixed Huffman, 2 dynamic Huffman).
  [[nodiscard]] bool final_block() const noexcept { return final_; }
  [[nodiscard]] std::uint32_t block_type() const noexcept { return type_; }
  /// Dynamic: the code lengths, literal/length codes (literal_codes() of them) then distance codes.
  [[nodiscard]] const std::uint8_t* lengths() const noexcept { return lengths_.data(); }
  [[nodiscard]] std::uint32_t literal_codes() const noexcept { return nlen_; }
  [[nodiscard]] std::uint32_t distance_codes() const noexcept { return ndist_; }
  /// Bytes of the last feed()'s piece taken into the header or the bit buffer.
  [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }
  /// The bits read ahead past the header (the low `nbits` bits of `bits`, up to 64).
  void leftover(std::uint64_t& bits, int& nbits) const noexcept {
    bits = bits_;
    nbits = nbits_;
  }

 private:
  /// Moves bytes of in_ into the bit buffer while it has room.
  void refill() noexcept;
  /// Takes n bits (n <= 16) when available: false (nothing taken) otherwise.
  bool take(int n, std::uint32_t& v) noexcept;
  Result step() noexcept;
  Result fail(const char* why) noexcept;
  /// Reads one symbol of the code-length code: -1 when more bits are needed, -2 when invalid.
  int decode_length_symbol() noexcept;

  enum class Phase : std::uint8_t { type, counts, code_lengths, lengths, repeat, done };
  Phase phase_ = Phase::done;
  Result result_ = Result::ok;
  const char* why_ = "";
  bool final_ = false;
  std::uint32_t type_ = 0;
  std::size_t consumed_ = 0;
  // Bits not yet consumed: the low `nbits_` bits of `bits_`, then `in_` (the current piece).
  std::uint64_t bits_ = 0;
  int nbits_ = 0;
  Bytes in_;
  std::uint32_t nlen_ = 0, ndist_ = 0, ncode_ = 0;
  std::uint32_t have_ = 0;        // entries read so far (code-length code, then lit/len + dist)
  std::uint32_t repeat_sym_ = 0;  // 16, 17 or 18 while its extra bits are awaited
  std::array<std::uint8_t, 19> cl_lengths_{};
  std::array<std::uint16_t, 8> cl_count_{};    // code-length code: codes per length 0..7
  std::array<std::uint8_t, 19> cl_symbols_{};  // its symbols in canonical order
  std::array<std::uint8_t, 286 + 30> lengths_{};
};

}  // namespace wsdiag::ws
