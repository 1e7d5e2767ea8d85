// wsdiag — permessage-deflate decompression (RFC 7692 §7.2.2). See inflater.h.
//
// Two decoders behind one class: zlib's inflate() for every direction with context takeover (and
// for all of them in a build without ISA-L), Intel ISA-L's streaming isal_inflate() (libisal,
// faster on large messages) for messages without context takeover when the build has it. Both
// are raw DEFLATE (RFC 1951) with the sender's window size and report a back-reference past the
// window or before the start of the stream as an error; the unit tests and the differential fuzz
// target (tests/fuzz/inflate_fuzz.cpp) hold them to the same results.
#include "wsdiag/ws/inflater.h"

#if defined(WSDIAG_HAVE_ISAL)
#include <isa-l/igzip_lib.h>

#include <cstddef>
#include <cstring>

#include "wsdiag/ws/deflate_walk.h"
#endif
#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <new>
#include <vector>

namespace wsdiag::ws {

namespace {
constexpr std::size_t kOutChunk = 16 * 1024;
constexpr std::array<std::uint8_t, 4> kTail = {0x00, 0x00, 0xff, 0xff};
}  // namespace

#if defined(WSDIAG_HAVE_ISAL)

// ---- ISA-L ------------------------------------------------------------------------------------

struct Inflater::Z {
  inflate_state s{};  // ~85 KiB: 64 KiB of history + lookahead, the Huffman tables
  int bits = 15;
  std::array<std::uint8_t, 16> carry{};  // read-ahead bytes handed back after a final block
  /// The message's blocks, walked ahead of ISA-L on the same bytes so that every block header is
  /// checked the way zlib checks it, wherever it lies (deflate_walk.h). Reset per message, not per
  /// DEFLATE stream: it follows the streams that final blocks end itself.
  DeflateWalk walk;
  /// A new stream. isal_inflate_reset() leaves next_in/avail_in alone: they are cleared here, so
  /// a stream never reads input that belonged to an earlier call (a buffer that no longer exists).
  void reset() noexcept {
    isal_inflate_reset(&s);
    s.crc_flag = ISAL_DEFLATE;  // raw DEFLATE: no gzip/zlib wrapper, no checksum
    s.hist_bits = static_cast<std::uint32_t>(bits);
    s.next_in = nullptr;
    s.avail_in = 0;
    carry = {};
  }
  /// A new message: a new stream and a new walk.
  void begin() noexcept {
    reset();
    walk.set_window_bits(bits);
    walk.reset();
  }
  /// Input is only ever a view for the duration of one run(): forget it when the call returns.
  void drop_input() noexcept {
    s.next_in = nullptr;
    s.avail_in = 0;
  }
  /// At a DEFLATE block boundary with no whole byte left unread: where every message must end
  /// once the 00 00 ff ff tail is fed (RFC 7692 §7.2.1 ends a message with an empty stored block).
  [[nodiscard]] bool at_block_boundary() const noexcept {
    // ISA-L waits for the next header in ISAL_BLOCK_HDR; with nothing of it read yet, that is a
    // boundary too.
    const bool between = s.block_state == ISAL_BLOCK_NEW_HDR || s.block_state == ISAL_BLOCK_FINISH ||
                         (s.block_state == ISAL_BLOCK_HDR && s.tmp_in_size == 0);
    return between && s.avail_in == 0 && s.read_in_length < 8 && s.tmp_out_processed == s.tmp_out_valid;
  }
};

const char* Inflater::backend() noexcept { return "isa-l"; }
bool Inflater::use_isal() const noexcept { return no_context_takeover_; }

// A no-context-takeover direction needs its ~85 KiB of state only while a message is inflated:
// it takes one from this thread's spares at the first byte of a message and gives it back when the
// message ends, so such directions cost nothing between messages and the state is not
// re-allocated (or re-zeroed) per message. Context-takeover directions keep theirs (the window).
namespace {
constexpr std::size_t kSpareStates = 4;  // per thread; more are freed
}  // namespace

std::vector<std::unique_ptr<Inflater::Z>>& Inflater::spares() noexcept {
  thread_local std::vector<std::unique_ptr<Z>> v;
  return v;
}

void Inflater::acquire() noexcept {
  if (z_) return;
  auto& v = spares();
  if (!v.empty()) {
    z_ = std::move(v.back());
    v.pop_back();
  } else {
    z_ = std::make_unique<Z>();
    isal_inflate_init(&z_->s);
  }
  z_->bits = window_bits_;
  z_->begin();
}

void Inflater::release() noexcept {
  if (!z_) return;
  auto& v = spares();
  if (v.size() < kSpareStates && v.capacity() > v.size()) v.push_back(std::move(z_));
  z_.reset();
}

namespace {
const char* isal_error_text(int rc) noexcept {
  switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    default: return "inflate failed";
  }
}
}  // namespace

