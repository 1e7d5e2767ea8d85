// wsdiag — live mode (CLI.md "wsdiag -i IFACE"): the capture source and when reports are
// emitted are all that differ from offline; every layer below is the same Pipeline.
#include "wsdiag/cli/live.h"

#include <fmt/core.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include "wsdiag/cli/cli.h"
#include "wsdiag/cli/metrics_server.h"
#include "wsdiag/cli/output.h"
#include "wsdiag/cli/pipeline.h"
#include "wsdiag/common/types.h"
#include "wsdiag/decode/decoder.h"
#include "wsdiag/diag/pattern_window.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/report/live_stats.h"
#include "wsdiag/report/metrics.h"
#include "wsdiag/session/ws_session.h"

namespace wsdiag::cli {

namespace {

constexpr std::int64_t kTickNs = 200'000'000;      // sweep, flush and status this often
constexpr std::int64_t kStatusNs = 1'000'000'000;  // status line refresh

volatile std::sig_atomic_t g_stop = 0;
capture::LiveCapture* g_capture = nullptr;

// When the first stop signal came (CLOCK_MONOTONIC ns): a lock-free atomic, safe in the handler.
std::atomic<std::int64_t> g_stop_ns{0};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe (POSIX)
  const std::int64_t now = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  if (g_stop == 0) {
    g_stop = 1;
    g_stop_ns.store(now);
    if (g_capture != nullptr) g_capture->break_loop();
    return;
  }
  // The same stop delivered twice: timeout(1), and shells that signal a whole process group, send
  // it to the process and to its group. Within a second it is that duplicate, and the report that
  // is being written must not be lost; a second Ctrl-C after that ends at once.
  if (now - g_stop_ns.load() < 1'000'000'000) return;
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // the handler tells a duplicate from a second Ctrl-C
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A closed output pipe is noticed as EPIPE on write and ends the capture quietly (the -w file
  // is still flushed and closed).
  std::signal(SIGPIPE, SIG_IGN);
}

std::int64_t wall_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(ts.tv_nsec);
}

// Receives each connection as the flow layer finalises it, diagnoses and writes it at once.
class LiveReporter : public session::Analyzer::Output {
 public:
  LiveReporter(const Options& opt, const Limits& limits, report::Format fmt, std::FILE* out, bool color)
      : opt_(opt), fmt_(fmt), out_(out), redactor_(opt.redact), patterns_(limits) {
    text_.color = color;
    text_.detail = opt.conn != 0;
    text_.width = report::text_width(fileno(out));
  }

  /// Called before anything is written to a stream that shares the terminal with the status line.
  std::function<void()> before_write;

  /// --metrics: every ended connection is counted there too, whatever --conn and --all list.
  report::LiveMetrics* metrics = nullptr;

  void on_connection(diag::ConnectionSummary&& s) override {
    ++tcp_connections_;
    const bool diagnosed = s.websocket || diag::tls_candidate(s);
    const bool listed = (diagnosed || opt_.all) && (opt_.conn == 0 || s.id == opt_.conn);
    if (!listed && metrics == nullptr) return;
    report::ConnReport c;
    c.summary = std::move(s);
    report::diagnose_into(c);
    if (metrics != nullptr) metrics->on_connection(c);
    if (!listed || !opt_.only_allows(c)) return;
    if (diagnosed) {
      ++websocket_;
      ++by_verdict_[report::verdict_key(c.verdict)];
      if (opt_.fail_on && opt_.fail_on->matches(c)) failed_ = true;
    }
    ++reported_;
    if (opt_.frames || write_failed_) return;
    redactor_.apply(c);
    // After redaction: the patterns name servers the way the connection blocks do (--anonymize).
    if (diagnosed) {
      if (auto ending = diag::ending_fact(c.summary, c.verdict)) patterns_.add(std::move(*ending), wall_ns());
    }
    if (before_write) before_write();
    if (fmt_ == report::Format::jsonl) {
      const std::string line = report::json_line(c);
      std::fwrite(line.data(), 1, line.size(), out_);
      std::fputc('\n', out_);
    } else {
      const std::string block = report::format_connection_text(c, text_);
      std::fwrite(block.data(), 1, block.size(), out_);
      if (block.empty() || block.back() != '\n') std::fputc('\n', out_);
      std::fputc('\n', out_);
    }
    flush();
  }

