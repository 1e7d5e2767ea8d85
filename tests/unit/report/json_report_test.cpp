#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "unit/report/report_fixture.h"

using namespace report_test;
using Json = nlohmann::ordered_json;
using T = nlohmann::json::value_t;

namespace {

// CLI.md's types: "int", "int?" (int|null), "num?", "str", "str?", "bool", "arr", "obj".
bool has_type(const Json& v, std::string_view type) {
  const bool null_ok = type.back() == '?';
  if (null_ok && v.is_null()) return true;
  const std::string_view base = null_ok ? type.substr(0, type.size() - 1) : type;
  if (base == "int") return v.is_number_integer();
  if (base == "num") return v.is_number();
  if (base == "str") return v.is_string();
  if (base == "bool") return v.is_boolean();
  if (base == "arr") return v.is_array();
  if (base == "obj") return v.is_object();
  return false;
}

struct Field {
  const char* pointer;
  const char* type;
};

// Every key CLI.md lists for a connection object, with its contract type.
const std::vector<Field> kConnFields = {
    {"/id", "int"},
    {"/client", "str"},
    {"/server", "str"},
    {"/websocket", "bool"},
    {"/start", "str"},
    {"/end", "str"},
    {"/first_packet", "int"},
    {"/last_packet", "int"},
    {"/handshake", "obj"},
    {"/handshake/seen", "bool"},
    {"/handshake/status", "int?"},
    {"/handshake/ok", "bool"},
    {"/handshake/path", "str"},
    {"/handshake/subprotocol", "str"},
    {"/handshake/extensions", "str"},
    {"/handshake/problems", "arr"},
    {"/frames/client", "int"},
    {"/frames/server", "int"},
    {"/messages/client", "int"},
    {"/messages/server", "int"},
    {"/close/initiator", "str?"},
    {"/close/code", "int?"},
    {"/close/reason", "str?"},
    {"/close/echoed", "bool"},
    {"/close/echo_code", "int?"},
    {"/close/echo_delay_ms", "num?"},
    {"/close/packet", "int?"},
    {"/tcp_end/how", "str"},
    {"/tcp_end/by", "str?"},
    {"/tcp_end/packet", "int?"},
    {"/tcp_end/idle_before_ms", "num?"},
    {"/findings", "arr"},
    {"/verdict/code", "int?"},
    {"/verdict/name", "str"},
    {"/verdict/severity", "str"},
    {"/verdict/side", "str?"},
    {"/verdict/summary", "str"},
    {"/verdict/cause", "str"},
    {"/verdict/advice", "str"},
};

const Json& at_ptr(const Json& j, const char* p) { return j.at(Json::json_pointer(p)); }

void check_conn_types(const Json& c) {
  for (const auto& f : kConnFields) {
    INFO("connection " << c.value("id", 0) << " field " << f.pointer);
    REQUIRE(c.contains(Json::json_pointer(f.pointer)));
    CHECK(has_type(at_ptr(c, f.pointer), f.type));
  }
  for (const auto& f : c.at("findings")) {
    for (const char* key : {"rule", "severity", "side", "packet", "time", "message"}) {
      INFO("finding key " << key);
      CHECK(f.contains(key));
    }
    CHECK(f.at("rule").is_string());
    CHECK((f.at("severity") == "error" || f.at("severity") == "warning" ||
           f.at("severity") == "info"));
    CHECK((f.at("side").is_null() || f.at("side") == "client" || f.at("side") == "server" ||
           f.at("side") == "both"));
    CHECK(f.at("packet").is_number_integer());
    CHECK(f.at("time").is_string());
    CHECK(f.at("message").is_string());
  }
  const auto& how = c.at("tcp_end").at("how");
  CHECK((how == "fin" || how == "rst" || how == "open"));
}

}  // namespace

