// Tests for the verdict table (RFC 6455 §7.1.5-§7.1.7, RULES.md "Verdict per connection") with
// hand-built ConnectionSummary structs: each row matches its minimal case and not its neighbours.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wsdiag/diag/verdict.h"

using namespace wsdiag::diag;
using wsdiag::PacketRef;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
constexpr std::int64_t kMs = 1'000'000;

PacketRef pkt(std::uint64_t index, std::int64_t ms) { return {index, kT0 + ms * kMs}; }

/// A WebSocket connection whose handshake succeeded, still open.
ConnectionSummary established() {
  ConnectionSummary s;
  s.id = 1;
  s.client = "10.0.0.1:50000";
  s.server = "10.0.0.2:80";
  s.websocket = true;
  s.tcp_handshake_seen = true;
  s.first = pkt(1, 0);
  s.last = pkt(10, 100);
  HandshakeSummary& h = s.handshake;
  h.request_seen = true;
  h.response_seen = true;
  h.status = 101;
  h.reason_phrase = "Switching Protocols";
  h.ok = true;
  h.method = "GET";
  h.path = "/ws";
  h.request_at = pkt(4, 1);
  h.response_at = pkt(6, 3);
  return s;
}

ConnectionSummary closed_by_client(std::optional<std::uint16_t> code) {
  ConnectionSummary s = established();
  s.close.seen = true;
  s.close.initiator = Side::client;
  s.close.code = code;
  s.close.at = pkt(20, 5000);
  s.close.echoed = true;
  s.close.echo_code = code;
  s.close.echo_at = pkt(21, 5012);
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  s.tcp_end.at = pkt(22, 5013);
  s.tcp_end.idle_before_ms = 1.0;
  s.tcp_end.server_fin = true;
  s.tcp_end.server_fin_at = s.tcp_end.at;
  return s;
}

std::string first_row(const ConnectionSummary& s) {
  for (const VerdictRule& r : verdict_table()) {
    if (r.applies(s)) return std::string(r.name);
  }
  return "";
}

int rows_applying(const ConnectionSummary& s) {
  int n = 0;
  for (const VerdictRule& r : verdict_table()) n += r.applies(s) ? 1 : 0;
  return n;
}

void check_complete(const Verdict& v) {
  CHECK(!v.name.empty());
  CHECK(!v.summary.empty());
  CHECK(!v.cause.empty());
  CHECK(!v.advice.empty());
}

}  // namespace

TEST_CASE("verdict table: rows in order", "[diag]") {
  const auto table = verdict_table();
  REQUIRE(table.size() == 7);
  CHECK(table[0].name == "tls-not-decrypted");
  CHECK(table[1].name == "handshake-failed");
  CHECK(table[2].name == "invalid-close");
  CHECK(table[3].name == "closed");
  CHECK(table[4].name == "client-rejected-101");
  CHECK(table[5].name == "abnormal-1006");
  CHECK(table[6].name == "open");
  for (const VerdictRule& r : table) {
    CHECK(r.applies != nullptr);
    CHECK(r.make != nullptr);
  }
}

TEST_CASE("verdict: clean 1000 closed by the client", "[diag]") {
  const ConnectionSummary s = closed_by_client(1000);
  CHECK(first_row(s) == "closed");
  CHECK(rows_applying(s) == 1);  // not handshake-failed, abnormal-1006 or open
  const Verdict v = diagnose(s);
  check_complete(v);
  CHECK(v.code == std::optional<std::uint16_t>(1000));
  CHECK(v.name == "Normal Closure");
  CHECK(v.severity == Severity::info);
  CHECK(v.side == Side::client);
  CHECK(v.summary == "closed normally (1000) by the client");
  CHECK_THAT(v.cause, Contains("packet 20"));
  // echo delay from close.at/echo_at:
  CHECK_THAT(v.cause, Contains("answered 12.0 ms later with its own Close (1000) (packet 21"));
  CHECK_THAT(v.cause, Contains("server then closed TCP (FIN, packet 22, 2023-11-14T22:13:25.013000Z)"));
  CHECK_THAT(v.cause, !Contains("Also found"));

  ConnectionSummary other = s;
  other.close.echo_code = 1001;  // a different reply code is legal and shown as such
  const Verdict w = diagnose(other);
  CHECK(w.code == std::optional<std::uint16_t>(1000));
  CHECK(w.severity == Severity::info);
  CHECK_THAT(w.cause, Contains("with a Close with a different code, 1001, which is allowed"));
}

