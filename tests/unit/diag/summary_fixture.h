// Hand-built connection summaries shared by the diag unit tests: times on one clock, and an
// established WebSocket connection that each test then bends into its case.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::test {

inline constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;  // 2023-11-14, the tests' time zero

inline std::int64_t ns_at(double seconds) { return kT0 + static_cast<std::int64_t>(seconds * 1e9); }

/// Capture record `index`, `seconds` after time zero.
inline PacketRef at_s(std::uint64_t index, double seconds) { return PacketRef{index, ns_at(seconds)}; }

/// A WebSocket connection whose TCP handshake (packet 1) and HTTP Upgrade (request packet 4, 101 at
/// packet 6, `response_s` seconds in) were captured and which carried `frames` frames each way.
inline diag::ConnectionSummary established_ws(std::string client = "10.0.0.1:50000",
                                              std::string server = "10.0.0.2:80", std::uint64_t frames = 3,
                                              double response_s = 0.002) {
  diag::ConnectionSummary s;
  s.id = 1;
  s.client = std::move(client);
  s.server = std::move(server);
  s.websocket = true;
  s.tcp_handshake_seen = true;
  s.first = at_s(1, 0);
  s.handshake.request_seen = s.handshake.response_seen = true;
  s.handshake.status = 101;
  s.handshake.ok = true;
  s.handshake.request_at = at_s(4, 0.001);
  s.handshake.response_at = at_s(6, response_s);
  s.c2s.frames = s.s2c.frames = frames;
  return s;
}

/// The likely cause diag gives the summary (through its verdict, as the report does).
inline std::optional<diag::CauseMatch> cause_of(const diag::ConnectionSummary& s) {
  return diag::likely_cause(s, diag::diagnose(s));
}

}  // namespace wsdiag::test
