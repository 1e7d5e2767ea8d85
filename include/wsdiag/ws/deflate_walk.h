// wsdiag — a walk over the blocks of a raw DEFLATE stream (RFC 1951), checking every block header.
//
// Design note. ISA-L (src/ws/inflater.cpp's faster backend) builds its Huffman tables without
// checking that the code sets are complete, and reads block headers inside its own calls, where
// nothing outside it can look at them. So its stream is walked here, ahead of it, on the same
// bytes: every symbol is decoded (no output is made, no match copied) to find where each block
// ends, and every header goes through DeflateHeaderCheck, so a header zlib refuses is refused
// wherever it lies and however the bytes were cut. Symbols zlib refuses (literal/length codes 286
// and 287, distance codes 30 and 31, a length with no distance code) fail the walk too; whether a
// distance reaches past the window is the decoder's business (the walk keeps no history). What the
// walk keeps: a 64-bit bit buffer, the header check, and two decoding tables (a 10-bit first-level
// lookup, canonical decoding for longer codes), about 4 KiB, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/ws/deflate_header.h"

namespace wsdiag::ws {

class DeflateWalk {
 public:
  enum class Result : std::uint8_t {
    ok,       ///< everything given so far is well formed (a block or header may go on)
    invalid,  ///< malformed: why() says what, stop() where
  };

  /// A canonical Huffman code, decoded 10 bits at a time first (public for the fixed code's table).
  struct Code {
    static constexpr int kFastBits = 10;
    /// (symbol << 4) | length for codes of at most kFastBits bits, by the next kFastBits input bits;
    /// 0 for longer codes (and bit patterns no code starts).
    std::array<std::uint16_t, 1u << kFastBits> fast{};
    std::array<std::uint16_t, 16> count{};  ///< codes per length
    std::array<std::uint16_t, 288> symbol{};  ///< symbols in canonical order
    void build(const std::uint8_t* lengths, std::size_t n) noexcept;
  };

  /// A new stream (a new message, or a stream reset by the decoder). The window stays.
  void reset() noexcept;
  /// The LZ77 window the sender negotiated (RFC 7692 §7.1.2: 2^bits bytes, 8..15): a distance
  /// past it is invalid. Kept across reset(); 15 (32 KiB, DEFLATE's own limit) by default.
  void set_window_bits(int bits) noexcept { max_distance_ = std::uint32_t{1} << bits; }
  /// Walks on through `in`. Once invalid, later calls change nothing.
  Result feed(Bytes in) noexcept;
  [[nodiscard]] Result result() const noexcept { return result_; }
  [[nodiscard]] const char* why() const noexcept { return why_; }
  /// Once invalid: how many bytes of the piece whose feed() failed precede the header or symbol that
  /// failed or hold its first bit (0 when it began in an earlier piece). A decoder given those
  /// bytes has everything that precedes the failure and too few bits to read past it.
  [[nodiscard]] std::size_t stop() const noexcept { return stop_; }

 private:
  enum class Phase : std::uint8_t { header, stored_lengths, stored, huffman, done };
  void refill() noexcept;
  Result fail(const char* why, std::size_t start) noexcept;
  /// Bytes of the current piece up to the one holding the first buffered bit (0: an earlier piece).
  [[nodiscard]] std::size_t first_bit_byte() const noexcept;
  /// Ends a block; after a final one the next stream starts at the next byte.
  void end_block() noexcept;
  bool step_header() noexcept;
  bool step_huffman() noexcept;

  Phase phase_ = Phase::header;
  Result result_ = Result::ok;
  const char* why_ = "";
  std::size_t stop_ = 0;
  bool final_ = false;
  std::uint64_t bits_ = 0;  // the low nbits_ bits are unread input
  int nbits_ = 0;
  Bytes in_;
  std::size_t pos_ = 0;  // next byte of in_ not yet in bits_
  bool header_started_ = false;
  std::size_t header_start_ = 0;  // first_bit_byte() when the header started in this piece
  std::uint32_t stored_left_ = 0;
  std::uint32_t max_distance_ = 32768;
  const Code* lit_ = nullptr;
  const Code* dist_ = nullptr;
  DeflateHeaderCheck header_;
  Code dyn_lit_;
  Code dyn_dist_;
};

}  // namespace wsdiag::ws
