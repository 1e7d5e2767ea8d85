// The streaming JSON writer against nlohmann's dump (the output it must match byte for byte), and
// the allocation-free time formatter against the fmt format it replaces.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "../../../src/report/json_writer.h"
#include "wsdiag/common/types.h"

using Json = nlohmann::ordered_json;
using wsdiag::report::JsonWriter;

namespace {

std::string dumped(const Json& j, bool pretty) {
  return j.dump(pretty ? 2 : -1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

// The same value through the writer.
void write(JsonWriter& w, const Json& j) {
  if (j.is_object()) {
    w.begin_object();
    for (const auto& [k, v] : j.items()) {
      w.key(k);
      write(w, v);
    }
    w.end_object();
  } else if (j.is_array()) {
    w.begin_array();
    for (const auto& v : j) write(w, v);
    w.end_array();
  } else if (j.is_null()) {
    w.null();
  } else if (j.is_boolean()) {
    w.boolean(j.get<bool>());
  } else if (j.is_number_unsigned()) {
    w.number(j.get<std::uint64_t>());
  } else if (j.is_number_integer()) {
    w.number(j.get<std::int64_t>());
  } else if (j.is_number_float()) {
    w.number(j.get<double>());
  } else {
    w.string(j.get_ref<const std::string&>());
  }
}

std::string written(const Json& j, bool pretty) {
  std::string out;
  JsonWriter w(out, pretty);
  write(w, j);
  return out;
}

}  // namespace

TEST_CASE("JsonWriter writes what nlohmann's dump writes", "[report][json]") {
  Json j = Json::object();
  j["id"] = 7u;
  j["neg"] = -42;
  j["empty_obj"] = Json::object();
  j["empty_arr"] = Json::array();
  j["floats"] = Json::array({0.0, -0.0, 1.5, 30000.0, 0.001, 1e-7, 123456789.123, 1e300,
                             std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()});
  j["strings"] = Json::array({"", "plain ascii", "quote \" and backslash \\", "tab\tnew\nline\x01\x1f\x7f",
                              "caf\xc3\xa9 \xe2\x82\xac", std::string("nul\0byte", 8), "bad \xff utf8 \xc3",
                              "cut \xe2\x82", "overlong \xc0\xaf surrogate \xed\xa0\x80"});
  j["nested"] = Json{{"a", Json::array({Json::object(), Json{{"b", nullptr}, {"c", true}}})}, {"d", false}};
  CHECK(written(j, true) == dumped(j, true));
  CHECK(written(j, false) == dumped(j, false));
  for (const auto& s : j["strings"]) CHECK(written(s, false) == dumped(s, false));
}

TEST_CASE("JsonWriter escapes every byte value at every position of a key or a value", "[report][json]") {
  // The plain-ASCII check looks at eight bytes at a time: each byte value, at each lane of a full
  // word and of a padded tail, must take the escaper's path exactly when nlohmann escapes it.
  for (int b = 0; b < 256; ++b) {
    for (std::size_t len = 1; len <= 17; ++len) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'x');
        s[at] = static_cast<char>(b);
        const Json j = Json{{s, s}};
        REQUIRE(written(j, false) == dumped(j, false));
      }
    }
  }
}

TEST_CASE("JsonWriter indents a nested document's member at its depth", "[report][json]") {
  const Json j = Json{{"id", 1}, {"list", Json::array({1, 2})}};
  std::string out;
  JsonWriter w(out, true, 2);
  write(w, j);
  // dump(2), then every line after the first indented two levels (4 spaces) more
  CHECK(out == "{\n      \"id\": 1,\n      \"list\": [\n        1,\n        2\n      ]\n    }");
}

TEST_CASE("iso8601_utc without allocating matches the formatted text", "[report][time]") {
  for (const std::int64_t ts : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{-1'000'000'000},
                                std::int64_t{1'700'000'000'123'456'789}, std::int64_t{1'700'000'000'999'999'999},
                                std::int64_t{951'782'400'000'001'000}, std::numeric_limits<std::int64_t>::max(),
                                std::numeric_limits<std::int64_t>::min()}) {
    std::int64_t secs = ts / 1'000'000'000;
    std::int64_t rem = ts % 1'000'000'000;
    if (rem < 0) {
      rem += 1'000'000'000;
      --secs;
    }
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    const std::string want = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem / 1000);
    std::array<char, wsdiag::kIso8601Size> buf{};
    CHECK(wsdiag::iso8601_utc(ts, buf) == want);
    CHECK(wsdiag::iso8601_utc(ts) == want);
  }
}
