// wsdiag_hostile_gen — writes the hostile-volume captures of tests/fuzz/hostile.sh.
//
//   wsdiag_hostile_gen SCENARIO N OUT.pcap
//
// Scenarios (classic pcap, Ethernet, IPv4, microsecond timestamps 10 us apart; checksums are left
// zero: wsdiag does not verify them, capture offload makes them wrong anyway):
//   syn-flood     one WebSocket connection opens (handshake, a message), then N SYNs from N
//                 distinct client endpoints to the same server port, then the WebSocket connection
//                 carries another message and closes with 1000. Past --max-connections the
//                 least recently active connection is evicted: the WebSocket one among them.
//   gaps          N WebSocket connections, all open at once; each client sends one masked 200-byte
//                 text message whose 10th payload byte is never captured (the bytes after it wait
//                 in the out-of-order store), then the server acknowledges everything (capture loss)
//                 and both close with 1000.
//   deflate-bomb  N permessage-deflate connections, all open at once; each server sends one
//                 compressed message that inflates to 65 MiB of one byte (about 64 KB on the wire),
//                 then both close with 1000.
//   fragments     N IPv4 first fragments (MF set, offset 0, 64 bytes) of N distinct datagrams that
//                 never complete, with one WebSocket connection running through them.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kPsh = 0x08, kAck = 0x10;

class Writer {
 public:
  explicit Writer(const char* path) : f_(std::fopen(path, "wb")) {
    if (f_ == nullptr) {
      std::perror(path);
      std::exit(2);
    }
    const std::uint32_t hdr[6] = {0xA1B2C3D4u, 0x00040002u, 0, 0, 262144, 1};
    std::fwrite(hdr, sizeof hdr, 1, f_);
  }
  ~Writer() { std::fclose(f_); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// One Ethernet frame around an IPv4 packet (protocol TCP) carrying `l4`; `frag_field` is the
  /// flags + fragment offset field (0x4000: don't fragment).
  void ipv4(std::uint32_t src, std::uint32_t dst, const std::vector<std::uint8_t>& l4, std::uint16_t id,
            std::uint16_t frag_field) {
    buf_.clear();
    const std::uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    buf_.insert(buf_.end(), eth, eth + 14);
    const std::size_t total = 20 + l4.size();
    const std::uint8_t ip[20] = {0x45, 0, static_cast<std::uint8_t>(total >> 8), static_cast<std::uint8_t>(total),
                                 static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id),
                                 static_cast<std::uint8_t>(frag_field >> 8), static_cast<std::uint8_t>(frag_field),
                                 64, 6, 0, 0,
                                 static_cast<std::uint8_t>(src >> 24), static_cast<std::uint8_t>(src >> 16),
                                 static_cast<std::uint8_t>(src >> 8), static_cast<std::uint8_t>(src),
                                 static_cast<std::uint8_t>(dst >> 24), static_cast<std::uint8_t>(dst >> 16),
                                 static_cast<std::uint8_t>(dst >> 8), static_cast<std::uint8_t>(dst)};
    buf_.insert(buf_.end(), ip, ip + 20);
    buf_.insert(buf_.end(), l4.begin(), l4.end());
    record();
  }

 private:
  void record() {
    us_ += 10;
    const std::uint32_t rec[4] = {static_cast<std::uint32_t>(1'700'000'000 + us_ / 1'000'000),
                                  static_cast<std::uint32_t>(us_ % 1'000'000), static_cast<std::uint32_t>(buf_.size()),
                                  static_cast<std::uint32_t>(buf_.size())};
    std::fwrite(rec, sizeof rec, 1, f_);
    std::fwrite(buf_.data(), 1, buf_.size(), f_);
  }
  std::FILE* f_;
  std::vector<std::uint8_t> buf_;
  std::uint64_t us_ = 0;
};

void put16(std::vector<std::uint8_t>& v, std::uint32_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}
void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  put16(v, x >> 16);
  put16(v, x & 0xFFFF);
}

/// One TCP connection between two endpoints, sequence numbers tracked per side.
struct Conn {
  std::uint32_t ip[2];
  std::uint16_t port[2];
  std::uint32_t next[2] = {1000, 500000};  // next sequence number per side

