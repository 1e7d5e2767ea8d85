// wsdiag — run-level causes in live mode: the patterns of causes.h over a sliding window.
//
// Offline, find_patterns() runs once over every ending of the capture. Live, connections end for
// hours: PatternWindow keeps the endings of the last minutes (bounded by Limits), looks for the
// same groups once the endings have settled (no new one for a moment: a crash's 300 FINs arrive
// over a few milliseconds, and the group should be reported once, whole), and hands back each group
// that is new or has grown since it was last reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "wsdiag/common/limits.h"
#include "wsdiag/diag/causes.h"

namespace wsdiag::diag {

class PatternWindow {
 public:
  explicit PatternWindow(const Limits& limits) : limits_(limits) {}

  /// One diagnosed connection ended (its ending as ending_fact() gives it), reported at `now_ns`
  /// (the same clock as due(); live: the wall clock, which is also the packets' clock).
  void add(EndingFact e, std::int64_t now_ns);
  /// The groups to report at capture time `now_ns`: empty until the endings have settled.
  /// Pass `flush` at the end of the capture to report whatever is pending.
  std::vector<Pattern> due(std::int64_t now_ns, bool flush = false);

  [[nodiscard]] std::size_t size() const noexcept { return endings_.size(); }

 private:
  void expire(std::int64_t newest_ns);

  Limits limits_;
  std::deque<EndingFact> endings_;
  std::int64_t newest_end_ns_ = 0;  ///< the latest ending in the window
  std::int64_t last_added_ns_ = 0;  ///< when the last ending was added (the settle clock)
  bool pending_ = false;            ///< endings were added since the last look
  /// (row id, time of the group's first ending) -> members already reported, so a group is told
  /// once, or again when it grew. Endings arrive in time order, so a group's start stays put.
  std::map<std::pair<std::string_view, std::int64_t>, std::size_t> reported_;
};

}  // namespace wsdiag::diag
