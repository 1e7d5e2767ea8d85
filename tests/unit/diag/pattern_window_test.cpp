// PatternWindow: the run-level patterns in live mode, over a sliding window of endings.
#include <catch2/catch.hpp>

#include "wsdiag/diag/pattern_window.h"

using namespace wsdiag;
using namespace wsdiag::diag;

namespace {
constexpr std::int64_t kS = 1'000'000'000;

EndingFact crash_ending(std::uint64_t id, std::int64_t at_ns) {
  EndingFact e;
  e.id = id;
  e.server = "10.0.0.2:80";
  e.end_ns = at_ns;
  e.by = Side::server;
  e.code = 1006;
  e.tcp_ended = true;
  e.idle_ms = 100.0 * static_cast<double>(id);  // different silences: not an idle-timeout group
  return e;
}
}  // namespace

TEST_CASE("pattern window: a group is reported once it has settled, whole, and only once", "[diag][causes]") {
  Limits lim;
  PatternWindow w(lim);
  const std::int64_t t0 = 1000 * kS;
  for (std::uint64_t i = 1; i <= 10; ++i) w.add(crash_ending(i, t0 + static_cast<std::int64_t>(i) * 1000), t0);
  CHECK(w.due(t0 + kS).empty());  // not settled: more endings of the same crash may still come
  for (std::uint64_t i = 11; i <= 22; ++i) w.add(crash_ending(i, t0 + static_cast<std::int64_t>(i) * 1000), t0 + kS);
  CHECK(w.due(t0 + 2 * kS).empty());
  const auto p = w.due(t0 + 3 * kS + 1);
  REQUIRE(p.size() == 1);
  CHECK(p[0].id == "correlated-teardown");
  CHECK(p[0].members.size() == 22);
  CHECK(w.due(t0 + 10 * kS).empty());  // nothing new: nothing reported again

  SECTION("an unrelated ending later does not report the same group again") {
    EndingFact lone = crash_ending(40, t0 + 60 * kS);
    w.add(lone, t0 + 60 * kS);
    CHECK(w.due(t0 + 70 * kS).empty());
  }
  SECTION("a group that grows is reported again with its new size") {
    w.add(crash_ending(23, t0 + 23 * 1000), t0 + 11 * kS);
    const auto again = w.due(t0 + 20 * kS);
    REQUIRE(again.size() == 1);
    CHECK(again[0].members.size() == 23);
  }
}

TEST_CASE("pattern window: flush reports what is pending at the end of the capture", "[diag][causes]") {
  Limits lim;
  PatternWindow w(lim);
  for (std::uint64_t i = 1; i <= 5; ++i) w.add(crash_ending(i, kS + static_cast<std::int64_t>(i)), kS);
  CHECK(w.due(kS).empty());
  CHECK(w.due(kS, true).size() == 1);
}

TEST_CASE("pattern window: bounded by time and by count", "[diag][causes]") {
  Limits lim;
  lim.pattern_window_endings = 8;
  lim.pattern_window_ns = 60 * kS;
  PatternWindow w(lim);
  for (std::uint64_t i = 1; i <= 20; ++i) w.add(crash_ending(i, kS + static_cast<std::int64_t>(i)), kS);
  CHECK(w.size() == 8);
  w.add(crash_ending(21, 200 * kS), 200 * kS);  // 199 s later: the earlier burst left the window
  CHECK(w.size() == 1);
  // The burst was never reported (it left the window before settling): nothing to say about one ending.
  CHECK(w.due(300 * kS).empty());
}
