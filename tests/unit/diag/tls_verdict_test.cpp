// TLS judgement over hand-built summaries: which TLS connections are listed, the "TLS, not
// decrypted" / "TLS handshake failed" / "TLS decryption failed" verdicts, and the TLS findings.
#include <catch2/catch.hpp>

#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"

using namespace wsdiag;
using namespace wsdiag::diag;

namespace {

ConnectionSummary tls_summary() {
  ConnectionSummary s;
  s.first = PacketRef{1, 0};
  s.last = PacketRef{30, 5'000'000'000};
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  s.tcp_end.initiator = Side::server;
  s.tcp_end.initiated_at = PacketRef{28, 4'900'000'000};
  s.tcp_end.idle_before_ms = 60000.0;
  tls::TlsFacts t;
  t.client_hello = t.server_hello = true;
  t.version = 0x0304;
  t.cipher = 0x1301;
  t.sni = "api.example.com";
  t.c2s.handshake_done = t.s2c.handshake_done = true;
  t.keys = tls::KeyStatus::no_keylog;
  t.s2c.last_type = 23;
  t.s2c.last_len = 19;
  t.s2c.last_record = PacketRef{27, 0};
  s.tls = t;
  return s;
}

}  // namespace

TEST_CASE("TLS without keys: listed, no close code claimed, the facts TCP and TLS prove", "[diag]") {
  const ConnectionSummary s = tls_summary();
  CHECK(tls_candidate(s));
  const Verdict v = diagnose(s);
  CHECK(v.name == "TLS, not decrypted");
  CHECK_FALSE(v.code.has_value());
  CHECK(v.side == Side::server);
  CHECK(v.severity == Severity::info);
  CHECK(v.summary.find("api.example.com") != std::string::npos);
  CHECK(v.summary.find("FIN from the server") != std::string::npos);
  CHECK(v.cause.find("size of an encrypted alert") != std::string::npos);
  CHECK(v.advice.find("SSLKEYLOGFILE") != std::string::npos);
  CHECK(v.advice.find("KeyLogWriter") != std::string::npos);
}

TEST_CASE("a RST on an undecrypted TLS connection is a warning", "[diag]") {
  ConnectionSummary s = tls_summary();
  s.tcp_end.how = TcpEndHow::rst;
  s.tcp_end.initiated_by_rst = true;
  CHECK(diagnose(s).severity == Severity::warning);
}

TEST_CASE("a TLS handshake that never completed is a failure, unless records were lost", "[diag]") {
  ConnectionSummary s = tls_summary();
  s.tls->c2s.handshake_done = false;
  Verdict v = diagnose(s);
  CHECK(v.name == "TLS handshake failed");
  CHECK(v.severity == Severity::error);
  CHECK(v.cause.find("did not accept the certificate") != std::string::npos);
  s.tls->s2c.gap = true;  // the server's records after a gap are unknown: nothing provable
  CHECK(diagnose(s).name == "TLS, not decrypted");
}

TEST_CASE("decrypted WebSocket connections get their WebSocket verdict; failed decryption does not", "[diag]") {
  ConnectionSummary s = tls_summary();
  s.websocket = true;
  s.tls->keys = tls::KeyStatus::decrypted;
  CHECK_FALSE(tls_candidate(s));
  CHECK(diagnose(s).name != "TLS, not decrypted");
  s.tls->keys = tls::KeyStatus::failed;
  s.tls->s2c.decrypt_failed = true;
  s.tls->s2c.decrypt_failed_at = PacketRef{12, 0};
  const Verdict v = diagnose(s);
  CHECK(v.name == "TLS decryption failed");
  CHECK_FALSE(v.code.has_value());
  // decrypted, not WebSocket, not h2: plain HTTPS, not listed
  s.websocket = false;
  s.tls->keys = tls::KeyStatus::decrypted;
  CHECK_FALSE(tls_candidate(s));
  s.tls->alpn = "h2";
  CHECK(tls_candidate(s));
  CHECK(diagnose(s).name == "WebSocket over HTTP/2");
}

TEST_CASE("TLS findings: fatal alert, decrypt failure, limit, h2", "[diag]") {
  ConnectionSummary s = tls_summary();
  s.tls->s2c.alert = {true, false, 2, 40, 2, PacketRef{6, 0}};
  s.tls->c2s.decrypt_failed = true;
  s.tls->c2s.decrypt_failed_at = PacketRef{9, 0};
  s.tls->c2s.limit_hit = true;
  s.tls->alpn = "h2";
  add_tls_findings(s);
  CHECK(s.has(RuleId::tls_alert));
  CHECK(s.find(RuleId::tls_alert)->side == Side::server);
  CHECK(s.find(RuleId::tls_alert)->message.find("handshake_failure") != std::string::npos);
  CHECK(s.has(RuleId::tls_decrypt_failed));
  CHECK(s.has(RuleId::limit_tls_record));
  CHECK(s.has(RuleId::tls_h2));
  // close_notify is not a finding
  ConnectionSummary c = tls_summary();
  c.tls->c2s.alert = {true, false, 1, 0, 2, PacketRef{6, 0}};
  add_tls_findings(c);
  CHECK_FALSE(c.has(RuleId::tls_alert));
}

TEST_CASE("TLS findings: held records over budget only when the connection's secrets were logged", "[diag]") {
  ConnectionSummary s = tls_summary();
  s.tls->s2c.held_limit = true;
  s.tls->s2c.held_limit_at = PacketRef{12, 0};
  s.tls->s2c.held_limit_records = 64;
  s.tls->s2c.held_limit_bytes = 60000;
  // A client that logs nothing: every record waits until the budget, which is not the problem.
  s.tls->keys = tls::KeyStatus::not_found;
  ConnectionSummary none = s;
  add_tls_findings(none);
  CHECK_FALSE(none.has(RuleId::limit_tls_held));
  // The secrets came, too late for the budget: the finding says so.
  ConnectionSummary late = s;
  late.tls->keys_logged_late = true;
  add_tls_findings(late);
  REQUIRE(late.has(RuleId::limit_tls_held));
  CHECK(late.find(RuleId::limit_tls_held)->side == Side::server);
  CHECK(late.find(RuleId::limit_tls_held)->message.find("logged only later") != std::string::npos);
  // Some secrets were there (the application ones came too late): a finding on its own.
  ConnectionSummary partial = s;
  partial.tls->keys = tls::KeyStatus::failed;
  add_tls_findings(partial);
  CHECK(partial.has(RuleId::limit_tls_held));
  CHECK(partial.find(RuleId::limit_tls_held)->message.find("64 TLS records (60000 bytes)") != std::string::npos);
}