TEST_CASE("verdict: empty Close is 1005", "[diag]") {
  const ConnectionSummary s = closed_by_client(std::nullopt);
  const Verdict v = diagnose(s);
  check_complete(v);
  CHECK(v.code == std::optional<std::uint16_t>(1005));
  CHECK(v.name == "No Status Received");
  CHECK(v.severity == Severity::info);
  CHECK(v.side == Side::client);
  CHECK_THAT(v.summary, Contains("empty Close"));
  CHECK_THAT(v.cause, Contains("no status code"));
}

TEST_CASE("verdict: a 1-byte Close is not called empty", "[diag]") {
  ConnectionSummary s = closed_by_client(std::nullopt);
  s.findings.push_back({RuleId::close_payload_1, Side::client, pkt(20, 5000), "1 byte", 1});
  const Verdict v = diagnose(s);
  CHECK(v.code == std::optional<std::uint16_t>(1005));
  CHECK(v.severity == Severity::error);
  CHECK_THAT(v.summary, StartsWith("closed by the client with a malformed 1-byte Close frame"));
  CHECK_THAT(v.summary, !Contains("empty"));
  CHECK_THAT(v.cause, Contains("malformed, not a deliberate empty Close"));
  CHECK_THAT(v.advice, !Contains("deliberate close"));
}

TEST_CASE("verdict: close code severities and names", "[diag]") {
  struct Case {
    std::uint16_t code;
    Severity severity;
    std::string_view name;
  };
  const Case cases[] = {
      {1001, Severity::info, "Going Away"},    {1002, Severity::error, "Protocol Error"},
      {1003, Severity::warning, "Unsupported Data"},
      {1007, Severity::error, "Invalid Frame Payload Data"},
      {1008, Severity::warning, "Policy Violation"}, {1009, Severity::warning, "Message Too Big"},
      {1011, Severity::error, "Internal Error"},   {1012, Severity::warning, "Service Restart"},
      {1013, Severity::warning, "Try Again Later"}, {1014, Severity::warning, "Bad Gateway"},
      {3003, Severity::info, "IANA-registered code"},
      {4001, Severity::info, "Application-defined code"},
      {999, Severity::error, "invalid close code 999"},
      {1006, Severity::error, "invalid close code 1006"},  // 1006 must never be on the wire
      {2500, Severity::error, "invalid close code 2500"},
  };
  for (const auto& c : cases) {
    INFO(c.code);
    ConnectionSummary s = closed_by_client(c.code);
    s.close.initiator = Side::server;
    const Verdict v = diagnose(s);
    check_complete(v);
    CHECK(v.code == std::optional<std::uint16_t>(c.code));
    CHECK(v.name == c.name);
    CHECK(v.severity == c.severity);
    CHECK(v.side == Side::server);
    CHECK_THAT(v.summary, Contains("closed by the server with"));
  }
}

TEST_CASE("verdict: invalid close code 999 is an error", "[diag]") {
  ConnectionSummary s = closed_by_client(999);
  s.findings.push_back({RuleId::close_code_invalid, Side::client, pkt(20, 5000), "code 999", 1});
  const Verdict v = diagnose(s);
  CHECK(v.code == std::optional<std::uint16_t>(999));
  CHECK(v.name == "invalid close code 999");
  CHECK(v.severity == Severity::error);
  CHECK_THAT(v.summary, Contains("invalid close code 999"));
  CHECK_THAT(v.summary, !Contains("close-code-invalid"));  // the ending already says it
  CHECK_THAT(v.cause, Contains("§7.4"));
}

TEST_CASE("verdict: close reason is shown, escaped and bounded", "[diag]") {
  ConnectionSummary s = closed_by_client(4001);
  s.close.reason = "token \"expired\"\n" + std::string(300, 'x');
  const Verdict v = diagnose(s);
  CHECK_THAT(v.summary, Contains("4001 (Application-defined code), reason \"token \\\"expired\\\"\\x0A"));
  CHECK(v.summary.size() < 220);
  CHECK(v.summary.find('\n') == std::string::npos);

  s.close.reason = std::string("bad \xC3\x28 utf8", 12);  // invalid UTF-8 shown as \xNN
  const Verdict w = diagnose(s);
  CHECK_THAT(w.summary, Contains("bad \\xC3("));
}

