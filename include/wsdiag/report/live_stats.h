// wsdiag — the record that ends a live capture: what was captured, what the kernel dropped, the
// connections reported by verdict. Written as the last jsonl line ({"type":"stats",...}) or as
// one text line; the status line shows the same verdict counts.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace wsdiag::report {

struct LiveRunStats {
  std::string interface;
  std::string link_type;
  std::string filter;
  std::uint64_t packets = 0;       ///< packets read
  std::uint64_t bytes = 0;         ///< captured bytes
  std::int64_t first_ts_ns = 0;    ///< meaningful when packets > 0
  std::int64_t last_ts_ns = 0;
  bool kernel_stats = false;       ///< pcap_stats gave the three counters below
  std::uint64_t received = 0;      ///< passed the filter
  std::uint64_t dropped = 0;       ///< dropped by the kernel
  std::uint64_t if_dropped = 0;    ///< dropped by the interface
  std::uint64_t tcp_connections = 0;
  std::uint64_t tcp_segments = 0;
  std::uint64_t payload_truncated = 0;
  std::uint64_t idle_timeouts = 0;
  std::uint64_t connections_evicted = 0;
  std::uint64_t connections = 0;   ///< reported (WebSocket, or all with --all)
  std::uint64_t websocket = 0;
  std::map<std::string, std::uint64_t> by_verdict;  ///< key: verdict_key()

  [[nodiscard]] bool lossy() const noexcept { return kernel_stats && dropped + if_dropped > 0; }
};

/// {"type":"stats","schema":...} on one line, without the newline.
std::string live_stats_json_line(const LiveRunStats& s);
/// "Capture on lo ended: N packets, ..." (text output's last line), without the newline.
std::string live_stats_text_line(const LiveRunStats& s);
/// "1000 3, 1006 1" (or "none"): the verdict counts for status and summary lines.
std::string verdict_counts(const std::map<std::string, std::uint64_t>& by_verdict);

}  // namespace wsdiag::report
