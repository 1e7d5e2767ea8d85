// The timeline (report/timeline.h), the Markdown size cap, escape_mermaid and the Wireshark filter.
#include <catch2/catch.hpp>

#include <string>

#include "unit/report/report_fixture.h"
#include "wsdiag/report/text_util.h"
#include "wsdiag/report/timeline.h"

using namespace report_test;
using wsdiag::report::StepKind;

namespace {

WireEvent event(WireEventKind k, Side by, PacketRef at, std::uint64_t c_msgs, std::uint64_t s_msgs, PacketRef last) {
  WireEvent e;
  e.kind = k;
  e.by = by;
  e.at = at;
  e.messages[0] = c_msgs;
  e.messages[1] = s_msgs;
  e.last_message = last;
  return e;
}

}  // namespace

TEST_CASE("timeline: handshake, message counts between events, close, FIN, idle gaps", "[report]") {
  auto c = closed_conn();
  auto& s = c.summary;
  s.c2s.messages = 10;
  s.s2c.messages = 8;
  s.c2s.pings = s.s2c.pings = s.c2s.pongs = s.s2c.pongs = 0;
  s.events.kept = {
      event(WireEventKind::close, Side::client, s.close.at, 10, 8, at(20, 1500)),
      event(WireEventKind::close, Side::server, s.close.echo_at, 10, 8, at(20, 1500)),
  };  // the FINs come from tcp_end (server at packet 35, client at 37)
  s.events.kept[0].code = s.events.kept[1].code = 1000;
  s.events.last_message = at(20, 1500);
  const auto t = wsdiag::report::build_timeline(s);
  std::vector<StepKind> kinds;
  for (const auto& st : t.steps) kinds.push_back(st.kind);
  REQUIRE(kinds == std::vector<StepKind>{StepKind::syn, StepKind::request, StepKind::response, StepKind::messages,
                                         StepKind::close, StepKind::close, StepKind::fin, StepKind::fin});
  const auto& msgs = t.steps[3];
  CHECK(msgs.client_messages == 10);
  CHECK(msgs.server_messages == 8);
  CHECK(msgs.at.index == 20);
  CHECK_FALSE(msgs.idle_before_ms);
  // 1.5 s of data, then 2.5 s of silence before the client's Close
  REQUIRE(t.steps[4].idle_before_ms);
  CHECK(*t.steps[4].idle_before_ms == Approx(2500.0));
  CHECK(t.steps[4].text.find("Close 1000") == 0);
  CHECK(t.steps[4].from == Side::client);
  CHECK(t.steps[5].from == Side::server);

  const std::string m = wsdiag::report::mermaid_sequence(s, t);
  CHECK(m.rfind("sequenceDiagram\n", 0) == 0);
  CHECK(m.find("Note over C,S: 2.50 s idle") != std::string::npos);
  CHECK(m.find("C->>S: Close 1000") != std::string::npos);
  CHECK(m.find("S-)C: FIN") != std::string::npos);
  // the close reason's bytes cannot break the diagram or the code fence
  CHECK(m.find('`') == std::string::npos);
  CHECK(m.find('|') == std::string::npos);
}

TEST_CASE("timeline: Pings not kept are counted in the spans; an open connection ends at the capture's end", "[report]") {
  auto c = open_conn();
  auto& s = c.summary;
  s.c2s.messages = 5;
  s.s2c.messages = 0;
  s.c2s.pings = 3;
  s.s2c.pongs = 3;
  s.c2s.pongs = s.s2c.pings = 0;
  WireEvent ping = event(WireEventKind::ping, Side::client, at(50, 9000), 5, 0, at(40, 8000));
  ping.pings[0] = 2;
  ping.pongs[1] = 2;
  s.events.kept = {ping};
  s.events.pings_pongs_not_kept = 4;
  s.tcp_end.how = TcpEndHow::open;
  s.tcp_end.client_fin = s.tcp_end.server_fin = s.tcp_end.client_rst = s.tcp_end.server_rst = false;
  const auto t = wsdiag::report::build_timeline(s);
  REQUIRE(t.steps.size() >= 3);
  const auto& last = t.steps.back();
  CHECK(last.kind == StepKind::capture_end);
  // before the Ping: 5 messages and the 4 older Ping/Pong frames
  bool found = false;
  for (std::size_t i = 0; i + 1 < t.steps.size(); ++i) {
    if (t.steps[i + 1].kind == StepKind::ping) {
      CHECK(t.steps[i].kind == StepKind::messages);
      CHECK(t.steps[i].client_messages == 5);
      CHECK(t.steps[i].pings_pongs == 4);
      found = true;
    }
  }
  CHECK(found);
  // after it: the Pong that answered it (counted, not kept), nothing else
  CHECK(t.steps[t.steps.size() - 2].kind == StepKind::messages);
  CHECK(t.steps[t.steps.size() - 2].pings_pongs == 1);
}

