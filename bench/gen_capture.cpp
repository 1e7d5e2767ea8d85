// wsdiag_gen — writes a large, deterministic capture of WebSocket traffic for scripts/bench.
//
// Everything is written by hand, no libpcap:
//   classic pcap file (global header, 16-byte record headers, LINKTYPE_ETHERNET, microseconds),
//   Ethernet II -> IPv4 (RFC 791, header checksum) -> TCP (RFC 9293, checksum, MSS 1448),
//   HTTP/1.1 Upgrade (RFC 6455 §4.1/§4.2.2, real Sec-WebSocket-Accept),
//   WebSocket frames (RFC 6455 §5.2):
//
//     byte 0   FIN | RSV1 | RSV2 | RSV3 | opcode(4)
//     byte 1   MASK | len7          len7 = 126 -> 2-byte length, 127 -> 8-byte length (minimal)
//     [2|8]    extended length, big-endian
//     [4]      masking key (client-to-server frames only, §5.3)
//     ...      payload (XOR key[i % 4] when masked)
//
//   permessage-deflate (RFC 7692 §7.2.1): raw deflate with Z_SYNC_FLUSH, the 00 00 ff ff tail
//   removed, RSV1 on the first frame of a compressed message only; context takeover unless
//   negotiated off.
//
// Traffic model: up to --max-open connections interleaved in time (a random open connection takes
// the next step), thousands in total. Each one: three-way handshake, Upgrade request and 101, then
// chat-sized (20-200 B) and multi-KB (2-64 KB) text/binary messages both ways, a few fragmented, a
// few ping/pong pairs, segments of at most 1448 bytes acknowledged every second segment, about 1%
// of segments swapped with their neighbour, and one of several endings: 1000 or 1001 close
// handshake then FIN, 1011 from the server, server RST with no Close, or silence until the capture
// ends. Text is valid UTF-8. The same seed gives the same file, byte for byte.
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsdiag::bench {
namespace {

constexpr std::size_t kMss = 1448;
constexpr std::size_t kMaxSegmentsPerStep = 8;
constexpr double kSwapRate = 0.01;
constexpr std::uint32_t kSnaplen = 262144;
constexpr std::int64_t kStartUs = 1714564800LL * 1'000'000;  // 2024-05-01T12:00:00Z
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kAck = 0x10;

// ---------------------------------------------------------------------------------------------
// xoshiro256** seeded through splitmix64: the same sequence on every platform and library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  std::uint32_t u32() { return static_cast<std::uint32_t>(next() >> 32); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

void put_be16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put_be32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
void put_le32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

// One's-complement sum of big-endian 16-bit words (RFC 1071), not yet folded or inverted.
std::uint64_t sum16(const std::uint8_t* p, std::size_t n, std::uint64_t acc) {
  std::size_t i = 0;
  for (; i + 1 < n; i += 2) acc += (static_cast<std::uint32_t>(p[i]) << 8) | p[i + 1];
  if (i < n) acc += static_cast<std::uint32_t>(p[i]) << 8;
  return acc;
}
std::uint16_t fold(std::uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(~acc & 0xffff);
}

// ---------------------------------------------------------------------------------------------
struct Host {
  std::uint32_t ip = 0;
  std::uint16_t port = 0;
  std::array<std::uint8_t, 6> mac{};
};

class PcapWriter {
 public:
  explicit PcapWriter(std::FILE* f) : f_(f), buf_(kBufSize) {
    std::uint8_t* h = buf_.data();
    put_le32(h, 0xa1b2c3d4);
    h[4] = 2;  // version 2.4, little-endian fields
    h[5] = 0;
    h[6] = 4;
    h[7] = 0;
    put_le32(h + 8, 0);   // thiszone
    put_le32(h + 12, 0);  // sigfigs
    put_le32(h + 16, kSnaplen);
    put_le32(h + 20, 1);  // LINKTYPE_ETHERNET
    used_ = 24;
  }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  /// One Ethernet/IPv4/TCP packet; `mss` adds the MSS option (SYN, SYN-ACK).
  void tcp(std::int64_t ts_us, const Host& src, const Host& dst, std::uint16_t ip_id,
           std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, bool mss,
           std::span<const std::uint8_t> payload) {
    const std::size_t tcp_hdr = mss ? 24 : 20;
    const std::size_t frame_len = 14 + 20 + tcp_hdr + payload.size();
    if (kBufSize - used_ < 16 + frame_len) flush();
    std::uint8_t* r = buf_.data() + used_;
    put_le32(r, static_cast<std::uint32_t>(ts_us / 1'000'000));
    put_le32(r + 4, static_cast<std::uint32_t>(ts_us % 1'000'000));
    put_le32(r + 8, static_cast<std::uint32_t>(frame_len));
    put_le32(r + 12, static_cast<std::uint32_t>(frame_len));
    std::uint8_t* e = r + 16;
    std::memcpy(e, dst.mac.data(), 6);
    std::memcpy(e + 6, src.mac.data(), 6);
    put_be16(e + 12, 0x0800);
    std::uint8_t* ip = e + 14;
    const auto ip_len = static_cast<std::uint32_t>(20 + tcp_hdr + payload.size());
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, ip_len);
    put_be16(ip + 4, ip_id);
    put_be16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 6;
    put_be16(ip + 10, 0);
    put_be32(ip + 12, src.ip);
    put_be32(ip + 16, dst.ip);
    put_be16(ip + 10, fold(sum16(ip, 20, 0)));
    std::uint8_t* t = ip + 20;
    put_be16(t, src.port);
    put_be16(t + 2, dst.port);
    put_be32(t + 4, seq);
    put_be32(t + 8, (flags & kAck) ? ack : 0);
    t[12] = static_cast<std::uint8_t>((tcp_hdr / 4) << 4);
    t[13] = flags;
    put_be16(t + 14, 64240);
    put_be16(t + 16, 0);
    put_be16(t + 18, 0);
    if (mss) {
      t[20] = 2;
      t[21] = 4;
      put_be16(t + 22, kMss);
    }
    if (!payload.empty()) std::memcpy(t + tcp_hdr, payload.data(), payload.size());
    const auto tcp_len = static_cast<std::uint32_t>(tcp_hdr + payload.size());
    std::uint64_t acc =
        (src.ip >> 16) + (src.ip & 0xffff) + (dst.ip >> 16) + (dst.ip & 0xffff) + 6 + tcp_len;
    put_be16(t + 16, fold(sum16(t, tcp_len, acc)));
    used_ += 16 + frame_len;
    written_ += 16 + frame_len;
    ++packets_;
  }

  void flush() {
    if (used_ == 0) return;
    if (std::fwrite(buf_.data(), 1, used_, f_) != used_) {
      std::fprintf(stderr, "wsdiag_gen: write failed: %s\n", std::strerror(errno));
      std::exit(2);
    }
    used_ = 0;
  }
  std::uint64_t bytes() const { return written_; }
  std::uint64_t packets() const { return packets_; }

 private:
  static constexpr std::size_t kBufSize = 8 << 20;
  std::FILE* f_;
  std::vector<std::uint8_t> buf_;
  std::size_t used_ = 0;
  std::uint64_t written_ = 24;
  std::uint64_t packets_ = 0;
};

// ---------------------------------------------------------------------------------------------
struct Stats {
  std::uint64_t connections = 0;
  std::uint64_t compressed = 0;
  std::uint64_t messages = 0;
  std::uint64_t compressed_messages = 0;
  std::uint64_t frames = 0;  // frames whose last byte was written
  std::uint64_t pings = 0;
  std::uint64_t swaps = 0;
  std::uint64_t end_1000 = 0;
  std::uint64_t end_1001 = 0;
  std::uint64_t end_1011 = 0;
  std::uint64_t end_rst = 0;
  std::uint64_t end_idle = 0;
};

struct Options {
  double size_mb = 0;
  std::uint64_t seed = 1;
  double compressed_share = 0.2;
  std::size_t max_open = 200;
  double big_share = 0.15;       ///< messages of 2-64 KiB (the rest are 20-200 B)
  std::uint64_t syn_flood = 0;   ///< preset syn-flood: this many SYNs that are never answered
  /// preset short: this many short WebSocket connections (handshake, 1-3 chat messages, Close
  /// both ways, FIN both ways), at most max_open at once; --size-mb is ignored.
  std::uint64_t short_conns = 0;
  std::string out;
};

/// Shared by all connections: clock, random source, writer, content pools, scratch buffers.
class World {
 public:
  World(const Options& o, std::FILE* f) : opt(o), rng(o.seed), out(f) { build_pools(); }

  std::int64_t tick() {
    now_us += static_cast<std::int64_t>(rng.range(1, 40));
    return now_us;
  }

  /// Valid UTF-8 of about `len` bytes (never more): a slice of the text pool cut at character
  /// boundaries; chat messages are wrapped in a small JSON object.
  void make_text(std::size_t len, bool chat, std::vector<std::uint8_t>& dst) {
    dst.clear();
    if (chat) {
      char head[64];
      const int n =
          std::snprintf(head, sizeof head, "{\"type\":\"chat\",\"user\":\"u%u\",\"text\":\"",
                        static_cast<unsigned>(rng.below(100000)));
      dst.insert(dst.end(), head, head + n);
      const std::size_t body = len > dst.size() + 3 ? len - dst.size() - 2 : 1;
      append_text_slice(body, dst);
      dst.push_back('"');
      dst.push_back('}');
    } else {
      append_text_slice(len, dst);
    }
  }
  void make_binary(std::size_t len, std::vector<std::uint8_t>& dst) {
    const std::size_t start = rng.below(binary_pool_.size() - len);
    dst.assign(binary_pool_.begin() + static_cast<std::ptrdiff_t>(start),
               binary_pool_.begin() + static_cast<std::ptrdiff_t>(start + len));
  }

  const Options& opt;
  Rng rng;
  PcapWriter out;
  Stats stats;
  std::int64_t now_us = kStartUs;
  std::vector<std::uint8_t> message;  // scratch: one message's payload
  std::vector<std::uint8_t> zbuf;     // scratch: its deflated form

 private:
  static bool is_continuation(std::uint8_t b) { return (b & 0xc0) == 0x80; }

  void append_text_slice(std::size_t len, std::vector<std::uint8_t>& dst) {
    std::size_t start = rng.below(text_pool_.size() - len - 8);
    while (is_continuation(text_pool_[start])) ++start;
    std::size_t end = start + len;
    while (end > start && is_continuation(text_pool_[end])) --end;
    dst.insert(dst.end(), text_pool_.begin() + static_cast<std::ptrdiff_t>(start),
               text_pool_.begin() + static_cast<std::ptrdiff_t>(end));
  }

  void build_pools() {
    // Chat text is mostly ASCII; about one word in 30 is accented Latin, Cyrillic, CJK, Greek or
    // emoji.
    static constexpr std::array<std::string_view, 40> kAscii = {
        "the",   "socket", "message", "hello",   "world", "latency", "server",   "client",
        "frame", "ping",   "pong",    "close",   "ok",    "thanks",  "see",      "you",
        "later", "today",  "deploy",  "build",   "merge", "review",  "coffee",   "lunch",
        "and",   "or",     "not",     "a",       "is",    "was",     "will",     "be",
        "42",    "1337",   "ready",   "waiting", "done",  "error",   "tomorrow", "meeting"};
    static constexpr std::array<std::string_view, 10> kOther = {
        "caf\xc3\xa9",
        "na\xc3\xafve",
        "Gr\xc3\xbc\xc3\x9f"
        "e",
        "\xc3\xb1"
        "and\xc3\xba",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
        "\xf0\x9f\x98\x80",
        "\xf0\x9f\x9a\x80",
        "\xe2\x82\xac"
        "42",
        "\xce\xb1\xce\xb2\xce\xb3"};
    constexpr std::size_t kTextPool = 4 << 20;
    text_pool_.reserve(kTextPool + 64);
    while (text_pool_.size() < kTextPool) {
      const std::string_view w =
          rng.below(30) == 0 ? kOther[rng.below(kOther.size())] : kAscii[rng.below(kAscii.size())];
      text_pool_.insert(text_pool_.end(), w.begin(), w.end());
      const std::uint64_t r = rng.below(16);
      text_pool_.push_back(r == 0 ? '.' : r == 1 ? ',' : ' ');
      if (r == 0) text_pool_.push_back(' ');
    }
    constexpr std::size_t kBinaryPool = 4 << 20;
    binary_pool_.resize(kBinaryPool);
    for (std::size_t i = 0; i < kBinaryPool; i += 8) {
      std::uint64_t v = rng.next();
      // Half the pool is structured (small integers), half is noise, so deflate has work to do.
      if ((i >> 12) & 1) v &= 0x0f0f00000f0f0000ULL;
      for (std::size_t k = 0; k < 8; ++k)
        binary_pool_[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
    }
  }

  std::vector<std::uint8_t> text_pool_;
  std::vector<std::uint8_t> binary_pool_;
};

// ---------------------------------------------------------------------------------------------
class Deflater {
 public:
  Deflater() {
    if (deflateInit2(&z_, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      std::fprintf(stderr, "wsdiag_gen: deflateInit2 failed\n");
      std::exit(2);
    }
  }
  ~Deflater() { deflateEnd(&z_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  /// RFC 7692 §7.2.1: compress one message, sync-flush, drop the trailing 00 00 ff ff.
  void compress(std::span<const std::uint8_t> in, bool reset, std::vector<std::uint8_t>& out) {
    if (reset) deflateReset(&z_);
    out.resize(in.size() + in.size() / 8 + 64);
    z_.next_in = const_cast<Bytef*>(in.data());
    z_.avail_in = static_cast<uInt>(in.size());
    std::size_t used = 0;
    for (;;) {
      z_.next_out = out.data() + used;
      z_.avail_out = static_cast<uInt>(out.size() - used);
      if (deflate(&z_, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
        std::fprintf(stderr, "wsdiag_gen: deflate failed\n");
        std::exit(2);
      }
      used = out.size() - z_.avail_out;
      if (z_.avail_out != 0) break;
      out.resize(out.size() * 2);
    }
    if (used >= 4 && out[used - 4] == 0 && out[used - 3] == 0 && out[used - 2] == 0xff &&
        out[used - 1] == 0xff) {
      used -= 4;
    }
    out.resize(used);
  }

 private:
  z_stream z_{};
};

enum class Ending { close_1000, close_1001, close_1011, server_rst, idle };

enum class State { syn, request, response, open, pong_due, close_echo, tcp_close, done };

/// One direction of a connection: its host, its sequence space, and the bytes queued to send.
struct Side {
  Host host;
  std::uint32_t base_seq = 0;  // sequence number of pending[0]
  std::uint16_t ip_id = 0;
  std::vector<std::uint8_t> pending;
  std::size_t sent = 0;
  std::vector<std::size_t> frame_ends;  // offsets in pending where a frame ends
  std::size_t frames_done = 0;
  std::unique_ptr<Deflater> deflater;

  std::uint32_t seq_sent() const { return base_seq + static_cast<std::uint32_t>(sent); }
  bool has_pending() const { return sent < pending.size(); }
  void reset_pending() {
    base_seq += static_cast<std::uint32_t>(pending.size());
    pending.clear();
    sent = 0;
    frame_ends.clear();
    frames_done = 0;
  }
};

class Connection {
 public:
  Connection(World& w, std::uint64_t id) {
    Side& c = side_[0];
    Side& s = side_[1];
    const auto n = static_cast<std::uint32_t>(id + 1);
    c.host.ip = (10u << 24) | (n & 0xffffff);
    c.host.port = static_cast<std::uint16_t>(w.rng.range(32768, 60999));
    c.host.mac = {0x02,
                  0x00,
                  static_cast<std::uint8_t>(n >> 24),
                  static_cast<std::uint8_t>(n >> 16),
                  static_cast<std::uint8_t>(n >> 8),
                  static_cast<std::uint8_t>(n)};
    const auto srv = static_cast<std::uint32_t>(w.rng.below(4));
    s.host.ip = (192u << 24) | (0u << 16) | (2u << 8) | (10u + srv);
    s.host.port = srv < 2 ? 80 : 8080;
    s.host.mac = {0x02, 0x01, 0, 0, 0, static_cast<std::uint8_t>(10 + srv)};
    c.base_seq = w.rng.u32();
    s.base_seq = w.rng.u32();
    c.ip_id = static_cast<std::uint16_t>(w.rng.u32());
    s.ip_id = static_cast<std::uint16_t>(w.rng.u32());
    compressed_ = w.rng.chance(w.opt.compressed_share);
    no_context_takeover_ = compressed_ && w.rng.chance(0.3);
    subprotocol_ = w.rng.chance(0.3);
    msgs_left_ = w.opt.short_conns > 0 ? w.rng.range(1, 3) : w.rng.range(4, 60);
    const double e = w.rng.unit();
    ending_ = w.opt.short_conns > 0 ? Ending::close_1000
              : e < 0.55            ? Ending::close_1000
              : e < 0.75            ? Ending::close_1001
              : e < 0.80            ? Ending::close_1011
              : e < 0.95            ? Ending::server_rst
                                    : Ending::idle;
    ++w.stats.connections;
    if (compressed_) {
      ++w.stats.compressed;
      c.deflater = std::make_unique<Deflater>();
      s.deflater = std::make_unique<Deflater>();
    }
    for (auto& b : key_) b = static_cast<std::uint8_t>(w.rng.u32());
    path_id_ = static_cast<unsigned>(w.rng.below(1000));
  }

  /// Advances by one step (a few packets). Returns false once the connection has ended.
  bool step(World& w) {
    Side& c = side_[0];
    Side& s = side_[1];
    if (c.has_pending() || s.has_pending()) {
      const int d = (c.has_pending() && s.has_pending()) ? static_cast<int>(w.rng.below(2))
                    : c.has_pending()                    ? 0
                                                         : 1;
      send_window(w, d);
      return true;
    }
    c.reset_pending();
    s.reset_pending();
    switch (state_) {
      case State::syn: {
        w.out.tcp(w.tick(), c.host, s.host, c.ip_id++, c.base_seq, 0, kSyn, true, {});
        ++c.base_seq;
        w.out.tcp(w.tick(), s.host, c.host, s.ip_id++, s.base_seq, c.base_seq, kSyn | kAck, true,
                  {});
        ++s.base_seq;
        w.out.tcp(w.tick(), c.host, s.host, c.ip_id++, c.base_seq, s.base_seq, kAck, false, {});
        state_ = State::request;
        return true;
      }
      case State::request:
        queue_request();
        state_ = State::response;
        return true;
      case State::response:
        queue_response();
        state_ = State::open;
        return true;
      case State::pong_due:
        queue_control(w, pong_side_, 0xA, ping_payload_);
        state_ = State::open;
        return true;
      case State::open:
        if (msgs_left_ > 0) {
          open_action(w);
          return true;
        }
        return begin_ending(w);
      case State::close_echo: {
        const int echo_side = 1 - close_side_;
        queue_close(w, echo_side, close_code_, "");
        state_ = State::tcp_close;
        return true;
      }
      case State::tcp_close:
        tcp_close(w);
        state_ = State::done;
        return false;
      case State::done:
        return false;
    }
    return false;
  }

 private:
  void queue_request() {
    std::array<unsigned char, 32> b64{};
    const int n = EVP_EncodeBlock(b64.data(), key_.data(), static_cast<int>(key_.size()));
    key_b64_.assign(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
    const Side& s = side_[1];
    std::string req;
    req.reserve(512);
    req += "GET /chat?room=" + std::to_string(path_id_) + " HTTP/1.1\r\n";
    req += "Host: ws" + std::to_string(s.host.ip & 0xff) + ".example.test";
    if (s.host.port != 80) req += ":" + std::to_string(s.host.port);
    req += "\r\nUser-Agent: wsdiag-bench/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    req += "Sec-WebSocket-Key: " + key_b64_ + "\r\nSec-WebSocket-Version: 13\r\n";
    req += "Origin: http://app.example.test\r\n";
    if (subprotocol_) req += "Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n";
    if (compressed_) {
      req += no_context_takeover_
                 ? "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                   "server_no_context_takeover\r\n"
                 : "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    }
    req += "\r\n";
    append_raw(0, req);
  }

  void queue_response() {
    std::string input = key_b64_;
    input += kGuid;
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    EVP_Digest(input.data(), input.size(), md.data(), &md_len, EVP_sha1(), nullptr);
    std::array<unsigned char, 32> b64{};
    const int n = EVP_EncodeBlock(b64.data(), md.data(), static_cast<int>(md_len));
    std::string resp =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    resp += "Sec-WebSocket-Accept: ";
    resp.append(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
    resp += "\r\n";
    if (subprotocol_) resp += "Sec-WebSocket-Protocol: chat.v2\r\n";
    if (compressed_) {
      resp += no_context_takeover_
                  ? "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                    "server_no_context_takeover\r\n"
                  : "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    }
    resp += "\r\n";
    append_raw(1, resp);
  }

  void append_raw(int d, std::string_view text) {
    auto& p = side_[d].pending;
    p.insert(p.end(), text.begin(), text.end());
  }

  void open_action(World& w) {
    if (w.rng.chance(0.03)) {
      const int d = static_cast<int>(w.rng.below(2));
      ping_payload_.clear();
      const std::size_t n = w.rng.range(0, 16);
      for (std::size_t i = 0; i < n; ++i) {
        ping_payload_.push_back(static_cast<std::uint8_t>('a' + w.rng.below(26)));
      }
      queue_control(w, d, 0x9, ping_payload_);
      pong_side_ = 1 - d;
      state_ = State::pong_due;
      ++w.stats.pings;
      return;
    }
    const int d = w.rng.chance(0.45) ? 0 : 1;
    queue_message(w, d);
    if (w.rng.chance(0.1)) queue_message(w, 1 - d);  // both ways at once
    --msgs_left_;
  }

  void queue_message(World& w, int d) {
    const bool big = w.rng.chance(w.opt.big_share);
    const bool text = w.rng.chance(0.7);
    const std::size_t len = big ? w.rng.range(2048, 65536) : w.rng.range(20, 200);
    if (text) {
      w.make_text(len, !big, w.message);
    } else {
      w.make_binary(len, w.message);
    }
    std::span<const std::uint8_t> payload = w.message;
    const bool compress = compressed_ && w.message.size() >= 64;
    if (compress) {
      side_[d].deflater->compress(w.message, no_context_takeover_, w.zbuf);
      payload = w.zbuf;
      ++w.stats.compressed_messages;
    }
    const std::size_t fragments = (big && w.rng.chance(0.1)) ? w.rng.range(2, 4) : 1;
    const std::size_t piece = payload.size() / fragments;
    std::size_t off = 0;
    for (std::size_t i = 0; i < fragments; ++i) {
      const bool last = i + 1 == fragments;
      const std::size_t n = last ? payload.size() - off : piece;
      const std::uint8_t opcode = i > 0 ? 0x0 : (text ? 0x1 : 0x2);
      append_frame(w, d, last, compress && i == 0, opcode, payload.subspan(off, n));
      off += n;
    }
    ++w.stats.messages;
  }

  void queue_control(World& w, int d, std::uint8_t opcode, std::span<const std::uint8_t> payload) {
    append_frame(w, d, true, false, opcode, payload);
  }

  void queue_close(World& w, int d, std::uint16_t code, std::string_view reason) {
    std::array<std::uint8_t, 64> p{};
    put_be16(p.data(), code);
    const std::size_t n = std::min(reason.size(), p.size() - 2);
    std::memcpy(p.data() + 2, reason.data(), n);
    append_frame(w, d, true, false, 0x8, std::span<const std::uint8_t>(p.data(), 2 + n));
  }

  void append_frame(World& w, int d, bool fin, bool rsv1, std::uint8_t opcode,
                    std::span<const std::uint8_t> payload) {
    Side& sd = side_[d];
    auto& p = sd.pending;
    const bool masked = d == 0;
    p.push_back(static_cast<std::uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode));
    const std::uint8_t mask_bit = masked ? 0x80 : 0;
    const std::size_t n = payload.size();
    if (n < 126) {
      p.push_back(static_cast<std::uint8_t>(mask_bit | n));
    } else if (n <= 0xffff) {
      p.push_back(static_cast<std::uint8_t>(mask_bit | 126));
      p.push_back(static_cast<std::uint8_t>(n >> 8));
      p.push_back(static_cast<std::uint8_t>(n));
    } else {
      p.push_back(static_cast<std::uint8_t>(mask_bit | 127));
      for (int k = 7; k >= 0; --k)
        p.push_back(static_cast<std::uint8_t>(std::uint64_t{n} >> (8 * k)));
    }
    if (masked) {
      const std::uint32_t key_word = w.rng.u32();
      const std::array<std::uint8_t, 4> key = {
          static_cast<std::uint8_t>(key_word >> 24), static_cast<std::uint8_t>(key_word >> 16),
          static_cast<std::uint8_t>(key_word >> 8), static_cast<std::uint8_t>(key_word)};
      p.insert(p.end(), key.begin(), key.end());
      const std::size_t at = p.size();
      p.resize(at + n);
      std::uint8_t* dst = p.data() + at;
      for (std::size_t i = 0; i < n; ++i)
        dst[i] = static_cast<std::uint8_t>(payload[i] ^ key[i & 3]);
    } else {
      p.insert(p.end(), payload.begin(), payload.end());
    }
    sd.frame_ends.push_back(p.size());
  }

  /// Sends up to kMaxSegmentsPerStep segments of side d's queued bytes; the peer ACKs every second
  /// segment and the last one, up to the highest in-order byte (a swapped pair leaves a hole
  /// first).
  void send_window(World& w, int d) {
    Side& a = side_[d];
    Side& b = side_[1 - d];
    struct Seg {
      std::size_t off;
      std::size_t len;
    };
    std::array<Seg, kMaxSegmentsPerStep> segs{};
    std::array<bool, kMaxSegmentsPerStep> emitted{};
    const std::size_t want = w.rng.range(1, kMaxSegmentsPerStep);
    std::size_t count = 0;
    std::size_t off = a.sent;
    while (count < want && off < a.pending.size()) {
      const std::size_t len = std::min(kMss, a.pending.size() - off);
      segs[count++] = {off, len};
      off += len;
    }
    const std::size_t end = off;
    std::array<std::size_t, kMaxSegmentsPerStep> order{};
    for (std::size_t i = 0; i < count; ++i) order[i] = i;
    for (std::size_t i = 0; i + 1 < count; ++i) {
      if (w.rng.chance(kSwapRate)) {
        std::swap(order[i], order[i + 1]);
        ++w.stats.swaps;
        ++i;
      }
    }
    std::size_t in_order = 0;  // segments delivered contiguously from the window start
    for (std::size_t k = 0; k < count; ++k) {
      const Seg& sg = segs[order[k]];
      const bool last = sg.off + sg.len == end;
      w.out.tcp(w.tick(), a.host, b.host, a.ip_id++,
                a.base_seq + static_cast<std::uint32_t>(sg.off), b.seq_sent(),
                static_cast<std::uint8_t>(kAck | (last ? kPsh : 0)), false,
                std::span<const std::uint8_t>(a.pending.data() + sg.off, sg.len));
      emitted[order[k]] = true;
      while (in_order < count && emitted[in_order]) ++in_order;
      if (k % 2 == 1 || k + 1 == count) {
        const std::size_t acked =
            in_order == 0 ? a.sent : segs[in_order - 1].off + segs[in_order - 1].len;
        w.out.tcp(w.tick(), b.host, a.host, b.ip_id++, b.seq_sent(),
                  a.base_seq + static_cast<std::uint32_t>(acked), kAck, false, {});
      }
    }
    a.sent = end;
    while (a.frames_done < a.frame_ends.size() && a.frame_ends[a.frames_done] <= a.sent) {
      ++a.frames_done;
      ++w.stats.frames;
    }
  }

  bool begin_ending(World& w) {
    switch (ending_) {
      case Ending::close_1000:
        close_side_ = w.rng.chance(0.6) ? 0 : 1;
        close_code_ = 1000;
        queue_close(w, close_side_, 1000, w.rng.chance(0.5) ? "bye" : "");
        ++w.stats.end_1000;
        break;
      case Ending::close_1001:
        close_side_ = 0;
        close_code_ = 1001;
        queue_close(w, 0, 1001, "page unloaded");
        ++w.stats.end_1001;
        break;
      case Ending::close_1011:
        close_side_ = 1;
        close_code_ = 1011;
        queue_close(w, 1, 1011, "internal error");
        ++w.stats.end_1011;
        break;
      case Ending::server_rst: {
        Side& c = side_[0];
        Side& s = side_[1];
        w.out.tcp(w.tick(), s.host, c.host, s.ip_id++, s.seq_sent(), c.seq_sent(), kRst | kAck,
                  false, {});
        ++w.stats.end_rst;
        state_ = State::done;
        return false;
      }
      case Ending::idle:
        ++w.stats.end_idle;  // goes quiet; still open when the capture ends
        state_ = State::done;
        return false;
    }
    state_ = State::close_echo;
    return true;
  }

  // RFC 6455 §7.1.1: the server closes TCP first, usually.
  void tcp_close(World& w) {
    const int first = w.rng.chance(0.85) ? 1 : 0;
    Side& f = side_[first];
    Side& o = side_[1 - first];
    w.out.tcp(w.tick(), f.host, o.host, f.ip_id++, f.seq_sent(), o.seq_sent(), kFin | kAck, false,
              {});
    ++f.base_seq;
    w.out.tcp(w.tick(), o.host, f.host, o.ip_id++, o.seq_sent(), f.seq_sent(), kFin | kAck, false,
              {});
    ++o.base_seq;
    w.out.tcp(w.tick(), f.host, o.host, f.ip_id++, f.seq_sent(), o.seq_sent(), kAck, false, {});
  }

  std::array<Side, 2> side_;
  State state_ = State::syn;
  Ending ending_ = Ending::close_1000;
  bool compressed_ = false;
  bool no_context_takeover_ = false;
  bool subprotocol_ = false;
  std::uint64_t msgs_left_ = 0;
  std::array<std::uint8_t, 16> key_{};
  std::string key_b64_;
  unsigned path_id_ = 0;
  std::vector<std::uint8_t> ping_payload_;
  int pong_side_ = 1;
  int close_side_ = 0;
  std::uint16_t close_code_ = 1000;
};

// ---------------------------------------------------------------------------------------------
[[noreturn]] void usage(const char* msg) {
  if (msg != nullptr) std::fprintf(stderr, "wsdiag_gen: %s\n", msg);
  std::fprintf(stderr,
               "usage: wsdiag_gen --size-mb N --seed S [--compressed-share 0.2] [--max-open 200] "
               "[--preset chat|syn-flood|short] [--connections N] OUT.pcap\n"
               "  --preset chat       2000 open connections, 30%% permessage-deflate, chat-sized\n"
               "                      messages only (the issue #15 workload)\n"
               "  --preset syn-flood  --connections N SYNs from distinct clients, never answered\n"
               "                      (default 1000000; --size-mb is ignored)\n"
               "  --preset short      --connections N short WebSocket connections (default\n"
               "                      1000000; handshake, 1-3 chat messages, Close and FIN both\n"
               "                      ways), at most --max-open (default 1000) at once; no\n"
               "                      compression; --size-mb is ignored\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage("missing value");
      return argv[++i];
    };
    char* endp = nullptr;
    if (a == "--size-mb") {
      const char* v = value();
      o.size_mb = std::strtod(v, &endp);
    } else if (a == "--seed") {
      const char* v = value();
      o.seed = std::strtoull(v, &endp, 10);
    } else if (a == "--compressed-share") {
      const char* v = value();
      o.compressed_share = std::strtod(v, &endp);
    } else if (a == "--max-open") {
      const char* v = value();
      o.max_open = static_cast<std::size_t>(std::strtoull(v, &endp, 10));
    } else if (a == "--preset") {
      const std::string_view v = value();
      if (v == "chat") {
        o.compressed_share = 0.3;
        o.max_open = 2000;
        o.big_share = 0;
      } else if (v == "syn-flood") {
        if (o.syn_flood == 0) o.syn_flood = o.short_conns > 0 ? o.short_conns : 1'000'000;
        o.short_conns = 0;
        o.size_mb = 1;  // not used
      } else if (v == "short") {
        if (o.short_conns == 0) o.short_conns = o.syn_flood > 0 ? o.syn_flood : 1'000'000;
        o.syn_flood = 0;
        o.compressed_share = 0;
        o.big_share = 0;
        o.max_open = 1000;
        o.size_mb = 1;  // not used
      } else {
        usage("unknown preset");
      }
    } else if (a == "--connections") {
      const char* v = value();
      // The count of whichever preset takes one (before or after --preset on the command line).
      (o.short_conns > 0 ? o.short_conns : o.syn_flood) = std::strtoull(v, &endp, 10);
    } else if (a == "-h" || a == "--help") {
      usage(nullptr);
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      usage("unknown option");
    } else {
      if (!o.out.empty()) usage("one output file");
      o.out = a;
    }
    if (endp != nullptr && *endp != '\0') usage("bad number");
  }
  if (o.out.empty()) usage("no output file");
  if (!(o.size_mb > 0)) usage("--size-mb must be positive");
  if (o.compressed_share < 0 || o.compressed_share > 1) usage("--compressed-share is 0..1");
  if (o.max_open == 0) usage("--max-open must be positive");
  return o;
}

/// Preset syn-flood: one SYN per client (10.x.y.z:port -> 192.0.2.10:80), none answered.
int syn_flood(const Options& opt, World& w, std::FILE* f) {
  Host srv;
  srv.ip = (192u << 24) | (2u << 8) | 10u;
  srv.port = 80;
  srv.mac = {0x02, 0x01, 0, 0, 0, 10};
  for (std::uint64_t i = 0; i < opt.syn_flood; ++i) {
    Host c;
    const auto n = static_cast<std::uint32_t>(i + 1);
    c.ip = (10u << 24) | (n & 0xffffff);
    c.port = static_cast<std::uint16_t>(32768 + (i >> 24));
    c.mac = {0x02, 0x00, 0, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
             static_cast<std::uint8_t>(n)};
    w.out.tcp(w.tick(), c, srv, static_cast<std::uint16_t>(n), w.rng.u32(), 0, kSyn, true, {});
  }
  w.out.flush();
  if (f != stdout && std::fclose(f) != 0) {
    std::fprintf(stderr, "wsdiag_gen: %s: %s\n", opt.out.c_str(), std::strerror(errno));
    return 2;
  }
  std::fprintf(stderr, "wsdiag_gen: %s: bytes %llu packets %llu syn-only connections %llu\n",
               opt.out.c_str(), static_cast<unsigned long long>(w.out.bytes()),
               static_cast<unsigned long long>(w.out.packets()),
               static_cast<unsigned long long>(opt.syn_flood));
  return 0;
}

int run(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  std::FILE* f = opt.out == "-" ? stdout : std::fopen(opt.out.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "wsdiag_gen: %s: %s\n", opt.out.c_str(), std::strerror(errno));
    return 2;
  }
  const auto target = static_cast<std::uint64_t>(opt.size_mb * 1e6);
  auto w = std::make_unique<World>(opt, f);
  if (opt.syn_flood > 0) return syn_flood(opt, *w, f);
  std::vector<std::unique_ptr<Connection>> open;
  open.reserve(opt.max_open);
  std::uint64_t next_id = 0;
  // Preset short: a count of connections, each played to its end; else a size in bytes.
  auto more = [&] {
    return opt.short_conns > 0 ? next_id < opt.short_conns || !open.empty()
                               : w->out.bytes() < target;
  };
  auto may_open = [&] { return opt.short_conns == 0 || next_id < opt.short_conns; };
  while (more()) {
    if (open.size() < opt.max_open && may_open() && (open.empty() || w->rng.chance(0.25))) {
      open.push_back(std::make_unique<Connection>(*w, next_id++));
    }
    const std::size_t i = w->rng.below(open.size());
    if (!open[i]->step(*w)) {
      open[i] = std::move(open.back());
      open.pop_back();
    }
  }
  w->out.flush();
  if (f != stdout && std::fclose(f) != 0) {
    std::fprintf(stderr, "wsdiag_gen: %s: %s\n", opt.out.c_str(), std::strerror(errno));
    return 2;
  }
  const Stats& s = w->stats;
  std::fprintf(
      stderr,
      "wsdiag_gen: %s: bytes %llu packets %llu connections %llu (compressed %llu) "
      "open_at_end %llu messages %llu (compressed %llu) frames %llu pings %llu swaps %llu "
      "endings 1000:%llu 1001:%llu 1011:%llu rst:%llu idle:%llu\n",
      opt.out.c_str(), static_cast<unsigned long long>(w->out.bytes()),
      static_cast<unsigned long long>(w->out.packets()),
      static_cast<unsigned long long>(s.connections), static_cast<unsigned long long>(s.compressed),
      static_cast<unsigned long long>(open.size() + s.end_idle),
      static_cast<unsigned long long>(s.messages),
      static_cast<unsigned long long>(s.compressed_messages),
      static_cast<unsigned long long>(s.frames), static_cast<unsigned long long>(s.pings),
      static_cast<unsigned long long>(s.swaps), static_cast<unsigned long long>(s.end_1000),
      static_cast<unsigned long long>(s.end_1001), static_cast<unsigned long long>(s.end_1011),
      static_cast<unsigned long long>(s.end_rst), static_cast<unsigned long long>(s.end_idle));
  return 0;
}

}  // namespace
}  // namespace wsdiag::bench

int main(int argc, char** argv) { return wsdiag::bench::run(argc, argv); }
