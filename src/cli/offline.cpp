// wsdiag — offline mode: every capture file through one Pipeline (or several, one per thread,
// sharded by 5-tuple), then the report in the asked format; --frames and --streams instead.
#include "wsdiag/cli/offline.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "wsdiag/cli/cli.h"
#include "wsdiag/cli/output.h"
#include "wsdiag/cli/pipeline.h"
#include "wsdiag/cli/save_pcap.h"
#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/streams_writer.h"
#include "wsdiag/session/ws_session.h"

namespace wsdiag::cli {

namespace {

// Collects (or streams, for jsonl) the diagnosed connections.
class Collector : public session::Analyzer::Output {
 public:
  // `workers`: the analysis threads, each numbering its connections (run_sharded).
  Collector(const Options& opt, report::Format fmt, std::FILE* out, const FailOn* fail_on, const Limits& limits,
            unsigned workers)
      : opt_(opt),
        fmt_(fmt),
        out_(out),
        fail_on_(fail_on),
        redactor_(opt.redact),
        json_(limits.json_report_memory, workers) {}

  void on_connection(diag::ConnectionSummary&& s) override {
    // Several analysis threads may report at once (run_sharded): the diagnosis and the JSON text
    // are made outside the lock; only storing them is serialised.
    const bool diagnosed = s.websocket || diag::tls_candidate(s);
    const bool listed = (diagnosed || opt_.all) && (opt_.conn == 0 || s.id == opt_.conn);
    const bool spill = fmt_ == report::Format::json && !opt_.frames;
    if (!listed) {
      const std::lock_guard<std::mutex> lock(mutex_);
      ++tcp_connections_;
      if (spill && !json_.skip(s.id)) spill_failed_ = true;
      return;
    }
    report::ConnReport c;
    c.summary = std::move(s);
    report::diagnose_into(c);
    if (!opt_.only_allows(c)) {  // --only: not reported, nor in the patterns
      const std::lock_guard<std::mutex> lock(mutex_);
      ++tcp_connections_;
      ++only_skipped_;
      if (spill && !json_.skip(c.summary.id)) spill_failed_ = true;
      return;
    }
    // --save-pcap: the connection's real endpoints and packet span, before redaction renames them.
    PcapPick pick;
    if (!opt_.save_pcap.empty()) {
      pick = {c.summary.id, c.summary.client, c.summary.server, c.summary.first.index, c.summary.last.index};
    }
    const bool fail = diagnosed && fail_on_ != nullptr && fail_on_->matches(c);
    redactor_.apply(c);
    // After redaction: the patterns name servers the way the rest of the report does (--anonymize).
    const auto ending = diag::ending_fact(c.summary, c.verdict);
    // One buffer per analysis thread, reused: no allocation per connection.
    static thread_local std::string text;
    if (spill) report::JsonDocument::render(text, c);
    const std::lock_guard<std::mutex> lock(mutex_);
    ++tcp_connections_;
    if (ending) endings_.push_back(*ending);
    if (!opt_.save_pcap.empty()) picks_.push_back(std::move(pick));
    if (fail) failed_ = true;
    if (streaming()) {
      report::write_json_line(out_, c);
      std::fflush(out_);
      return;
    }
    if (spill) {
      // Spilled to a temporary file, not kept: memory stays flat however long the capture.
      if (!json_.add_rendered(c, text)) spill_failed_ = true;
      ++json_count_;
      return;
    }
    conns_.push_back(std::move(c));
  }
  report::JsonDocument& json_document() { return json_; }
  [[nodiscard]] bool spill_failed() const noexcept { return spill_failed_; }
  [[nodiscard]] std::uint64_t json_count() const noexcept { return json_count_; }
  [[nodiscard]] bool streaming() const noexcept { return fmt_ == report::Format::jsonl && !opt_.frames; }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  std::vector<report::ConnReport>& connections() { return conns_; }
  std::vector<PcapPick>& picks() { return picks_; }
  [[nodiscard]] std::uint64_t only_skipped() const noexcept { return only_skipped_; }
  /// Replaces provisional connection ids (see run_sharded) everywhere they were kept.
  void renumber(const std::function<std::uint64_t(std::uint64_t)>& map) {
    for (auto& c : conns_) c.summary.id = map(c.summary.id);
    for (auto& e : endings_) e.id = map(e.id);
    for (auto& p : picks_) p.id = map(p.id);
    json_.renumber(map);
  }
  [[nodiscard]] std::uint64_t tcp_connections() const noexcept { return tcp_connections_; }
  report::Redactor& redactor() { return redactor_; }
  /// Run-level causes over every connection's ending (offline: once, at the end; the endings are
  /// handed over, not copied: ~100 bytes per connection reported).
  [[nodiscard]] std::vector<diag::Pattern> take_patterns() { return diag::find_patterns(std::move(endings_)); }

