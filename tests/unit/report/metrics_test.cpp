// report::LiveMetrics: the Prometheus exposition counts ended connections by bounded labels.
#include <catch2/catch.hpp>

#include "unit/report/report_fixture.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/report/metrics.h"

using namespace report_test;

namespace {

report::ConnReport diagnosed(report::ConnReport c) {
  report::diagnose_into(c);
  return c;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: ended connections by code, side, severity and cause", "[report][metrics]") {
  report::LiveMetrics m("lo");
  const auto closed = diagnosed(closed_conn());
  const auto rejected = diagnosed(rejected_conn());
  m.on_connection(closed);
  m.on_connection(closed);
  m.on_connection(rejected);
  report::ConnReport tcp;
  tcp.summary.websocket = false;
  m.on_connection(tcp);
  report::CaptureCounters cc;
  cc.packets = 10;
  cc.kernel_stats = true;
  cc.dropped = 3;
  m.set_capture(cc);
  const std::string text = m.exposition();

  REQUIRE(closed.verdict.code.has_value());
  const std::string closed_line = "wsdiag_connections_ended_total{code=\"" + std::to_string(*closed.verdict.code) +
                                  "\",side=\"" + diag::to_string(closed.verdict.side) + "\",severity=\"" +
                                  diag::to_string(closed.verdict.severity) + "\",cause=\"" +
                                  std::string(report::cause_id(closed)) + "\"} 2";
  CHECK(has_line(text, closed_line));
  CHECK(report::cause_id(rejected) == "none");  // a failed handshake has no cause row (yet)
  CHECK(has_line(text, "wsdiag_handshakes_failed_total{reason=\"" + report::handshake_failure_reason(rejected) + "\"} 1"));
  CHECK(has_line(text, "wsdiag_tcp_connections_ended_total 4"));
  CHECK(has_line(text, "wsdiag_packets_dropped_total{interface=\"lo\",by=\"kernel\"} 3"));
  CHECK(has_line(text, "wsdiag_connection_duration_seconds_count 3"));
  CHECK(has_line(text, "wsdiag_connection_duration_seconds_bucket{le=\"+Inf\"} 3"));
  // Labels never carry addresses or ports.
  CHECK(text.find(closed.summary.client) == std::string::npos);
  CHECK(text.find(closed.summary.server) == std::string::npos);
  // Every finding is counted by its rule id.
  for (const auto& f : closed.summary.findings) {
    CHECK(text.find(std::string("wsdiag_violations_total{rule=\"") + std::string(diag::rule_info(f.rule).name)) !=
          std::string::npos);
  }
}

TEST_CASE("metrics: histogram buckets are cumulative", "[report][metrics]") {
  report::LiveMetrics m("any");
  auto c = diagnosed(closed_conn());
  c.summary.first = at(1, 0);
  c.summary.last = at(2, 2000);  // 2 s
  m.on_connection(c);
  const std::string text = m.exposition();
  CHECK(has_line(text, "wsdiag_connection_duration_seconds_bucket{le=\"1\"} 0"));
  CHECK(has_line(text, "wsdiag_connection_duration_seconds_bucket{le=\"5\"} 1"));
  CHECK(has_line(text, "wsdiag_connection_duration_seconds_bucket{le=\"14400\"} 1"));
  CHECK(has_line(text, "wsdiag_connection_duration_seconds_sum 2"));
}
