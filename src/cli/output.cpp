// wsdiag — output shared by the modes: error lines, -o, --color, --frames.
#include "wsdiag/cli/output.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "wsdiag/report/report.h"

namespace wsdiag::cli {

void error_line(std::string_view what, std::string_view msg) { fmt::print(stderr, "wsdiag: {}: {}\n", what, msg); }

OutputFile::~OutputFile() {
  if (f_ != stdout) std::fclose(f_);
}

bool OutputFile::open(const std::string& path) {
  if (path.empty() || path == "-") return true;
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    error_line(path, fmt::format("cannot open for writing: {}", std::strerror(errno)));
    return false;
  }
  if (f_ != stdout) std::fclose(f_);
  f_ = f;
  name_ = path;
  return true;
}

bool want_color(const std::string& when, int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  if (when == "always") return true;
  if (when == "never") return false;
  return report::use_color(fd);
}

FramePrinter::FramePrinter(std::FILE* out, std::uint64_t only_conn, const report::Redactor& redactor)
    : out_(out), only_(only_conn), redactor_(redactor) {
  report::write_frames_header(out_);
}

void FramePrinter::on_frame(const session::FrameRecord& f) {
  if (only_ != 0 && f.conn != only_) return;
  report::write_frame(out_, f, redactor_.preview(f.text_preview));
}

bool load_keylog(const std::string& file, const std::vector<std::string>& inputs, tls::KeyLog& keylog) {
  std::string err;
  if (!file.empty()) {
    if (!keylog.load_file(file, err)) {
      error_line(file, err);
      return false;
    }
  } else if (const char* env = std::getenv("SSLKEYLOGFILE"); env != nullptr && *env != '\0') {
    if (!keylog.load_file(env, err)) error_line(env, "warning: SSLKEYLOGFILE: " + err);
  }
  for (const auto& in : inputs) {
    if (in != "-") keylog.load_pcapng_secrets(in);
  }
  return true;
}

}  // namespace wsdiag::cli
