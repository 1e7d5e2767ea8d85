// Helpers shared by the [session] tests: a WebSocket frame builder (RFC 6455 §5.2, with
// non-minimal and MSB-set lengths on request), the opening handshake texts (§4.1, §4.2.2) and a
// conversation harness that drives a real flow::FlowTable + session::Analyzer with TCP segments,
// so the TCP end facts (FIN, RST, open) reach summarize() the way they do in the pipeline.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "wsdiag/common/limits.h"
#include "wsdiag/common/types.h"
#include "wsdiag/decode/decoder.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/flow/flow_table.h"
#include "wsdiag/http/handshake.h"
#include "wsdiag/session/ws_session.h"

namespace wsdiag::session::test {

// ------------------------------------------------------------------------------------------------
// Frames

enum class LenEnc : std::uint8_t { minimal, ext16, ext64 };

/// One frame to encode. Byte strings are std::string (binary-safe).
struct Frame {
  std::uint8_t op = 0x1;
  std::string payload;
  bool fin = true;
  std::uint8_t rsv = 0;  ///< 3-bit value, RSV1 = 4
  bool masked = false;
  std::array<std::uint8_t, 4> key{0x37, 0xFA, 0x21, 0x3D};
  LenEnc len = LenEnc::minimal;
  bool msb = false;  ///< set the most significant bit of a 64-bit length (forces ext64)

  Frame& set_fin(bool v) { fin = v; return *this; }
  Frame& set_rsv(std::uint8_t v) { rsv = v; return *this; }
  Frame& set_masked(bool v) { masked = v; return *this; }
  Frame& set_len(LenEnc v) { len = v; return *this; }
  Frame& set_msb() { msb = true; len = LenEnc::ext64; return *this; }

  /// The frame on the wire (the payload masked with `key` when `masked`).
  [[nodiscard]] std::string bytes() const {
    std::string out;
    out.push_back(static_cast<char>((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (op & 0x0F)));
    const std::uint64_t n = payload.size();
    LenEnc enc = len;
    if (enc == LenEnc::minimal) enc = n <= 125 ? LenEnc::minimal : (n <= 0xFFFF ? LenEnc::ext16 : LenEnc::ext64);
    const int m = masked ? 0x80 : 0;
    if (enc == LenEnc::minimal) {
      out.push_back(static_cast<char>(m | static_cast<int>(n)));
    } else if (enc == LenEnc::ext16) {
      out.push_back(static_cast<char>(m | 126));
      out.push_back(static_cast<char>((n >> 8) & 0xFF));
      out.push_back(static_cast<char>(n & 0xFF));
    } else {
      out.push_back(static_cast<char>(m | 127));
      const std::uint64_t v = msb ? (n | (1ull << 63)) : n;
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
    if (masked) {
      for (auto k : key) out.push_back(static_cast<char>(k));
    }
    for (std::size_t i = 0; i < payload.size(); ++i) {
      const auto b = static_cast<std::uint8_t>(payload[i]);
      out.push_back(static_cast<char>(masked ? (b ^ key[i % 4]) : b));
    }
    return out;
  }
};

/// A client frame (masked), as every client frame must be.
inline Frame cf(std::uint8_t op, std::string payload = {}) {
  Frame f;
  f.op = op;
  f.payload = std::move(payload);
  f.masked = true;
  return f;
}
/// A server frame (unmasked).
inline Frame sf(std::uint8_t op, std::string payload = {}) {
  Frame f;
  f.op = op;
  f.payload = std::move(payload);
  return f;
}
/// A Close payload: 2-byte code + reason.
inline std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason);
  return p;
}

// ------------------------------------------------------------------------------------------------
// Opening handshake

inline constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";

struct HandshakeOpts {
  bool offer_deflate = false;
  bool accept_deflate = false;
  std::string accept;           ///< Sec-WebSocket-Accept; empty = the correct value
  int status = 101;
  bool drop_version = false;    ///< leave out Sec-WebSocket-Version
};

inline std::string upgrade_request(const HandshakeOpts& o = {}) {
  std::string r =
      "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: ";
  r.append(kKey);
  r.append("\r\n");
  if (!o.drop_version) r.append("Sec-WebSocket-Version: 13\r\n");
  if (o.offer_deflate) r.append("Sec-WebSocket-Extensions: permessage-deflate\r\n");
  r.append("\r\n");
  return r;
}

inline std::string upgrade_response(const HandshakeOpts& o = {}) {
  if (o.status != 101) {
    return "HTTP/1.1 " + std::to_string(o.status) + " Forbidden\r\nContent-Length: 0\r\n\r\n";
  }
  std::string r = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  r.append("Sec-WebSocket-Accept: ");
  r.append(o.accept.empty() ? http::compute_accept(kKey) : o.accept);
  r.append("\r\n");
  if (o.accept_deflate) r.append("Sec-WebSocket-Extensions: permessage-deflate\r\n");
  r.append("\r\n");
  return r;
}

// ------------------------------------------------------------------------------------------------
// Conversation harness: client 10.0.0.1:40000, server 10.0.0.2:8080, TCP handshake seen.

inline Endpoint endpoint(std::uint8_t last_octet, std::uint16_t port) {
  Endpoint e;
  e.addr.family = 4;
  e.addr.bytes = {10, 0, 0, last_octet};
  e.port = port;
  return e;
}

struct Collect : Analyzer::Output {
  std::vector<diag::ConnectionSummary> out;
  void on_connection(diag::ConnectionSummary&& s) override { out.push_back(std::move(s)); }
};

class Conv {
 public:
  static constexpr Dir C = Dir::c2s;
  static constexpr Dir S = Dir::s2c;

