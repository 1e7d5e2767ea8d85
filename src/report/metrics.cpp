// wsdiag — live metrics, Prometheus text exposition format 0.0.4 (metrics.h).
#include "wsdiag/report/metrics.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "wsdiag/diag/verdict.h"

namespace wsdiag::report {

/// The verdict-table row that applies ("closed", "abnormal-1006", "handshake-failed", "open", ...).
std::string_view verdict_row(const ConnReport& c) {
  for (const auto& row : diag::verdict_table()) {
    if (row.applies(c.summary)) return row.name;
  }
  return "unknown";
}

std::string_view cause_id(const ConnReport& c) { return c.cause ? c.cause->id : std::string_view("none"); }

std::string handshake_failure_reason(const ConnReport& c) {
  const auto& h = c.summary.handshake;
  if (h.status && *h.status != 101) return std::to_string(*h.status);
  if (!h.response_seen) return "no-response";
  if (!h.problems.empty()) return std::string(diag::rule_info(h.problems.front()).name);
  return "other";
}

LiveMetrics::LiveMetrics(std::string interface) : interface_(std::move(interface)) {}

void LiveMetrics::Histogram::observe(double seconds) {
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++buckets[i];
  }
  ++count;
  sum += seconds;
}

void LiveMetrics::on_connection(const ConnReport& c) {
  const auto& s = c.summary;
  if (!s.websocket) {
    const std::lock_guard<std::mutex> lock(mutex_);
    ++tcp_ended_;
    return;
  }
  // Labels are made outside the lock.
  const auto& v = c.verdict;
  std::string code = v.code ? std::to_string(*v.code) : std::string(verdict_row(c));
  const char* side = diag::to_string(v.side);
  std::tuple<std::string, std::string, std::string, std::string> key{
      std::move(code), *side != '\0' ? side : "none", diag::to_string(v.severity), std::string(cause_id(c))};
  const bool hs_failed = v.name == "handshake failed";
  const std::string reason = hs_failed ? handshake_failure_reason(c) : std::string();
  const double duration_s = static_cast<double>(s.last.ts_ns - s.first.ts_ns) / 1e9;
  const auto idle_ms = s.tcp_end.idle_before_ms;

  const std::lock_guard<std::mutex> lock(mutex_);
  ++tcp_ended_;
  ++ended_[std::move(key)];
  for (const auto& f : s.findings) violations_[std::string(diag::rule_info(f.rule).name)] += f.count;
  if (hs_failed) ++handshake_failures_[reason];
  duration_.observe(duration_s < 0 ? 0 : duration_s);
  if (idle_ms) idle_.observe(*idle_ms / 1000.0);
}

void LiveMetrics::set_capture(const CaptureCounters& c) {
  const std::lock_guard<std::mutex> lock(mutex_);
  capture_ = c;
}

namespace {

// Label values here are ids and numbers; escaping is still done as the format asks.
std::string label_value(std::string_view v) {
  std::string out;
  for (const char ch : v) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void histogram(std::string& out, std::string_view name, std::string_view help,
               const std::array<double, LiveMetrics::kBuckets.size()>& bounds,
               const std::array<std::uint64_t, LiveMetrics::kBuckets.size()>& buckets, std::uint64_t count,
               double sum) {
  header(out, name, "histogram", help);
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\"}} {}\n", name, bounds[i], buckets[i]);
  }
  fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count, name,
                 sum, name, count);
}

// utime+stime (clock ticks) from /proc/self/stat, resident pages from /proc/self/statm.
bool process_usage(double& cpu_s, double& rss_bytes) {
  std::FILE* f = std::fopen("/proc/self/stat", "r");
  if (f == nullptr) return false;
  char buf[1024];
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
  const std::string_view sv(buf, n);
  const auto rp = sv.rfind(')');
  if (rp == std::string_view::npos) return false;
  unsigned long utime = 0, stime = 0;
  if (std::sscanf(buf + rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) {
    return false;
  }
  const long hz = sysconf(_SC_CLK_TCK);
  cpu_s = static_cast<double>(utime + stime) / static_cast<double>(hz > 0 ? hz : 100);
  f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return false;
  unsigned long size = 0, resident = 0;
  const int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (got != 2) return false;
  rss_bytes = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return true;
}

}  // namespace

