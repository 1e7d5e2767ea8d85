// wsdiag — the one duration formatter, used by diag's texts and every report writer.
#pragma once

#include <string>

namespace wsdiag {

/// "0.4 ms", "12.5 ms", "340 ms", "1.25 s", "61.0 s", "599.9 s", "12 min 30 s", "2 h 03 min":
/// three significant digits below 10 s (timelines), then seconds with one decimal up to 10 minutes, so a duration reads like the timeout setting it is
/// compared with (60.0 s, 300.0 s). Negative durations get a "-", NaN gives "?".
std::string format_duration_ms(double ms);

}  // namespace wsdiag
