// wsdiag — command line (CLI.md): options, modes, exit codes, error lines.
//
// Errors read "wsdiag: FILE: problem" (one line, stderr). Exit status: 0 analysed; 1 a --fail-on
// condition matched; 2 bad usage, unreadable or unsupported input (a capture that ends mid-record
// is a warning: its packets are analysed and the status stays 0).
#include "wsdiag/cli/cli.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "wsdiag/cli/live.h"
#include "wsdiag/cli/pipeline.h"
#include "wsdiag/cli/version.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/report/redact.h"
#include "wsdiag/report/report.h"
#include "wsdiag/report/streams_writer.h"
#include "wsdiag/session/ws_session.h"

namespace wsdiag::cli {

namespace {

struct Options {
  std::vector<std::string> files;
  std::string filter;
  std::string streams_dir;
  std::string output;
  std::string format = "text";
  std::string color = "auto";
  std::string fail_on;
  std::uint64_t conn = 0;
  std::uint16_t ws_port = 0;
  bool frames = false;
  bool all = false;
  bool progress = true;
  std::size_t max_connections = Limits{}.max_connections;
  std::size_t ooo_bytes = Limits{}.ooo_bytes_per_dir;
  unsigned threads = 0;  // 0: automatic
  report::RedactOptions redact;  // --no-redact, --anonymize, --payload (report/redact.h)
};

void error_line(const std::string& file, const std::string& msg) {
  fmt::print(stderr, "wsdiag: {}: {}\n", file, msg);
}

// --fail-on: a comma list of close codes (1006), severities (error, warning), rule ids
// (client-unmasked), "open" and "handshake-failed".
struct FailOn {
  std::vector<std::uint16_t> codes;
  std::vector<diag::RuleId> rules;
  int severity = -1;  // fail at or above
  bool open = false;
  bool handshake_failed = false;

  static std::optional<FailOn> parse(const std::string& list, std::string& bad) {
    FailOn f;
    std::size_t pos = 0;
    while (pos <= list.size()) {
      const auto comma = list.find(',', pos);
      std::string tok = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
      tok.erase(0, tok.find_first_not_of(" \t"));
      tok.erase(tok.find_last_not_of(" \t") + 1);
      if (tok.empty()) continue;
      if (std::all_of(tok.begin(), tok.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) && tok.size() <= 4) {
        f.codes.push_back(static_cast<std::uint16_t>(std::stoi(tok)));
      } else if (tok == "error" || tok == "warning" || tok == "info") {
        // fail at this severity or worse; several keep the lowest threshold
        const int level = tok == "error" ? 2 : tok == "warning" ? 1 : 0;
        f.severity = f.severity < 0 ? level : std::min(f.severity, level);
      } else if (tok == "open") {
        f.open = true;
      } else if (tok == "handshake-failed" || tok == "handshake") {
        f.handshake_failed = true;
      } else if (auto r = diag::rule_by_name(tok)) {
        f.rules.push_back(*r);
      } else {
        bad = tok;
        return std::nullopt;
      }
    }
    return f;
  }

  [[nodiscard]] bool matches(const report::ConnReport& c) const {
    const auto& v = c.verdict;
    if (v.code && std::find(codes.begin(), codes.end(), *v.code) != codes.end()) return true;
    if (severity >= 0 && static_cast<int>(v.severity) >= severity) return true;
    if (open && v.name == "open") return true;
    if (handshake_failed && v.name == "handshake failed") return true;
    for (const auto& f : c.summary.findings) {
      if (std::find(rules.begin(), rules.end(), f.rule) != rules.end()) return true;
    }
    return false;
  }
};

// Collects (or streams, for jsonl) the diagnosed connections.
class Collector : public session::Analyzer::Output {
 public:
  Collector(const Options& opt, report::Format fmt, std::FILE* out, const FailOn* fail_on)
      : opt_(opt), fmt_(fmt), out_(out), fail_on_(fail_on), redactor_(opt.redact) {}