TEST_CASE("verdict: Close not echoed, then RST", "[diag]") {
  ConnectionSummary s = closed_by_client(1000);
  s.close.echoed = false;
  s.close.echo_code.reset();
  s.close.echo_at = {};
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.by = Side::server;
  s.findings.push_back({RuleId::close_not_echoed, Side::server, pkt(20, 5000), "", 1});
  s.findings.push_back({RuleId::rst, Side::server, pkt(22, 5013), "after the client's Close", 1});
  const Verdict v = diagnose(s);
  CHECK(v.code == std::optional<std::uint16_t>(1000));
  CHECK(v.severity == Severity::warning);  // raised by the findings
  CHECK_THAT(v.cause, Contains("never answered with its own Close"));
  CHECK_THAT(v.cause, Contains("before the close handshake completed"));
  CHECK(v.summary == "closed normally (1000) by the client; the server never answered it "
                     "(close-not-echoed); warning: TCP connection reset (rst, server) at packet 22");
  CHECK_THAT(v.cause, !Contains("Also found: Close not answered"));  // said once
  CHECK_THAT(v.advice, Contains("did not complete the close handshake"));
}

TEST_CASE("verdict: 1000 with client-unmasked frames is an error and says so", "[diag]") {
  ConnectionSummary s = closed_by_client(1000);
  s.findings.push_back({RuleId::client_unmasked, Side::client, pkt(7, 10), "", 12});
  s.findings.push_back({RuleId::client_closed_tcp_first, Side::client, pkt(22, 5013), "", 1});
  const Verdict v = diagnose(s);
  CHECK(v.code == std::optional<std::uint16_t>(1000));
  CHECK(v.name == "Normal Closure");
  CHECK(v.severity == Severity::error);
  CHECK(v.summary ==
        "closed normally (1000) by the client, but the client broke RFC 6455 §5.1, §5.3 "
        "(client-unmasked) in 12 frames, first at packet 7");
  // The cause and advice explain the violation, not only the (normal) close.
  CHECK_THAT(v.cause, Contains("Also found: Client frame not masked (the client, client-unmasked "
                               "in 12 frames, first at packet 7)"));
  CHECK_THAT(v.advice, Contains("For client-unmasked: Use a compliant client library"));
  CHECK_THAT(v.advice, !Contains("Nothing is wrong"));
}

TEST_CASE("verdict: a single violation names its packet", "[diag]") {
  ConnectionSummary s = closed_by_client(1002);
  s.close.initiator = Side::server;
  s.findings.push_back({RuleId::rsv_bits, Side::client, pkt(9, 20), "RSV1", 1});
  const Verdict v = diagnose(s);
  CHECK(v.severity == Severity::error);
  CHECK_THAT(v.summary, EndsWith("; the client also broke RFC 6455 §5.2, RFC 7692 §6 (rsv-bits) "
                                 "at packet 9"));
}

TEST_CASE("verdict: handshake problems count as findings once", "[diag]") {
  ConnectionSummary s = closed_by_client(1000);
  s.handshake.problems.push_back(RuleId::handshake_subprotocol);
  Verdict v = diagnose(s);
  CHECK(v.severity == Severity::error);
  CHECK_THAT(v.summary, Contains("the server broke RFC 6455 §4.1 (handshake-subprotocol) at "
                                 "packet 6"));
  // Also present as a finding: not counted twice.
  s.findings.push_back({RuleId::handshake_subprotocol, Side::server, pkt(6, 3), "", 1});
  v = diagnose(s);
  CHECK_THAT(v.summary, !Contains("more finding"));
}