TEST_CASE("json: every CLI.md key is present with its contract type", "[report]") {
  const Json j = Json::parse(wsdiag::report::json_line(closed_conn()) + "\n", nullptr, true);
  check_conn_types(j);
  const Json doc = wsdiag::report::to_json(sample_report());
  REQUIRE(doc.at("connections").size() == 3);
  for (const auto& c : doc.at("connections")) check_conn_types(c);

  CHECK(doc.at("schema") == "wsdiag.report/1");
  const auto& cap = doc.at("captures").at(0);
  for (const auto& [key, type] : std::vector<std::pair<const char*, const char*>>{
           {"file", "str"}, {"link_type", "str"}, {"packets", "int"}, {"bytes", "int"},
           {"truncated", "bool"}, {"first", "str"}, {"last", "str"}}) {
    INFO("capture field " << key);
    REQUIRE(cap.contains(key));
    CHECK(has_type(cap.at(key), type));
  }
  CHECK(doc.at("summary").at("connections").is_number_integer());
  CHECK(doc.at("summary").at("websocket").is_number_integer());
  CHECK(doc.at("summary").at("by_verdict").is_object());
}

TEST_CASE("json: values and nulls follow the summary", "[report]") {
  const Json doc = wsdiag::report::to_json(sample_report());
  const auto& closed = doc.at("connections").at(0);
  CHECK(closed.at("id") == 1);
  CHECK(closed.at("start") == "2023-11-14T22:13:20.000000Z");
  CHECK(closed.at("end") == "2023-11-14T22:13:25.000000Z");
  CHECK(closed.at("first_packet") == 1);
  CHECK(closed.at("last_packet") == 40);
  CHECK(closed.at("handshake").at("status") == 101);
  CHECK(closed.at("handshake").at("seen") == true);
  CHECK(closed.at("frames").at("client") == 12);
  CHECK(closed.at("messages").at("server") == 8);
  CHECK(closed.at("close").at("initiator") == "client");
  CHECK(closed.at("close").at("code") == 1000);
  CHECK(closed.at("close").at("echo_code") == 1000);
  CHECK(closed.at("close").at("echo_delay_ms") == Approx(12.5));
  CHECK(closed.at("close").at("packet") == 30);
  CHECK(closed.at("tcp_end").at("how") == "fin");
  CHECK(closed.at("tcp_end").at("by") == "server");
  CHECK(closed.at("tcp_end").at("packet") == 35);
  CHECK(closed.at("tcp_end").at("idle_before_ms") == Approx(87.25));
  const auto& f = closed.at("findings").at(0);
  CHECK(f.at("rule") == "client-unmasked");
  CHECK(f.at("severity") == "error");
  CHECK(f.at("side") == "client");
  CHECK(f.at("packet") == 8);
  CHECK(f.at("time") == "2023-11-14T22:13:20.100000Z");
  CHECK(f.at("count") == 12);
  CHECK(closed.at("verdict").at("code") == 1000);
  CHECK(closed.at("verdict").at("severity") == "error");
  CHECK(closed.at("verdict").at("side") == "client");

  const auto& open = doc.at("connections").at(1);
  CHECK(open.at("handshake").at("seen") == false);
  CHECK(open.at("handshake").at("status").is_null());
  for (const char* k : {"initiator", "code", "reason", "echo_code", "echo_delay_ms", "packet"}) {
    INFO(k);
    CHECK(open.at("close").at(k).is_null());
  }
  CHECK(open.at("close").at("echoed") == false);
  CHECK(open.at("tcp_end").at("how") == "open");
  CHECK(open.at("tcp_end").at("by").is_null());
  CHECK(open.at("tcp_end").at("packet").is_null());
  CHECK(open.at("tcp_end").at("idle_before_ms").is_null());
  CHECK(open.at("findings").at(0).at("side").is_null());
  CHECK(open.at("verdict").at("code").is_null());
  CHECK(open.at("verdict").at("name") == "open");
  CHECK(open.at("verdict").at("side").is_null());

  const auto& rejected = doc.at("connections").at(2);
  CHECK(rejected.at("handshake").at("status") == 403);
  CHECK(rejected.at("handshake").at("ok") == false);
  CHECK(rejected.at("handshake").at("problems") == Json::array({"handshake-rejected"}));
  CHECK(rejected.at("tcp_end").at("how") == "rst");
}