 private:
  const Options& opt_;
  report::Format fmt_;
  std::FILE* out_;
  const FailOn* fail_on_;
  std::vector<report::ConnReport> conns_;
  std::vector<diag::EndingFact> endings_;  // 96 bytes per diagnosed connection, for the patterns
  std::vector<PcapPick> picks_;            // --save-pcap only
  std::uint64_t only_skipped_ = 0;
  report::Redactor redactor_;
  report::JsonDocument json_;
  bool spill_failed_ = false;
  std::uint64_t json_count_ = 0;
  std::uint64_t tcp_connections_ = 0;
  bool failed_ = false;
  std::mutex mutex_;
};

struct ProgressBar {
  bool enabled = false;
  std::string file;
  bool shown = false;
  static void update(void* ctx, std::int64_t pos, std::int64_t size) {
    auto* p = static_cast<ProgressBar*>(ctx);
    if (!p->enabled || size < (32ll << 20)) return;
    const int pct = static_cast<int>(100.0 * static_cast<double>(pos) / static_cast<double>(size));
    const int width = 30;
    const int filled = std::clamp(pct * width / 100, 0, width);
    fmt::print(stderr, "\r{} [{}{}] {:3}%", p->file, std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), ' '), pct);
    std::fflush(stderr);
    p->shown = true;
  }
  void done() {
    if (shown) fmt::print(stderr, "\r\033[K");
    shown = false;
  }
};

// Runs every file through one pipeline; returns the exit status for input problems.
int run_files(const Options& opt, Pipeline& pipe, std::vector<CaptureInfo>& infos) {
  int status = kExitOk;
  ProgressBar bar;
  bar.enabled = opt.progress && isatty(STDERR_FILENO) != 0;
  pipe.set_progress(&ProgressBar::update, &bar);
  for (const auto& file : opt.files) {
    CaptureInfo info;
    bar.file = file;
    const bool ok = pipe.run_file(file, opt.filter, info);
    bar.done();
    if (!ok) {
      error_line(file, "error: " + info.error);
      status = kExitError;
    } else if (!info.warning.empty()) {
      error_line(file, "warning: " + info.warning);
    }
    infos.push_back(std::move(info));
  }
  pipe.finish();
  return status;
}

