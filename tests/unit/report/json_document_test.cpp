// JsonDocument: whatever order connections end in, whatever the memory budget (all in memory,
// spilled at once, waiting objects over budget) and however many analysis threads numbered them,
// the document is the tree's dump(2) in id order.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "unit/report/report_fixture.h"

using namespace report_test;

namespace {

std::string tree_dump(const report::Report& r) {
  return report::to_json(r).dump(2, ' ', false, nlohmann::detail::error_handler_t::replace) + "\n";
}

// 300 connections, ids 1..300, every seventh not listed (skipped); each one's own text differs.
std::vector<report::ConnReport> connections() {
  std::vector<report::ConnReport> out;
  for (std::uint64_t id = 1; id <= 300; ++id) {
    report::ConnReport c = id % 3 == 0 ? closed_conn() : id % 3 == 1 ? open_conn() : rejected_conn();
    c.summary.id = id;
    c.summary.packets = id * 11;
    out.push_back(std::move(c));
  }
  return out;
}

bool listed(std::uint64_t id) { return id % 7 != 0; }

// The ending order: mostly by id, each connection up to `window` places late or early.
std::vector<std::size_t> ending_order(std::size_t n, std::size_t window, unsigned seed) {
  std::vector<std::pair<double, std::size_t>> keyed;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(0.0, static_cast<double>(window));
  for (std::size_t i = 0; i < n; ++i) keyed.emplace_back(static_cast<double>(i) + jitter(rng), i);
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::size_t> order;
  for (const auto& k : keyed) order.push_back(k.second);
  return order;
}

}  // namespace

TEST_CASE("JsonDocument writes the tree's document whatever the ending order and budget", "[report][json]") {
  const auto conns = connections();
  report::Report expected = sample_report();
  expected.connections.clear();
  for (const auto& c : conns) {
    if (listed(c.summary.id)) expected.connections.push_back(c);
  }
  const std::string want = tree_dump(expected);
  for (const std::size_t budget : {std::size_t{0}, std::size_t{20'000}, std::size_t{200'000}, std::size_t{32u << 20}}) {
    for (const std::size_t window : {std::size_t{0}, std::size_t{5}, std::size_t{60}, std::size_t{400}}) {
      CAPTURE(budget, window);
      report::JsonDocument doc(budget);
      for (const auto i : ending_order(conns.size(), window, 7)) {
        const auto& c = conns[i];
        REQUIRE((listed(c.summary.id) ? doc.add(c) : doc.skip(c.summary.id)));
      }
      CHECK(capture_output([&](std::FILE* f) { REQUIRE(doc.write(f, expected)); }) == want);
    }
  }
}

TEST_CASE("JsonDocument renumbers the streams of several analysis threads", "[report][json]") {
  // As run_sharded does: shard k's j-th connection gets provisional id k + 1 + j * n, and the final
  // ids rank every connection by its first packet (in order within each shard).
  const unsigned n = 3;
  const auto conns = connections();
  std::mt19937 rng(11);
  std::vector<unsigned> shard_of(conns.size());
  for (auto& s : shard_of) s = static_cast<unsigned>(rng() % n);
  std::vector<std::uint64_t> provisional(conns.size());
  std::vector<std::uint64_t> next(n, 0);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    provisional[i] = shard_of[i] + 1 + next[shard_of[i]]++ * n;
  }
  std::vector<std::uint64_t> final_id(conns.size() * n + 1, 0);
  for (std::size_t i = 0; i < conns.size(); ++i) final_id[provisional[i]] = conns[i].summary.id;

  report::Report expected = sample_report();
  expected.connections.clear();
  for (const auto& c : conns) {
    if (listed(c.summary.id)) expected.connections.push_back(c);
  }
  const std::string want = tree_dump(expected);
  for (const std::size_t budget : {std::size_t{0}, std::size_t{30'000}, std::size_t{32u << 20}}) {
    CAPTURE(budget);
    report::JsonDocument doc(budget, n);
    for (const auto i : ending_order(conns.size(), 40, 3)) {
      report::ConnReport c = conns[i];
      c.summary.id = provisional[i];
      REQUIRE((listed(conns[i].summary.id) ? doc.add(c) : doc.skip(c.summary.id)));
    }
    doc.renumber([&](std::uint64_t id) { return final_id.at(id); });
    CHECK(capture_output([&](std::FILE* f) { REQUIRE(doc.write(f, expected)); }) == want);
  }
}