  void seg(Writer& w, int side, std::uint8_t flags, std::string_view payload = {}, std::uint32_t skip = 0) {
    std::vector<std::uint8_t> t;
    put16(t, port[side]);
    put16(t, port[1 - side]);
    put32(t, next[side] + skip);
    put32(t, (flags & kAck) != 0 ? next[1 - side] : 0);
    t.push_back(0x50);
    t.push_back(flags);
    put16(t, 65535);
    put32(t, 0);  // checksum, urgent pointer
    t.insert(t.end(), payload.begin(), payload.end());
    w.ipv4(ip[side], ip[1 - side], t, 0, 0x4000);
    next[side] += skip + static_cast<std::uint32_t>(payload.size()) + ((flags & (kSyn | kFin)) != 0 ? 1 : 0);
  }
  void open(Writer& w) {
    seg(w, 0, kSyn);
    seg(w, 1, kSyn | kAck);
    seg(w, 0, kAck);
  }
  void handshake(Writer& w, bool deflate) {
    std::string req =
        "GET /chat HTTP/1.1\r\nHost: server\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    std::string resp =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
    if (deflate) {
      req += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
      resp += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    }
    seg(w, 0, kAck | kPsh, req + "\r\n");
    seg(w, 1, kAck | kPsh, resp + "\r\n");
  }
  void close(Writer& w) {
    seg(w, 0, kAck | kPsh, frame(0x88, "\x03\xe8", true));
    seg(w, 1, kAck | kPsh, frame(0x88, "\x03\xe8", false));
    seg(w, 1, kAck | kFin);
    seg(w, 0, kAck | kFin);
    seg(w, 1, kAck);
  }
  static std::string frame(std::uint8_t b0, std::string_view payload, bool masked) {
    std::string f(1, static_cast<char>(b0));
    const std::size_t n = payload.size();
    const char m = masked ? static_cast<char>(0x80) : 0;
    if (n < 126) {
      f += static_cast<char>(m | static_cast<char>(n));
    } else if (n < 65536) {
      f += static_cast<char>(m | 126);
      f += static_cast<char>(n >> 8);
      f += static_cast<char>(n);
    } else {
      f += static_cast<char>(m | 127);
      for (int i = 7; i >= 0; --i) f += static_cast<char>(static_cast<std::uint64_t>(n) >> (8 * i));
    }
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked) f.append(key, 4);
    for (std::size_t i = 0; i < n; ++i) f += masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i];
    return f;
  }
  /// Sends `bytes` in segments of at most 1448 bytes.
  void send(Writer& w, int side, std::string_view bytes) {
    for (std::size_t at = 0; at < bytes.size(); at += 1448) seg(w, side, kAck | kPsh, bytes.substr(at, 1448));
  }
};

Conn conn_number(std::uint32_t i) {
  Conn c;
  c.ip[0] = 0x0A000000u | (1u + (i >> 14));      // 10.0.x.y, a new client address every 16384
  c.ip[1] = 0xC0A80001u;                          // 192.168.0.1
  c.port[0] = static_cast<std::uint16_t>(1024 + (i & 0x3FFF));
  c.port[1] = 8080;
  return c;
}

std::string deflate_bomb() {
  // 65 MiB of 'A', raw DEFLATE with a sync flush, the 00 00 ff ff tail removed (RFC 7692 §7.2.1).
  const std::string plain(65u << 20, 'A');
  std::vector<std::uint8_t> out(compressBound(static_cast<uLong>(plain.size())) + 64);
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_SYNC_FLUSH);
  const std::size_t n = out.size() - z.avail_out;
  deflateEnd(&z);
  return std::string(reinterpret_cast<const char*>(out.data()), n - 4);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: wsdiag_hostile_gen syn-flood|gaps|deflate-bomb|fragments N OUT.pcap\n");
    return 2;
  }
  const std::string_view scenario = argv[1];
  const auto n = static_cast<std::uint32_t>(std::strtoul(argv[2], nullptr, 10));
  Writer w(argv[3]);
  if (scenario == "syn-flood") {
    Conn ws = conn_number(0);
    ws.ip[0] = 0x0AFF0001u;
    ws.open(w);
    ws.handshake(w, false);
    ws.seg(w, 0, kAck | kPsh, Conn::frame(0x81, "before the flood", true));
    for (std::uint32_t i = 0; i < n; ++i) conn_number(i).seg(w, 0, kSyn);
    ws.seg(w, 0, kAck | kPsh, Conn::frame(0x81, "after the flood", true));
    ws.close(w);
  } else if (scenario == "gaps") {
    std::string text(200, 'x');
    for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
    const std::string msg = Conn::frame(0x81, text, true);  // 2 + 4 + 200 bytes
    std::vector<Conn> conns;
    conns.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      conns.push_back(conn_number(i));
      conns.back().open(w);
      conns.back().handshake(w, false);
    }
    for (auto& c : conns) {
      // header, mask key and 9 payload bytes; the 10th byte is never captured; the rest waits
      c.seg(w, 0, kAck | kPsh, std::string_view(msg).substr(0, 15));
      c.seg(w, 0, kAck | kPsh, std::string_view(msg).substr(16), 1);
    }
    for (auto& c : conns) {
      c.seg(w, 1, kAck);  // acknowledges the lost byte: capture loss
      c.close(w);
    }
  } else if (scenario == "deflate-bomb") {
    const std::string bomb = Conn::frame(0xC2, deflate_bomb(), false);
    std::vector<Conn> conns;
    conns.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      conns.push_back(conn_number(i));
      conns.back().open(w);
      conns.back().handshake(w, true);
    }
    for (auto& c : conns) c.send(w, 1, bomb);
    for (auto& c : conns) {
      c.seg(w, 0, kAck);
      c.close(w);
    }
  } else if (scenario == "fragments") {
    Conn ws = conn_number(0);
    ws.ip[0] = 0x0AFF0001u;
    ws.open(w);
    ws.handshake(w, false);
    std::vector<std::uint8_t> body(64, 0x5A);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (i == n / 2) ws.seg(w, 0, kAck | kPsh, Conn::frame(0x81, "among the fragments", true));
      // MF set, offset 0: the first fragment of a datagram whose rest never comes
      w.ipv4(0x0B000000u | (i >> 16), 0xC0A80001u, body, static_cast<std::uint16_t>(i), 0x2000);
    }
    ws.close(w);
  } else {
    std::fprintf(stderr, "wsdiag_hostile_gen: unknown scenario %s\n", argv[1]);
    return 2;
  }
  return 0;
}
