// Hand-built reports for the report-writer tests: no pcap, no pipeline.
#pragma once

#include <cstdio>
#include <string>

#include "wsdiag/report/report.h"

namespace report_test {

using namespace wsdiag;
using namespace wsdiag::diag;

inline constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
inline PacketRef at(std::uint64_t index, std::int64_t ms) {
  return PacketRef{index, kT0 + ms * 1'000'000};
}

/// #1: handshake OK, client broke §5.1 in 12 frames, client closed 1000 with an invalid-UTF-8
/// reason, server echoed after 12.5 ms, FIN from both.
inline report::ConnReport closed_conn() {
  report::ConnReport c;
  auto& s = c.summary;
  s.id = 1;
  s.client = "10.0.0.1:51234";
  s.server = "10.0.0.2:8080";
  s.websocket = true;
  s.tcp_handshake_seen = true;
  s.history = "ShADadFf";
  s.first = at(1, 0);
  s.last = at(40, 5000);
  s.packets = 40;
  auto& h = s.handshake;
  h.request_seen = h.response_seen = true;
  h.status = 101;
  h.reason_phrase = "Switching Protocols";
  h.ok = true;
  h.method = "GET";
  h.path = "/chat?room=1";
  h.host = "example.test";
  h.subprotocol = "chat";
  h.extensions = "permessage-deflate; client_max_window_bits=15";
  h.deflate = true;
  h.request_at = at(4, 1);
  h.response_at = at(6, 3);
  s.c2s = {12, 10, 1200, 2400, 300, 1, 0, 10, 0, 0, 0, {}, {}, {}, {}};
  s.s2c = {8, 8, 3400, 3400, 800, 0, 1, 0, 0, 0, 0, {}, {}, {}, {}};
  s.close.seen = true;
  s.close.initiator = Side::client;
  s.close.code = 1000;
  s.close.reason = std::string("bye \xff\xfe|`x", 9);
  s.close.at = at(30, 4000);
  s.close.echoed = true;
  s.close.echo_code = 1000;
  s.close.echo_at = PacketRef{31, kT0 + std::int64_t{4000} * 1'000'000 + 12'500'000};
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  s.tcp_end.at = at(35, 4100);
  s.tcp_end.idle_before_ms = 87.25;
  s.tcp_end.client_fin = s.tcp_end.server_fin = true;
  s.tcp_end.server_fin_at = at(35, 4100);
  s.tcp_end.client_fin_at = at(37, 4200);
  s.findings.push_back({RuleId::client_unmasked, Side::client, at(8, 100), "frame not masked", 12});
  c.verdict.code = 1000;
  c.verdict.name = "Normal Closure";
  c.verdict.severity = Severity::error;
  c.verdict.side = Side::client;
  c.verdict.summary =
      "The client closed normally (1000), but the client broke RFC 6455 §5.1 in 12 frames.";
  c.verdict.cause = "Code 1000 means the purpose of the connection was fulfilled.";
  c.verdict.advice = "Mask every client frame; check the client library.";
  return c;
}

/// #2: still open when the capture ended; handshake not captured.
inline report::ConnReport open_conn() {
  report::ConnReport c;
  auto& s = c.summary;
  s.id = 2;
  s.client = "[2001:db8::1]:40000";
  s.server = "[2001:db8::2]:443";
  s.websocket = true;
  s.handshake_captured = false;
  s.history = "Dd";
  s.first = at(2, 1);
  s.last = at(50, 6000);
  s.packets = 9;
  s.c2s.frames = 3;
  s.s2c.frames = 2;
  s.findings.push_back({RuleId::open_at_end, Side::none, at(50, 6000), "", 1});
  c.verdict.name = "open";
  c.verdict.severity = Severity::warning;
  c.verdict.summary = "Still open when the capture ended.";
  return c;
}

/// #3: the server answered 403.
inline report::ConnReport rejected_conn() {
  report::ConnReport c;
  auto& s = c.summary;
  s.id = 3;
  s.client = "10.0.0.1:51300";
  s.server = "10.0.0.2:8080";
  s.websocket = true;
  s.first = at(41, 5100);
  s.last = at(45, 5200);
  s.packets = 5;
  s.handshake.request_seen = s.handshake.response_seen = true;
  s.handshake.status = 403;
  s.handshake.reason_phrase = "Forbidden";
  s.handshake.method = "GET";
  s.handshake.path = "/chat";
  s.handshake.problems.push_back(RuleId::handshake_rejected);
  s.handshake.request_at = at(42, 5110);
  s.handshake.response_at = at(43, 5120);
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.by = Side::server;
  s.tcp_end.at = at(45, 5200);
  s.tcp_end.server_rst = true;
  s.tcp_end.server_rst_at = at(45, 5200);
  s.findings.push_back({RuleId::handshake_rejected, Side::server, at(43, 5120), "403 Forbidden", 1});
  c.verdict.name = "handshake failed";
  c.verdict.severity = Severity::error;
  c.verdict.side = Side::server;
  c.verdict.summary = "The server refused the upgrade with 403 Forbidden.";
  return c;
}

inline report::Report sample_report() {
  report::Report r;
  r.tool_version = "0.0.0-test";
  report::CaptureMeta m;
  m.file = "dir/cap|ture.pcap";
  m.link_type = "EN10MB";
  m.packets = 50;
  m.bytes = 12345;
  m.first_ts_ns = kT0;
  m.last_ts_ns = kT0 + 6'000'000'000;
  r.captures.push_back(m);
  r.connections = {closed_conn(), open_conn(), rejected_conn()};
  r.stats.tcp_connections = 4;
  return r;
}

/// Runs a FILE*-writing function into a string (tmpfile, so no platform-specific memstream).
template <typename F>
std::string capture_output(F&& write) {
  std::FILE* f = std::tmpfile();
  if (f == nullptr) return "<tmpfile failed>";
  write(f);
  std::fflush(f);
  std::string out;
  std::rewind(f);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

}  // namespace report_test