std::string LiveMetrics::exposition() const {
  std::string out;
  out.reserve(8192);
  auto it = std::back_inserter(out);
  const std::lock_guard<std::mutex> lock(mutex_);
  const std::string iface = label_value(interface_);

  header(out, "wsdiag_connections_ended_total", "counter",
         "WebSocket connections that ended, by verdict code (or name), side that ended it, severity and cause.");
  for (const auto& [k, n] : ended_) {
    fmt::format_to(it, "wsdiag_connections_ended_total{{code=\"{}\",side=\"{}\",severity=\"{}\",cause=\"{}\"}} {}\n",
                   label_value(std::get<0>(k)), std::get<1>(k), std::get<2>(k), label_value(std::get<3>(k)), n);
  }
  header(out, "wsdiag_tcp_connections_ended_total", "counter", "TCP connections that ended, WebSocket or not.");
  fmt::format_to(it, "wsdiag_tcp_connections_ended_total {}\n", tcp_ended_);
  header(out, "wsdiag_violations_total", "counter", "Findings (RFC 6455/7692 violations and TCP facts) by rule id.");
  for (const auto& [rule, n] : violations_) fmt::format_to(it, "wsdiag_violations_total{{rule=\"{}\"}} {}\n", rule, n);
  header(out, "wsdiag_handshakes_failed_total", "counter",
         "Opening handshakes that failed, by HTTP status, no-response or the handshake rule broken.");
  for (const auto& [reason, n] : handshake_failures_) {
    fmt::format_to(it, "wsdiag_handshakes_failed_total{{reason=\"{}\"}} {}\n", label_value(reason), n);
  }
  header(out, "wsdiag_open_connections", "gauge", "TCP connections tracked right now.");
  fmt::format_to(it, "wsdiag_open_connections {}\n", capture_.open_connections);
  header(out, "wsdiag_packets_total", "counter", "Packets wsdiag read from the capture.");
  fmt::format_to(it, "wsdiag_packets_total{{interface=\"{}\"}} {}\n", iface, capture_.packets);
  header(out, "wsdiag_bytes_total", "counter", "Captured bytes wsdiag read.");
  fmt::format_to(it, "wsdiag_bytes_total{{interface=\"{}\"}} {}\n", iface, capture_.bytes);
  if (capture_.kernel_stats) {
    header(out, "wsdiag_packets_received_total", "counter", "Packets that passed the filter (pcap_stats).");
    fmt::format_to(it, "wsdiag_packets_received_total{{interface=\"{}\"}} {}\n", iface, capture_.received);
    header(out, "wsdiag_packets_dropped_total", "counter",
           "Packets lost before wsdiag read them: by the kernel (buffer full) or by the interface (pcap_stats).");
    fmt::format_to(it, "wsdiag_packets_dropped_total{{interface=\"{}\",by=\"kernel\"}} {}\n", iface, capture_.dropped);
    fmt::format_to(it, "wsdiag_packets_dropped_total{{interface=\"{}\",by=\"interface\"}} {}\n", iface,
                   capture_.if_dropped);
  }
  histogram(out, "wsdiag_connection_duration_seconds", "Time from a WebSocket connection's first to last packet.",
            kBuckets, duration_.buckets, duration_.count, duration_.sum);
  histogram(out, "wsdiag_idle_before_end_seconds",
            "Time from a WebSocket connection's last payload byte to the FIN or RST that ended it.", kBuckets,
            idle_.buckets, idle_.count, idle_.sum);
  double cpu = 0;
  double rss = 0;
  if (process_usage(cpu, rss)) {
    header(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    fmt::format_to(it, "process_cpu_seconds_total {}\n", cpu);
    header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    fmt::format_to(it, "process_resident_memory_bytes {}\n", rss);
  }
  return out;
}

}  // namespace wsdiag::report
