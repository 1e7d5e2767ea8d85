// wsdiag — report formats and colour policy (CLI.md `--format`; https://no-color.org).
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "wsdiag/report/report.h"
#include "wsdiag/diag/tls_verdict.h"
#include "wsdiag/diag/verdict.h"

namespace wsdiag::report {

std::optional<Format> parse_format(std::string_view s) noexcept {
  if (s == "text") return Format::text;
  if (s == "json") return Format::json;
  if (s == "jsonl") return Format::jsonl;
  if (s == "markdown" || s == "md") return Format::markdown;
  if (s == "table") return Format::table;
  return std::nullopt;
}

const char* to_string(Format f) noexcept {
  switch (f) {
    case Format::text: return "text";
    case Format::json: return "json";
    case Format::jsonl: return "jsonl";
    case Format::markdown: return "markdown";
    case Format::table: return "table";
  }
  return "text";
}

bool use_color(int fd) {
  if (isatty(fd) == 0) return false;
  if (const char* no = std::getenv("NO_COLOR"); no != nullptr && *no != '\0') return false;
  if (const char* term = std::getenv("TERM"); term != nullptr && std::strcmp(term, "dumb") == 0) {
    return false;
  }
  return true;
}

int text_width(int fd) {
  if (isatty(fd) == 0) return 100;
  int width = 0;
  if (const char* cols = std::getenv("COLUMNS"); cols != nullptr) width = std::atoi(cols);
  if (winsize ws{}; width <= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0) width = ws.ws_col;
  if (width <= 0) return 100;
  return width < 40 ? 40 : width > 400 ? 400 : width;
}

std::string verdict_key(const diag::Verdict& v) {
  if (v.code) return fmt::format("{}", *v.code);
  if (!v.name.empty()) return v.name;
  return "unknown";
}

void diagnose_into(ConnReport& c) {
  diag::add_tls_findings(c.summary);  // the TLS layer's facts judged: alerts, failed decryption, h2
  if (!c.summary.websocket && !diag::tls_candidate(c.summary)) return;
  c.verdict = diag::diagnose(c.summary);
  c.cause = diag::likely_cause(c.summary, c.verdict);
  c.capture_point = diag::capture_point(c.summary, c.cause);
}

}  // namespace wsdiag::report