// ISA-L's fast decoding loop moves its output pointer past a match before it checks the match's
// distance, so when a back-reference reaches before the start of the stream (possible only while
// the stream has produced less than a window of output) the call returns INVALID_LOOKBACK with up
// to 258 bytes that were never decoded (stale buffer contents) counted as output; its careful loop,
// which it uses near the end of its input, stops exactly there. Which one meets the reference
// depends on how TCP cut the message. So while the stream is that young, the decoder state is
// saved before each call (its scalars; the Huffman tables too when the call starts inside a
// Huffman block, whose tables it goes on with), and a call that ends in an error is replayed from it
// a byte of input at a time, which keeps ISA-L in its careful loop (replay_exact()). (Its fast loop
// also runs a few bytes past an invalid symbol; on older streams the bytes handed on before such an
// error may still depend on the cuts, which the session never uses: a failed message is not counted.)
namespace {
constexpr std::size_t kTablesBegin = offsetof(inflate_state, lit_huff_code);
constexpr std::size_t kTablesEnd = offsetof(inflate_state, block_state);
constexpr std::size_t kStateEnd = offsetof(inflate_state, tmp_out_buffer);  // history not included
struct Snapshot {
  std::array<std::uint8_t, kStateEnd> bytes{};
  bool tables = false;
};
Snapshot& snapshot() noexcept {
  thread_local Snapshot snap;  // one call at a time per thread: not kept per stream
  return snap;
}
void save(const inflate_state& s, Snapshot& snap) noexcept {
  const auto* from = reinterpret_cast<const std::uint8_t*>(&s);
  snap.tables = s.block_state == ISAL_BLOCK_CODED;
  std::memcpy(snap.bytes.data(), from, kTablesBegin);
  if (snap.tables) std::memcpy(snap.bytes.data() + kTablesBegin, from + kTablesBegin, kTablesEnd - kTablesBegin);
  std::memcpy(snap.bytes.data() + kTablesEnd, from + kTablesEnd, kStateEnd - kTablesEnd);
}
void restore(inflate_state& s, const Snapshot& snap) noexcept {
  auto* to = reinterpret_cast<std::uint8_t*>(&s);
  std::memcpy(to, snap.bytes.data(), kTablesBegin);
  if (snap.tables) std::memcpy(to + kTablesBegin, snap.bytes.data() + kTablesBegin, kTablesEnd - kTablesBegin);
  std::memcpy(to + kTablesEnd, snap.bytes.data() + kTablesEnd, kStateEnd - kTablesEnd);
}
}  // namespace

bool Inflater::replay_exact(InflateSink& sink) noexcept {
  auto& s = z_->s;
  restore(s, snapshot());
  const std::uint8_t* from = s.next_in;
  const std::uint32_t n = s.avail_in;
  std::uint8_t none = 0;
  // Each call takes a byte or decodes at least a symbol from the (at most 64) bits held: bounded.
  const std::uint64_t max_calls = 9ull * n + 128;
  for (std::uint32_t i = 0, calls = 0; calls < max_calls; ++calls) {
    s.next_in = const_cast<std::uint8_t*>(from + i);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    s.avail_in = i < n ? 1 : 0;
    s.next_out = &none;
    s.avail_out = 0;
    const int rc = isal_inflate(&s);
    const bool produced = s.tmp_out_processed != s.tmp_out_valid;
    if (!drain(sink)) return false;
    if (rc < 0) {
      fail(isal_error_text(rc));
      return false;
    }
    if (s.block_state == ISAL_BLOCK_INPUT_DONE || s.block_state == ISAL_BLOCK_FINISH) break;  // cannot happen
    const auto at = static_cast<std::uint32_t>(s.next_in - from);
    if (at == i && !produced && i >= n) break;  // all of the call's input went through
    i = std::max(i, at);
  }
  fail("inflate failed");  // the original call met an error; the replay must too
  return false;
}