TEST_CASE("json: contract fields keep CLI.md's order", "[report]") {
  const Json c = wsdiag::report::to_json(closed_conn());
  const std::vector<std::string> order = {"id", "client", "server", "websocket", "start", "end",
                                          "first_packet", "last_packet", "handshake", "frames",
                                          "messages", "close", "tcp_end", "findings", "verdict"};
  std::vector<std::string> keys;
  for (const auto& [k, v] : c.items()) {
    if (std::find(order.begin(), order.end(), k) != order.end()) keys.push_back(k);
  }
  CHECK(keys == order);
  const Json doc = wsdiag::report::to_json(sample_report());
  std::vector<std::string> top;
  for (const auto& [k, v] : doc.items()) {
    if (k == "schema" || k == "captures" || k == "connections" || k == "summary") top.push_back(k);
  }
  CHECK(top == std::vector<std::string>{"schema", "captures", "connections", "summary"});
}

TEST_CASE("json: an invalid UTF-8 close reason does not throw", "[report]") {
  auto c = closed_conn();
  c.summary.close.reason = std::string("\xc3\x28\xff\x00\x1b[31m", 9);
  c.summary.handshake.path = "/\xed\xa0\x80";  // a surrogate: not UTF-8 either
  std::string line;
  REQUIRE_NOTHROW(line = wsdiag::report::json_line(c));
  CHECK(line.find('\n') == std::string::npos);
  Json j;
  REQUIRE_NOTHROW(j = Json::parse(line));
  const std::string reason = j.at("close").at("reason");
  CHECK(reason.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD replacement
  CHECK(j.at("close").at("reason_hex") == "c328ff001b5b33316d");
  // A valid reason carries no reason_hex.
  CHECK_FALSE(wsdiag::report::to_json(rejected_conn()).at("close").contains("reason_hex"));

  auto r = sample_report();
  r.connections[0] = c;
  r.warnings.push_back("bad \xff name");
  const std::string doc = capture_output([&](std::FILE* f) { wsdiag::report::write_json(f, r); });
  Json parsed;
  REQUIRE_NOTHROW(parsed = Json::parse(doc));
  CHECK(parsed.at("warnings").at(0) == "bad \xef\xbf\xbd name");
  CHECK(doc.back() == '\n');
}

TEST_CASE("json: summary counts connections, websocket and verdicts", "[report]") {
  auto r = sample_report();
  auto another = closed_conn();
  another.summary.id = 4;
  r.connections.push_back(another);
  auto plain = rejected_conn();
  plain.summary.id = 5;
  plain.summary.websocket = false;
  plain.verdict = {};
  plain.verdict.name = "not websocket";
  r.connections.push_back(plain);
  const Json s = wsdiag::report::to_json(r).at("summary");
  CHECK(s.at("connections") == 5);
  CHECK(s.at("websocket") == 4);
  const Json& bv = s.at("by_verdict");
  CHECK(bv.size() == 4);
  CHECK(bv.at("1000") == 2);
  CHECK(bv.at("open") == 1);
  CHECK(bv.at("handshake failed") == 1);
  CHECK(bv.at("not websocket") == 1);
  CHECK(s.at("by_rule").at("client-unmasked") == 2);
  CHECK(s.at("by_severity").at("error") == 3);
  CHECK(s.at("by_severity").at("warning") == 1);
  CHECK(s.at("by_severity").at("info") == 1);
}

TEST_CASE("json: an empty report is still a complete document", "[report]") {
  wsdiag::report::Report r;
  wsdiag::report::CaptureMeta m;
  m.file = "empty.pcap";
  r.captures.push_back(m);
  const Json doc = Json::parse(
      capture_output([&](std::FILE* f) { wsdiag::report::write_json(f, r); }));
  CHECK(doc.at("connections").is_array());
  CHECK(doc.at("connections").empty());
  CHECK(doc.at("captures").at(0).at("first").is_null());
  CHECK(doc.at("summary").at("connections") == 0);
  CHECK(doc.at("summary").at("by_verdict").is_object());
}

TEST_CASE("format names parse", "[report]") {
  using wsdiag::report::Format;
  using wsdiag::report::parse_format;
  CHECK(parse_format("text") == Format::text);
  CHECK(parse_format("json") == Format::json);
  CHECK(parse_format("jsonl") == Format::jsonl);
  CHECK(parse_format("markdown") == Format::markdown);
  CHECK(parse_format("md") == Format::markdown);
  CHECK_FALSE(parse_format("JSON").has_value());
  CHECK_FALSE(parse_format("").has_value());
}
