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

namespace {
// `width` decimal digits of v (0 <= v < 10^width), zero-padded, at p; returns the end.
char* put_digits(char* p, std::int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}
}  // namespace

std::string_view iso8601_utc(std::int64_t ts_ns, std::array<char, kIso8601Size>& buf) {
  std::int64_t secs = ts_ns / 1'000'000'000;
  std::int64_t rem = ts_ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --secs;
  }
  // Reports print many times within the same second: the calendar fields are kept per thread.
  thread_local bool cached = false;
  thread_local std::int64_t cached_secs = 0;
  thread_local std::tm tm{};
  if (!cached || secs != cached_secs) {
    const std::time_t t = static_cast<std::time_t>(secs);
    gmtime_r(&t, &tm);
    cached_secs = secs;
    cached = true;
  }
  const std::int64_t year = std::int64_t{tm.tm_year} + 1900;
  if (year < 0 || year > 9999) {  // outside what int64 nanoseconds reach; kept for safety
    const auto r = fmt::format_to_n(buf.data(), buf.size(), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", year,
                                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem / 1000);
    return {buf.data(), std::min(r.size, buf.size())};
  }
  // "YYYY-MM-DDTHH:MM:SS.uuuuuuZ", as fmt's "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z" writes it.
  char* p = put_digits(buf.data(), year, 4);
  *p++ = '-';
  p = put_digits(p, tm.tm_mon + 1, 2);
  *p++ = '-';
  p = put_digits(p, tm.tm_mday, 2);
  *p++ = 'T';
  p = put_digits(p, tm.tm_hour, 2);
  *p++ = ':';
  p = put_digits(p, tm.tm_min, 2);
  *p++ = ':';
  p = put_digits(p, tm.tm_sec, 2);
  *p++ = '.';
  p = put_digits(p, rem / 1000, 6);
  *p++ = 'Z';
  return {buf.data(), static_cast<std::size_t>(p - buf.data())};
}

std::string iso8601_utc(std::int64_t ts_ns) {
  std::array<char, kIso8601Size> buf{};
  return std::string(iso8601_utc(ts_ns, buf));
}

}  // namespace wsdiag