// Hands on everything ISA-L decoded into its internal buffer, then keeps only the last 32 KiB
// there as history, as isal_inflate() itself does: the next call then always decodes into the
// internal buffer again (see run()). False when the size cap was passed.
bool Inflater::drain(InflateSink& sink) noexcept {
  auto& s = z_->s;
  while (s.tmp_out_processed < s.tmp_out_valid) {
    const auto n = std::min<std::size_t>(static_cast<std::size_t>(s.tmp_out_valid - s.tmp_out_processed), kOutChunk);
    const Bytes piece(s.tmp_out_buffer + s.tmp_out_processed, n);
    s.tmp_out_processed += static_cast<std::int32_t>(n);
    s.total_out += static_cast<std::uint32_t>(n);  // what isal_inflate() counts when it copies out
    if (!deliver(piece, sink)) return false;
  }
  // total_out is 32 bits and only its size relative to the window matters (references before
  // the start of the stream): keep it from wrapping on long-lived connections.
  if (s.total_out > (1u << 30)) s.total_out = 1u << 30;
  constexpr std::int32_t kHist = ISAL_DEF_HIST_SIZE;
  if (s.tmp_out_processed >= kHist) {
    const std::int32_t shift = s.tmp_out_valid - kHist;
    std::memmove(s.tmp_out_buffer, s.tmp_out_buffer + shift, static_cast<std::size_t>(kHist));
    s.tmp_out_valid = kHist;
    s.tmp_out_processed = kHist;
  }
  return true;
}

