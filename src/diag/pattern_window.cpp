// wsdiag — the run-level patterns over a sliding window of endings (live mode).
#include "wsdiag/diag/pattern_window.h"

#include <algorithm>
#include <limits>

namespace wsdiag::diag {

void PatternWindow::add(EndingFact e, std::int64_t now_ns) {
  newest_end_ns_ = std::max(newest_end_ns_, e.end_ns);
  last_added_ns_ = now_ns;
  endings_.push_back(std::move(e));
  pending_ = true;
  expire(newest_end_ns_);
}

void PatternWindow::expire(std::int64_t newest_ns) {
  const std::int64_t horizon =
      newest_ns > std::numeric_limits<std::int64_t>::min() + limits_.pattern_window_ns
          ? newest_ns - limits_.pattern_window_ns
          : std::numeric_limits<std::int64_t>::min();
  // Endings arrive roughly in time order (a connection is reported when it ends); the deque is
  // trimmed from the front, oldest arrival first.
  while (!endings_.empty() &&
         (endings_.size() > limits_.pattern_window_endings || endings_.front().end_ns < horizon)) {
    endings_.pop_front();
  }
  // Forget reported groups that began before the window: they cannot be found again whole.
  std::erase_if(reported_, [&](const auto& kv) { return kv.first.second < horizon; });
}

std::vector<Pattern> PatternWindow::due(std::int64_t now_ns, bool flush) {
  std::vector<Pattern> out;
  if (!pending_) return out;
  if (!flush && now_ns - last_added_ns_ < limits_.pattern_settle_ns) return out;
  pending_ = false;
  std::vector<Pattern> found = find_patterns({endings_.begin(), endings_.end()});
  for (Pattern& p : found) {
    auto [it, added] = reported_.try_emplace({p.id, p.first_ns}, p.members.size());
    if (!added) {
      if (it->second >= p.members.size()) continue;
      it->second = p.members.size();
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace wsdiag::diag
