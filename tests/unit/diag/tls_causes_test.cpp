// Causes on encrypted connections (issue #12 "without keys"): a wss:// connection that was not
// decrypted goes through the same cause and pattern tables as a plaintext one, judged from TCP and
// TLS facts; an ending that begins with a TLS alert before TCP's FIN/RST is dated and attributed by
// that alert. Hand-built summaries, each case with its legal neighbour.
#include <catch2/catch.hpp>

#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/tls/record.h"
#include "summary_fixture.h"

using namespace wsdiag;
using namespace wsdiag::diag;
using namespace wsdiag::test;

namespace {

// A TLS 1.2 connection (no key log) whose TCP ending was begun by `by` with a FIN after `idle`
// seconds in which no record crossed; the last records were application data at 1.0 s.
ConnectionSummary tls_torn_down(Side by, double idle, std::uint64_t id = 1, double t0 = 0) {
  ConnectionSummary s;
  s.id = id;
  s.client = "10.0.0.1:" + std::to_string(50000 + id);
  s.server = "10.0.0.2:443";
  s.websocket = false;
  s.tcp_handshake_seen = true;
  s.first = at_s(1, t0);
  tls::TlsFacts t;
  t.client_hello = t.server_hello = true;
  t.client_hello_at = at_s(4, t0 + 0.001);
  t.server_hello_at = at_s(5, t0 + 0.002);
  t.version = 0x0303;
  t.cipher = 0xC030;
  t.sni = "ws.test";
  t.keys = tls::KeyStatus::no_keylog;
  for (auto* d : {&t.c2s, &t.s2c}) {
    d->handshake_done = true;
    d->records = 6;
    d->app_records = 3;
    d->prev_record = at_s(8, t0 + 0.9);
    d->last_record = d->last_app = at_s(d == &t.c2s ? 9 : 10, t0 + 1.0);
    d->last_type = tls::content::application_data;
    d->last_len = 40;
  }
  s.tls = t;
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = s.tcp_end.initiator = by;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(20, t0 + 1.0 + idle);
  s.tcp_end.idle_before_ms = idle * 1000.0;
  s.last = at_s(22, t0 + 1.0 + idle + 0.001);
  return s;
}

}  // namespace

TEST_CASE("TLS causes: an undecrypted connection torn down after a silence is an idle timeout", "[diag][tls]") {
  const ConnectionSummary s = tls_torn_down(Side::server, 60.0);
  REQUIRE(tls_opaque(s));
  const Verdict v = diagnose(s);
  CHECK(v.name == "TLS, not decrypted");
  CHECK(!v.code);
  const auto c = likely_cause(s, v);
  REQUIRE(c);
  CHECK(c->id == "idle-timeout");
  CHECK(c->confidence == Confidence::likely);  // 60 s: a known default
  CHECK_THAT(c->evidence, Catch::Contains("torn down by the server (FIN) after 60.0 s"));
  CHECK_THAT(c->evidence, Catch::Contains("no TLS record"));
  SECTION("legal neighbour: no silence before the FIN (a Close may be in the last records)") {
    const ConnectionSummary busy = tls_torn_down(Side::server, 0.02);
    CHECK(!cause_of(busy));
    CHECK(!ending_fact(busy, diagnose(busy)));
  }
  SECTION("legal neighbour: still open") {
    ConnectionSummary open = tls_torn_down(Side::server, 60.0);
    open.tcp_end.how = TcpEndHow::open;
    CHECK(!cause_of(open));
  }
  SECTION("legal neighbour: the TLS handshake failed (the handshake is the cause, not a path timeout)") {
    ConnectionSummary hs = tls_torn_down(Side::client, 5.0);
    hs.tls->c2s.handshake_done = false;
    REQUIRE(!tls_opaque(hs));
    CHECK(diagnose(hs).name == "TLS handshake failed");
    CHECK(!cause_of(hs));
  }
}

TEST_CASE("TLS causes: an ending begun by a TLS alert is attributed and timed by it", "[diag][tls]") {
  // A proxy times out after 2 s: its close_notify (an encrypted TLS 1.2 alert record) at 3.0 s, the
  // client's close_notify at 3.0005 s and then the client's FIN: TCP alone would say "the client,
  // no silence".
  ConnectionSummary s = tls_torn_down(Side::client, 0.0005);
  auto& srv = s.tls->s2c;
  srv.prev_record = srv.last_record;  // its last data record, 1.0 s
  srv.last_record = at_s(30, 3.0);
  srv.records += 1;
  srv.alert.seen = srv.alert.encrypted = true;
  srv.alert.at = srv.last_record;
  srv.encrypted_alert_record = true;
  auto& cli = s.tls->c2s;
  cli.prev_record = cli.last_record;
  cli.last_record = at_s(31, 3.0005);
  cli.records += 1;
  cli.alert.seen = cli.alert.encrypted = true;
  cli.alert.at = cli.last_record;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(32, 3.001);

  const auto te = tls_ending(s);
  REQUIRE(te);
  CHECK(te->by == Side::server);
  CHECK(te->at.index == 30);
  REQUIRE(te->idle_ms);
  CHECK(*te->idle_ms == Approx(2000.0));
  const auto c = cause_of(s);
  REQUIRE(c);
  CHECK(c->id == "idle-timeout");
  CHECK_THAT(c->evidence, Catch::Contains("torn down by the server (an encrypted TLS alert record first) after 2.00 s"));
  const auto e = ending_fact(s, diagnose(s));
  REQUIRE(e);
  CHECK(e->by == Side::server);
  CHECK(e->end_ns == at_s(30, 3.0).ts_ns);

  SECTION("TLS 1.3 without keys: a last record of an alert's size (19 bytes) counts the same") {
    s.tls->version = 0x0304;
    srv.alert = {};
    srv.encrypted_alert_record = false;
    srv.last_type = tls::content::application_data;
    srv.last_len = 19;
    cli.alert = {};
    cli.last_len = 19;
    const auto te13 = tls_ending(s);
    REQUIRE(te13);
    CHECK(te13->by == Side::server);
    CHECK(*te13->idle_ms == Approx(2000.0));
    srv.last_len = 40;  // not an alert's size: no TLS ending, TCP's (the client, no silence)
    const auto te_cli = tls_ending(s);
    REQUIRE(te_cli);
    CHECK(te_cli->by == Side::client);
    CHECK(!cause_of(s));
  }
  SECTION("an alert after TCP's ending began does not start it") {
    srv.last_record = srv.alert.at = at_s(40, 4.0);
    cli.alert = {};
    cli.last_record = at_s(9, 1.0);
    cli.prev_record = at_s(8, 0.9);
    CHECK(!tls_ending(s));
  }
}

TEST_CASE("TLS causes: undecrypted teardowns after the same silence form the idle-timeout pattern", "[diag][tls]") {
  std::vector<EndingFact> endings;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    const ConnectionSummary s = tls_torn_down(Side::server, 2.0, i, 0.4 * static_cast<double>(i));
    const auto e = ending_fact(s, diagnose(s));
    REQUIRE(e);
    endings.push_back(*e);
  }
  const auto pats = find_patterns(endings);
  REQUIRE(pats.size() == 1);
  CHECK(pats[0].id == "idle-timeout");
  CHECK(pats[0].members == std::vector<std::uint64_t>{1, 2, 3});
  CHECK_THAT(pats[0].summary, Catch::Contains("by the server side after 2.0"));
}