  /// A capture that starts after the TCP handshake (no SYN seen): the mid-stream case.
  struct Midstream {};
  explicit Conv(Midstream, SessionOptions opt = {})
      : analyzer_(limits_, opt, collect_), table_(limits_, analyzer_) {
    seq_[0] += 1;
    seq_[1] += 1;
  }
  explicit Conv(SessionOptions opt = {}, Limits limits = {})
      : limits_(limits), analyzer_(limits_, opt, collect_), table_(limits_, analyzer_) {
    namespace tf = decode::tcp_flag;
    segment(C, tf::syn, {});
    seq_[0] += 1;
    segment(S, tf::syn | tf::ack, {});
    seq_[1] += 1;
    segment(C, tf::ack, {});
  }

  /// One TCP segment carrying `payload` from `d`; returns its packet.
  PacketRef send(Dir d, std::string_view payload) {
    namespace tf = decode::tcp_flag;
    const PacketRef at = segment(d, tf::ack | tf::psh, payload);
    seq_[static_cast<int>(d)] += static_cast<std::uint32_t>(payload.size());
    return at;
  }
  PacketRef send(Dir d, const Frame& f) { return send(d, f.bytes()); }
  /// `payload` in segments of at most `piece` bytes; returns the last packet.
  PacketRef send_pieces(Dir d, std::string_view payload, std::size_t piece) {
    PacketRef at{};
    for (std::size_t i = 0; i < payload.size(); i += piece) at = send(d, payload.substr(i, piece));
    return at;
  }
  /// Upgrade request, then the response (101 by default).
  void open(const HandshakeOpts& o = {}) {
    send(C, upgrade_request(o));
    send(S, upgrade_response(o));
  }
  PacketRef fin(Dir d) {
    namespace tf = decode::tcp_flag;
    const PacketRef at = segment(d, tf::ack | tf::fin, {});
    seq_[static_cast<int>(d)] += 1;
    return at;
  }
  PacketRef rst(Dir d) {
    namespace tf = decode::tcp_flag;
    return segment(d, tf::rst | tf::ack, {});
  }
  /// A bare ACK from `d` (time passes, nothing else).
  PacketRef ack(Dir d) {
    namespace tf = decode::tcp_flag;
    return segment(d, tf::ack, {});
  }
  /// A segment from `d` the capture missed: its sequence space is used, nothing is processed
  /// (the peer's next ACK reveals the hole as a capture gap).
  void lose(Dir d, std::string_view payload) { seq_[static_cast<int>(d)] += static_cast<std::uint32_t>(payload.size()); }
  /// Lets capture time pass before the next packet.
  void wait_ns(std::int64_t ns) { t_ += ns; }
  /// The packet the next segment will be.
  [[nodiscard]] std::uint64_t next_packet() const { return n_ + 1; }

