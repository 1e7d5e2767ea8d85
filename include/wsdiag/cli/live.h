// wsdiag — live mode (`wsdiag -i IFACE`): capture -> the same Pipeline as offline, each
// connection reported as it ends (text block on a terminal, a JSON line otherwise), a status
// line on stderr, drops from pcap_stats in the summary, Ctrl-C reports what is still open.
#pragma once

#include <string>

#include "wsdiag/cli/options.h"

namespace wsdiag::cli {

/// Runs a live capture until Ctrl-C/SIGTERM, -c, --duration or an error; returns the exit status.
int run_live(const Options& opt);

/// Prints the interfaces libpcap can capture on (-D); returns the exit status.
int list_interfaces();

/// Drops root privileges to `user` (initgroups, setgid, setuid, as tcpdump -Z). With an empty
/// `user`, drops to "nobody" if that user exists; "root" keeps them. Does nothing when not root.
/// Returns false (with `msg` saying why) if the drop was asked for and failed; `msg` otherwise
/// holds a note for stderr ("" if there is nothing to say).
bool drop_privileges(const std::string& user, std::string& msg);

}  // namespace wsdiag::cli
