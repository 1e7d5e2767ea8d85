// Fuzz target "pipeline": a whole capture file (pcap or pcapng, any link type) through the offline
// pipeline (capture -> decode -> flow/reassembly -> http/ws/session -> diag) and every report
// writer: text (plain and colour, summary and detail), json (the document and the spilled
// JsonDocument), jsonl, markdown, --frames TSV and --streams files.
//
// The input is the file itself, so the seeds are real captures (samples/) and every reproducer is a
// capture wsdiag opens as it is. Options come from the file's last byte, which in a capture is
// payload or padding that rarely matters: bit 0 forces --ws-port (the lower port of the first TCP
// segment), bit 1 uses tiny limits (4 connections, 1 KiB out-of-order, 256-byte heads, 4 KiB
// inflated per message, 4 fragment datagrams) so that every limit path runs.
//
// Check beyond the sanitizers: with the default limits, the capture analysed as 2 shards (what
// --threads 2 does: each shard keeps the connections its 5-tuple hash picks, ids renumbered by
// first packet) gives the same JSON connection objects as one pipeline.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_input.h"
#include "wsdiag/capture/capture.h"
#include "wsdiag/cli/pipeline.h"
#include "wsdiag/decode/decoder.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/streams_writer.h"
#include "wsdiag/session/ws_session.h"

namespace {

using namespace wsdiag;

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
  std::FILE* out;
  explicit Frames(std::FILE* f) : out(f) {}
  void on_frame(const session::FrameRecord& f) override { report::write_frame(out, f, f.text_preview); }
};

