// wsdiag — a walk over the blocks of a raw DEFLATE stream (RFC 1951). See deflate_walk.h.
#include "wsdiag/ws/deflate_walk.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace wsdiag::ws {

namespace {

// RFC 1951 §3.2.5: extra bits of the length symbols 257..285 and of the distance symbols 0..29.
constexpr std::array<std::uint8_t, 29> kLengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<std::uint8_t, 30> kDistanceExtra = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                         6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// RFC 1951 §3.2.5: the smallest distance of each distance symbol.
constexpr std::array<std::uint16_t, 30> kDistanceBase = {1,    2,    3,    4,    5,    7,     9,     13,    17,   25,
                                                         33,   49,   65,   97,   129,  193,   257,   385,   513,  769,
                                                         1025, 1537, 2049, 3073, 4097, 6145,  8193,  12289, 16385, 24577};

// Decodes one symbol from the low `n` bits of `b`: the symbol (its length in `used`), -1 when the
// code goes on past those bits, -2 when no code starts with them.
int decode(const DeflateWalk::Code& h, std::uint64_t b, int n, int& used) noexcept {
  const std::uint16_t e = h.fast[b & ((1u << DeflateWalk::Code::kFastBits) - 1)];
  if (e != 0) {
    used = e & 15;
    return used <= n ? e >> 4 : -1;
  }
  // Longer than the first-level lookup (or invalid): canonical decoding, a bit at a time, most
  // significant bit of the code first.
  std::uint32_t code = 0, first = 0, index = 0;
  for (int len = 1; len <= 15; ++len) {
    if (len > n) return -1;
    code |= static_cast<std::uint32_t>(b >> (len - 1)) & 1u;
    const std::uint32_t count = h.count[static_cast<std::size_t>(len)];
    if (code - first < count) {
      used = len;
      return h.symbol[index + code - first];
    }
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -2;
}

struct FixedCodes {
  DeflateWalk::Code lit;
  DeflateWalk::Code dist;
  FixedCodes() noexcept {
    // RFC 1951 §3.2.6 (with the two unused literal/length and distance codes, which are refused
    // when met, as zlib does).
    std::array<std::uint8_t, 288> l{};
    std::fill(l.begin(), l.begin() + 144, std::uint8_t{8});
    std::fill(l.begin() + 144, l.begin() + 256, std::uint8_t{9});
    std::fill(l.begin() + 256, l.begin() + 280, std::uint8_t{7});
    std::fill(l.begin() + 280, l.end(), std::uint8_t{8});
    lit.build(l.data(), l.size());
    std::array<std::uint8_t, 32> d{};
    d.fill(5);
    dist.build(d.data(), d.size());
  }
};

const FixedCodes& fixed_codes() noexcept {
  static const FixedCodes codes;
  return codes;
}

}  // namespace

void DeflateWalk::Code::build(const std::uint8_t* lengths, std::size_t n) noexcept {
  n = std::min(n, symbol.size());
  count.fill(0);
  for (std::size_t i = 0; i < n; ++i) ++count[lengths[i] & 15];
  count[0] = 0;
  std::array<std::uint16_t, 16> offset{};
  for (std::size_t l = 1; l < 15; ++l) offset[l + 1] = static_cast<std::uint16_t>(offset[l] + count[l]);
  std::array<std::uint32_t, 16> next{};  // the next canonical code of each length
  std::uint32_t code = 0;
  for (std::size_t l = 1; l <= 15; ++l) {
    code = (code + count[l - 1]) << 1;
    next[l] = code;
  }
  next[1] = 0;
  fast.fill(0);
  for (std::size_t sym = 0; sym < n; ++sym) {
    const unsigned len = lengths[sym] & 15u;
    if (len == 0) continue;
    symbol[offset[len]++] = static_cast<std::uint16_t>(sym);
    const std::uint32_t c = next[len]++;
    if (len > static_cast<unsigned>(kFastBits)) continue;
    std::uint32_t rev = 0;  // codes are sent most significant bit first
    for (unsigned i = 0; i < len; ++i) rev |= ((c >> i) & 1u) << (len - 1 - i);
    const auto entry = static_cast<std::uint16_t>((sym << 4) | len);
    for (std::uint32_t k = rev; k < fast.size(); k += 1u << len) fast[k] = entry;
  }
}

void DeflateWalk::reset() noexcept {
  phase_ = Phase::header;
  result_ = Result::ok;
  why_ = "";
  stop_ = 0;
  final_ = false;
  bits_ = 0;
  nbits_ = 0;
  in_ = Bytes();
  pos_ = 0;
  header_started_ = false;
  stored_left_ = 0;
}

void DeflateWalk::refill() noexcept {
  if (in_.size() - pos_ >= 8 && nbits_ < 64) {
    // Eight bytes at once; those that do not fit stay uncounted (their bits above nbits_ are the
    // stream's next bits, the same ones the next refill ORs in again).
    std::uint64_t v = 0;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    bits_ |= v << nbits_;
    pos_ += static_cast<std::size_t>((63 - nbits_) >> 3);
    nbits_ |= 56;
    return;
  }
  while (nbits_ <= 56 && pos_ < in_.size()) {
    bits_ |= std::uint64_t{in_[pos_++]} << nbits_;
    nbits_ += 8;
  }
}

std::size_t DeflateWalk::first_bit_byte() const noexcept {
  const auto held = static_cast<std::size_t>((nbits_ + 7) / 8);
  return pos_ >= held ? pos_ - held + 1 : 0;
}

DeflateWalk::Result DeflateWalk::fail(const char* why, std::size_t prefix) noexcept {
  why_ = why;
  stop_ = prefix;
  phase_ = Phase::done;
  result_ = Result::invalid;
  return result_;
}

void DeflateWalk::end_block() noexcept {
  if (final_) {
    // The stream ended: the next one starts at the next byte (the rest of this one is padding).
    const int pad = nbits_ % 8;
    bits_ >>= pad;
    nbits_ -= pad;
    final_ = false;
  }
  phase_ = Phase::header;
}

bool DeflateWalk::step_header() noexcept {
  if (!header_started_ && nbits_ == 0 && pos_ == in_.size()) return false;  // it starts in the next piece
  if (!header_started_) {
    header_.begin(bits_, nbits_);
    header_start_ = first_bit_byte();
    header_started_ = true;
    bits_ = 0;
    nbits_ = 0;
  }
  const auto r = header_.feed(in_.subspan(pos_));
  pos_ += header_.consumed();
  if (r == DeflateHeaderCheck::Result::need_more) return false;
  if (r == DeflateHeaderCheck::Result::invalid) {
    fail(header_.why(), header_start_);
    return false;
  }
  header_started_ = false;
  header_.leftover(bits_, nbits_);
  final_ = header_.final_block();
  switch (header_.block_type()) {
    case 0: {  // stored: LEN and NLEN start at the next byte
      const int pad = nbits_ % 8;
      bits_ >>= pad;
      nbits_ -= pad;
      phase_ = Phase::stored_lengths;
      break;
    }
    case 1:
      lit_ = &fixed_codes().lit;
      dist_ = &fixed_codes().dist;
      phase_ = Phase::huffman;
      break;
    default:
      dyn_lit_.build(header_.lengths(), header_.literal_codes());
      dyn_dist_.build(header_.lengths() + header_.literal_codes(), header_.distance_codes());
      lit_ = &dyn_lit_;
      dist_ = &dyn_dist_;
      phase_ = Phase::huffman;
      break;
  }
  return true;
}

bool DeflateWalk::step_huffman() noexcept {
  const Code& lit = *lit_;
  const Code& dist = *dist_;
  for (;;) {
    refill();  // then at least 57 bits, or all the input there is: a whole symbol takes at most 48
    std::uint64_t b = bits_;
    int n = nbits_;
    int used = 0;
    const int sym = decode(lit, b, n, used);
    if (sym == -1) return false;
    if (sym == -2) {
      fail("invalid literal/lengths set", first_bit_byte());  // cannot happen: the set was checked
      return false;
    }
    b >>= used;
    n -= used;
    if (sym < 256) {
      bits_ = b;
      nbits_ = n;
      continue;
    }
    if (sym == 256) {
      bits_ = b;
      nbits_ = n;
      end_block();
      return true;
    }
    if (sym > 285) {
      fail("invalid literal/length code", first_bit_byte());
      return false;
    }
    const int lextra = kLengthExtra[static_cast<std::size_t>(sym - 257)];
    if (n < lextra) return false;
    b >>= lextra;
    n -= lextra;
    const int dsym = decode(dist, b, n, used);
    if (dsym == -1) return false;
    if (dsym < 0 || dsym > 29) {
      fail("invalid distance code", first_bit_byte());
      return false;
    }
    b >>= used;
    n -= used;
    const int dextra = kDistanceExtra[static_cast<std::size_t>(dsym)];
    if (n < dextra) return false;
    const std::uint32_t distance = kDistanceBase[static_cast<std::size_t>(dsym)] +
                                   static_cast<std::uint32_t>(b & ((std::uint64_t{1} << dextra) - 1));
    if (distance > max_distance_) {
      // A sender bound to a smaller window reached past it. zlib refuses such a match only when
      // the bytes it refers to left its window in an earlier call, so without this check whether
      // the message inflates would depend on how TCP cut it (fuzz finding
      // inflate/distance-beyond-window-depends-on-cuts).
      fail("distance beyond the negotiated window", first_bit_byte());
      return false;
    }
    bits_ = b >> dextra;
    nbits_ = n - dextra;
  }
}

DeflateWalk::Result DeflateWalk::feed(Bytes in) noexcept {
  if (result_ != Result::ok) return result_;
  in_ = in;
  pos_ = 0;
  if (header_started_) header_start_ = 0;  // the header began in an earlier piece
  bool more = true;
  while (more && result_ == Result::ok) {
    switch (phase_) {
      case Phase::header:
        more = step_header();
        break;
      case Phase::stored_lengths: {
        refill();
        if (nbits_ < 32) {
          more = false;
          break;
        }
        const auto len = static_cast<std::uint32_t>(bits_ & 0xffff);
        const auto nlen = static_cast<std::uint32_t>((bits_ >> 16) & 0xffff);
        if (len != (~nlen & 0xffff)) {
          fail("invalid stored block lengths", first_bit_byte());
          break;
        }
        bits_ >>= 32;
        nbits_ -= 32;
        stored_left_ = len;
        phase_ = Phase::stored;
        break;
      }
      case Phase::stored: {
        while (stored_left_ > 0 && nbits_ >= 8) {  // whole bytes already buffered
          bits_ >>= 8;
          nbits_ -= 8;
          --stored_left_;
        }
        if (stored_left_ > 0) bits_ = 0;  // nbits_ is 0: drop read-ahead bits of the bytes skipped
        const auto skip = static_cast<std::uint32_t>(std::min<std::size_t>(stored_left_, in_.size() - pos_));
        pos_ += skip;
        stored_left_ -= skip;
        if (stored_left_ > 0) {
          more = false;
          break;
        }
        end_block();
        break;
      }
      case Phase::huffman:
        more = step_huffman();
        break;
      case Phase::done:
        more = false;
        break;
    }
  }
  in_ = Bytes();
  return result_;
}

}  // namespace wsdiag::ws