Inflater::Status Inflater::run_isal(Bytes in, InflateSink& sink) noexcept {
  if (status_ != Status::ok) return status_;
  acquire();  // no-op unless a no-context-takeover message is fed without begin_message()
  auto& s = z_->s;
  // ISA-L builds its Huffman tables without checking that the code sets are complete, so it
  // would accept blocks zlib refuses, and it reads headers inside its calls, out of sight: the
  // bytes are walked first (every header checked, deflate_walk.h). Where the walk fails, ISA-L
  // gets only the bytes before the failure (and the one holding its first bit, too few to read
  // past it), so what it decodes and hands on is what zlib would, and the message fails there.
  const char* refused = nullptr;
  if (z_->walk.feed(in) == DeflateWalk::Result::invalid) {
    refused = z_->walk.why();
    in = in.first(std::min(in.size(), z_->walk.stop()));
  }
  std::size_t left = in.size();
  const std::uint8_t* next = in.data();
  // No output space of our own: ISA-L then decodes into its internal buffer only, and drain()
  // takes the bytes from there. Given room, isal_inflate() decodes straight into the caller's
  // buffer once its own is empty, and an error met there loses what that call decoded: whether a
  // corrupt message first passed the size cap (over_limit) or failed (error) would depend on how
  // TCP cut it. Here everything decoded before an error is handed on, whatever the cuts.
  std::uint8_t none = 0;
  for (;;) {
    if (s.avail_in == 0 && left > 0) {
      const auto take = static_cast<std::uint32_t>(std::min<std::size_t>(left, std::numeric_limits<std::uint32_t>::max()));
      // ISA-L takes a non-const pointer but does not write through next_in.
      s.next_in = const_cast<std::uint8_t*>(next);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
      s.avail_in = take;
      next += take;
      left -= take;
    }
    s.next_out = &none;
    s.avail_out = 0;
    const std::uint32_t in_before = s.avail_in;
    const bool young = s.total_out < ISAL_DEF_HIST_SIZE;  // see replay_exact()
    if (young) save(s, snapshot());
    const int rc = isal_inflate(&s);
    if (rc < 0 && young) {
      (void)replay_exact(sink);
      return status_;
    }
    // Nothing is copied out (no room given): whatever the call decoded is still in the buffer.
    const bool produced = s.tmp_out_processed != s.tmp_out_valid;
    if (!drain(sink)) return status_;
    if (rc < 0) {
      fail(isal_error_text(rc));
      return status_;
    }
    if (s.block_state == ISAL_BLOCK_FINISH) {
      // A final deflate block (BFINAL): legal (RFC 7692 §7.2.3.4); what follows starts a new
      // stream. The decoder reads ahead into its bit buffer: the whole bytes left there after
      // the final block (past the partly used byte) belong to the next stream and are fed first.
      const int held = std::clamp(s.read_in_length, 0, 64);
      const std::uint64_t bits = held % 8 == 0 ? s.read_in : s.read_in >> (held % 8);
      std::array<std::uint8_t, 16> again{};
      auto n = static_cast<std::uint32_t>(held / 8);
      for (std::uint32_t i = 0; i < n; ++i) again[i] = static_cast<std::uint8_t>(bits >> (8 * i));
      const bool in_carry = s.next_in >= z_->carry.data() && s.next_in <= z_->carry.data() + z_->carry.size();
      if (in_carry) {
        // Still inside earlier handed-back bytes (a tiny final block among them): keep the rest.
        for (std::uint32_t i = 0; i < s.avail_in && n < again.size(); ++i) again[n++] = s.next_in[i];
      } else {
        // The rest of the caller's input is contiguous with what the decoder had not taken.
        next = s.next_in;
        left += s.avail_in;
      }
      z_->reset();
      z_->carry = again;
      s.next_in = z_->carry.data();
      s.avail_in = n;
      if (n == 0 && left == 0) break;
      continue;
    }
    // Its buffer filled, or the input ended, or the final block's output was drained (the next
    // call marks the stream finished): call again until a call gives nothing.
    if (produced) continue;
    if (s.avail_in == 0) {
      if (left == 0) break;  // all taken (partial symbols are kept by the decoder)
      continue;
    }
    if (s.avail_in == in_before) {
      fail("inflate made no progress");  // neither input taken nor output given: cannot go on
      return status_;
    }
  }
  z_->drop_input();
  if (refused != nullptr) fail(refused);
  return status_;
}

#else

// ---- no ISA-L in this build: every direction inflates with zlib ---------------------------------

struct Inflater::Z {  // never made: use_isal() is false
  void reset() noexcept {}
  void begin() noexcept {}
  void drop_input() noexcept {}
  [[nodiscard]] bool at_block_boundary() const noexcept { return false; }
};
const char* Inflater::backend() noexcept { return "zlib"; }
bool Inflater::use_isal() const noexcept { return false; }
void Inflater::acquire() noexcept {}
void Inflater::release() noexcept {}
std::vector<std::unique_ptr<Inflater::Z>>& Inflater::spares() noexcept {
  thread_local std::vector<std::unique_ptr<Z>> v;
  return v;
}
Inflater::Status Inflater::run_isal(Bytes /*in*/, InflateSink& /*sink*/) noexcept { return status_; }

#endif

// ---- zlib -------------------------------------------------------------------------------------

struct Inflater::ZS {
  z_stream s{};
  int bits = 0;          // window bits of the last reset
  bool boundary = true;  // the last inflate() call stopped between two DEFLATE blocks
  ZS() = default;
  ZS(const ZS&) = delete;
  ZS& operator=(const ZS&) = delete;
  ~ZS() { inflateEnd(&s); }  // safe on a stream whose init failed (zalloc still null)
  void drop_input() noexcept {
    s.next_in = nullptr;
    s.avail_in = 0;
  }
  [[nodiscard]] bool at_block_boundary() const noexcept { return boundary && s.avail_in == 0; }
};

// Decoders not in use by a message: a few per thread are kept (zlib's state and window), the rest
// freed. A direction holds one only while one of its messages is being inflated, or for good once
// its history passed kOwnHistory.
namespace {
constexpr std::size_t kZSpares = 8;
constexpr std::size_t kOwnHistory = 8 * 1024;
}  // namespace

