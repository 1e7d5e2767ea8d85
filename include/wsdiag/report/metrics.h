// wsdiag — live metrics in the Prometheus text exposition format (format 0.0.4).
//
// The packet path never touches this: the live reporter calls on_connection() once per ended
// connection and the capture loop calls set_capture() on its 200 ms tick; both take a short lock.
// The HTTP thread calls exposition() under the same lock. Every label value comes from a bounded
// set (verdict keys, sides, severities, cause ids, rule ids, HTTP status classes): never a port,
// an address or a path.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "wsdiag/report/report.h"

namespace wsdiag::report {

/// The cause id a connection's ending is counted under: diag's most likely cause ("idle-timeout",
/// "heartbeat-too-slow", "app-close-code", ...) or "none". The one place that picks the label, so
/// new rows in diag's cause table become label values with no change here (values stay bounded:
/// one per row).
std::string_view cause_id(const ConnReport& c);

/// The reason a failed handshake is counted under: the HTTP status ("403"), "no-response", or the
/// handshake rule that failed it ("handshake-accept").
std::string handshake_failure_reason(const ConnReport& c);

struct CaptureCounters {
  std::uint64_t packets = 0;         ///< read by wsdiag
  std::uint64_t bytes = 0;           ///< captured bytes read
  bool kernel_stats = false;
  std::uint64_t received = 0;        ///< pcap_stats
  std::uint64_t dropped = 0;
  std::uint64_t if_dropped = 0;
  std::uint64_t open_connections = 0;
};

class LiveMetrics {
 public:
  explicit LiveMetrics(std::string interface);
  /// A connection ended (reported by the live reporter). Non-WebSocket connections count only in
  /// wsdiag_tcp_connections_ended_total.
  void on_connection(const ConnReport& c);
  /// Capture counters (absolute values), from the capture loop's tick.
  void set_capture(const CaptureCounters& c);
  /// The whole exposition, with wsdiag's own process_* metrics.
  [[nodiscard]] std::string exposition() const;

  /// Upper bounds (seconds) of both histograms' buckets.
  static constexpr std::array<double, 12> kBuckets = {0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
    void observe(double seconds);
  };
  mutable std::mutex mutex_;
  std::string interface_;
  // (code, side, severity, cause) -> connections
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::uint64_t> ended_;
  std::map<std::string, std::uint64_t> violations_;          // rule id -> findings
  std::map<std::string, std::uint64_t> handshake_failures_;  // reason -> connections
  std::uint64_t tcp_ended_ = 0;
  Histogram duration_;
  Histogram idle_;
  CaptureCounters capture_;
};

}  // namespace wsdiag::report
