// Tests for the rule catalogue and the close code table (RULES.md; RFC 6455 §7.4, IANA registry).
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "wsdiag/diag/rules.h"
#include "wsdiag/diag/summary.h"

using namespace wsdiag::diag;

namespace {

/// ^[a-z0-9]+(-[a-z0-9]+)*$ (no <regex>: GCC 12 warns inside it under sanitizers + -Werror).
bool is_kebab(std::string_view s) {
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  char prev = '\0';
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && prev == '-')) return false;
    prev = c;
  }
  return true;
}

/// Rule ids from the tables in RULES.md: first cell of each table row that is kebab-case.
std::set<std::string> ids_in_rules_md(const std::string& text) {
  std::set<std::string> ids;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    const auto end = line.find('|', 2);
    if (end == std::string::npos) continue;
    std::string cell = line.substr(2, end - 2);
    while (!cell.empty() && cell.back() == ' ') cell.pop_back();
    if (cell != "id" && is_kebab(cell)) ids.insert(cell);
  }
  return ids;
}

}  // namespace

TEST_CASE("catalogue: one complete row per RuleId, in enum order", "[diag]") {
  const auto& rules = all_rules();
  REQUIRE(rules.size() == kRuleCount);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const RuleInfo& r = rules[i];
    INFO("row " << i << " (" << r.name << ")");
    CHECK(static_cast<std::size_t>(r.id) == i);
    CHECK(&rule_info(static_cast<RuleId>(i)) == &r);
    CHECK(is_kebab(r.name));
    CHECK(names.insert(r.name).second);  // unique
    CHECK(!r.title.empty());
    CHECK(!r.cause.empty());
    CHECK(!r.advice.empty());
    CHECK(r.cause.size() < 400);   // short: 1-3 sentences
    CHECK(r.advice.size() < 400);
    if (!r.spec.empty()) CHECK(r.spec.rfind("RFC ", 0) == 0);
    // A MUST violation cites the RFC that states it.
    if (r.severity == Severity::error && r.id != RuleId::no_response) CHECK(!r.spec.empty());
  }
}

TEST_CASE("catalogue: every RULES.md id is present", "[diag]") {
  const std::string path = std::string(WSDIAG_SOURCE_DIR) + "/../shared/design/RULES.md";
  std::ifstream f(path);
  if (!f) {
    WARN("RULES.md not found at " << path << "; skipping the cross-check");
    return;
  }
  std::stringstream buf;
  buf << f.rdbuf();
  const auto ids = ids_in_rules_md(buf.str());
  REQUIRE(ids.size() >= 30);  // the parser found the tables
  CHECK(ids.count("handshake-method") == 1);
  CHECK(ids.count("open-at-end") == 1);
  for (const auto& id : ids) {
    INFO(id);
    CHECK(rule_by_name(id).has_value());
  }
  // Everything else in the catalogue is one of the documented extras.
  const std::set<std::string> extras = {
      "ping-unanswered",        "close-echo-mismatch", "message-too-big",
      "compressed-unverified",  "frame-after-close-received", "capture-ended-mid-frame",
      "ws-desync",              "http-head-too-large", "limit-ooo-buffer",
      "conn-evicted",           "idle-timeout",
      // TLS (issue #12): wss:// decryption and the TLS facts
      "tls-decrypt-failed", "tls-alert", "tls-malformed", "limit-tls-record", "limit-tls-held", "tls-h2"};
  for (const RuleInfo& r : all_rules()) {
    INFO(r.name);
    CHECK((ids.count(std::string(r.name)) == 1) != (extras.count(std::string(r.name)) == 1));
  }
}

