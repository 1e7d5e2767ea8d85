// wsdiag — live mode (`wsdiag -i IFACE`): capture -> the same Pipeline as offline, each
// connection reported as it ends (text block on a terminal, a JSON line otherwise), a status
// line on stderr, drops from pcap_stats in the summary, Ctrl-C reports what is still open.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "wsdiag/capture/live.h"
#include "wsdiag/common/limits.h"
#include "wsdiag/report/redact.h"
#include "wsdiag/report/report.h"

namespace wsdiag::cli {

struct LiveRunOptions {
  capture::LiveOptions capture;            ///< interface, snaplen, -B, -p
  std::string filter;                      ///< BPF (-f)
  std::string output;                      ///< -o FILE ("" or "-" = stdout)
  std::string write_file;                  ///< -w FILE: raw packets too
  std::string user;                        ///< -Z USER ("" = default: "nobody" when root)
  std::optional<report::Format> format;    ///< nullopt: text on a terminal, jsonl otherwise
  std::string color = "auto";              ///< auto, always, never
  std::uint64_t count = 0;                 ///< -c: stop after this many packets (0 = no limit)
  double duration_s = 0;                   ///< --duration: stop after this many seconds (0 = none)
  double idle_timeout_s = 300;             ///< --idle-timeout (0 = never)
  bool all = false;                        ///< --all: non-WebSocket TCP connections too
  std::uint64_t conn = 0;                  ///< --conn ID: only that connection, in detail
  bool frames = false;                     ///< --frames: a TSV line per frame instead
  bool status = true;                      ///< status line on stderr (when it is a terminal)
  std::uint16_t ws_port = 0;               ///< --ws-port
  Limits limits;                           ///< max connections, ooo bytes (idle timeout set here)
  report::RedactOptions redact;            ///< --no-redact, --anonymize, --payload
  /// --fail-on: true if a reported connection matches (exit 1). May be empty.
  std::function<bool(const report::ConnReport&)> fail_on;
};

/// Runs a live capture until Ctrl-C/SIGTERM, -c, --duration or an error; returns the exit status.
int run_live(const LiveRunOptions& opt);

/// Prints the interfaces libpcap can capture on (-D); returns the exit status.
int list_interfaces();

/// Drops root privileges to `user` (initgroups, setgid, setuid, as tcpdump -Z). With an empty
/// `user`, drops to "nobody" if that user exists; "root" keeps them. Does nothing when not root.
/// Returns false (with `msg` saying why) if the drop was asked for and failed; `msg` otherwise
/// holds a note for stderr ("" if there is nothing to say).
bool drop_privileges(const std::string& user, std::string& msg);

}  // namespace wsdiag::cli
