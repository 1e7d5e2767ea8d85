// wsdiag — capture layer: live capture from a network interface through libpcap
// (pcap_create / pcap_activate), beside OfflineCapture and feeding the same PacketRecord.
//
// The handle is opened with a snaplen large enough for whole payloads, immediate mode (packets
// are delivered as they arrive, not when a kernel buffer fills) and a short read timeout, so
// next() returns `timeout` when nothing arrived and the caller can sweep idle connections by the
// wall clock. Packets can be saved as they are read (-w FILE, pcap_dump). A PacketRecord's bytes
// are owned by libpcap and valid only until the next call to next().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wsdiag/capture/capture.h"

struct pcap;
struct pcap_dumper;

namespace wsdiag::capture {

struct LiveOptions {
  std::string device;          ///< interface name; "any" captures on every interface (Linux)
  int snaplen = 262144;        ///< bytes kept per packet: whole payloads by default
  /// Kernel ring buffer in KiB (-B; 0 = libpcap's 2 MiB). Immediate mode makes Linux use
  /// TPACKET_V2, whose ring has one fixed slot per packet sized for the snaplen/MTU (64 KiB on
  /// lo): 2 MiB holds ~30 packets there and drops bursts, so the default is larger.
  int buffer_kib = 32 * 1024;
  bool promiscuous = true;     ///< -p turns it off
  bool immediate = true;       ///< deliver each packet at once
  int timeout_ms = 100;        ///< read timeout: next() returns `timeout` at least this often
};

enum class LiveStatus {
  packet,   ///< a packet was read
  timeout,  ///< nothing arrived within the read timeout
  stopped,  ///< break_loop() was called
  error,    ///< the capture failed (interface went away...): error() says why
};

/// Counters from pcap_stats: what the kernel saw and what it could not hand over.
struct LiveStats {
  bool valid = false;             ///< false if the platform gave no statistics
  std::uint64_t received = 0;     ///< packets that passed the filter
  std::uint64_t dropped = 0;      ///< dropped by the kernel (buffer full)
  std::uint64_t if_dropped = 0;   ///< dropped by the interface or its driver
};

/// One interface as libpcap lists it (-D).
struct InterfaceInfo {
  std::string name;
  std::string description;
  bool up = false;
  bool running = false;
  bool loopback = false;
};

class LiveCapture {
 public:
  /// Opens and activates the interface. Throws CaptureError (one line, e.g. "lo: You don't have
  /// permission to capture on that device") on failure.
  explicit LiveCapture(const LiveOptions& opt);
  ~LiveCapture();
  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;

  /// Applies a BPF filter. Throws CaptureError if it does not compile.
  void set_filter(const std::string& expr);
  /// Also writes every packet read to a pcap file (must be called before privileges are dropped).
  /// Throws CaptureError if the file cannot be created.
  void open_dump(const std::string& path);
  /// Writes buffered packets of the dump file out; false on a write error.
  bool flush_dump() noexcept;

  /// Waits for the next packet (at most the read timeout); `next_index` numbers it.
  LiveStatus next(PacketRecord& out, std::uint64_t next_index);
  /// Makes a pending or the next next() return `stopped`. Safe to call from a signal handler.
  void break_loop() noexcept;

  [[nodiscard]] LiveStats stats() const noexcept;
  [[nodiscard]] int linktype() const noexcept { return linktype_; }
  [[nodiscard]] std::string linktype_name() const { return capture::linktype_name(linktype_); }
  [[nodiscard]] int snaplen() const noexcept;
  [[nodiscard]] const std::string& device() const noexcept { return device_; }
  /// A warning from pcap_activate (e.g. promiscuous mode not supported), or "".
  [[nodiscard]] const std::string& warning() const noexcept { return warning_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  std::string device_;
  pcap* handle_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  int linktype_ = 0;
  int fd_ = -1;
  int timeout_ms_ = 100;
  bool nano_ = false;
  std::string warning_;
  std::string error_;
};

/// Every interface libpcap can capture on (-D). Throws CaptureError if it cannot list them.
std::vector<InterfaceInfo> list_interfaces();

}  // namespace wsdiag::capture