TEST_CASE("catalogue: extra ids are kebab-case of the enum name", "[diag]") {
  CHECK(rule_info(RuleId::ping_unanswered).name == "ping-unanswered");
  CHECK(rule_info(RuleId::close_echo_mismatch).name == "close-echo-mismatch");
  CHECK(rule_info(RuleId::message_too_big).name == "message-too-big");
  CHECK(rule_info(RuleId::compressed_unverified).name == "compressed-unverified");
  CHECK(rule_info(RuleId::frame_after_close_received).name == "frame-after-close-received");
  CHECK(rule_info(RuleId::capture_ended_mid_frame).name == "capture-ended-mid-frame");
  CHECK(rule_info(RuleId::ws_desync).name == "ws-desync");
  CHECK(rule_info(RuleId::http_head_too_large).name == "http-head-too-large");
  CHECK(rule_info(RuleId::limit_ooo_buffer).name == "limit-ooo-buffer");
  CHECK(rule_info(RuleId::conn_evicted).name == "conn-evicted");
  CHECK(rule_info(RuleId::idle_timeout).name == "idle-timeout");
  CHECK(rule_info(RuleId::handshake_method).name == "handshake-method");
  CHECK(rule_info(RuleId::close_payload_1).name == "close-payload-1");
  CHECK(rule_info(RuleId::data_before_101).name == "data-before-101");
}

TEST_CASE("catalogue: severities follow RULES.md", "[diag]") {
  CHECK(rule_info(RuleId::client_unmasked).severity == Severity::error);
  CHECK(rule_info(RuleId::close_code_invalid).severity == Severity::error);
  CHECK(rule_info(RuleId::invalid_utf8).severity == Severity::error);
  CHECK(rule_info(RuleId::close_not_echoed).severity == Severity::warning);
  CHECK(rule_info(RuleId::client_closed_tcp_first).severity == Severity::info);
  CHECK(rule_info(RuleId::rst).severity == Severity::warning);
  CHECK(rule_info(RuleId::fin_without_close).severity == Severity::warning);
  CHECK(rule_info(RuleId::capture_gap).severity == Severity::warning);
  CHECK(rule_info(RuleId::capture_started_midstream).severity == Severity::info);
  CHECK(rule_info(RuleId::open_at_end).severity == Severity::info);
  CHECK(rule_info(RuleId::client_unmasked).spec.find("§5.1") != std::string_view::npos);
}

TEST_CASE("is_kebab helper", "[diag]") {
  CHECK(is_kebab("client-unmasked"));
  CHECK(is_kebab("data-before-101"));
  CHECK(is_kebab("rst"));
  CHECK_FALSE(is_kebab(""));
  CHECK_FALSE(is_kebab("client_unmasked"));
  CHECK_FALSE(is_kebab("Client-unmasked"));
  CHECK_FALSE(is_kebab("-rst"));
  CHECK_FALSE(is_kebab("rst-"));
  CHECK_FALSE(is_kebab("a--b"));
}

TEST_CASE("rule_by_name round trip", "[diag]") {
  for (const RuleInfo& r : all_rules()) {
    const auto id = rule_by_name(r.name);
    REQUIRE(id.has_value());
    CHECK(*id == r.id);
  }
  CHECK_FALSE(rule_by_name("").has_value());
  CHECK_FALSE(rule_by_name("client_unmasked").has_value());
  CHECK_FALSE(rule_by_name("Client-Unmasked").has_value());
  CHECK_FALSE(rule_by_name("client-unmasked ").has_value());
  CHECK(rule_info(static_cast<RuleId>(200)).name == "unknown");  // out of range stays safe
}

TEST_CASE("to_string for severity, side and TCP end", "[diag]") {
  CHECK(std::string(to_string(Severity::info)) == "info");
  CHECK(std::string(to_string(Severity::warning)) == "warning");
  CHECK(std::string(to_string(Severity::error)) == "error");
  CHECK(std::string(to_string(Side::client)) == "client");
  CHECK(std::string(to_string(Side::server)) == "server");
  CHECK(std::string(to_string(Side::both)) == "both");
  CHECK(std::string(to_string(Side::none)).empty());
  CHECK(std::string(to_string(TcpEndHow::fin)) == "fin");
  CHECK(std::string(to_string(TcpEndHow::rst)) == "rst");
  CHECK(std::string(to_string(TcpEndHow::open)) == "open");
  CHECK(Severity::error > Severity::warning);
  CHECK(Severity::warning > Severity::info);
}