  /// Reports the run-level groups (patterns) that have settled by `now_ns` (capture time), or all
  /// pending ones when the capture ends (`flush`).
  void report_patterns(std::int64_t now_ns, bool flush_all = false) {
    if (opt_.frames || write_failed_) return;
    const auto found = patterns_.due(now_ns, flush_all);
    if (found.empty()) return;
    if (before_write) before_write();
    for (const auto& p : found) {
      const std::string block =
          fmt_ == report::Format::jsonl ? report::pattern_json_line(p) : report::format_pattern_text(p, text_);
      std::fwrite(block.data(), 1, block.size(), out_);
      if (block.empty() || block.back() != '\n') std::fputc('\n', out_);
      if (fmt_ != report::Format::jsonl) std::fputc('\n', out_);
    }
    flush();
  }

  /// Flushes the output; remembers a write error (EPIPE: the reader went away).
  void flush() {
    if (write_failed_) return;
    if (std::fflush(out_) != 0 || std::ferror(out_) != 0) {
      write_failed_ = true;
      write_errno_ = errno;
    }
  }

  [[nodiscard]] bool write_failed() const noexcept { return write_failed_; }
  [[nodiscard]] int write_errno() const noexcept { return write_errno_; }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  [[nodiscard]] std::uint64_t websocket() const noexcept { return websocket_; }
  [[nodiscard]] std::uint64_t reported() const noexcept { return reported_; }
  [[nodiscard]] std::uint64_t tcp_connections() const noexcept { return tcp_connections_; }
  [[nodiscard]] const std::map<std::string, std::uint64_t>& by_verdict() const noexcept { return by_verdict_; }

  [[nodiscard]] std::string verdict_counts() const { return report::verdict_counts(by_verdict_); }