std::vector<std::unique_ptr<Inflater::ZS>>& Inflater::zspares() noexcept {
  thread_local std::vector<std::unique_ptr<ZS>> v;
  return v;
}

bool Inflater::zacquire() noexcept {
  if (zs_) return true;
  auto& v = zspares();
  if (!v.empty()) {
    zs_ = std::move(v.back());
    v.pop_back();
  } else {
    std::unique_ptr<ZS> z(new (std::nothrow) ZS);
    // zlib's raw inflate takes window bits 8..15 (negative: no zlib header).
    if (!z || inflateInit2(&z->s, -window_bits_) != Z_OK) return false;
    z->bits = window_bits_;
    zs_ = std::move(z);
  }
  // A reset keeps zlib's window allocation unless its size changes.
  if (inflateReset2(&zs_->s, -window_bits_) != Z_OK) {
    zs_.reset();
    return false;
  }
  zs_->bits = window_bits_;
  zs_->boundary = true;
  zs_->drop_input();
  if (!hist_.empty() &&
      inflateSetDictionary(&zs_->s, hist_.data(), static_cast<uInt>(hist_.size())) != Z_OK) {
    zrelease();
    return false;
  }
  return true;
}

void Inflater::zrelease() noexcept {
  if (!zs_ || owned_) return;
  auto& v = zspares();
  if (v.size() < kZSpares && v.capacity() > v.size()) v.push_back(std::move(zs_));
  zs_.reset();
}

void Inflater::zdrop() noexcept {
  owned_ = false;
  zrelease();
  std::vector<std::uint8_t>().swap(hist_);
}

void Inflater::remember(Bytes data) noexcept {
  const std::size_t window = std::size_t{1} << window_bits_;
  if (data.size() >= window) {
    hist_.assign(data.end() - static_cast<std::ptrdiff_t>(window), data.end());
  } else {
    if (hist_.size() + data.size() > window) {
      hist_.erase(hist_.begin(), hist_.begin() + static_cast<std::ptrdiff_t>(hist_.size() + data.size() - window));
    }
    if (hist_.capacity() < hist_.size() + data.size()) {
      // Grows by doubling, never past the window.
      hist_.reserve(std::min(window, std::max(hist_.size() + data.size(), 2 * hist_.capacity())));
    }
    hist_.insert(hist_.end(), data.begin(), data.end());
  }
  if (hist_.size() >= std::min(window, kOwnHistory) && zs_) {
    // The decoder in hand has seen the same bytes (dictionary + this message's output so far):
    // it becomes this direction's own, and the copy goes.
    owned_ = true;
    std::vector<std::uint8_t>().swap(hist_);
  }
}

Inflater::Status Inflater::run_zlib(Bytes in, InflateSink& sink) noexcept {
  if (status_ != Status::ok) return status_;
  if (!zacquire()) {
    // No decoder could be had (out of memory): the message, and a context, cannot be verified.
    status_ = Status::no_context;
    context_lost_ = !no_context_takeover_;
    zdrop();
    return status_;
  }
  // zlib refuses a match past its window only when the bytes it refers to left the window in an
  // earlier call: with a window under 32 KiB the blocks are walked first (deflate_walk.h), and
  // where the walk fails zlib gets only the bytes before the failure, as on the ISA-L path.
  const char* refused = nullptr;
  if (window_bits_ < 15) {
    if (!zwalk_) {
      zwalk_.reset(new (std::nothrow) DeflateWalk);
      if (!zwalk_) {
        status_ = Status::no_context;
        context_lost_ = !no_context_takeover_;
        zdrop();
        return status_;
      }
      zwalk_->set_window_bits(window_bits_);
    }
    if (zwalk_->feed(in) == DeflateWalk::Result::invalid) {
      refused = zwalk_->why();
      in = in.first(std::min(in.size(), zwalk_->stop()));
    }
  }
  std::array<std::uint8_t, kOutChunk> out;  // fixed buffer: output is passed on, never kept
  auto& s = zs_->s;
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
      // data_type bit 128: inflate stopped right after a block (zlib.h, inflate()).
      zs_->boundary = (s.data_type & 128) != 0;
      if (produced > 0 && !deliver(Bytes(out.data(), produced), sink)) return status_;
      if (rc == Z_STREAM_END) {
        // A final deflate block (BFINAL): legal; what follows starts a new stream, with an
        // empty window.
        inflateReset(&s);
        if (!owned_) hist_.clear();
        zs_->boundary = true;
        if (s.avail_in != 0) continue;
        break;
      }
      if (rc == Z_BUF_ERROR) break;  // needs more input: fine between chunks
      if (rc != Z_OK) {
        fail(s.msg != nullptr ? s.msg : "inflate failed");
        return status_;
      }
    } while (s.avail_out == 0 || s.avail_in > 0);
  } while (left > 0);
  zs_->drop_input();
  if (refused != nullptr) fail(refused);
  return status_;
}

