// Fuzz target "conversation": a scripted TCP conversation (both directions, any segmentation,
// capture gaps, reordering, retransmissions, FIN, RST, time passing) through flow::FlowTable and the
// WebSocket session (http -> ws -> session -> diag), each connection's summary rendered as JSON and
// as the detailed text block. No capture file or IP layer: segments are built directly, so the
// fuzzer spends its time on stream and session states.
//
// Input: byte 0 flags (bit 0: open with SYN, SYN-ACK, ACK; bit 1: tiny limits; bit 2: --ws-port on
// the server port), bytes 1-4 and 5-8 the client's and server's ISN (sequence wrap included), then
// steps. A step is one byte: bit 0 the side (0 client, 1 server), bits 1-3 the kind, bits 4-7 a
// parameter; data-carrying kinds then take a u16le length and the bytes:
//   0 data          sent in segments of kSegSizes[param] bytes
//   1 gap + data    param+1 bytes never captured (acknowledged later by the peer), then data
//   2 data + FIN    (FIN alone with no bytes)
//   3 RST
//   4 pure ACK      of everything the peer sent
//   5 retransmit    the side's last data segment again
//   6 reordered     data whose segments go on the wire last first
//   7 time passes   (param+1) * 400 ms (linger and idle timeouts)
// Every segment acknowledges everything the peer has sent so far (capture gaps included), as a
// real receiver would; timestamps advance 1 ms per scripted segment (its 1-byte pieces share it).
//
// Check beyond the sanitizers (when the TCP handshake opens the conversation, nothing is lost and
// the default limits apply): the same conversation with every data segment cut into 1-byte segments
// gives the same verdict, close, frames and messages per side and the same (rule, side) findings.
// A diagnosis must not depend on how TCP cut the bytes. Not compared: a connection where framing
// was lost and the scripted run skipped bytes before a segment start where a frame plausibly
// started (DirCounters::resync_skipped), or where either run looked for the frame after a header of
// impossible length (doubtful_length_segments): segment starts are the candidates, and they are the
// cuts. (WSDIAG_FUZZ_IGNORE=error-prefix: message
// byte counts are not compared on a connection with an inflate error; see fuzz_input.h.)
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_input.h"
#include "wsdiag/decode/decoder.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/flow/flow_table.h"
#include "wsdiag/report/report.h"
#include "wsdiag/session/ws_session.h"

