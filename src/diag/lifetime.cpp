// wsdiag — max-lifetime (issue #11 §2): connections cut at the same age whatever their traffic.
//
//   per connection  the ending (a teardown, or a Close that is not the client's own 1000) came
//                   while the connection was busy (less than 1.5 s of silence) at an age that
//                   matches a known maximum lifetime (known_timeouts.h: GCP backend timeout 30 s,
//                   API Gateway 2 h): likely
//   over the run    >= 3 connections to one server, same ending side, busy to the end, whose ages
//                   agree within 2 s (± 1 s) although they were opened at clearly different times
//                   (start times spread >= 1 s and >= twice the ages' spread): a lifetime on the
//                   path or in the server; certain when the age matches a known lifetime
// A crash or restart ends connections at the same *time* (their ages differ as their start times
// do): the correlated-teardown and graceful-restart rows, before this one, take those.
#include "lifetime.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "wsdiag/diag/known_timeouts.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::diag::lifetime {
namespace {

constexpr double kMaxQuietMs = 1500.0;   // busier than this at the end: not an idle ending
constexpr double kMinAgeS = 2.0;         // a connection refused at once is not "cut at an age"
constexpr double kAgeWindowS = 2.0;      // same age: ± 1 s
constexpr double kMinStartSpreadS = 1.0;
constexpr std::size_t kMinGroup = 3;

double age_s(const EndingFact& e) { return static_cast<double>(e.end_ns - e.start_ns) / 1e9; }

/// The ending could be a lifetime cut: not the client's own normal close, busy until the end.
bool candidate(const EndingFact& e) {
  if (e.by == Side::none || e.start_ns == 0) return false;
  if (e.close_frame && e.by == Side::client && e.code == std::optional<std::uint16_t>(1000)) return false;
  if (!e.close_frame && !e.tcp_ended) return false;
  return e.quiet_ms && *e.quiet_ms < kMaxQuietMs && age_s(e) >= kMinAgeS;
}

std::string how_ended(const EndingFact& e) {
  if (!e.close_frame) return "torn down (no Close)";
  return e.code ? fmt::format("closed with {}", *e.code) : std::string("closed");
}

}  // namespace

std::optional<CauseMatch> cause(const ConnectionSummary& s, const Verdict& v) {
  const auto e = ending_fact(s, v);
  if (!e || !candidate(*e)) return std::nullopt;
  const double age = age_s(*e);
  const KnownTimeout* known = match_known_timeout(age, TimeoutKind::lifetime);
  if (known == nullptr) return std::nullopt;
  return CauseMatch{"max-lifetime", Confidence::likely,
                    fmt::format("{} by the {} at the age of {} while busy (last traffic {} before): that "
                                "matches the {}",
                                how_ended(*e), side_name(e->by), format_duration_ms(age * 1000.0),
                                format_duration_ms(*e->quiet_ms), known->who),
                    kFix};
}

void groups(std::span<const EndingFact> all, std::vector<Pattern>& out) {
  std::vector<const EndingFact*> pool;
  for (const EndingFact& e : all) {
    if (candidate(e) && !in_a_pattern(out, e.id)) pool.push_back(&e);
  }
  std::stable_sort(pool.begin(), pool.end(), [](const EndingFact* a, const EndingFact* b) {
    if (a->server != b->server) return a->server < b->server;
    if (a->by != b->by) return a->by < b->by;
    return age_s(*a) < age_s(*b);
  });
  std::size_t i = 0;
  while (i < pool.size()) {
    std::size_t j = i + 1;
    while (j < pool.size() && pool[j]->server == pool[i]->server && pool[j]->by == pool[i]->by &&
           age_s(*pool[j]) - age_s(*pool[i]) <= kAgeWindowS) {
      ++j;
    }
    const std::span<const EndingFact* const> g(pool.data() + i, j - i);
    double lo = age_s(*g.front()), hi = lo, sum = 0, quiet = 0;
    std::int64_t first_start = g.front()->start_ns, last_start = first_start;
    for (const EndingFact* e : g) {
      const double a = age_s(*e);
      lo = std::min(lo, a);
      hi = std::max(hi, a);
      sum += a;
      quiet = std::max(quiet, *e->quiet_ms);
      first_start = std::min(first_start, e->start_ns);
      last_start = std::max(last_start, e->start_ns);
    }
    const double start_spread = static_cast<double>(last_start - first_start) / 1e9;
    const bool found = g.size() >= kMinGroup && start_spread >= std::max(kMinStartSpreadS, 2 * (hi - lo));
    if (found) {
      const double mean = sum / static_cast<double>(g.size());
      const KnownTimeout* known = match_known_timeout(mean, TimeoutKind::lifetime);
      Pattern p = make_pattern("max-lifetime", known ? Confidence::certain : Confidence::likely, kFix, g);
      p.summary = fmt::format("{} connections to {}, opened over {}, were {} by the {} at the same age, {:.1f} ± {:.1f} s, "
                              "while busy (at most {} of silence before the end): a maximum connection "
                              "lifetime of {:.0f} s on the path or in the server{}",
                              g.size(), g.front()->server, format_duration_ms(start_spread * 1000.0),
                              g.front()->close_frame ? "closed" : "torn down", side_name(g.front()->by), mean,
                              (hi - lo) / 2, format_duration_ms(quiet), std::round(mean),
                              known ? fmt::format(" (the {})", known->who) : std::string());
      out.push_back(std::move(p));
    }
    i = found ? j : i + 1;
  }
}

}  // namespace wsdiag::diag::lifetime