TEST_CASE("escape_mermaid: no character Mermaid or a code fence gives meaning survives", "[report]") {
  const std::string e = wsdiag::report::escape_mermaid("a;b#c:d<e>f\"g`h{i}j[k]l|m%n\no\x1b[31m");
  for (const char ch : std::string(";:<>\"`{}[]|%\n\x1b")) {
    INFO(ch);
    // ';' appears only as the end of an entity code "#NN;"
    if (ch == ';') continue;
    CHECK(e.find(ch) == std::string::npos);
  }
  CHECK(e.find("a#59;b#35;c#58;d") == 0);
}

TEST_CASE("markdown: a report larger than the limit is summarised, not cut", "[report]") {
  wsdiag::report::Report r = sample_report();
  r.connections.clear();
  for (std::uint64_t i = 1; i <= 400; ++i) {
    auto c = closed_conn();
    c.summary.id = i;
    c.verdict.severity = Severity::error;
    c.verdict.code = 1006;
    c.verdict.name = "Abnormal Closure";
    r.connections.push_back(c);
  }
  for (std::uint64_t i = 401; i <= 1400; ++i) {
    auto c = closed_conn();
    c.summary.id = i;
    c.verdict.severity = Severity::info;
    c.verdict.code = 1000;
    c.verdict.name = "Normal Closure";
    c.summary.findings.clear();
    r.connections.push_back(c);
  }
  const std::string md = capture_output([&](std::FILE* f) { wsdiag::report::write_markdown(f, r); });
  CHECK(md.size() < 65'536);
  CHECK(md.find("more problem connections left out") != std::string::npos);
  CHECK(md.find("--only") != std::string::npos);
  CHECK(md.find("<details>") != std::string::npos);
  CHECK(md.find("more not listed here") != std::string::npos);
  CHECK(md.find("```mermaid") != std::string::npos);
  // the verdict table links to the sections that are there
  CHECK(md.find("[#1](#conn-1)") != std::string::npos);
  CHECK(md.find("<a id=\"conn-1\"></a>") != std::string::npos);
  // problems come before the healthy table
  CHECK(md.find("## Problem connections") < md.find("## Other connections"));

  const std::string small = capture_output([&](std::FILE* f) { wsdiag::report::write_markdown(f, r, 20'000); });
  CHECK(small.size() < 20'000);
}

TEST_CASE("wireshark_filter: IPv4, IPv6, pseudonyms", "[report]") {
  wsdiag::diag::ConnectionSummary s;
  s.client = "10.0.0.1:51234";
  s.server = "10.0.0.2:8080";
  CHECK(wsdiag::report::wireshark_filter(s) == "ip.addr==10.0.0.1 && ip.addr==10.0.0.2 && tcp.port==51234 && tcp.port==8080");
  s.client = "[2001:db8::1]:51234";
  s.server = "[2001:db8::2]:443";
  CHECK(wsdiag::report::wireshark_filter(s) ==
        "ipv6.addr==2001:db8::1 && ipv6.addr==2001:db8::2 && tcp.port==51234 && tcp.port==443");
  s.client = "addr-1:51234";
  s.server = "addr-2:443";
  CHECK(wsdiag::report::wireshark_filter(s) == "tcp.port==51234 && tcp.port==443");
}