  /// End of capture: the one connection's summary.
  diag::ConnectionSummary finish() {
    table_.finish(PacketRef{n_, t_});
    if (collect_.out.size() != 1) throw std::runtime_error("expected exactly one finalised connection");
    return std::move(collect_.out.front());
  }

 private:
  PacketRef segment(Dir d, std::uint8_t flags, std::string_view payload) {
    keep_.assign(payload.begin(), payload.end());
    decode::TcpSegment s;
    s.src = d == C ? client_ : server_;
    s.dst = d == C ? server_ : client_;
    s.flags = flags;
    s.seq = seq_[static_cast<int>(d)];
    s.ack = (flags & decode::tcp_flag::ack) != 0 ? seq_[1 - static_cast<int>(d)] : 0;
    s.window = 65535;
    s.payload = Bytes(keep_.data(), keep_.size());
    s.payload_wire_len = static_cast<std::uint32_t>(keep_.size());
    t_ += 1'000'000;  // 1 ms per packet
    const PacketRef at{++n_, t_};
    table_.process(s, at);
    return at;
  }

  Limits limits_;
  Collect collect_;
  Analyzer analyzer_;
  flow::FlowTable table_;
  Endpoint client_ = endpoint(1, 40000);
  Endpoint server_ = endpoint(2, 8080);
  std::uint32_t seq_[2] = {1000, 500000};
  std::uint64_t n_ = 0;
  std::int64_t t_ = 1'700'000'000'000'000'000;
  std::vector<std::uint8_t> keep_;
};

/// The polite ending: the client sends Close 1000, the server echoes it, the server closes TCP
/// first (RFC 6455 §7.1.1), then the client.
inline void close_normally(Conv& c) {
  c.send(Conv::C, cf(0x8, close_payload(1000)));
  c.send(Conv::S, sf(0x8, close_payload(1000)));
  c.fin(Conv::S);
  c.fin(Conv::C);
}

/// Handshake, `body`, the polite ending; the summary.
template <typename Body>
diag::ConnectionSummary conversation(Body&& body, const HandshakeOpts& o = {}) {
  Conv c;
  c.open(o);
  body(c);
  close_normally(c);
  return c.finish();
}

// ------------------------------------------------------------------------------------------------
// Looking at summaries

/// Occurrences of `rule` from `side` (0 if absent).
inline std::uint64_t count_of(const diag::ConnectionSummary& s, diag::RuleId rule, diag::Side side) {
  for (const auto& f : s.findings) {
    if (f.rule == rule && f.side == side) return f.count;
  }
  return 0;
}

/// The finding of `rule` from `side`, or nullptr.
inline const diag::Finding* finding(const diag::ConnectionSummary& s, diag::RuleId rule, diag::Side side) {
  for (const auto& f : s.findings) {
    if (f.rule == rule && f.side == side) return &f;
  }
  return nullptr;
}

/// "rule-name/side xcount" per finding, for readable failure messages.
inline std::string describe(const diag::ConnectionSummary& s) {
  std::string out;
  for (const auto& f : s.findings) {
    if (!out.empty()) out += "; ";
    out += std::string(diag::rule_info(f.rule).name) + "/" + diag::to_string(f.side) + " x" +
           std::to_string(f.count) + " @" + std::to_string(f.at.index) + " (" + f.message + ")";
  }
  return out.empty() ? "(no findings)" : out;
}

/// Exactly one finding: `rule` from `side`, first at `at`, `count` times.
inline void expect_only(const diag::ConnectionSummary& s, diag::RuleId rule, diag::Side side, PacketRef at,
                        std::uint64_t count = 1) {
  INFO("findings: " << describe(s));
  REQUIRE(s.findings.size() == 1);
  CHECK(s.findings[0].rule == rule);
  CHECK(s.findings[0].side == side);
  CHECK(s.findings[0].at.index == at.index);
  CHECK(s.findings[0].count == count);
}

/// No findings at all.
inline void expect_clean(const diag::ConnectionSummary& s) {
  INFO("findings: " << describe(s));
  CHECK(s.findings.empty());
}

}  // namespace wsdiag::session::test
