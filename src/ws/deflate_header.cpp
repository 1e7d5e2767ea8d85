// wsdiag — validation of a DEFLATE block header (RFC 1951 §3.2.3, §3.2.7). See deflate_header.h.
#include "wsdiag/ws/deflate_header.h"

#include <algorithm>

namespace wsdiag::ws {

namespace {

// RFC 1951 §3.2.7: the order in which the code-length code's lengths are sent.
constexpr std::array<std::uint8_t, 19> kCodeLengthOrder = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                                           11, 4, 12, 3, 13, 2, 14, 1, 15};
constexpr std::uint32_t kMaxLitLen = 286;
constexpr std::uint32_t kMaxDist = 30;

enum class SetKind : std::uint8_t { code_lengths, literals, distances };

// Whether the lengths form a prefix code zlib accepts: never over-subscribed; complete, except a
// literal/length or distance set whose only codes are one bit long (RFC 1951 §3.2.7's "one
// distance code of one bit"), or a distance set with no code at all (a block of literals only).
bool acceptable_set(const std::uint8_t* len, std::size_t n, SetKind kind) {
  std::array<std::uint32_t, 16> count{};
  for (std::size_t i = 0; i < n; ++i) ++count[len[i]];
  int max = 0;
  for (int l = 15; l >= 1; --l) {
    if (count[static_cast<std::size_t>(l)] != 0) {
      max = l;
      break;
    }
  }
  if (max == 0) return kind == SetKind::distances;  // no symbol at all
  std::int64_t left = 1;  // code space left, in units of the current length
  for (std::size_t l = 1; l <= 15; ++l) {
    left = left * 2 - count[l];
    if (left < 0) return false;  // over-subscribed
  }
  return left == 0 || (kind != SetKind::code_lengths && max == 1);
}

}  // namespace

void DeflateHeaderCheck::begin(std::uint64_t bits, int nbits) noexcept {
  nbits_ = std::clamp(nbits, 0, 64);
  bits_ = nbits_ == 64 ? bits : bits & ((std::uint64_t{1} << nbits_) - 1);
  in_ = Bytes();
  phase_ = Phase::type;
  result_ = Result::need_more;
  why_ = "";
  have_ = 0;
}

void DeflateHeaderCheck::refill() noexcept {
  while (nbits_ <= 56 && !in_.empty()) {
    bits_ |= std::uint64_t{in_[0]} << nbits_;
    nbits_ += 8;
    in_ = in_.subspan(1);
  }
}

bool DeflateHeaderCheck::take(int n, std::uint32_t& v) noexcept {
  refill();
  if (nbits_ < n) return false;  // then every byte given so far is in bits_
  v = static_cast<std::uint32_t>(bits_ & ((std::uint64_t{1} << n) - 1));
  bits_ >>= n;
  nbits_ -= n;
  return true;
}

DeflateHeaderCheck::Result DeflateHeaderCheck::fail(const char* why) noexcept {
  why_ = why;
  phase_ = Phase::done;
  result_ = Result::invalid;
  return result_;
}