// The input as a file: one memfd rewritten for every run (OfflineCapture maps regular files).
std::string input_path(const std::uint8_t* data, std::size_t size) {
  static const int fd = memfd_create("wsdiag-fuzz-capture", 0);
  if (fd < 0) wsdiag::fuzz::fail("memfd_create");
  if (ftruncate(fd, 0) != 0) wsdiag::fuzz::fail("ftruncate");
  std::size_t off = 0;
  while (off < size) {
    const ssize_t n = pwrite(fd, data + off, size - off, static_cast<off_t>(off));
    if (n <= 0) wsdiag::fuzz::fail("pwrite");
    off += static_cast<std::size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

std::FILE* null_out() {
  static std::FILE* f = std::fopen("/dev/null", "w");
  return f;
}

const std::filesystem::path& streams_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("wsdiag-fuzz-streams-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Lower port of the first TCP segment, for --ws-port.
std::uint16_t first_tcp_port(const std::string& path, const Limits& limits) {
  try {
    capture::OfflineCapture cap(path);
    if (!decode::link_type_supported(cap.linktype())) return 0;
    decode::Decoder dec(limits);
    decode::TcpSegment seg;
    capture::PacketRecord rec;
    for (std::uint64_t i = 1; i < 64; ++i) {
      if (cap.next(rec, i) != capture::ReadStatus::packet) return 0;
      if (dec.decode(rec, seg) == decode::DecodeStatus::tcp) return std::min(seg.src.port, seg.dst.port);
    }
  } catch (const capture::CaptureError&) {
  }
  return 0;
}

Limits tiny_limits() {
  Limits l;
  l.max_connections = 4;
  l.ooo_bytes_per_dir = 1024;
  l.ooo_segments_per_dir = 8;
  l.http_head_bytes = 256;
  l.inflate_bytes_per_message = 4096;
  l.ip_frag_datagrams = 4;
  l.ip_frag_bytes = 4096;
  l.closed_linger_ns = 1'000'000;
  l.idle_timeout_ns = 50'000'000;
  return l;
}

struct Run {
  std::vector<report::ConnReport> conns;
  cli::CaptureInfo info;
  std::vector<std::uint64_t> created_at;
  decode::DecodeStats ds;
  flow::FlowStats fs;
};

Run analyse(const std::string& path, const Limits& limits, const session::SessionOptions& sopt, unsigned shard,
            unsigned shards) {
  Run r;
  Collect collect;
  session::Analyzer analyzer(limits, sopt, collect);
  cli::Pipeline pipe(limits, analyzer);
  if (shards > 1) pipe.set_shard(shard, shards);
  pipe.run_file(path, "", r.info);
  pipe.finish();
  r.conns = std::move(collect.conns);
  r.created_at = pipe.created_at();
  r.ds = pipe.decode_stats();
  r.fs = pipe.flow_stats();
  return r;
}

void write_reports(const Run& run) {
  report::Report rep;
  rep.tool_version = "fuzz";
  rep.all = true;
  report::CaptureMeta m;
  m.file = run.info.file;
  m.link_type = run.info.link_name;
  m.packets = run.info.packets;
  m.bytes = run.info.bytes;
  m.truncated = run.info.truncated;
  m.first_ts_ns = run.info.first_ts_ns;
  m.last_ts_ns = run.info.last_ts_ns;
  rep.captures.push_back(m);
  if (!run.info.warning.empty()) rep.warnings.push_back(run.info.warning);
  if (!run.info.error.empty()) rep.warnings.push_back(run.info.error);
  rep.connections = run.conns;
  std::sort(rep.connections.begin(), rep.connections.end(),
            [](const report::ConnReport& a, const report::ConnReport& b) { return a.summary.id < b.summary.id; });
  rep.stats.tcp_connections = run.fs.connections;
  rep.stats.tcp_segments = run.ds.tcp;
  rep.stats.not_tcp = run.ds.not_ip + run.ds.not_tcp;
  rep.stats.malformed = run.ds.malformed + run.ds.truncated;
  rep.stats.payload_truncated = run.ds.payload_truncated;
  rep.stats.connections_evicted = run.fs.evicted;

  std::FILE* out = null_out();
  report::write_text(out, rep, report::TextOptions{});
  report::TextOptions detail;
  detail.color = true;
  detail.detail = true;
  detail.width = 60;
  report::write_text(out, rep, detail);
  report::write_json(out, rep);
  report::write_markdown(out, rep);
  report::JsonDocument doc;
  for (const auto& c : rep.connections) {
    report::write_json_line(out, c);
    if (!doc.add(c)) wsdiag::fuzz::fail("JsonDocument::add");
  }
  if (!doc.write(out, rep)) wsdiag::fuzz::fail("JsonDocument::write");
}

// What --threads N does with the shards' provisional ids (cli.cpp run_sharded): rank by first packet.
std::vector<std::string> sharded_json(const std::string& path, const Limits& limits,
                                      const session::SessionOptions& sopt, unsigned n) {
  std::vector<Run> runs;
  for (unsigned k = 0; k < n; ++k) runs.push_back(analyse(path, limits, sopt, k, n));
  std::vector<std::pair<std::uint64_t, std::uint64_t>> order;  // (first packet, provisional id)
  for (unsigned k = 0; k < n; ++k) {
    for (std::size_t j = 0; j < runs[k].created_at.size(); ++j) order.emplace_back(runs[k].created_at[j], k + 1 + j * n);
  }
  std::sort(order.begin(), order.end());
  std::vector<std::string> lines;
  for (auto& r : runs) {
    for (auto& c : r.conns) {
      std::uint64_t final_id = 0;
      for (std::size_t i = 0; i < order.size(); ++i) {
        if (order[i].second == c.summary.id) final_id = i + 1;
      }
      WSDIAG_FUZZ_CHECK(final_id != 0);
      c.summary.id = final_id;
      lines.push_back(report::json_line(c));
    }
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = input_path(data, size);
  const std::uint8_t opts = size == 0 ? 0 : data[size - 1];
  const bool tiny = (opts & 2) != 0;
  const Limits limits = tiny ? tiny_limits() : Limits{};
  session::SessionOptions sopt;
  if ((opts & 1) != 0) {
    const std::uint16_t p = first_tcp_port(path, limits);
    if (p != 0) sopt.ws_ports.add(p, p);
  }

  Frames frames(null_out());
  sopt.frames = &frames;
  Run run = analyse(path, limits, sopt, 0, 1);
  write_reports(run);

  // --streams DIR
  {
    report::StreamsWriter writer(streams_dir());
    cli::Pipeline pipe(limits, writer);
    cli::CaptureInfo info;
    pipe.run_file(path, "", info);
    pipe.finish();
    writer.write_index();
  }

  // --threads 2 gives the same connections as one thread (not with tiny limits: the connection
  // table's bound is shared out between the shards, so evictions may differ).
  if (!tiny) {
    session::SessionOptions plain = sopt;
    plain.frames = nullptr;
    std::vector<std::string> one;
    for (const auto& c : run.conns) one.push_back(report::json_line(c));
    std::sort(one.begin(), one.end());
    const auto two = sharded_json(path, limits, plain, 2);
    if (one != two) {
      for (std::size_t i = 0; i < std::max(one.size(), two.size()); ++i) {
        const std::string a = i < one.size() ? one[i] : "";
        const std::string b = i < two.size() ? two[i] : "";
        if (a != b) {
          std::fprintf(stderr, "one thread: %s\ntwo shards: %s\n", a.c_str(), b.c_str());
          break;
        }
      }
      wsdiag::fuzz::fail("2 shards differ from one pipeline");
    }
  }
  return 0;
}
