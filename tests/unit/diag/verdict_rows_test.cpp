// The verdict table as data (issue #11 "verdict rows as data"): every row carries its id, usual
// severity, title and the findings its text explains; the handshake status rows pick the right
// text for each status range.
#include <catch2/catch.hpp>

#include <algorithm>

#include "wsdiag/diag/verdict.h"

using namespace wsdiag;
using namespace wsdiag::diag;
using Catch::Contains;

namespace {

ConnectionSummary answered(int status) {
  ConnectionSummary s;
  s.id = 1;
  s.websocket = true;
  s.tcp_handshake_seen = true;
  s.handshake.request_seen = s.handshake.response_seen = true;
  s.handshake.status = status;
  s.handshake.path = "/ws";
  s.handshake.request_at = PacketRef{4, 1'700'000'000'000'000'000};
  s.handshake.response_at = PacketRef{6, 1'700'000'000'100'000'000};
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  return s;
}

}  // namespace

TEST_CASE("verdict rows: every row is complete data", "[diag][verdict]") {
  for (const VerdictRule& r : verdict_table()) {
    CAPTURE(r.name);
    CHECK(!r.name.empty());
    CHECK(!r.title.empty());
    CHECK(!r.explains.empty());
  }
  const auto table = verdict_table();
  const auto abnormal = std::find_if(table.begin(), table.end(), [](const VerdictRule& r) { return r.name == "abnormal-1006"; });
  REQUIRE(abnormal != table.end());
  CHECK(abnormal->severity == Severity::error);
  CHECK(std::find(abnormal->explains.begin(), abnormal->explains.end(), RuleId::rst) != abnormal->explains.end());
}

TEST_CASE("verdict rows: an explained finding is not repeated in the summary line", "[diag][verdict]") {
  ConnectionSummary s = answered(101);
  s.handshake.ok = true;
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.at = PacketRef{9, 1'700'000'001'000'000'000};
  s.findings.push_back({RuleId::rst, Side::server, s.tcp_end.at, "RST", 1});
  CHECK_THAT(diagnose(s).summary, !Contains("(+"));
  CHECK_THAT(diagnose(s).summary, !Contains("; warning"));
  s.findings.push_back({RuleId::client_unmasked, Side::client, PacketRef{7, 0}, "unmasked", 3});
  CHECK_THAT(diagnose(s).summary, Contains("in 3 frames, first at packet 7"));
}

TEST_CASE("verdict rows: each status range gets its own text", "[diag][verdict]") {
  CHECK_THAT(diagnose(answered(150)).cause, Contains("interim status 150"));
  CHECK_THAT(diagnose(answered(204)).cause, Contains("as a plain HTTP request"));
  CHECK_THAT(diagnose(answered(204)).advice, Contains("proxy_set_header Connection \"upgrade\";"));
  CHECK_THAT(diagnose(answered(302)).cause, Contains("redirect"));
  CHECK_THAT(diagnose(answered(403)).cause, Contains("authentication or Origin check failed."));
  ConnectionSummary o = answered(401);
  o.handshake.origin = "https://a.example";
  CHECK_THAT(diagnose(o).cause, Contains("failed (the request's Origin was \"https://a.example\")."));
  CHECK_THAT(diagnose(answered(404)).cause, Contains("No WebSocket endpoint at \"/ws\""));
  CHECK_THAT(diagnose(answered(502)).cause, Contains("(bad gateway)"));
  CHECK_THAT(diagnose(answered(504)).cause, Contains("(gateway timeout)"));
  CHECK_THAT(diagnose(answered(402)).cause, Contains("client error 402."));
  ConnectionSummary p = answered(418);
  p.handshake.problems = {RuleId::handshake_key};
  CHECK_THAT(diagnose(p).cause, Contains("client error 418. The captured request itself has problems: handshake-key."));
  CHECK_THAT(diagnose(answered(599)).cause, Contains("server error 599."));
  CHECK_THAT(diagnose(answered(42)).cause, Contains("status 42 instead of 101."));
  CHECK_THAT(diagnose(answered(431)).summary, Contains("431 Request Header Fields Too Large"));
}
