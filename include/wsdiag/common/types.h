// wsdiag — small value types shared by every layer.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsdiag {

/// Where an event came from: the 1-based capture record number (continuing across files in one
/// run) and its timestamp in nanoseconds since the Unix epoch. Every event between layers carries one.
struct PacketRef {
  std::uint64_t index = 0;
  std::int64_t ts_ns = 0;
  friend bool operator==(const PacketRef&, const PacketRef&) = default;
};

/// Nanoseconds as milliseconds, and the milliseconds from `a` to `b` (negative when `b` is earlier):
/// the one conversion of packet times to durations.
constexpr double ns_to_ms(std::int64_t ns) noexcept { return static_cast<double>(ns) / 1e6; }
constexpr double ms_between(const PacketRef& a, const PacketRef& b) noexcept { return ns_to_ms(b.ts_ns - a.ts_ns); }

/// Direction of a byte stream within a connection.
enum class Dir : std::uint8_t { c2s = 0, s2c = 1 };
constexpr Dir other(Dir d) noexcept { return d == Dir::c2s ? Dir::s2c : Dir::c2s; }
constexpr const char* to_string(Dir d) noexcept { return d == Dir::c2s ? "c2s" : "s2c"; }

/// An IPv4 or IPv6 address; IPv4 is kept in the first 4 bytes, the rest zero.
struct IpAddr {
  std::uint8_t family = 4;  // 4 or 6
  std::array<std::uint8_t, 16> bytes{};
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
  [[nodiscard]] std::string to_string() const;
};

struct Endpoint {
  IpAddr addr;
  std::uint16_t port = 0;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
  /// "1.2.3.4:80" or "[::1]:80"
  [[nodiscard]] std::string to_string() const;
};

/// Timestamps are kept within ±(2^62 - 1) ns of the epoch (about 146 years either side of 1970), so
/// that the difference of any two, and a duration added to one, never overflows.
inline constexpr std::int64_t kMaxTimestampNs = (std::int64_t{1} << 62) - 1;

/// Seconds + fraction (in nanoseconds) of a capture record as nanoseconds since the epoch,
/// saturated to ±kMaxTimestampNs; `clamped` says whether it had to be.
constexpr std::int64_t timestamp_ns(std::int64_t sec, std::int64_t frac_ns, bool& clamped) noexcept {
  constexpr std::int64_t kNs = 1'000'000'000;
  constexpr std::int64_t kMaxSec = kMaxTimestampNs / kNs - 1;
  clamped = sec > kMaxSec || sec < -kMaxSec || frac_ns < -kNs || frac_ns > kNs;
  if (clamped) return sec < 0 ? -kMaxTimestampNs : kMaxTimestampNs;
  return sec * kNs + frac_ns;
}

/// Formats nanoseconds since the epoch as ISO-8601 UTC with microseconds ("2024-01-02T03:04:05.123456Z").
std::string iso8601_utc(std::int64_t ts_ns);
/// Room for iso8601_utc's text (27 characters for every int64 timestamp).
inline constexpr std::size_t kIso8601Size = 32;
/// The same text written into `buf`, without allocating; the view points into `buf`.
std::string_view iso8601_utc(std::int64_t ts_ns, std::array<char, kIso8601Size>& buf);

}  // namespace wsdiag
