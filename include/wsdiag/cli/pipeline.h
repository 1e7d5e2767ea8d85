// wsdiag — the offline pipeline: capture -> decode -> flow/reassembly -> observer.
// Live capture (a later addition) feeds the same Pipeline::process(); only the source differs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wsdiag/capture/capture.h"
#include "wsdiag/common/limits.h"
#include "wsdiag/decode/decoder.h"
#include "wsdiag/flow/flow_table.h"

namespace wsdiag::cli {

/// What one capture file contained, for the report and for error lines.
struct CaptureInfo {
  std::string file;
  int linktype = -1;
  std::string link_name;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;   ///< captured bytes
  bool truncated = false;    ///< the file ended mid-record
  std::string error;         ///< fatal problem with this file ("" if none)
  std::string warning;       ///< non-fatal problem (truncated file)
  std::int64_t first_ts_ns = 0;
  std::int64_t last_ts_ns = 0;
  int snaplen = 0;
};

class Pipeline {
 public:
  Pipeline(const Limits& limits, flow::ConnectionObserver& observer);

  /// Reads one capture to its end. Returns false if the file could not be read at all or was
  /// corrupt (info.error says why); packets read before a problem are analysed either way.
  bool run_file(const std::string& path, const std::string& filter, CaptureInfo& info);
  /// Called every so often while a file is read (bytes read, file size) — for a progress bar.
  using Progress = void (*)(void* ctx, std::int64_t pos, std::int64_t size);
  void set_progress(Progress fn, void* ctx) noexcept {
    progress_ = fn;
    progress_ctx_ = ctx;
  }
  /// -c N offline: run_file stops once N records (over all files) have been read; 0 = no limit.
  void set_max_packets(std::uint64_t n) noexcept { max_packets_ = n; }
  /// One of `count` pipelines reading the same input in parallel: see FlowTable::set_shard.
  void set_shard(unsigned index, unsigned count) noexcept { flows_.set_shard(index, count); }
  [[nodiscard]] const std::vector<std::uint64_t>& created_at() const noexcept { return flows_.created_at(); }
  /// Feeds one record (offline or live).
  void process(const capture::PacketRecord& rec);
  /// End of all input: every open connection is finalised.
  void finish();
  /// Live capture: lets time pass with no packet (wall clock, ns since the epoch), so closed
  /// connections past their linger and idle ones (Limits::idle_timeout_ns) are finalised.
  void tick(std::int64_t now_ns);
  /// Connections tracked right now.
  [[nodiscard]] std::size_t open_connections() const noexcept { return flows_.open_connections(); }

  [[nodiscard]] std::uint64_t packets() const noexcept { return next_index_ - 1; }
  [[nodiscard]] const decode::DecodeStats& decode_stats() const noexcept { return decoder_.stats(); }
  [[nodiscard]] const flow::FlowStats& flow_stats() const noexcept { return flows_.stats(); }

 private:
  decode::Decoder decoder_;
  flow::FlowTable flows_;
  decode::TcpSegment seg_;
  std::uint64_t next_index_ = 1;
  std::uint64_t max_packets_ = 0;  ///< set_max_packets
  PacketRef last_{};
  Progress progress_ = nullptr;
  void* progress_ctx_ = nullptr;
};

}  // namespace wsdiag::cli
