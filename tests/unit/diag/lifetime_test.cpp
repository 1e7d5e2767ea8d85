// max-lifetime (issue #11 §2) on hand-built facts: the run-level group (same age, different start
// times, busy to the end) and the per-connection row (an age that matches a known lifetime), each
// with its legal neighbours.
#include <catch2/catch.hpp>

#include <algorithm>

#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/verdict.h"
#include "summary_fixture.h"

using namespace wsdiag;
using namespace wsdiag::diag;
using namespace wsdiag::test;

namespace {

std::int64_t ns(double s) { return ns_at(s); }

// A connection opened at `start`, torn down by the server (FIN, no Close) at `start + age`,
// `quiet` seconds after its last traffic.
EndingFact cut(std::uint64_t id, double start, double age, double quiet = 0.1, Side by = Side::server) {
  EndingFact e;
  e.id = id;
  e.server = "10.0.0.2:8765";
  e.start_ns = ns(start);
  e.end_ns = ns(start + age);
  e.by = by;
  e.tcp_ended = true;
  e.idle_ms = quiet * 1000.0;
  e.quiet_ms = quiet * 1000.0;
  return e;
}

const Pattern* find(const std::vector<Pattern>& ps, std::string_view id) {
  const auto it = std::find_if(ps.begin(), ps.end(), [&](const Pattern& p) { return p.id == id; });
  return it == ps.end() ? nullptr : &*it;
}

// One busy connection torn down by the server at `age` seconds, `quiet` s after its last message.
ConnectionSummary busy_cut(double age, double quiet) {
  ConnectionSummary s = established_ws("10.0.0.1:50000", "10.0.0.2:443", 100);
  s.c2s.messages = s.s2c.messages = 100;
  s.c2s.last_message = at_s(400, age - quiet);
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = s.tcp_end.initiator = Side::server;
  s.tcp_end.at = s.tcp_end.initiated_at = at_s(401, age);
  s.tcp_end.idle_before_ms = quiet * 1000.0;
  s.last = at_s(403, age + 0.001);
  return s;
}

}  // namespace

TEST_CASE("max-lifetime: connections opened apart and cut at the same age while busy form a group",
          "[diag][causes][lifetime]") {
  std::vector<EndingFact> run;
  for (std::uint64_t i = 0; i < 5; ++i) run.push_back(cut(i + 1, 0.7 * static_cast<double>(i), 4.0 + 0.01 * static_cast<double>(i)));
  const auto ps = find_patterns(run);
  const Pattern* p = find(ps, "max-lifetime");
  REQUIRE(p);
  CHECK(p->members == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
  CHECK(p->confidence == Confidence::likely);
  CHECK_THAT(p->summary, Catch::Contains("5 connections to 10.0.0.2:8765"));
  CHECK_THAT(p->summary, Catch::Contains("torn down by the server at the same age, 4.0 ± 0.0 s"));
  CHECK(p->first_ns == ns(4.0));

  SECTION("certain when the age is a known lifetime (GCP backend timeout 30 s)") {
    for (auto& e : run) e.end_ns += 26'000'000'000;
    const auto found = find_patterns(run);  // kept alive: find() points into it
    const Pattern* q = find(found, "max-lifetime");
    REQUIRE(q);
    CHECK(q->confidence == Confidence::certain);
    CHECK_THAT(q->summary, Catch::Contains("GCP"));
  }
  SECTION("legal neighbour: busy connections cut at different ages") {
    const double ages[] = {2.0, 3.3, 4.7, 6.1, 7.6};
    for (std::size_t i = 0; i < run.size(); ++i) run[i].end_ns = run[i].start_ns + static_cast<std::int64_t>(ages[i] * 1e9);
    CHECK(!find(find_patterns(run), "max-lifetime"));
  }
  SECTION("legal neighbour: idle before the end (an idle timeout, not a lifetime)") {
    for (auto& e : run) e.idle_ms = e.quiet_ms = 3000.0;
    const auto q = find_patterns(run);
    CHECK(!find(q, "max-lifetime"));
    CHECK(find(q, "idle-timeout"));
  }
  SECTION("legal neighbour: the clients closed normally with 1000 at the same age (their own choice)") {
    for (auto& e : run) {
      e.by = Side::client;
      e.close_frame = true;
      e.code = 1000;
    }
    CHECK(find_patterns(run).empty());
  }
  SECTION("legal neighbour: opened together and ended together is one event (a crash), not a lifetime") {
    for (auto& e : run) {
      e.start_ns = ns(0);
      e.end_ns = ns(4.0);
    }
    const auto q = find_patterns(run);
    CHECK(!find(q, "max-lifetime"));
    CHECK(find(q, "correlated-teardown"));
  }
  SECTION("legal neighbour: connections refused right after opening (app closes) are not cut at an age") {
    for (auto& e : run) {
      e.end_ns = e.start_ns + 100'000'000;
      e.close_frame = true;
      e.code = 4403;
    }
    CHECK(!find(find_patterns(run), "max-lifetime"));
  }
  SECTION("two servers: each group is its own") {
    for (std::uint64_t i = 0; i < 5; ++i) {
      EndingFact e = cut(10 + i, 0.7 * static_cast<double>(i), 4.0);
      e.server = "10.0.0.3:8765";
      run.push_back(e);
    }
    const auto q = find_patterns(run);
    CHECK(std::count_if(q.begin(), q.end(), [](const Pattern& x) { return x.id == "max-lifetime"; }) == 2);
  }
}

TEST_CASE("max-lifetime per connection: only at the age of a known lifetime", "[diag][causes][lifetime]") {
  auto c = cause_of(busy_cut(30.2, 0.2));
  REQUIRE(c);
  CHECK(c->id == "max-lifetime");
  CHECK(c->confidence == Confidence::likely);
  CHECK_THAT(c->evidence, Catch::Contains("torn down (no Close) by the server at the age of 30.2 s"));
  CHECK_THAT(c->evidence, Catch::Contains("GCP"));
  c = cause_of(busy_cut(7201.0, 0.05));
  REQUIRE(c);
  CHECK_THAT(c->evidence, Catch::Contains("API Gateway"));
  SECTION("legal neighbour: an age no product is known for") { CHECK(!cause_of(busy_cut(44.0, 0.2))); }
  SECTION("legal neighbour: 30 s old but idle before the end: an idle timeout, not a lifetime") {
    c = cause_of(busy_cut(30.0, 25.0));
    REQUIRE(c);
    CHECK(c->id == "idle-timeout");
  }
}
