// wsdiag — command line options (CLI.md): one struct for every mode, parsed by parse_options().
// The modes read it (offline.h, live.h); nothing else parses argv.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wsdiag/session/ws_session.h"
#include "wsdiag/report/redact.h"
#include "wsdiag/capture/live.h"
#include "wsdiag/common/limits.h"
#include "wsdiag/diag/rules.h"
#include "wsdiag/report/report.h"

namespace wsdiag::cli {

/// --fail-on and --only: a comma list of close codes (1006), severities (error, warning, info: that or
/// worse), rule ids (client-unmasked), "open" and "handshake-failed".
struct FailOn {
  std::vector<std::uint16_t> codes;
  std::vector<diag::RuleId> rules;
  int severity = -1;  // fail at or above
  bool open = false;
  bool handshake_failed = false;

  /// nullopt (and `bad` = the token) if a token is none of the above.
  static std::optional<FailOn> parse(const std::string& list, std::string& bad);
  [[nodiscard]] bool matches(const report::ConnReport& c) const;
};

/// Options that only live capture (-i) reads.
struct LiveModeOptions {
  capture::LiveOptions capture;  ///< interface, snaplen, -B, -p
  std::string write_file;        ///< -w FILE: raw packets too
  std::string user;              ///< -Z USER ("" = default: "nobody" when root)
  std::uint64_t count = 0;       ///< -c: stop after this many packets (0 = no limit)
  double duration_s = 0;         ///< --duration: stop after this many seconds (0 = none)
  double idle_timeout_s = 300;   ///< --idle-timeout (0 = never)
  std::string metrics;           ///< --metrics ADDR:PORT: serve /metrics there ("" = off)
};

struct Options {
  std::vector<std::string> files;  ///< positional and -r
  std::string filter;              ///< -f BPF
  std::string streams_dir;
  std::string output;              ///< -o FILE ("" or "-" = stdout)
  std::string format = "text";     ///< text, json, jsonl, markdown, table
  bool format_given = false;       ///< --format was on the command line (live picks one otherwise)
  std::string color = "auto";
  std::optional<FailOn> fail_on;  ///< --fail-on, parsed
  std::optional<FailOn> only;     ///< --only: report only the connections that match (same syntax)
  std::string save_pcap;          ///< --save-pcap FILE: the reported connections' packets
  std::uint64_t conn = 0;
  std::vector<std::string> ws_ports;  ///< --ws-port PORT or LOW-HIGH, repeatable
  session::PortRanges ws_port_set;    ///< the same, parsed
  std::string tls_keylog;             ///< --tls-keylog FILE ("" = $SSLKEYLOGFILE)
  report::RedactOptions redact;       ///< --no-redact, --anonymize, --payload (report/redact.h)
  bool frames = false;
  bool all = false;
  bool progress = true;
  std::size_t max_connections = Limits{}.max_connections;
  std::size_t ooo_bytes = Limits{}.ooo_bytes_per_dir;
  unsigned threads = 0;  // 0: automatic
  bool list_rules = false;
  bool list_interfaces = false;
  LiveModeOptions live;

  [[nodiscard]] bool is_live() const noexcept { return !live.capture.device.empty(); }
  /// --only: true if the diagnosed connection is to be reported (always without --only).
  [[nodiscard]] bool only_allows(const report::ConnReport& c) const { return !only || only->matches(c); }
  /// The Limits the options ask for (max connections, out-of-order bytes).
  [[nodiscard]] Limits limits() const noexcept;
};

/// Parses argv into `opt`. Returns nullopt to go on, or the exit status to end with at once
/// (--help and --version print and give 0; bad usage prints one line and gives 2).
std::optional<int> parse_options(int argc, char** argv, Options& opt);

}  // namespace wsdiag::cli