// ---- both ---------------------------------------------------------------------------------------

Inflater::Inflater(int window_bits, bool no_context_takeover, std::uint64_t max_message_bytes)
    : window_bits_(std::clamp(window_bits, 8, 15)),
      no_context_takeover_(no_context_takeover),
      max_(max_message_bytes) {
  // release() and zrelease() never allocate.
  if (auto& v = spares(); v.capacity() < kZSpares) v.reserve(kZSpares);
  if (auto& v = zspares(); v.capacity() < kZSpares) v.reserve(kZSpares);
}

Inflater::~Inflater() {
  release();
  owned_ = false;
  zrelease();
}

void Inflater::begin_message() noexcept {
  out_ = 0;
  error_ = "";
  status_ = context_lost_ ? Status::no_context : Status::ok;
  if (no_context_takeover_) {
    context_lost_ = false;
    status_ = Status::ok;
    if (use_isal()) {
      acquire();
      z_->begin();
    } else if (zs_) {
      zrelease();  // an earlier message never ended: the next one starts afresh
    }
  }
  if (z_) z_->drop_input();
  if (zs_) zs_->drop_input();
  if (zwalk_) zwalk_->reset();  // every message starts at a block boundary (RFC 7692 §7.2.1)
}

Inflater::Status Inflater::run(Bytes in, InflateSink& sink) noexcept {
  return use_isal() ? run_isal(in, sink) : run_zlib(in, sink);
}

bool Inflater::at_block_boundary() const noexcept {
  if (use_isal()) return z_ && z_->at_block_boundary();
  return zs_ && zs_->at_block_boundary();
}

void Inflater::reset_stream() noexcept {
  if (use_isal()) {
    if (z_) z_->reset();
  } else {
    zdrop();
  }
}

Inflater::Status Inflater::feed(Bytes compressed, InflateSink& sink) noexcept {
  if (compressed.empty()) return status_;
  return run(compressed, sink);
}

Inflater::Status Inflater::end_message(InflateSink& sink) noexcept {
  if (run(Bytes(kTail), sink) == Status::ok && !at_block_boundary()) {
    // RFC 7692 §7.2.1: a sender ends every message with an empty stored block, so with the tail
    // fed back the stream stands between two blocks. Anything else is malformed, and the two
    // backends would not even agree on its last bytes (ISA-L holds back what zlib gives out).
    fail("message does not end on a deflate block boundary");
  }
  if (no_context_takeover_) release();  // the next message starts from an empty window anyway
  zrelease();  // a pooled decoder goes back (the history stays); an owned one stays
  return status_;
}

bool Inflater::deliver(Bytes data, InflateSink& sink) noexcept {
  out_ += data.size();
  if (out_ > max_) {
    status_ = Status::over_limit;
    context_lost_ = !no_context_takeover_;
    reset_stream();
    return false;
  }
  sink.on_inflated(data);
  // A context-takeover direction without a decoder of its own keeps the history itself.
  if (!no_context_takeover_ && !owned_ && !use_isal()) remember(data);
  return true;
}

void Inflater::fail(const char* why) noexcept {
  status_ = Status::error;
  error_ = why;
  context_lost_ = !no_context_takeover_;
  reset_stream();
}

}  // namespace wsdiag::ws
