// wsdiag — permessage-deflate decompression (RFC 7692 §7.2.2). See inflater.h.
#include "wsdiag/ws/inflater.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>

namespace wsdiag::ws {

namespace {
constexpr std::size_t kOutChunk = 16 * 1024;
constexpr std::array<std::uint8_t, 4> kTail = {0x00, 0x00, 0xff, 0xff};
}  // namespace

struct Inflater::Z {
  z_stream s{};
  bool ready = false;
};

Inflater::Inflater(int window_bits, bool no_context_takeover, std::uint64_t max_message_bytes)
    : z_(std::make_unique<Z>()),
      window_bits_(std::clamp(window_bits, 8, 15)),
      no_context_takeover_(no_context_takeover),
      max_(max_message_bytes) {
  // zlib's raw inflate accepts window bits 8..15 (negative = raw deflate, no zlib header).
  if (inflateInit2(&z_->s, -window_bits_) == Z_OK) {
    z_->ready = true;
  } else if (inflateInit2(&z_->s, -15) == Z_OK) {
    z_->ready = true;
    window_bits_ = 15;
  }
  if (!z_->ready) context_lost_ = true;
}

Inflater::~Inflater() {
  if (z_->ready) inflateEnd(&z_->s);
}

void Inflater::begin_message() noexcept {
  out_ = 0;
  status_ = context_lost_ ? Status::no_context : Status::ok;
  if (no_context_takeover_ && z_->ready) {
    inflateReset(&z_->s);
    context_lost_ = false;
    status_ = Status::ok;
  }
}

Inflater::Status Inflater::run(Bytes in, InflateSink& sink, bool final) noexcept {
  if (status_ != Status::ok) return status_;
  std::array<std::uint8_t, kOutChunk> out;  // fixed buffer: output is passed on, never kept
  auto& s = z_->s;
  // zlib takes a non-const pointer but does not write through next_in.
  s.next_in = const_cast<Bytef*>(in.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  std::size_t left = in.size();
  do {
    const auto take = static_cast<uInt>(std::min<std::size_t>(left, std::numeric_limits<uInt>::max()));
    s.avail_in = take;
    left -= take;
    do {
      s.next_out = out.data();
      s.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&s, Z_SYNC_FLUSH);
      const std::size_t produced = out.size() - s.avail_out;
      if (produced > 0) {
        out_ += produced;
        if (out_ > max_) {
          status_ = Status::over_limit;
          context_lost_ = !no_context_takeover_;
          return status_;
        }
        sink.on_inflated(Bytes(out.data(), produced));
      }
      if (rc == Z_STREAM_END) {
        // A final deflate block (BFINAL): legal; the next message starts a new stream.
        inflateReset(&s);
        if (s.avail_in != 0) continue;
        break;
      }
      if (rc == Z_BUF_ERROR) break;  // needs more input: fine between chunks
      if (rc != Z_OK) {
        status_ = Status::error;
        error_ = s.msg != nullptr ? s.msg : "inflate failed";
        context_lost_ = !no_context_takeover_;
        inflateReset(&s);
        return status_;
      }
    } while (s.avail_out == 0 || s.avail_in > 0);
  } while (left > 0);
  (void)final;
  return status_;
}

Inflater::Status Inflater::feed(Bytes compressed, InflateSink& sink) noexcept {
  if (compressed.empty()) return status_;
  return run(compressed, sink, false);
}

Inflater::Status Inflater::end_message(InflateSink& sink) noexcept {
  const Status st = run(Bytes(kTail), sink, true);
  return st;
}

}  // namespace wsdiag::ws