// How many analysis threads an offline run uses. Several only where the report cannot differ from
// one thread's: every input is a regular file (each worker reads it), and the output is a report
// ordered by connection id (not --frames, --streams, --conn or the streamed jsonl).
unsigned worker_count(const Options& opt, report::Format fmt) {
  if (opt.threads == 1 || opt.frames || !opt.streams_dir.empty() || opt.conn != 0 ||
      fmt == report::Format::jsonl) {
    return 1;
  }
  std::uint64_t total = 0;
  for (const auto& f : opt.files) {
    struct stat st {};
    if (f == "-" || ::stat(f.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 1;
    total += static_cast<std::uint64_t>(st.st_size);
  }
  if (opt.threads > 1) return opt.threads;
  // Automatic: one per core (at most 8), and only when the input is big enough to matter.
  if (total < (16u << 20)) return 1;
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

struct RunTotals {
  decode::DecodeStats decode;
  flow::FlowStats flow;
};

// Offline analysis on several cores. Each worker reads every packet of every file (reading is
// cheap next to analysis, and nothing is copied between threads) and keeps the connections whose
// 5-tuple falls in its shard (FlowTable::set_shard); all report to the one Collector. Connections
// are numbered per shard meanwhile, then renumbered by first packet — the order a single table
// numbers them in — so the report is byte-identical to a one-thread run. Worker 0 prints the
// error lines and the progress bar; every worker meets the same records, so the others' are equal.
int run_sharded(const Options& opt, const Limits& limits, const session::SessionOptions& sopt, Collector& collector,
                unsigned n, std::vector<CaptureInfo>& infos, RunTotals& totals) {
  std::vector<std::unique_ptr<session::Analyzer>> analyzers;
  std::vector<std::unique_ptr<Pipeline>> pipes;
  for (unsigned k = 0; k < n; ++k) {
    analyzers.push_back(std::make_unique<session::Analyzer>(limits, sopt, collector));
    pipes.push_back(std::make_unique<Pipeline>(limits, *analyzers.back()));
    pipes.back()->set_shard(k, n);
  }
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> workers;
  for (unsigned k = 1; k < n; ++k) {
    workers.emplace_back([&, k] {
      try {
        for (const auto& file : opt.files) {
          CaptureInfo info;
          pipes[k]->run_file(file, opt.filter, info);
        }
        pipes[k]->finish();
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  }
  int status = kExitOk;
  try {
    status = run_files(opt, *pipes[0], infos);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& w : workers) w.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }

  // Provisional id of shard k's j-th connection: k+1+j*n. Final id: rank by first packet.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> order;  // (first packet, provisional id)
  std::uint64_t max_id = 0;
  for (unsigned k = 0; k < n; ++k) {
    const auto& created = pipes[k]->created_at();
    for (std::size_t j = 0; j < created.size(); ++j) order.emplace_back(created[j], k + 1 + j * n);
    if (!created.empty()) max_id = std::max<std::uint64_t>(max_id, k + 1 + (created.size() - 1) * n);
  }
  std::sort(order.begin(), order.end());
  std::vector<std::uint64_t> final_id(max_id + 1, 0);  // every provisional id that was handed out
  for (std::size_t i = 0; i < order.size(); ++i) final_id[order[i].second] = i + 1;
  collector.renumber([&final_id](std::uint64_t id) { return final_id.at(id); });

  totals.decode = pipes[0]->decode_stats();
  for (const auto& p : pipes) totals.flow += p->flow_stats();
  return status;
}

int run_streams(const Options& opt, const Limits& limits) {
  std::unique_ptr<report::StreamsWriter> writer;
  try {
    writer = std::make_unique<report::StreamsWriter>(opt.streams_dir);
  } catch (const std::exception& e) {
    error_line(opt.streams_dir, e.what());
    return kExitError;
  }
  Pipeline pipe(limits, *writer);
  std::vector<CaptureInfo> infos;
  int status = run_files(opt, pipe, infos);
  // The stream files are the payload as it was on the wire: what --streams is for, so they are not
  // redacted; the index's addresses follow --anonymize, and a redacting run says so (issue #13 §1).
  report::Redactor redactor(opt.redact);
  if (opt.redact.anonymize) writer->rename_endpoints([&](const std::string& ep) { return redactor.endpoint(ep); });
  if (opt.redact.redact && status == kExitOk) {  // after an input error, that error line alone
    error_line(opt.streams_dir, "note: the stream files hold the payload as it was on the wire, secrets included "
                                "(not redacted); --anonymize renames the addresses in index.tsv");
  }
  try {
    writer->write_index();
  } catch (const std::exception& e) {
    error_line(opt.streams_dir, e.what());
    status = kExitError;
  }
  return status;
}

}  // namespace

int run_offline(const Options& opt) {
  const Limits limits = opt.limits();
  if (!opt.streams_dir.empty()) return run_streams(opt, limits);

  OutputFile output;
  if (!output.open(opt.output)) return kExitError;
  std::FILE* out = output.get();
  // A closed pipe (wsdiag ... | head) ends quietly.
  std::signal(SIGPIPE, SIG_DFL);

  const auto fmt_kind = *report::parse_format(opt.format);
  const unsigned workers = opt.live.count != 0 ? 1 : worker_count(opt, fmt_kind);
  Collector collector(opt, fmt_kind, out, opt.fail_on ? &*opt.fail_on : nullptr, limits, workers);
  std::unique_ptr<FramePrinter> frames;
  session::SessionOptions sopt;
  sopt.ws_ports = opt.ws_port_set;
  tls::KeyLog keylog;
  if (!load_keylog(opt.tls_keylog, opt.files, keylog)) return kExitError;
  sopt.keylog = &keylog;
  if (opt.frames) {
    frames = std::make_unique<FramePrinter>(out, opt.conn, collector.redactor());
    sopt.frames = frames.get();
  }
  std::vector<CaptureInfo> infos;
  RunTotals totals;
  int status = kExitOk;
  if (workers > 1) {
    status = run_sharded(opt, limits, sopt, collector, workers, infos, totals);
  } else {
    session::Analyzer analyzer(limits, sopt, collector);
    Pipeline pipe(limits, analyzer);
    pipe.set_max_packets(opt.live.count);  // -c N offline stops after N packets, as tcpdump does
    status = run_files(opt, pipe, infos);
    totals.decode = pipe.decode_stats();
    totals.flow = pipe.flow_stats();
  }

  // A capture that could not be read at all (missing, a directory, not a capture, a bad filter) is a
  // fatal input error: its error line, and no report (issue #13 §4).
  if (std::any_of(infos.begin(), infos.end(), [](const CaptureInfo& i) { return !i.error.empty() && i.packets == 0; })) {
    return kExitError;
  }
  if (!opt.frames && !collector.streaming()) {
    report::Report rep;
    rep.tool_version = WSDIAG_VERSION;
    rep.all = opt.all;
    for (const auto& i : infos) {
      report::CaptureMeta m;
      m.file = i.file;
      m.link_type = i.link_name;
      m.packets = i.packets;
      m.bytes = i.bytes;
      m.truncated = i.truncated;
      m.first_ts_ns = i.first_ts_ns;
      m.last_ts_ns = i.last_ts_ns;
      rep.captures.push_back(std::move(m));
      if (!i.warning.empty()) rep.warnings.push_back(i.file + ": " + i.warning);
      if (!i.error.empty()) rep.warnings.push_back(i.file + ": " + i.error);
    }
    auto& conns = collector.connections();
    std::sort(conns.begin(), conns.end(),
              [](const report::ConnReport& a, const report::ConnReport& b) { return a.summary.id < b.summary.id; });
    rep.connections = std::move(conns);
    rep.patterns = collector.take_patterns();
    const auto& ds = totals.decode;
    const auto& fs = totals.flow;
    rep.stats.tcp_connections = fs.connections;
    rep.stats.tcp_segments = ds.tcp;
    rep.stats.not_tcp = ds.not_ip + ds.not_tcp;
    rep.stats.malformed = ds.malformed + ds.truncated;
    rep.stats.payload_truncated = ds.payload_truncated;
    rep.stats.connections_evicted = fs.evicted;
    if (ds.fragments_evicted + ds.fragments_dropped != 0) {
      // The fragment store is bounded (Limits::ip_frag_*): what it gave up on is named here.
      rep.warnings.push_back(fmt::format(
          "limit-ip-fragments: {} incomplete IP datagram(s) given up (not completed within {} s, or past {} "
          "datagrams / {} bytes in progress) and {} fragment(s) not kept; TCP segments in them are missing",
          ds.fragments_evicted, limits.ip_frag_timeout_ns / 1'000'000'000, limits.ip_frag_datagrams,
          limits.ip_frag_bytes, ds.fragments_dropped));
    }
    collector.redactor().apply(rep);  // capture names, warnings, the run's redaction note
    const bool none = rep.connections.empty() && (fmt_kind != report::Format::json || collector.json_count() == 0);
    if (opt.conn != 0 && none) {
      fmt::print(stderr, "wsdiag: error: --conn {}: no such {}connection (connection ids here: 1-{})\n", opt.conn,
                 opt.all ? "" : "WebSocket ", totals.flow.connections);
      status = kExitError;
    }
    switch (fmt_kind) {
      case report::Format::json:
        if (!collector.json_document().write(out, rep) || collector.spill_failed()) {
          error_line("-", "cannot write the JSON report's temporary file");
          status = kExitError;
        }
        break;
      case report::Format::markdown:
        report::write_markdown(out, rep);
        break;
      case report::Format::table:
        report::write_table(out, rep);
        break;
      case report::Format::jsonl:
        break;
      case report::Format::text: {
        report::TextOptions to;
        to.color = want_color(opt.color, fileno(out));
        to.detail = opt.conn != 0;
        if (out == stdout) to.width = report::text_width(STDOUT_FILENO);
        report::write_text(out, rep, to);
        break;
      }
    }
  }
  if (std::fflush(out) != 0 || std::ferror(out) != 0) {
    error_line(output.name(), "write error");
    status = kExitError;
  }
  if (!opt.save_pcap.empty() && !opt.frames) {
    // A second pass over the files (save_pcap.h): the reported connections are known only now.
    const auto saved = save_pcap(opt.save_pcap, opt.files, opt.filter, opt.live.count, collector.picks(), limits);
    if (!saved.error.empty()) {
      error_line(opt.save_pcap, "error: " + saved.error);
      status = kExitError;
    } else {
      error_line(opt.save_pcap, fmt::format("{} packet{} of {} reported connection{} saved", saved.packets,
                                            saved.packets == 1 ? "" : "s", collector.picks().size(),
                                            collector.picks().size() == 1 ? "" : "s"));
    }
  }
  if (status == kExitOk && collector.failed()) status = kExitFailOn;
  return status;
}

}  // namespace wsdiag::cli