  void on_connection(diag::ConnectionSummary&& s) override {
    // Several analysis threads may report at once (run_sharded): the diagnosis and the JSON text
    // are made outside the lock; only storing them is serialised.
    const bool listed = (s.websocket || opt_.all) && (opt_.conn == 0 || s.id == opt_.conn);
    if (!listed) {
      const std::lock_guard<std::mutex> lock(mutex_);
      ++tcp_connections_;
      return;
    }
    report::ConnReport c;
    if (s.websocket) c.verdict = diag::diagnose(s);
    c.summary = std::move(s);
    const bool fail = c.summary.websocket && fail_on_ != nullptr && fail_on_->matches(c);
    redactor_.apply(c);
    const bool spill = fmt_ == report::Format::json && !opt_.frames;
    const std::string text = spill ? report::JsonDocument::render(c) : std::string();
    const std::lock_guard<std::mutex> lock(mutex_);
    ++tcp_connections_;
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
  /// Replaces provisional connection ids (see run_sharded) everywhere they were kept.
  void renumber(const std::function<std::uint64_t(std::uint64_t)>& map) {
    for (auto& c : conns_) c.summary.id = map(c.summary.id);
    json_.renumber(map);
  }
  [[nodiscard]] std::uint64_t tcp_connections() const noexcept { return tcp_connections_; }
  report::Redactor& redactor() { return redactor_; }

 private:
  const Options& opt_;
  report::Format fmt_;
  std::FILE* out_;
  const FailOn* fail_on_;
  std::vector<report::ConnReport> conns_;
  report::JsonDocument json_;
  bool spill_failed_ = false;
  std::uint64_t json_count_ = 0;
  std::uint64_t tcp_connections_ = 0;
  bool failed_ = false;
  std::mutex mutex_;
  report::Redactor redactor_;
};

class FramePrinter : public session::FrameListener {
 public:
  FramePrinter(std::FILE* out, std::uint64_t only_conn, const report::Redactor& redactor)
      : out_(out), only_(only_conn), redactor_(redactor) {
    report::write_frames_header(out_);
  }
  void on_frame(const session::FrameRecord& f) override {
    if (only_ != 0 && f.conn != only_) return;
    report::write_frame(out_, f, redactor_.preview(f.text_preview));
  }

