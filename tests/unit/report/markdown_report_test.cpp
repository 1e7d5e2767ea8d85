#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "unit/report/report_fixture.h"
#include "wsdiag/report/text_util.h"

using namespace report_test;

namespace {

std::string markdown(const wsdiag::report::Report& r) {
  return capture_output([&](std::FILE* f) { wsdiag::report::write_markdown(f, r); });
}

// Pipes in a table row that are not escaped with a backslash.
std::size_t unescaped_pipes(const std::string& line) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '|') {
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("markdown: escape_markdown neutralises table and code markup", "[report]") {
  using wsdiag::report::escape_markdown;
  CHECK(escape_markdown("a|b") == "a\\|b");
  CHECK(escape_markdown("`rm -rf`") == "\\`rm -rf\\`");
  // a backslash is shown escaped (as in the text report), and that escape is escaped for Markdown
  CHECK(escape_markdown("a\\b") == "a\\\\\\\\b");
  CHECK(escape_markdown("<script>&") == "&lt;script&gt;&amp;");
  CHECK(escape_markdown("*x* _y_ [z] ~~") == "\\*x\\* \\_y\\_ \\[z\\] \\~\\~");
  CHECK(escape_markdown("line\nbreak") == "line\\\\nbreak");
  CHECK(escape_markdown("\xff") == "\\\\xff");
}

TEST_CASE("markdown: report has title, tables, and escaped values", "[report]") {
  auto r = sample_report();
  r.connections[0].summary.handshake.path = "/a|b`c";
  const std::string md = markdown(r);
  CHECK(md.rfind("# wsdiag report\n", 0) == 0);
  CHECK(md.find("## Captures") != std::string::npos);
  CHECK(md.find("dir/cap\\|ture.pcap") != std::string::npos);
  CHECK(md.find("## Verdicts") != std::string::npos);
  CHECK(md.find("### #1 10.0.0.1:51234 → 10.0.0.2:8080: 1000 Normal Closure (error)") !=
        std::string::npos);
  CHECK(md.find("#### Findings") != std::string::npos);
  CHECK(md.find("/a\\|b\\`c") != std::string::npos);
  CHECK(md.find("bye \\\\xff\\\\xfe\\|\\`x") != std::string::npos);
  CHECK(md.find("/a|b") == std::string::npos);

  // Every table row has as many unescaped pipes as its header.
  std::istringstream in(md);
  std::string line;
  std::size_t cols = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '|') {
      cols = 0;
      continue;
    }
    const std::size_t n = unescaped_pipes(line);
    if (cols == 0) cols = n;
    INFO(line);
    CHECK(n == cols);
  }
}
