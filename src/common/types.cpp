#include "wsdiag/common/types.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace wsdiag {

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

std::string Endpoint::to_string() const {
  if (addr.family == 6) return fmt::format("[{}]:{}", addr.to_string(), port);
  return fmt::format("{}:{}", addr.to_string(), port);
}

std::string_view iso8601_utc(std::int64_t ts_ns, std::array<char, kIso8601Size>& buf) {
  std::int64_t secs = ts_ns / 1'000'000'000;
  std::int64_t rem = ts_ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto r = fmt::format_to_n(buf.data(), buf.size(), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                  tm.tm_sec, rem / 1000);
  return {buf.data(), std::min(r.size, buf.size())};
}

std::string iso8601_utc(std::int64_t ts_ns) {
  std::array<char, kIso8601Size> buf{};
  return std::string(iso8601_utc(ts_ns, buf));
}

}  // namespace wsdiag