 private:
  std::FILE* out_;
  std::uint64_t only_;
  const report::Redactor& redactor_;
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
  try {
    writer->write_index();
  } catch (const std::exception& e) {
    error_line(opt.streams_dir, e.what());
    status = kExitError;
  }
  return status;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"wsdiag: tells you why your WebSocket connections die, from a packet capture.\n"
               "Reads pcap/pcapng captures and gives each WebSocket connection a verdict (close code,\n"
               "who closed, the likely cause and how to fix it), with every RFC 6455 violation found."};
  app.set_version_flag("-V,--version", version_text());
  app.get_formatter()->column_width(34);
  Options opt;
  std::vector<std::string> read_files;
  app.add_option("files", opt.files, "pcap or pcapng capture files (\"-\" reads standard input)");
  app.add_option("-r,--read", read_files, "a capture file to read, as tcpdump's -r (may repeat)");
  app.add_option("-f,--filter", opt.filter, "BPF filter (libpcap syntax), e.g. 'tcp port 8080'");
  app.add_option("--format", opt.format, "report format: text, json, jsonl, markdown")
      ->check(CLI::IsMember({"text", "json", "jsonl", "markdown"}));
  app.add_option("-o,--output", opt.output, "write to FILE instead of standard output");
  app.add_option("--conn", opt.conn, "report only connection ID, in full detail");
  app.add_option("--ws-port", opt.ws_port,
                 "treat TCP on PORT as WebSocket even when the handshake was not captured");
  app.add_option("--fail-on", opt.fail_on,
                 "exit 1 if a connection matches: close codes (1006), severities (error, warning), "
                 "rule ids (client-unmasked), open, handshake-failed; comma-separated");
  // Redaction (report/redact.h; issue #13): on by default in every output.
  bool no_redact = false;
  app.add_flag("--no-redact", no_redact,
               "show everything: query values, credential subprotocols, full capture paths, previews");
  app.add_flag("--anonymize", opt.redact.anonymize, "replace IP addresses by pseudonyms (addr-N), ports kept");
  app.add_flag("--payload", opt.redact.payload, "show message previews in --frames (hidden by default)");
  app.final_callback([&opt, &no_redact] { opt.redact.redact = !no_redact; });
  app.add_flag("--all", opt.all, "also list TCP connections that are not WebSocket");
  app.add_flag("--frames", opt.frames, "list every WebSocket frame (TSV) instead of the report");
  app.add_option("--streams", opt.streams_dir, "write each reassembled TCP direction to DIR, with DIR/index.tsv");
  app.add_option("--color", opt.color, "colour in the text report: auto, always, never (NO_COLOR is honoured)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--max-connections", opt.max_connections,
                 "connections tracked at once; the least recently active is evicted beyond this")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
  app.add_option("--ooo-limit", opt.ooo_bytes, "out-of-order bytes buffered per direction before giving up a hole")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  bool no_progress = false;
  app.add_flag("--no-progress", no_progress, "no progress bar on stderr");
  app.add_option("--threads", opt.threads,
                 "analysis threads for capture files (default 0: one per core, at most 8, for inputs over "
                 "16 MB; 1: single-threaded)")
      ->check(CLI::Range(0u, 64u));
  bool list_rules = false;
  app.add_flag("--rules", list_rules, "list every rule id wsdiag checks (severity, RFC section, title) and exit");
  // Live capture (live.h): -i IFACE sniffs and reports each connection as it ends.
  LiveRunOptions live;
  bool list_ifaces = false;
  bool no_promisc = false;
  app.add_option("-i,--interface", live.capture.device, "capture live on IFACE (\"any\": every interface)")
      ->group("Live capture");
  app.add_flag("-D,--list-interfaces", list_ifaces, "list the interfaces wsdiag can capture on and exit")
      ->group("Live capture");
  app.add_option("-s,--snaplen", live.capture.snaplen, "bytes kept per packet (default 262144: whole payloads)")
      ->check(CLI::Range(64, 262144))->group("Live capture");
  app.add_option("-B,--buffer-size", live.capture.buffer_kib, "kernel capture buffer in KiB (default 32768)")
      ->check(CLI::Range(1, 4 * 1024 * 1024))->group("Live capture");
  app.add_flag("-p,--no-promiscuous-mode", no_promisc, "do not put the interface in promiscuous mode")
      ->group("Live capture");
  app.add_option("-c,--count", live.count, "stop after COUNT packets")->group("Live capture");
  app.add_option("--duration", live.duration_s, "stop after SECONDS")
      ->check(CLI::NonNegativeNumber)->group("Live capture");
  app.add_option("-w,--write", live.write_file, "also save the raw packets to FILE (pcap)")->group("Live capture");
  app.add_option("-Z,--relinquish-privileges", live.user,
                 "after opening the capture, run as USER (default when root: nobody; \"root\" keeps root)")
      ->group("Live capture");
  app.add_option("--idle-timeout", live.idle_timeout_s,
                 "report and forget connections idle for SECONDS (default 300; 0 = never)")
      ->check(CLI::NonNegativeNumber)->group("Live capture");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "wsdiag: {}\nTry 'wsdiag --help'.\n", e.what());
    return kExitError;
  }
  opt.progress = !no_progress;
  if (list_rules) {
    for (const auto& r : diag::all_rules()) {
      fmt::print("{:<28} {:<8} {:<26} {}\n", r.name, diag::to_string(r.severity), r.spec.empty() ? "-" : r.spec,
                 r.title);
    }
    return kExitOk;
  }
  if (list_ifaces) return list_interfaces();
  opt.files.insert(opt.files.end(), read_files.begin(), read_files.end());
  if (!live.capture.device.empty() && !opt.files.empty()) {
    fmt::print(stderr, "wsdiag: -i {}: give either an interface or capture files, not both\n", live.capture.device);
    return kExitError;
  }
  if (opt.files.empty() && live.capture.device.empty()) {
    fmt::print(stderr, "wsdiag: no capture file given\nTry 'wsdiag --help'.\n");
    return kExitError;
  }
  if (std::count(opt.files.begin(), opt.files.end(), "-") > 1) {
    fmt::print(stderr, "wsdiag: -: standard input can be read only once\n");
    return kExitError;
  }
  std::optional<FailOn> fail_on;
  if (!opt.fail_on.empty()) {
    std::string bad;
    fail_on = FailOn::parse(opt.fail_on, bad);
    if (!fail_on) {
      fmt::print(stderr, "wsdiag: --fail-on: unknown condition '{}' (close code, error, warning, rule id, open, "
                         "handshake-failed)\n", bad);
      return kExitError;
    }
  }

