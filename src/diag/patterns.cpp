// wsdiag — run-level causes (causes.h): groups of connections whose endings only make sense
// together. Rows, each a pure function over every ending of the run, sorted by time:
//
//   correlated-teardown  >= 3 connections to one server torn down (FIN/RST, no Close) by the same side
//                        within 100 ms: the process crashed, was killed or restarted without closing
//                        its WebSockets (or a box on the path dropped them all at once)
//   graceful-restart     >= 3 connections to one server closed by it with 1001 or 1012 within 100 ms:
//                        a deploy or restart that said goodbye properly
//   idle-timeout         >= 3 connections torn down without Close by the same side after the same
//                        silence (within max(0.1 s, 2%)): an idle timeout of that length on the path
//   max-lifetime         >= 3 connections to one server cut at the same age while busy (lifetime.cpp)
// A connection belongs to the first group that claims it (the rows' order). Encrypted connections
// that were not decrypted (tls_opaque) take part when TCP ended after at least 1 s in which no TLS
// record crossed: no Close can have come just before, so that ending is a teardown.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/known_timeouts.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"
#include "lifetime.h"

namespace wsdiag::diag {
namespace {

constexpr std::size_t kMinGroup = 3;
constexpr std::int64_t kBurstNs = 100'000'000;  // endings this close together are "at once"

std::string spread(std::int64_t ns) { return format_duration_ms(ns_to_ms(ns)); }

/// Endings (time-sorted) that pass `keep`, grouped by server and side, split into bursts of
/// endings no more than kBurstNs apart; each burst of kMinGroup or more is handed to `emit`.
template <typename Keep, typename Emit>
void bursts(std::span<const EndingFact> all, const std::vector<Pattern>& out, Keep keep, Emit emit) {
  std::vector<const EndingFact*> pool;
  for (const EndingFact& e : all) {
    if (keep(e) && !in_a_pattern(out, e.id)) pool.push_back(&e);
  }
  std::stable_sort(pool.begin(), pool.end(), [](const EndingFact* a, const EndingFact* b) {
    if (a->server != b->server) return a->server < b->server;
    if (a->by != b->by) return a->by < b->by;
    return a->end_ns < b->end_ns;
  });
  std::size_t i = 0;
  while (i < pool.size()) {
    std::size_t j = i + 1;
    while (j < pool.size() && pool[j]->server == pool[i]->server && pool[j]->by == pool[i]->by &&
           pool[j]->end_ns - pool[j - 1]->end_ns <= kBurstNs) {
      ++j;
    }
    if (j - i >= kMinGroup) emit(std::span<const EndingFact* const>(pool.data() + i, j - i));
    i = j;
  }
}


constexpr std::string_view kFixCrash =
    "Look at the server's logs, OOM kills, restarts and deploys at that time. Make shutdown close every "
    "WebSocket with 1001 or 1012 first (graceful drain), and have clients reconnect with jittered backoff so "
    "they don't all return at once.";
constexpr std::string_view kFixRestart =
    "A planned restart: nothing is broken. Drain gradually (close in batches, 1012 with a retry hint) and have "
    "clients reconnect with jittered backoff.";
constexpr std::string_view kFixIdleGroup =
    "Heartbeats more often than that timeout (at most half of it), or a longer timeout on the box that owns "
    "it; the side that tore the connections down points to it.";

void correlated_teardown(std::span<const EndingFact> all, std::vector<Pattern>& out) {
  bursts(all, out, [](const EndingFact& e) { return e.tcp_ended && !e.close_frame && e.by != Side::none; },
         [&](std::span<const EndingFact* const> g) {
           Pattern p = make_pattern("correlated-teardown", Confidence::likely, kFixCrash, g);
           p.summary = fmt::format("{} connections to {} were torn down by the {} within {}, without a Close: the "
                                   "process crashed, was killed or restarted without closing its WebSockets",
                                   g.size(), g.front()->server, side_name(g.front()->by),
                                   spread(p.last_ns - p.first_ns));
           out.push_back(std::move(p));
         });
}

void graceful_restart(std::span<const EndingFact> all, std::vector<Pattern>& out) {
  bursts(all, out,
         [](const EndingFact& e) { return e.close_frame && (e.code == 1001 || e.code == 1012) && e.by == Side::server; },
         [&](std::span<const EndingFact* const> g) {
           Pattern p = make_pattern("graceful-restart", Confidence::likely, kFixRestart, g);
           p.summary = fmt::format("{} connections to {} were closed by the server with {} within {}: a graceful "
                                   "restart or deploy",
                                   g.size(), g.front()->server, *g.front()->code, spread(p.last_ns - p.first_ns));
           out.push_back(std::move(p));
         });
}

void same_silence(std::span<const EndingFact> all, std::vector<Pattern>& out) {
  std::vector<const EndingFact*> pool;
  for (const EndingFact& e : all) {
    if (e.tcp_ended && !e.close_frame && e.idle_ms && *e.idle_ms >= 1000.0 && e.by != Side::none && !in_a_pattern(out, e.id)) {
      pool.push_back(&e);
    }
  }
  std::stable_sort(pool.begin(), pool.end(), [](const EndingFact* a, const EndingFact* b) {
    if (a->by != b->by) return a->by < b->by;
    return *a->idle_ms < *b->idle_ms;
  });
  std::size_t i = 0;
  while (i < pool.size()) {
    const double base = *pool[i]->idle_ms;
    const double tol = std::max(100.0, base * 0.02);
    std::size_t j = i + 1;
    while (j < pool.size() && pool[j]->by == pool[i]->by && *pool[j]->idle_ms - base <= 2 * tol) ++j;
    if (j - i >= kMinGroup) {
      const std::span<const EndingFact* const> g(pool.data() + i, j - i);
      double sum = 0, lo = base, hi = base;
      for (const EndingFact* e : g) {
        sum += *e->idle_ms;
        lo = std::min(lo, *e->idle_ms);
        hi = std::max(hi, *e->idle_ms);
      }
      const double mean_s = sum / static_cast<double>(g.size()) / 1000.0;
      const KnownTimeout* known = match_known_timeout(mean_s, TimeoutKind::idle);
      Pattern p = make_pattern("idle-timeout", known ? Confidence::certain : Confidence::likely, kFixIdleGroup, g);
      p.summary = fmt::format("{} connections were torn down by the {} side after {:.1f} ± {:.1f} s of silence: an "
                              "idle timeout of {:.0f} s on the path{}",
                              g.size(), side_name(g.front()->by), mean_s, (hi - lo) / 2000.0, std::round(mean_s),
                              known ? fmt::format(" (the {})", known->who) : std::string());
      out.push_back(std::move(p));
    }
    i = j;
  }
}

constexpr std::array<PatternRow, 4> kPatterns{{
    {"correlated-teardown", kFixCrash, correlated_teardown},
    {"graceful-restart", kFixRestart, graceful_restart},
    {"idle-timeout", kFixIdleGroup, same_silence},
    {"max-lifetime", lifetime::kFix, lifetime::groups},
}};

/// Silence before the ending: for a teardown, the flow layer's idle time; for a Close, the time
/// since the last data message or Ping of either side (application heartbeats are data messages).
std::optional<double> quiet_before_ms(const ConnectionSummary& s, const EndingFact& e) {
  if (!e.close_frame) return e.idle_ms;
  std::int64_t last = 0;
  for (const DirCounters* d : {&s.c2s, &s.s2c}) {
    for (const PacketRef* p : {&d->last_message, &d->last_ping}) {
      if (p->index != 0 && p->ts_ns <= e.end_ns) last = std::max(last, p->ts_ns);
    }
  }
  if (last == 0) return std::nullopt;
  return ns_to_ms(e.end_ns - last);
}

}  // namespace

bool in_a_pattern(const std::vector<Pattern>& out, std::uint64_t id) {
  for (const Pattern& p : out) {
    if (std::binary_search(p.members.begin(), p.members.end(), id)) return true;
  }
  return false;
}

Pattern make_pattern(std::string_view id, Confidence c, std::string_view fix, std::span<const EndingFact* const> g) {
  Pattern p;
  p.id = id;
  p.confidence = c;
  p.fix = fix;
  p.first_ns = g.front()->end_ns;
  p.last_ns = g.front()->end_ns;
  for (const EndingFact* e : g) {
    p.members.push_back(e->id);
    p.first_ns = std::min(p.first_ns, e->end_ns);
    p.last_ns = std::max(p.last_ns, e->end_ns);
  }
  std::sort(p.members.begin(), p.members.end());
  return p;
}


std::optional<EndingFact> ending_fact(const ConnectionSummary& s, const Verdict& v) {
  if (!s.websocket && (!tls_opaque(s) || s.tcp_end.how == TcpEndHow::open)) {
    return std::nullopt;
  } else if (v.name == "open" || v.name == "handshake failed") {
    return std::nullopt;
  }
  EndingFact e;
  e.id = s.id;
  e.server = s.server;
  e.code = v.code;
  e.tcp_ended = s.tcp_end.how != TcpEndHow::open;
  e.close_frame = s.close.seen && (s.close.valid || s.close.valid_seen);
  if (e.close_frame) {
    const bool first_valid = s.close.valid;
    e.by = first_valid ? s.close.initiator : s.close.valid_by;
    e.end_ns = first_valid ? s.close.at.ts_ns : s.close.valid_at.ts_ns;
  } else if (const auto te = tls_ending(s)) {  // a TLS close_notify/alert came before FIN/RST
    e.by = te->by;
    e.end_ns = te->at.ts_ns;
    e.idle_ms = te->idle_ms;
  } else {
    const TcpEndSummary& t = s.tcp_end;
    e.by = t.initiator != Side::none ? t.initiator : t.by;
    e.end_ns = (t.initiator != Side::none ? t.initiated_at : t.at).ts_ns;
    e.idle_ms = t.idle_before_ms;
  }
  e.start_ns = s.first.ts_ns;
  e.quiet_ms = quiet_before_ms(s, e);
  // Not decrypted: an ending counts only after a silence in which no record (so no Close) crossed.
  if (!s.websocket && (!e.idle_ms || *e.idle_ms < 1000.0)) return std::nullopt;
  return e;
}

std::span<const PatternRow> pattern_table() noexcept { return kPatterns; }

std::vector<Pattern> find_patterns(std::vector<EndingFact> endings) {
  std::sort(endings.begin(), endings.end(), [](const EndingFact& a, const EndingFact& b) {
    return a.end_ns != b.end_ns ? a.end_ns < b.end_ns : a.id < b.id;
  });
  std::vector<Pattern> out;
  for (const PatternRow& row : kPatterns) row.find(endings, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const Pattern& a, const Pattern& b) { return a.members.size() > b.members.size(); });
  return out;
}

}  // namespace wsdiag::diag
