#include "wsdiag/common/duration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace wsdiag {

std::string format_duration_ms(double ms) {
  if (std::isnan(ms)) return "?";
  if (ms < 0) return "-" + format_duration_ms(-ms);
  if (ms < 99.95) return fmt::format("{:.1f} ms", ms);
  if (ms < 999.5) return fmt::format("{:.0f} ms", ms);
  const double s = ms / 1000.0;
  if (s < 9.995) return fmt::format("{:.2f} s", s);
  if (s < 599.95) return fmt::format("{:.1f} s", s);
  const auto total = static_cast<std::uint64_t>(std::llround(std::min(s, 1e15)));
  if (total < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
  return fmt::format("{} h {:02} min", total / 3600, (total % 3600) / 60);
}

}  // namespace wsdiag
