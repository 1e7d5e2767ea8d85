// wsdiag — the /metrics HTTP endpoint (cpp-httplib), on a thread of its own.
#include "wsdiag/cli/metrics_server.h"

#include <httplib.h>

#include <charconv>
#include <thread>

namespace wsdiag::cli {

struct MetricsServer::Impl {
  explicit Impl(const report::LiveMetrics& m) : metrics(m) {}
  const report::LiveMetrics& metrics;
  httplib::Server server;
  std::thread thread;
};

MetricsServer::MetricsServer(const report::LiveMetrics& metrics) : impl_(std::make_unique<Impl>(metrics)) {}

MetricsServer::~MetricsServer() {
  if (impl_->thread.joinable()) {
    impl_->server.stop();
    impl_->thread.join();
  }
}

bool MetricsServer::start(const std::string& addr_port, std::string& error) {
  const auto colon = addr_port.rfind(':');
  if (colon == std::string::npos) {
    error = "expected ADDR:PORT (e.g. 127.0.0.1:9406)";
    return false;
  }
  std::string host = addr_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  const std::string port_s = addr_port.substr(colon + 1);
  int port = 0;
  const auto [end, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
  if (ec != std::errc() || end != port_s.data() + port_s.size() || port < 1 || port > 65535) {
    error = "bad port '" + port_s + "'";
    return false;
  }
  auto& srv = impl_->server;
  srv.new_task_queue = [] { return new httplib::ThreadPool(1); };  // scrapes are rare and cheap
  srv.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(impl_->metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("wsdiag: metrics at /metrics\n", "text/plain; charset=utf-8");
  });
  if (!srv.bind_to_port(host, port)) {
    error = "cannot listen on " + addr_port;
    return false;
  }
  impl_->thread = std::thread([&srv] { srv.listen_after_bind(); });
  return true;
}

}  // namespace wsdiag::cli