namespace {

using namespace wsdiag;
namespace tf = decode::tcp_flag;

constexpr std::array<std::size_t, 16> kSegSizes = {1, 2, 3, 5, 7, 13, 16, 31, 64, 100, 128, 536, 1024, 1448, 4096, 65535};

struct WireSeg {
  int dir = 0;
  std::uint8_t flags = 0;
  std::uint64_t off = 0;       // stream offset of the first payload byte (relative to ISN+1)
  std::size_t data = 0;        // offset into the script's byte store
  std::size_t len = 0;
  std::int64_t extra_ns = 0;   // time that passes before this segment
  std::uint64_t ack_off[2] = {0, 0};  // what each side had sent when this segment left (for ACKs)
};

struct Script {
  std::uint8_t flags = 0;
  std::uint32_t isn[2] = {0, 0};
  std::vector<std::uint8_t> store;  // all payload bytes, segments point into it
  std::vector<WireSeg> segs;
  bool lossless = true;
};

Script build(wsdiag::fuzz::FuzzInput& in) {
  Script s;
  s.flags = in.u8();
  s.isn[0] = in.u32();
  s.isn[1] = in.u32();
  std::uint64_t sent[2] = {0, 0};  // stream bytes each side has sent (skipped ones included)
  bool fin[2] = {false, false};
  std::int64_t pending_ns = 0;
  auto push = [&](int dir, std::uint8_t flags, std::uint64_t off, std::size_t data, std::size_t len) {
    WireSeg w;
    w.dir = dir;
    w.flags = flags;
    w.off = off;
    w.data = data;
    w.len = len;
    w.extra_ns = pending_ns;
    pending_ns = 0;
    w.ack_off[0] = sent[0] + (fin[0] ? 1 : 0);
    w.ack_off[1] = sent[1] + (fin[1] ? 1 : 0);
    s.segs.push_back(w);
  };
  if ((s.flags & 1) != 0) {
    push(0, tf::syn, 0, 0, 0);
    push(1, tf::syn | tf::ack, 0, 0, 0);
    push(0, tf::ack, 0, 0, 0);
  }
  for (int steps = 0; !in.empty() && steps < 512 && s.segs.size() < 20000; ++steps) {
    const std::uint8_t op = in.u8();
    const int dir = op & 1;
    const int kind = (op >> 1) & 7;
    const int param = op >> 4;
    if (kind == 0 || kind == 1 || kind == 2 || kind == 6) {
      const auto bytes = in.bytes(in.u16());
      if (kind == 1) {
        sent[dir] += static_cast<std::uint64_t>(param) + 1;
        s.lossless = false;
      }
      const std::size_t base = s.store.size();
      s.store.insert(s.store.end(), bytes.begin(), bytes.end());
      const std::size_t seg = kind == 0 ? kSegSizes[static_cast<std::size_t>(param)] : 1448;
      std::vector<WireSeg> pieces;
      const std::size_t first = s.segs.size();
      for (std::size_t at = 0; at < bytes.size(); at += seg) {
        const std::size_t n = std::min(seg, bytes.size() - at);
        push(dir, tf::ack | tf::psh, sent[dir] + at, base + at, n);
      }
      sent[dir] += bytes.size();
      if (kind == 6) std::reverse(s.segs.begin() + static_cast<std::ptrdiff_t>(first), s.segs.end());
      if (kind == 2) {
        push(dir, tf::ack | tf::fin, sent[dir], 0, 0);
        fin[dir] = true;
      }
    } else if (kind == 3) {
      push(dir, tf::rst | tf::ack, sent[dir] + (fin[dir] ? 1 : 0), 0, 0);
    } else if (kind == 4) {
      push(dir, tf::ack, sent[dir] + (fin[dir] ? 1 : 0), 0, 0);
    } else if (kind == 5) {
      for (auto it = s.segs.rbegin(); it != s.segs.rend(); ++it) {
        if (it->dir == dir && it->len != 0) {
          WireSeg again = *it;
          again.extra_ns = 0;
          s.segs.push_back(again);
          break;
        }
      }
    } else {
      pending_ns += (static_cast<std::int64_t>(param) + 1) * 400'000'000;
    }
  }
  return s;
}

struct Collect : session::Analyzer::Output {
  std::vector<report::ConnReport> conns;
  void on_connection(diag::ConnectionSummary&& s) override {
    report::ConnReport c;
    if (s.websocket) c.verdict = diag::diagnose(s);
    c.summary = std::move(s);
    conns.push_back(std::move(c));
  }
};

struct Frames : session::FrameListener {
  std::uint64_t n = 0;
  void on_frame(const session::FrameRecord& f) override {
    n += report::frame_line(f, f.text_preview).size() != 0 ? 1 : 0;
  }
};

std::vector<report::ConnReport> run(const Script& s, bool one_byte_segments, const Limits& limits) {
  Collect out;
  Frames frames;
  session::SessionOptions sopt;
  sopt.frames = &frames;
  const Endpoint ep[2] = {Endpoint{IpAddr{4, {10, 0, 0, 1}}, 40000}, Endpoint{IpAddr{4, {10, 0, 0, 2}}, 8080}};
  if ((s.flags & 4) != 0) sopt.ws_ports.add(8080, 8080);
  session::Analyzer analyzer(limits, sopt, out);
  flow::FlowTable flows(limits, analyzer);
  std::uint64_t index = 0;
  std::int64_t ts = 1'700'000'000'000'000'000;
  auto emit = [&](const WireSeg& w, std::size_t from, std::size_t n) {
    decode::TcpSegment seg;
    seg.src = ep[w.dir];
    seg.dst = ep[1 - w.dir];
    seg.flags = w.flags;
    const bool syn = (w.flags & tf::syn) != 0;
    seg.seq = s.isn[w.dir] + (syn ? 0u : 1u) + static_cast<std::uint32_t>(w.off + from);
    seg.ack = s.isn[1 - w.dir] + 1u + static_cast<std::uint32_t>(w.ack_off[1 - w.dir]);
    if ((w.flags & tf::ack) == 0) seg.ack = 0;
    seg.window = 65535;
    if (syn) seg.mss = 1460;
    const wsdiag::fuzz::Owned payload(Bytes(s.store.data() + w.data + from, n));
    seg.payload = payload.span();
    seg.payload_wire_len = static_cast<std::uint32_t>(n);
    flows.process(seg, PacketRef{++index, ts});
  };
  for (const auto& w : s.segs) {
    ts += w.extra_ns;
    if (w.extra_ns != 0) flows.sweep(ts, PacketRef{index, ts});
    // One scripted segment is 1 ms; its 1-byte pieces share that time, so time-based rules
    // (unanswered Ping grace, idle times) see the same clock in both runs.
    ts += 1'000'000;
    if (!one_byte_segments || w.len <= 1) {
      emit(w, 0, w.len);
      continue;
    }
    // FIN travels on its own segment here, so the pieces carry the data only.
    WireSeg piece = w;
    piece.flags = static_cast<std::uint8_t>(w.flags & ~tf::fin);
    for (std::size_t i = 0; i < w.len; ++i) emit(piece, i, 1);
  }
  flows.finish(PacketRef{index, ts});
  return std::move(out.conns);
}

std::string essence(const report::ConnReport& c) {
  const auto& s = c.summary;
  std::string e = report::verdict_key(c.verdict) + (s.websocket ? " ws" : " tcp");
  e += " close=" + std::to_string(s.close.seen) + std::to_string(static_cast<int>(s.close.initiator)) +
       (s.close.code ? std::to_string(*s.close.code) : "-") + "/" + s.close.reason;
  e += " echo=" + std::to_string(s.close.echoed);
  static const bool skip_prefix = wsdiag::fuzz::ignoring("error-prefix");
  for (const auto* d : {&s.c2s, &s.s2c}) {
    const bool failed = s.has(diag::RuleId::inflate_error);
    if (skip_prefix && failed) {
      e += " frames=" + std::to_string(d->frames) + " messages=" + std::to_string(d->messages);
      continue;
    }
    e += " frames=" + std::to_string(d->frames) + " messages=" + std::to_string(d->messages) + " bytes=" +
         std::to_string(d->message_bytes) + " pings=" + std::to_string(d->pings) + " pongs=" + std::to_string(d->pongs);
  }
  std::set<std::pair<int, int>> rules;
  for (const auto& f : s.findings) rules.emplace(static_cast<int>(f.rule), static_cast<int>(f.side));
  for (const auto& [r, side] : rules) e += " " + std::string(diag::rule_info(static_cast<diag::RuleId>(r)).name) + "/" + std::to_string(side);
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wsdiag::fuzz::FuzzInput in(data, size);
  const Script s = build(in);
  Limits limits;
  if ((s.flags & 2) != 0) {
    limits.ooo_bytes_per_dir = 1024;
    limits.ooo_segments_per_dir = 8;
    limits.http_head_bytes = 200;
    limits.inflate_bytes_per_message = 2048;
    limits.closed_linger_ns = 500'000'000;
    limits.idle_timeout_ns = 2'000'000'000;
  }
  const auto conns = run(s, false, limits);
  for (const auto& c : conns) {
    (void)report::json_line(c);
    report::TextOptions t;
    t.detail = true;
    (void)report::format_connection_text(c, t);
  }

  // "segmentation" (WSDIAG_FUZZ_IGNORE) skips this check while a reported case is open.
  static const bool skip = wsdiag::fuzz::ignoring("segmentation");
  const bool differential =
      !skip && (s.flags & 1) != 0 && (s.flags & 2) == 0 && s.lossless && s.store.size() <= 4096;
  if (differential) {
    Limits many = limits;
    many.ooo_segments_per_dir = 1u << 20;
    const auto a = run(s, false, many);
    const auto b = run(s, true, many);
    WSDIAG_FUZZ_CHECK(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      // Without framing, frames are looked for at segment starts (a sender's write usually starts
      // one): once a candidate failed and bytes were skipped, the next candidates are wherever TCP
      // cut the stream, so in 1-byte segments every byte is one. That search is a heuristic over
      // the cuts by design; a connection where the scripted run skipped bytes is not compared.
      // (Where it skipped none, its first candidate was taken, and that judgement does not depend
      // on the cuts: the 1-byte run must take it too, so that case stays strict.)
      // Likewise the frame after a header announcing an impossible length is looked for at the
      // segment starts that follow it: a connection where either run judged one is not compared.
      const auto skipped = [](const report::ConnReport& c) {
        return c.summary.c2s.resync_skipped + c.summary.s2c.resync_skipped > 0;
      };
      const auto doubtful = [](const report::ConnReport& c) {
        return c.summary.c2s.doubtful_length_segments + c.summary.s2c.doubtful_length_segments > 0;
      };
      if (skipped(a[i]) || doubtful(a[i]) || doubtful(b[i])) continue;
      const std::string ea = essence(a[i]);
      const std::string eb = essence(b[i]);
      if (ea != eb) {
        std::fprintf(stderr, "as scripted:     %s\n1-byte segments: %s\n", ea.c_str(), eb.c_str());
        std::fprintf(stderr, "as scripted:     %s\n1-byte segments: %s\n", report::json_line(a[i]).c_str(),
                     report::json_line(b[i]).c_str());
        wsdiag::fuzz::fail("the diagnosis depends on segmentation");
      }
    }
  }
  return 0;
}
