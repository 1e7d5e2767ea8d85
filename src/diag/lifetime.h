// wsdiag — the max-lifetime cause rows (lifetime.cpp), registered in the per-connection table
// (causes.cpp) and the run-level table (patterns.cpp). Internal to src/diag.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "wsdiag/diag/causes.h"

namespace wsdiag::diag::lifetime {

inline constexpr std::string_view kTitle = "cut at a fixed age while busy: a maximum connection lifetime";
inline constexpr std::string_view kFix =
    "Something on the path (a load balancer's maximum connection duration, a gateway's connection "
    "limit) or the server itself ends connections at a fixed age: find it, raise it if you can, and "
    "make clients reconnect with jittered backoff before or when they reach it.";
/// Per connection: cut, while not idle, at an age that matches a known maximum lifetime.
std::optional<CauseMatch> cause(const ConnectionSummary& s, const Verdict& v);
/// Over the run: several connections to one server, opened at different times, cut at the same age.
void groups(std::span<const EndingFact> all, std::vector<Pattern>& out);

}  // namespace wsdiag::diag::lifetime
