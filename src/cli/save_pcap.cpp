// wsdiag — --save-pcap: a second pass over the capture files, keeping the picked connections'
// packets (save_pcap.h).
#include "wsdiag/cli/save_pcap.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <memory>
#include <tuple>

#include "wsdiag/capture/capture.h"
#include "wsdiag/decode/decoder.h"

namespace wsdiag::cli {

namespace {

// "1.2.3.4:80" or "[::1]:80" into an Endpoint; false if it is neither.
bool parse_endpoint(const std::string& s, Endpoint& ep) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 >= s.size() || s.size() - colon > 6) return false;
  unsigned long port = 0;
  for (std::size_t i = colon + 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    port = port * 10 + static_cast<unsigned long>(s[i] - '0');
  }
  if (port > 65535) return false;
  std::string addr = s.substr(0, colon);
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
    ep.addr.family = 6;
    if (inet_pton(AF_INET6, addr.substr(1, addr.size() - 2).c_str(), ep.addr.bytes.data()) != 1) return false;
  } else {
    ep.addr.family = 4;
    if (inet_pton(AF_INET, addr.c_str(), ep.addr.bytes.data()) != 1) return false;
  }
  ep.port = static_cast<std::uint16_t>(port);
  return true;
}

struct Key {
  Endpoint lo, hi;  // the two endpoints, ordered: either direction finds the connection
  std::uint64_t first = 0, last = 0;
  friend bool operator<(const Key& a, const Key& b) { return std::tie(a.lo, a.hi, a.first) < std::tie(b.lo, b.hi, b.first); }
};

struct DumpCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};
struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

}  // namespace

SavePcapResult save_pcap(const std::string& out_path, const std::vector<std::string>& files, const std::string& filter,
                         std::uint64_t max_packets, const std::vector<PcapPick>& picks, const Limits& limits) {
  SavePcapResult res;
  std::vector<Key> keys;
  keys.reserve(picks.size());
  for (const auto& p : picks) {
    Endpoint a, b;
    if (!parse_endpoint(p.client, a) || !parse_endpoint(p.server, b)) continue;
    keys.push_back({std::min(a, b), std::max(a, b), p.first, p.last});
  }
  std::sort(keys.begin(), keys.end());

  std::unique_ptr<pcap_t, PcapCloser> dead;
  std::unique_ptr<pcap_dumper_t, DumpCloser> dumper;
  int linktype = -1;
  decode::Decoder decoder(limits);
  decode::TcpSegment seg;
  capture::PacketRecord rec;
  std::uint64_t next_index = 1;
  for (const auto& file : files) {
    std::unique_ptr<capture::OfflineCapture> cap;
    try {
      cap = std::make_unique<capture::OfflineCapture>(file);
      if (!filter.empty()) cap->set_filter(filter);
    } catch (const capture::CaptureError&) {
      continue;  // the first pass said so already
    }
    if (linktype < 0) {
      linktype = cap->linktype();
      dead.reset(pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO));
      if (!dead) {
        res.error = "cannot create a pcap writer";
        return res;
      }
      dumper.reset(pcap_dump_open(dead.get(), out_path.c_str()));
      if (!dumper) {
        res.error = fmt::format("cannot open for writing: {}", pcap_geterr(dead.get()));
        return res;
      }
    } else if (cap->linktype() != linktype) {
      res.error = fmt::format("{} has link type {}, the pcap being written {}: one file holds one link type",
                              file, cap->linktype_name(), capture::linktype_name(linktype));
      return res;
    }
    for (;;) {
      if (max_packets != 0 && next_index > max_packets) break;
      if (cap->next(rec, next_index) != capture::ReadStatus::packet) break;
      ++next_index;
      if (keys.empty() || decoder.decode(rec, seg) != decode::DecodeStatus::tcp) continue;
      Key probe{std::min(seg.src, seg.dst), std::max(seg.src, seg.dst), 0, 0};
      // Connections on this 4-tuple, in the order they began: the one whose span holds the packet.
      auto it = std::lower_bound(keys.begin(), keys.end(), probe);
      bool hit = false;
      for (; it != keys.end() && it->lo == probe.lo && it->hi == probe.hi; ++it) {
        if (rec.index >= it->first && rec.index <= it->last) {
          hit = true;
          break;
        }
      }
      if (!hit) continue;
      pcap_pkthdr hdr{};
      hdr.ts.tv_sec = static_cast<time_t>(rec.ts_ns / 1'000'000'000);
      hdr.ts.tv_usec = static_cast<suseconds_t>(rec.ts_ns % 1'000'000'000);  // nanoseconds (precision NANO)
      if (hdr.ts.tv_usec < 0) {
        hdr.ts.tv_usec += 1'000'000'000;
        --hdr.ts.tv_sec;
      }
      hdr.caplen = rec.caplen;
      hdr.len = rec.wire_len;
      pcap_dump(reinterpret_cast<u_char*>(dumper.get()), &hdr, rec.bytes.data());
      ++res.packets;
    }
  }
  if (!dumper) {
    res.error = "no capture could be read again";
    return res;
  }
  if (pcap_dump_flush(dumper.get()) != 0) res.error = "write error";
  return res;
}

}  // namespace wsdiag::cli