TEST_CASE("verdict: 1006 by server RST after 61 s idle", "[diag]") {
  ConnectionSummary s = established();
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.by = Side::server;
  s.tcp_end.at = pkt(30, 61'200);
  s.tcp_end.idle_before_ms = 61'000.0;
  s.tcp_end.server_rst = true;
  s.findings.push_back({RuleId::rst, Side::server, pkt(30, 61'200), "no Close", 1});
  CHECK(first_row(s) == "abnormal-1006");
  CHECK(rows_applying(s) == 1);
  const Verdict v = diagnose(s);
  check_complete(v);
  CHECK(v.code == std::optional<std::uint16_t>(1006));
  CHECK(v.name == "Abnormal Closure");
  CHECK(v.severity == Severity::error);
  CHECK(v.side == Side::server);
  CHECK(v.summary ==
        "abnormal closure (1006): the server reset the connection without a Close frame after "
        "61.0 s idle");
  CHECK_THAT(v.cause, Contains("packet 30"));
  CHECK_THAT(v.cause, Contains("nginx proxy_read_timeout"));
  CHECK_THAT(v.cause, Contains("No Ping frames or application heartbeats were seen"));
  CHECK_THAT(v.advice, Contains("Pings"));
}

TEST_CASE("verdict: 1006 by client FIN, short idle, no timeout claims", "[diag]") {
  ConnectionSummary s = established();
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::client;
  s.tcp_end.at = pkt(15, 2000);
  s.tcp_end.idle_before_ms = 2000.0;
  const Verdict v = diagnose(s);
  check_complete(v);
  CHECK(v.code == std::optional<std::uint16_t>(1006));
  CHECK(v.severity == Severity::error);
  CHECK(v.side == Side::client);
  CHECK_THAT(v.summary, StartsWith("abnormal closure (1006): the client closed TCP without a "
                                   "Close frame"));
  CHECK_THAT(v.cause, Contains("the client closed TCP (FIN, packet 15,"));
  CHECK_THAT(v.cause, !Contains("timeout"));
  CHECK_THAT(v.cause, !Contains("Ping"));
  CHECK_THAT(v.cause, !Contains("lost bytes"));
}

TEST_CASE("verdict: 1006 idle gap matches other defaults, or none", "[diag]") {
  ConnectionSummary s = established();
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  s.tcp_end.at = pkt(15, 100'500);
  s.tcp_end.idle_before_ms = 100'300.0;
  CHECK_THAT(diagnose(s).cause, Contains("Cloudflare"));
  s.tcp_end.idle_before_ms = 42'000.0;  // long, but no known default
  Verdict v = diagnose(s);
  CHECK_THAT(v.cause, Contains("30, 60, 100 and 120 s"));
  CHECK_THAT(v.cause, !Contains("Cloudflare"));
  s.tcp_end.idle_before_ms.reset();  // unknown idle: say nothing about it
  v = diagnose(s);
  CHECK_THAT(v.summary, !Contains("idle"));
  CHECK_THAT(v.cause, !Contains("idle timeout"));
}

TEST_CASE("verdict: 1006 with an unanswered Ping and a capture gap", "[diag]") {
  ConnectionSummary s = established();
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.by = Side::client;
  s.tcp_end.at = pkt(40, 90'000);
  s.tcp_end.idle_before_ms = 20'000.0;
  s.c2s.pings = 3;
  s.findings.push_back({RuleId::ping_unanswered, Side::server, pkt(35, 70'000), "", 1});
  s.findings.push_back({RuleId::capture_gap, Side::none, pkt(33, 60'000), "1448 bytes", 1});
  const Verdict v = diagnose(s);
  CHECK(v.severity == Severity::error);
  CHECK_THAT(v.summary, Contains("a Ping went unanswered"));
  CHECK_THAT(v.summary, Contains("; warning: Bytes missing from the capture (capture-gap) at "
                                 "packet 33"));
  CHECK_THAT(v.cause, Contains("The server never answered a Ping (packet 35"));
  CHECK_THAT(v.cause, Contains("may have been sent and not captured"));
}

TEST_CASE("verdict: a 101 with a bad Sec-WebSocket-Accept that the client rejects is a failed handshake", "[diag]") {
  ConnectionSummary s = established();
  s.handshake.ok = false;
  s.handshake.problems.push_back(RuleId::handshake_accept);
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::client;
  s.tcp_end.at = pkt(8, 4);
  s.tcp_end.idle_before_ms = 1.0;
  CHECK(first_row(s) == "client-rejected-101");
  const Verdict v = diagnose(s);
  check_complete(v);
  CHECK(!v.code);
  CHECK(v.name == "handshake failed");
  CHECK(v.client_rejected_101);
  CHECK(v.severity == Severity::error);
  CHECK(v.side == Side::client);
  CHECK_THAT(v.summary, Contains("Sec-WebSocket-Accept"));
  CHECK_THAT(v.summary, Contains("handshake-accept"));
  CHECK_THAT(v.cause, Contains("§4.1"));
  CHECK_THAT(v.advice, Contains("GUID"));
  SECTION("legal neighbour: the client then sent frames, so it accepted the 101") {
    s.c2s.frames = 2;
    CHECK(first_row(s) == "abnormal-1006");
  }
  SECTION("legal neighbour: the server, not the client, ended TCP") {
    s.tcp_end.by = Side::server;
    CHECK(first_row(s) == "abnormal-1006");
  }
}

TEST_CASE("verdict: a 101 with an unoffered subprotocol is a failed handshake and says why", "[diag]") {
  ConnectionSummary s = established();
  s.handshake.ok = false;
  s.findings.push_back({RuleId::handshake_subprotocol, Side::server, pkt(6, 3), "chat.v2", 1});
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::client;
  s.tcp_end.at = pkt(8, 4);
  const Verdict v = diagnose(s);
  CHECK(!v.code);
  CHECK(v.name == "handshake failed");
  CHECK(v.severity == Severity::error);
  CHECK(v.summary == "handshake failed: the client rejected the server's 101 (handshake-subprotocol: Server "
                     "selected a subprotocol the client did not offer) and closed TCP without sending a frame");
  CHECK_THAT(v.advice, Contains("Sec-WebSocket-Protocol"));
}

TEST_CASE("verdict: a strict client rejecting a 101 that selected no subprotocol", "[diag]") {
  ConnectionSummary s = established();
  s.handshake.subprotocols_offered = "chat.v1";
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::client;
  s.tcp_end.at = pkt(8, 4);
  CHECK(first_row(s) == "client-rejected-101");
  const Verdict v = diagnose(s);
  CHECK(v.name == "handshake failed");
  CHECK(v.side == Side::client);
  CHECK(v.severity == Severity::warning);
  CHECK_THAT(v.cause, Contains("Node's ws"));
  SECTION("legal neighbour: the server selected the offered subprotocol") {
    s.handshake.subprotocol = "chat.v1";
    CHECK(first_row(s) == "abnormal-1006");
  }
}

TEST_CASE("verdict: an invalid first Close is a violation; the verdict is the Close that was accepted", "[diag]") {
  ConnectionSummary s = closed_by_client(999);
  s.close.valid = false;
  s.close.echo_code = 1002;
  s.findings.push_back({RuleId::close_code_invalid, Side::client, s.close.at, "Close with code 999", 1});
  SECTION("the server fails the connection with 1002") {
    s.close.valid_seen = true;
    s.close.valid_by = Side::server;
    s.close.valid_code = 1002;
    s.close.valid_at = s.close.echo_at;
    CHECK(first_row(s) == "invalid-close");
    const Verdict v = diagnose(s);
    check_complete(v);
    CHECK(v.code == std::optional<std::uint16_t>(1002));
    CHECK(v.side == Side::server);
    CHECK(v.severity == Severity::error);
    CHECK(v.summary == "the client sent an invalid Close (code 999); the server failed the connection with "
                       "1002 Protocol Error");
    CHECK_THAT(v.cause, Contains("close-code-invalid"));
  }
  SECTION("no valid Close follows and TCP ends: 1006") {
    s.close.echoed = false;
    s.close.echo_code.reset();
    CHECK(first_row(s) == "invalid-close");
    const Verdict v = diagnose(s);
    CHECK(v.code == std::optional<std::uint16_t>(1006));
    CHECK(v.side == Side::server);
    CHECK_THAT(v.summary, Contains("no valid Close followed"));
  }
  SECTION("a reason that is not UTF-8, answered with 1007") {
    s.close.code = 1000;
    s.close.valid_seen = true;
    s.close.valid_by = Side::server;
    s.close.valid_code = 1007;
    const Verdict v = diagnose(s);
    CHECK(v.code == std::optional<std::uint16_t>(1007));
    CHECK_THAT(v.summary, Contains("reason that is not UTF-8"));
  }
  SECTION("legal neighbour: a valid first Close keeps its own code") {
    s.close.valid = true;
    s.close.code = 1000;
    CHECK(first_row(s) == "closed");
    CHECK(diagnose(s).code == std::optional<std::uint16_t>(1000));
  }
}

TEST_CASE("verdict: handshake rejected with 403", "[diag]") {
  ConnectionSummary s = established();
  s.handshake.status = 403;
  s.handshake.reason_phrase = "Forbidden";
  s.handshake.ok = false;
  s.handshake.origin = "https://evil.example";
  s.handshake.server_software = "nginx/1.25.3";
  s.handshake.problems.push_back(RuleId::handshake_rejected);
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  CHECK(first_row(s) == "handshake-failed");
  CHECK(rows_applying(s) == 2);  // abnormal-1006 would also match: order decides
  const Verdict v = diagnose(s);
  check_complete(v);
  CHECK_FALSE(v.code.has_value());
  CHECK(v.name == "handshake failed");
  CHECK(v.severity == Severity::error);
  CHECK(v.side == Side::server);
  CHECK(v.summary == "handshake failed: server answered 403 Forbidden");
  CHECK_THAT(v.cause, Contains("Origin was \"https://evil.example\""));
  CHECK_THAT(v.cause, Contains("nginx/1.25.3"));
  CHECK_THAT(v.advice, Contains("allowed origins"));
}

TEST_CASE("verdict: handshake status-specific texts", "[diag]") {
  ConnectionSummary s = established();
  s.handshake.ok = false;
  s.handshake.reason_phrase.clear();
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;

  s.handshake.status = 400;
  s.handshake.problems = {RuleId::handshake_upgrade_header};
  Verdict v = diagnose(s);
  CHECK(v.summary == "handshake failed: server answered 400 Bad Request; the client also broke "
                     "RFC 6455 §4.1, §4.2.1 (handshake-upgrade-header) at packet 4");
  CHECK_THAT(v.cause, Contains("handshake-upgrade-header"));
  CHECK_THAT(v.advice, Contains("proxy_set_header Upgrade $http_upgrade"));
  s.handshake.problems.clear();

  s.handshake.status = 404;
  v = diagnose(s);
  CHECK_THAT(v.cause, Contains("\"/ws\""));
  s.handshake.status = 426;
  v = diagnose(s);
  CHECK_THAT(v.summary, Contains("Sec-WebSocket-Version"));
  s.handshake.status = 200;
  v = diagnose(s);
  CHECK_THAT(v.cause, Contains("plain HTTP request"));
  s.handshake.status = 502;
  v = diagnose(s);
  CHECK_THAT(v.cause, Contains("backend"));
  s.handshake.status.reset();  // response seen but unreadable
  v = diagnose(s);
  CHECK(v.name == "handshake failed");
  CHECK_THAT(v.summary, Contains("not a readable HTTP status line"));
}

TEST_CASE("verdict: no response to the Upgrade request", "[diag]") {
  ConnectionSummary s = established();
  s.handshake.response_seen = false;
  s.handshake.status.reset();
  s.handshake.ok = false;
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  s.tcp_end.at = pkt(9, 30'000);
  s.findings.push_back({RuleId::no_response, Side::server, pkt(4, 1), "", 1});
  CHECK(first_row(s) == "handshake-failed");
  Verdict v = diagnose(s);
  check_complete(v);
  CHECK_FALSE(v.code.has_value());
  CHECK(v.name == "handshake failed");
  CHECK(v.severity == Severity::error);
  CHECK(v.side == Side::server);
  CHECK(v.summary == "handshake failed: no response to the Upgrade request before the connection "
                     "ended (the server sent FIN)");
  CHECK_THAT(v.summary, !Contains("(no-response"));

  // Still open when the capture ended: no claim that the connection ended.
  s.tcp_end = {};
  s.findings.clear();
  v = diagnose(s);
  CHECK(v.side == Side::none);
  CHECK(v.severity == Severity::warning);
  CHECK(v.summary == "handshake failed: no response to the Upgrade request before the capture "
                     "ended");
}

TEST_CASE("verdict: still open at the end of the capture", "[diag]") {
  ConnectionSummary s = established();
  s.tcp_end.idle_before_ms = 12'000.0;
  s.findings.push_back({RuleId::open_at_end, Side::none, pkt(10, 100), "", 1});
  CHECK(first_row(s) == "open");
  CHECK(rows_applying(s) == 1);
  const Verdict v = diagnose(s);
  check_complete(v);
  CHECK_FALSE(v.code.has_value());
  CHECK(v.name == "open");
  CHECK(v.severity == Severity::info);
  CHECK(v.side == Side::none);
  CHECK(v.summary == "still open when the capture ended, 12.0 s since the last data (open-at-end)");
}

TEST_CASE("verdict: handshake not captured is never 'handshake failed'", "[diag]") {
  ConnectionSummary s;
  s.websocket = true;
  s.handshake_captured = false;
  s.findings.push_back({RuleId::capture_started_midstream, Side::none, pkt(1, 0), "", 1});
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  CHECK(first_row(s) == "abnormal-1006");
  s.close.seen = true;
  s.close.initiator = Side::server;
  s.close.code = 1001;
  s.close.echoed = true;
  s.close.echo_code = 1001;
  CHECK(first_row(s) == "closed");
  const Verdict v = diagnose(s);
  CHECK(v.code == std::optional<std::uint16_t>(1001));
  CHECK(v.severity == Severity::info);  // capture-started-midstream is info: not appended
  CHECK(v.summary == "closed by the server with 1001 Going Away");
}

