// wsdiag — --save-pcap FILE (issue #13 §3): the packets of the reported connections, after --conn
// and --only, written to a pcap to open exactly those in Wireshark. Offline only, and by a second
// pass over the capture files: the first pass cannot know which connections will be reported
// until each has ended, and keeping every packet until then would cost memory without bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wsdiag/common/limits.h"

namespace wsdiag::cli {

/// A reported connection: its real endpoints ("ip:port", "[v6]:port", taken before redaction)
/// and the span of packet numbers it lived in (ports are reused: the span tells them apart).
struct PcapPick {
  std::uint64_t id = 0;
  std::string client, server;
  std::uint64_t first = 0, last = 0;
};

struct SavePcapResult {
  std::uint64_t packets = 0;  ///< packets written
  std::string error;          ///< "" on success; one line for "wsdiag: FILE: error"
};

/// Reads `files` again (same BPF `filter`, same numbering, at most `max_packets` if not 0) and
/// writes every packet of a picked connection to `out_path` (pcap, nanosecond timestamps, the
/// files' link type: files of different link types are refused). IP fragments of a segment are
/// written only with the fragment that completed it.
SavePcapResult save_pcap(const std::string& out_path, const std::vector<std::string>& files, const std::string& filter,
                         std::uint64_t max_packets, const std::vector<PcapPick>& picks, const Limits& limits);

}  // namespace wsdiag::cli
