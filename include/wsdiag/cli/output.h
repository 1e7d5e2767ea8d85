// wsdiag — what offline and live mode share on the way out: error lines, the output file,
// the colour decision and the --frames printer.
#pragma once

#include <vector>

#include "wsdiag/tls/keylog.h"
#include "wsdiag/report/redact.h"
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "wsdiag/session/frame_record.h"
#include "wsdiag/session/ws_session.h"

namespace wsdiag::cli {

/// "wsdiag: WHAT: MSG" on stderr, one line (errors and warnings alike).
void error_line(std::string_view what, std::string_view msg);

/// -o FILE, or standard output for "" and "-". Closes the file when it goes away.
class OutputFile {
 public:
  OutputFile() = default;
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  /// Opens `path` for writing; false after printing the error line if it cannot be.
  bool open(const std::string& path);
  [[nodiscard]] std::FILE* get() const noexcept { return f_; }
  /// The name for error lines: the path, or "-".
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  std::FILE* f_ = stdout;
  std::string name_ = "-";
};

/// --color WHEN for output on `fd`: "always", "never", or "auto" (a terminal, see report::use_color).
/// A non-empty NO_COLOR turns colour off in every case (cli_contract.sh: "NO_COLOR wins").
bool want_color(const std::string& when, int fd);

/// TLS secrets: `file` (--tls-keylog), else $SSLKEYLOGFILE if set; plus the Decryption Secrets
/// Blocks of pcapng `inputs`. False (error line printed) if `file` cannot be read.
bool load_keylog(const std::string& file, const std::vector<std::string>& inputs, tls::KeyLog& keylog);

/// --frames: the TSV header, then a line per frame (of connection `only_conn`, or all for 0).
class FramePrinter : public session::FrameListener {
 public:
  /// Previews go through `redactor` (hidden unless --payload or --no-redact).
  FramePrinter(std::FILE* out, std::uint64_t only_conn, const report::Redactor& redactor);
  void on_frame(const session::FrameRecord& f) override;

 private:
  std::FILE* out_;
  std::uint64_t only_;
  const report::Redactor& redactor_;
};

}  // namespace wsdiag::cli