int DeflateHeaderCheck::decode_length_symbol() noexcept {
  // Canonical Huffman codes are sent most significant bit first: extend the code a bit at a
  // time until it falls among the codes of its length. At most 7 bits, looked at before any is
  // taken: nothing is consumed until the whole code is there.
  refill();
  std::uint32_t code = 0;   // the bits read so far, as a number
  std::uint32_t first = 0;  // the first code of the current length
  std::uint32_t index = 0;  // where the current length's symbols start in cl_symbols_
  for (int len = 1; len <= 7; ++len) {
    if (len > nbits_) return -1;
    code |= static_cast<std::uint32_t>(bits_ >> (len - 1)) & 1u;
    const std::uint32_t count = cl_count_[static_cast<std::size_t>(len)];
    if (code - first < count) {
      bits_ >>= len;
      nbits_ -= len;
      return cl_symbols_[index + code - first];
    }
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -2;  // cannot happen with a complete code (checked before)
}

DeflateHeaderCheck::Result DeflateHeaderCheck::feed(Bytes more) noexcept {
  if (result_ != Result::need_more) {
    consumed_ = 0;
    return result_;
  }
  in_ = more;
  const Result r = step();
  consumed_ = more.size() - in_.size();
  // Stopped for want of bits: every byte of `more` went into bits_ (take() and the decoder only
  // give up once in_ is empty). Finished: the bytes left belong to the block, not the header.
  in_ = Bytes();
  return r;
}

DeflateHeaderCheck::Result DeflateHeaderCheck::step() noexcept {
  std::uint32_t v = 0;
  for (;;) {
    switch (phase_) {
      case Phase::type: {
        if (!take(3, v)) return result_;
        const std::uint32_t type = v >> 1;
        final_ = (v & 1) != 0;
        type_ = type;
        if (type == 3) return fail("invalid block type");
        if (type != 2) {  // stored or fixed Huffman: nothing to check here
          phase_ = Phase::done;
          result_ = Result::ok;
          return result_;
        }
        phase_ = Phase::counts;
        break;
      }
      case Phase::counts: {
        if (!take(14, v)) return result_;
        nlen_ = (v & 31) + 257;
        ndist_ = ((v >> 5) & 31) + 1;
        ncode_ = ((v >> 10) & 15) + 4;
        if (nlen_ > kMaxLitLen || ndist_ > kMaxDist) return fail("too many length or distance symbols");
        cl_lengths_.fill(0);
        have_ = 0;
        phase_ = Phase::code_lengths;
        break;
      }
      case Phase::code_lengths: {
        while (have_ < ncode_) {
          if (!take(3, v)) return result_;
          cl_lengths_[kCodeLengthOrder[have_++]] = static_cast<std::uint8_t>(v);
        }
        if (!acceptable_set(cl_lengths_.data(), cl_lengths_.size(), SetKind::code_lengths)) {
          return fail("invalid code lengths set");
        }
        cl_count_.fill(0);
        for (const auto l : cl_lengths_) ++cl_count_[l];
        cl_count_[0] = 0;
        std::array<std::uint8_t, 8> offset{};
        for (std::size_t l = 1; l < 7; ++l) offset[l + 1] = static_cast<std::uint8_t>(offset[l] + cl_count_[l]);
        for (std::uint8_t sym = 0; sym < 19; ++sym) {
          if (cl_lengths_[sym] != 0) cl_symbols_[offset[cl_lengths_[sym]]++] = sym;
        }
        have_ = 0;
        phase_ = Phase::lengths;
        break;
      }
      case Phase::lengths: {
        while (have_ < nlen_ + ndist_) {
          const int sym = decode_length_symbol();
          if (sym == -1) return result_;
          if (sym < 0) return fail("invalid code lengths set");
          if (sym < 16) {
            lengths_[have_++] = static_cast<std::uint8_t>(sym);
            continue;
          }
          if (sym == 16 && have_ == 0) return fail("invalid bit length repeat");
          repeat_sym_ = static_cast<std::uint32_t>(sym);
          phase_ = Phase::repeat;
          break;
        }
        if (phase_ == Phase::repeat) break;
        phase_ = Phase::done;
        if (lengths_[256] == 0) return fail("invalid code -- missing end-of-block");
        if (!acceptable_set(lengths_.data(), nlen_, SetKind::literals)) return fail("invalid literal/lengths set");
        if (!acceptable_set(lengths_.data() + nlen_, ndist_, SetKind::distances)) return fail("invalid distances set");
        result_ = Result::ok;
        return result_;
      }
      case Phase::repeat: {
        const int extra = repeat_sym_ == 16 ? 2 : repeat_sym_ == 17 ? 3 : 7;
        if (!take(extra, v)) return result_;
        const std::uint32_t times = v + (repeat_sym_ == 18 ? 11u : 3u);
        if (have_ + times > nlen_ + ndist_) return fail("invalid bit length repeat");
        const std::uint8_t value = repeat_sym_ == 16 ? lengths_[have_ - 1] : std::uint8_t{0};
        std::fill_n(lengths_.begin() + have_, times, value);
        have_ += times;
        phase_ = Phase::lengths;
        break;
      }
      case Phase::done:
        return result_;
    }
  }
}

}  // namespace wsdiag::ws