  // Options that would do nothing here are refused, with the reason (issue #13 §4).
  if (live.capture.device.empty()) {
    for (const char* name : {"--write", "--duration", "--relinquish-privileges"}) {
      if (app.get_option(name)->count() != 0) {
        fmt::print(stderr, "wsdiag: error: {} applies to a live capture (-i IFACE) only, not to capture files\n", name);
        return kExitError;
      }
    }
  }
  if (app.get_option("--conn")->count() != 0 && opt.conn == 0) {
    fmt::print(stderr, "wsdiag: error: --conn 0: connection ids start at 1\n");
    return kExitError;
  }
  if (opt.frames && app.get_option("--format")->count() != 0 && opt.format != "text") {
    fmt::print(stderr, "wsdiag: error: --frames writes TSV lines; --format {} does not apply to it\n", opt.format);
    return kExitError;
  }

  Limits limits;
  limits.max_connections = opt.max_connections;
  limits.ooo_bytes_per_dir = opt.ooo_bytes;
  if (!live.capture.device.empty()) {
    if (!opt.streams_dir.empty()) {
      fmt::print(stderr, "wsdiag: --streams works on capture files; save with -w FILE first\n");
      return kExitError;
    }
    live.capture.promiscuous = !no_promisc;
    live.filter = opt.filter;
    live.output = opt.output;
    if (app.get_option("--format")->count() != 0) live.format = report::parse_format(opt.format);
    live.color = opt.color;
    live.all = opt.all;
    live.conn = opt.conn;
    live.frames = opt.frames;
    live.status = opt.progress;
    live.ws_port = opt.ws_port;
    live.limits = limits;
    live.redact = opt.redact;
    if (fail_on) live.fail_on = [&fail_on](const report::ConnReport& c) { return fail_on->matches(c); };
    return run_live(live);
  }
  if (!opt.streams_dir.empty()) return run_streams(opt, limits);

  std::FILE* out = stdout;
  if (!opt.output.empty() && opt.output != "-") {
    out = std::fopen(opt.output.c_str(), "w");
    if (out == nullptr) {
      error_line(opt.output, fmt::format("cannot open for writing: {}", std::strerror(errno)));
      return kExitError;
    }
  }
  // A closed pipe (wsdiag ... | head) ends quietly.
  std::signal(SIGPIPE, SIG_DFL);

  const auto fmt_kind = *report::parse_format(opt.format);
  Collector collector(opt, fmt_kind, out, fail_on ? &*fail_on : nullptr);
  std::unique_ptr<FramePrinter> frames;
  session::SessionOptions sopt;
  sopt.ws_port = opt.ws_port;
  if (opt.frames) {
    frames = std::make_unique<FramePrinter>(out, opt.conn, collector.redactor());
    sopt.frames = frames.get();
  }
  std::vector<CaptureInfo> infos;
  RunTotals totals;
  int status = kExitOk;
  if (const unsigned workers = live.count != 0 ? 1 : worker_count(opt, fmt_kind); workers > 1) {
    status = run_sharded(opt, limits, sopt, collector, workers, infos, totals);
  } else {
    session::Analyzer analyzer(limits, sopt, collector);
    Pipeline pipe(limits, analyzer);
    pipe.set_max_packets(live.count);  // -c N offline stops after N packets, as tcpdump does
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
    const auto& ds = totals.decode;
    const auto& fs = totals.flow;
    rep.stats.tcp_connections = fs.connections;
    rep.stats.tcp_segments = ds.tcp;
    rep.stats.not_tcp = ds.not_ip + ds.not_tcp;
    rep.stats.malformed = ds.malformed + ds.truncated;
    rep.stats.payload_truncated = ds.payload_truncated;
    rep.stats.connections_evicted = fs.evicted;
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
      case report::Format::jsonl:
        break;
      case report::Format::text: {
        report::TextOptions to;
        const bool tty_out = out == stdout && report::use_color(STDOUT_FILENO);
        to.color = opt.color == "always" || (opt.color == "auto" && tty_out);
        if (opt.color == "always" && std::getenv("NO_COLOR") != nullptr && *std::getenv("NO_COLOR") != '\0') {
          to.color = false;
        }
        to.detail = opt.conn != 0;
        if (out == stdout) to.width = report::text_width(STDOUT_FILENO);
        report::write_text(out, rep, to);
        break;
      }
    }
  }
  if (std::fflush(out) != 0 || std::ferror(out) != 0) {
    error_line(opt.output.empty() ? "-" : opt.output, "write error");
    status = kExitError;
  }
  if (out != stdout) std::fclose(out);
  if (status == kExitOk && collector.failed()) status = kExitFailOn;
  return status;
}

}  // namespace wsdiag::cli