 private:
  const Options& opt_;
  report::Format fmt_;
  std::FILE* out_;
  report::TextOptions text_;
  std::map<std::string, std::uint64_t> by_verdict_;
  std::uint64_t tcp_connections_ = 0;
  std::uint64_t websocket_ = 0;
  std::uint64_t reported_ = 0;
  bool failed_ = false;
  bool write_failed_ = false;
  int write_errno_ = 0;
  report::Redactor redactor_;
  diag::PatternWindow patterns_;  // live: the run-level causes over the last minutes of endings
};

struct RunCounters {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::int64_t first_ts_ns = 0;
  std::int64_t last_ts_ns = 0;
};

}  // namespace

bool drop_privileges(const std::string& user, std::string& msg) {
  msg.clear();
  if (geteuid() != 0) {
    if (!user.empty()) msg = fmt::format("not running as root: -Z {} has nothing to drop", user);
    return true;
  }
  const std::string name = user.empty() ? "nobody" : user;
  if (name == "root") return true;
  errno = 0;
  const passwd* pw = getpwnam(name.c_str());
  if (pw == nullptr) {
    if (user.empty()) {
      msg = "still running as root: no user 'nobody' to drop privileges to (use -Z USER)";
      return true;
    }
    msg = fmt::format("-Z {}: no such user", name);
    return false;
  }
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  if (initgroups(name.c_str(), gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    msg = fmt::format("cannot drop privileges to user '{}': {}", name, std::strerror(errno));
    return false;
  }
  if (uid != 0 && setuid(0) == 0) {
    msg = fmt::format("cannot drop privileges to user '{}': root could be regained", name);
    return false;
  }
  msg = fmt::format("dropped privileges to user '{}'", name);
  return true;
}

int list_interfaces() {
  try {
    int n = 0;
    for (const auto& i : capture::list_interfaces()) {
      std::string flags;
      if (i.loopback) flags += "Loopback, ";
      flags += i.up ? "Up" : "Down";
      if (i.running) flags += ", Running";
      fmt::print("{}.{}{} [{}]\n", ++n, i.name, i.description.empty() ? "" : " (" + i.description + ")", flags);
    }
    if (n == 0) fmt::print(stderr, "wsdiag: no interfaces found (capturing may need root or CAP_NET_RAW)\n");
  } catch (const capture::CaptureError& e) {
    error_line("-D", e.what());
    return kExitError;
  }
  return kExitOk;
}

int run_live(const Options& opt) {
  const auto& live = opt.live;
  const std::string& dev = live.capture.device;
  // --format was validated by the parser; without it, the output decides (below).
  const report::Format asked = report::parse_format(opt.format).value_or(report::Format::text);
  if (opt.format_given && (asked == report::Format::json || asked == report::Format::markdown ||
                           asked == report::Format::table)) {
    error_line(dev, fmt::format("live capture writes text or jsonl (one connection a line as each ends), "
                                "not {}; save with -w FILE and analyse the file for a {} report",
                                report::to_string(asked), report::to_string(asked)));
    return kExitError;
  }

  std::unique_ptr<capture::LiveCapture> cap;
  try {
    cap = std::make_unique<capture::LiveCapture>(live.capture);
    if (!decode::link_type_supported(cap->linktype())) {
      error_line(dev, fmt::format("unsupported link type {} ({})", cap->linktype(), cap->linktype_name()));
      return kExitError;
    }
    if (!opt.filter.empty()) cap->set_filter(opt.filter);
    if (!live.write_file.empty()) {
      try {
        cap->open_dump(live.write_file);
      } catch (const capture::CaptureError& e) {
        error_line(live.write_file, e.what());
        return kExitError;
      }
    }
  } catch (const capture::CaptureError& e) {
    error_line(dev, e.what());
    return kExitError;
  }
  if (!cap->warning().empty()) error_line(dev, "warning: " + cap->warning());

  OutputFile output;
  if (!output.open(opt.output)) return kExitError;
  std::FILE* out = output.get();

  // Everything that needs privileges is open: give them up (tcpdump -Z).
  {
    std::string msg;
    const bool ok = drop_privileges(live.user, msg);
    if (!ok) {
      error_line(dev, msg);
      return kExitError;
    }
    if (!msg.empty()) fmt::print(stderr, "wsdiag: {}\n", msg);
  }

  const bool out_tty = isatty(fileno(out)) != 0;
  const report::Format fmt_kind = opt.format_given ? asked : out_tty ? report::Format::text : report::Format::jsonl;
  const bool color = want_color(opt.color, fileno(out));
  const bool status_line = opt.progress && isatty(STDERR_FILENO) != 0;

  Limits limits = opt.limits();
  limits.idle_timeout_ns = static_cast<std::int64_t>(live.idle_timeout_s * 1e9);
  LiveReporter reporter(opt, limits, fmt_kind, out, color);
  bool status_shown = false;
  reporter.before_write = [&] {
    if (status_shown) {
      fmt::print(stderr, "\r\033[K");
      std::fflush(stderr);
      status_shown = false;
    }
  };
  const report::Redactor frame_redactor(opt.redact);
  std::unique_ptr<FramePrinter> frames;
  session::SessionOptions sopt;
  sopt.ws_ports = opt.ws_port_set;
  tls::KeyLog keylog;
  if (!load_keylog(opt.tls_keylog, {}, keylog)) return 2;
  keylog.set_follow(true);
  sopt.keylog = &keylog;
  if (opt.frames) {
    frames = std::make_unique<FramePrinter>(out, opt.conn, frame_redactor);
    sopt.frames = frames.get();
  }
  session::Analyzer analyzer(limits, sopt, reporter);
  Pipeline pipe(limits, analyzer);

  // --metrics: counters updated as connections end and on each tick, served by their own thread.
  std::unique_ptr<report::LiveMetrics> metrics;
  std::unique_ptr<MetricsServer> metrics_server;
  if (!live.metrics.empty()) {
    metrics = std::make_unique<report::LiveMetrics>(dev);
    metrics_server = std::make_unique<MetricsServer>(*metrics);
    std::string why;
    if (!metrics_server->start(live.metrics, why)) {
      error_line("--metrics " + live.metrics, why);
      return kExitError;
    }
    reporter.metrics = metrics.get();
    fmt::print(stderr, "wsdiag: metrics at http://{}/metrics\n", live.metrics);
  }

  fmt::print(stderr, "wsdiag: listening on {}, link type {}, snaplen {} bytes{}\n", dev, cap->linktype_name(),
             cap->snaplen(), opt.filter.empty() ? "" : fmt::format(", filter '{}'", opt.filter));

  g_stop = 0;
  g_capture = cap.get();
  install_signals();

  int status = kExitOk;
  RunCounters run;
  capture::PacketRecord rec;
  std::uint64_t next_index = 1;
  const std::int64_t start_ns = wall_ns();
  const std::int64_t end_ns =
      live.duration_s > 0 ? start_ns + static_cast<std::int64_t>(live.duration_s * 1e9) : 0;
  std::int64_t next_tick = start_ns + kTickNs;
  std::int64_t next_status = start_ns + kStatusNs;
  bool dump_failed = false;
  auto update_metrics = [&] {
    if (!metrics) return;
    const auto st = cap->stats();
    report::CaptureCounters cc;
    cc.packets = run.packets;
    cc.bytes = run.bytes;
    cc.kernel_stats = st.valid;
    cc.received = st.received;
    cc.dropped = st.dropped;
    cc.if_dropped = st.if_dropped;
    cc.open_connections = pipe.open_connections();
    metrics->set_capture(cc);
  };

  auto show_status = [&] {
    const auto st = cap->stats();
    fmt::print(stderr, "\r\033[K{}: {} packets, {} open, verdicts: {}, dropped {} kernel {} interface", dev,
               run.packets, pipe.open_connections(), reporter.verdict_counts(), st.dropped, st.if_dropped);
    std::fflush(stderr);
    status_shown = true;
  };

  while (g_stop == 0) {
    const auto st = cap->next(rec, next_index);
    if (st == capture::LiveStatus::packet) {
      ++next_index;
      if (run.packets == 0) run.first_ts_ns = rec.ts_ns;
      ++run.packets;
      run.bytes += rec.caplen;
      run.last_ts_ns = rec.ts_ns;
      pipe.process(rec);
      if (live.count != 0 && run.packets >= live.count) break;
    } else if (st == capture::LiveStatus::stopped) {
      break;
    } else if (st == capture::LiveStatus::error) {
      error_line(dev, cap->error());
      status = kExitError;
      break;
    }
    if (reporter.write_failed()) break;
    const std::int64_t now = wall_ns();
    if (now >= next_tick) {
      next_tick = now + kTickNs;
      pipe.tick(now);
      reporter.report_patterns(now);
      if (!cap->flush_dump() && !dump_failed) {
        dump_failed = true;
        error_line(live.write_file, "write error");
        status = kExitError;
      }
      reporter.flush();
      update_metrics();
      if (end_ns != 0 && now >= end_ns) break;
    }
    if (status_line && now >= next_status) {
      next_status = now + kStatusNs;
      show_status();
    }
  }
  g_capture = nullptr;
  // The handlers stay until the report is written: timeout(1), and shells that signal a whole
  // process group, deliver the stop signal twice, and the second must not lose the report (the
  // finish is bounded by the open connections).

  // Capture end: every connection still open is reported as open.
  pipe.finish();
  reporter.report_patterns(wall_ns(), true);
  if (frames) reporter.flush();
  reporter.before_write();
  if (!cap->flush_dump() && !dump_failed) {
    error_line(live.write_file, "write error");
    status = kExitError;
  }

  const auto st = cap->stats();
  const auto& fs = pipe.flow_stats();
  const auto& ds = pipe.decode_stats();
  report::LiveRunStats rs;
  rs.interface = dev;
  rs.link_type = cap->linktype_name();
  rs.filter = opt.filter;
  rs.packets = run.packets;
  rs.bytes = run.bytes;
  rs.first_ts_ns = run.first_ts_ns;
  rs.last_ts_ns = run.last_ts_ns;
  rs.kernel_stats = st.valid;
  rs.received = st.received;
  rs.dropped = st.dropped;
  rs.if_dropped = st.if_dropped;
  rs.tcp_connections = fs.connections;
  rs.tcp_segments = ds.tcp;
  rs.payload_truncated = ds.payload_truncated;
  rs.idle_timeouts = fs.idle_timeouts;
  rs.connections_evicted = fs.evicted;
  rs.connections = reporter.reported();
  rs.websocket = reporter.websocket();
  rs.by_verdict = reporter.by_verdict();
  if (!reporter.write_failed() && !opt.frames) {
    const std::string line =
        fmt_kind == report::Format::jsonl ? report::live_stats_json_line(rs) : report::live_stats_text_line(rs);
    fmt::print(out, "{}\n", line);
    reporter.flush();
  }
  fmt::print(stderr, "wsdiag: {}: {} packets captured, {} received by filter, {} dropped by kernel, "
                     "{} dropped by interface; {} WebSocket connections ({})\n",
             dev, run.packets, st.received, st.dropped, st.if_dropped, reporter.websocket(), reporter.verdict_counts());
  if (rs.lossy()) {
    fmt::print(stderr, "wsdiag: {}: warning: the capture lost packets; verdicts of connections active then "
                       "may be wrong (try -B to enlarge the buffer, or a narrower -f filter)\n", dev);
  }
  if (reporter.write_failed() && reporter.write_errno() != EPIPE) {
    error_line(output.name(), fmt::format("write error: {}", std::strerror(reporter.write_errno())));
    status = kExitError;
  }
  if (status == kExitOk && reporter.failed()) status = kExitFailOn;
  return status;
}

}  // namespace wsdiag::cli
