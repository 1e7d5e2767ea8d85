// wsdiag — the live capture's closing stats record (live_stats.h).
#include "wsdiag/report/live_stats.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "wsdiag/common/types.h"
#include "wsdiag/report/report.h"

namespace wsdiag::report {

std::string live_stats_json_line(const LiveRunStats& s) {
  using J = nlohmann::ordered_json;
  J j;
  j["type"] = "stats";
  j["schema"] = kSchema;
  j["interface"] = s.interface;
  j["link_type"] = s.link_type;
  j["filter"] = s.filter;
  j["packets"] = s.packets;
  j["bytes"] = s.bytes;
  j["first"] = s.packets != 0 ? J(iso8601_utc(s.first_ts_ns)) : J(nullptr);
  j["last"] = s.packets != 0 ? J(iso8601_utc(s.last_ts_ns)) : J(nullptr);
  j["received"] = s.kernel_stats ? J(s.received) : J(nullptr);
  j["dropped"] = s.kernel_stats ? J(s.dropped) : J(nullptr);
  j["if_dropped"] = s.kernel_stats ? J(s.if_dropped) : J(nullptr);
  j["lossy"] = s.lossy();
  j["tcp_connections"] = s.tcp_connections;
  j["tcp_segments"] = s.tcp_segments;
  j["payload_truncated"] = s.payload_truncated;
  j["idle_timeouts"] = s.idle_timeouts;
  j["connections_evicted"] = s.connections_evicted;
  j["connections"] = s.connections;
  j["websocket"] = s.websocket;
  j["by_verdict"] = s.by_verdict;
  return j.dump(-1, ' ', false, J::error_handler_t::replace);
}

std::string live_stats_text_line(const LiveRunStats& s) {
  return fmt::format("Capture on {} ended: {} packets, {} WebSocket connections (verdicts: {}); "
                     "dropped {} by the kernel, {} by the interface.",
                     s.interface, s.packets, s.websocket, verdict_counts(s.by_verdict), s.dropped, s.if_dropped);
}

std::string verdict_counts(const std::map<std::string, std::uint64_t>& by_verdict) {
  std::string s;
  for (const auto& [k, n] : by_verdict) {
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", k, n);
  }
  return s.empty() ? "none" : s;
}

}  // namespace wsdiag::report
