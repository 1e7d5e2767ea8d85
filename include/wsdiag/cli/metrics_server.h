// wsdiag — `--metrics ADDR:PORT`: serves GET /metrics (Prometheus text format) on its own thread.
#pragma once

#include <memory>
#include <string>

#include "wsdiag/report/metrics.h"

namespace wsdiag::cli {

class MetricsServer {
 public:
  explicit MetricsServer(const report::LiveMetrics& metrics);
  ~MetricsServer();  ///< stops the server and joins its thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  /// Binds ADDR:PORT ("127.0.0.1:9406", "[::1]:9406", ":9406" = every address) and starts
  /// serving. False with `error` set if the address is malformed or cannot be bound.
  bool start(const std::string& addr_port, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wsdiag::cli