TEST_CASE("ConnectionSummary has/find", "[diag]") {
  ConnectionSummary s;
  CHECK_FALSE(s.has(RuleId::rst));
  CHECK(s.find(RuleId::rst) == nullptr);
  s.findings.push_back({RuleId::capture_gap, Side::client, {3, 0}, "10 bytes", 1});
  s.findings.push_back({RuleId::rst, Side::server, {9, 0}, "", 1});
  CHECK(s.has(RuleId::rst));
  REQUIRE(s.find(RuleId::rst) != nullptr);
  CHECK(s.find(RuleId::rst)->at.index == 9);
  CHECK_FALSE(s.has(RuleId::client_unmasked));
}

TEST_CASE("close_code_valid_on_wire (RFC 6455 §7.4)", "[diag]") {
  struct Case {
    std::uint16_t code;
    bool valid;
  };
  const Case cases[] = {{0, false},    {999, false},  {1000, true},  {1003, true},
                        {1004, false}, {1005, false}, {1006, false}, {1007, true},
                        {1011, true},  {1012, true},  {1014, true},  {1015, false},
                        {1016, false}, {2000, false}, {2999, false}, {3000, true},
                        {3999, true},  {4000, true},  {4999, true},  {5000, false},
                        {65535, false}};
  for (const auto& c : cases) {
    INFO(c.code);
    CHECK(close_code_valid_on_wire(c.code) == c.valid);
  }
}

TEST_CASE("close_code_info covers 1000-1015 and the private ranges", "[diag]") {
  std::set<std::string_view> names;
  for (std::uint16_t code = 1000; code <= 1015; ++code) {
    INFO(code);
    const auto info = close_code_info(code);
    REQUIRE(info.has_value());
    CHECK(info->code == code);
    CHECK(!info->name.empty());
    CHECK(!info->meaning.empty());
    CHECK(!info->cause.empty());
    CHECK(!info->advice.empty());
    CHECK(info->sendable == close_code_valid_on_wire(code));
    CHECK(names.insert(info->name).second);
  }
  CHECK(close_code_info(1000)->name == "Normal Closure");
  CHECK(close_code_info(1001)->name == "Going Away");
  CHECK(close_code_info(1005)->name == "No Status Received");
  CHECK(close_code_info(1006)->name == "Abnormal Closure");
  CHECK(close_code_info(1012)->name == "Service Restart");
  CHECK(close_code_info(1013)->name == "Try Again Later");
  CHECK(close_code_info(1014)->name == "Bad Gateway");
  CHECK_FALSE(close_code_info(1004)->sendable);
  CHECK_FALSE(close_code_info(1005)->sendable);
  CHECK_FALSE(close_code_info(1006)->sendable);
  CHECK_FALSE(close_code_info(1015)->sendable);
  // 1006 advice names the usual idle timeouts and heartbeats.
  const auto abnormal = close_code_info(1006);
  CHECK(abnormal->cause.find("proxy_read_timeout") != std::string_view::npos);
  CHECK(abnormal->cause.find("Cloudflare 100 s") != std::string_view::npos);
  CHECK(abnormal->advice.find("ping") != std::string_view::npos);

  for (const std::uint16_t code : {std::uint16_t{999}, std::uint16_t{1016}, std::uint16_t{2000},
                                   std::uint16_t{2999}, std::uint16_t{5000}}) {
    INFO(code);
    CHECK_FALSE(close_code_info(code).has_value());
  }
  const auto reg = close_code_info(3001);
  REQUIRE(reg.has_value());
  CHECK(reg->code == 3001);
  CHECK(reg->sendable);
  const auto app = close_code_info(4321);
  REQUIRE(app.has_value());
  CHECK(app->code == 4321);
  CHECK(app->advice.find("your application") != std::string_view::npos);
  CHECK(reg->name != app->name);
  CHECK(close_code_info(3999)->name == reg->name);
  CHECK(close_code_info(4000)->name == app->name);
  CHECK(close_code_info(4999)->name == app->name);
}
