#include "wsdiag/cli/pipeline.h"

#include <fmt/format.h>

namespace wsdiag::cli {

Pipeline::Pipeline(const Limits& limits, flow::ConnectionObserver& observer)
    : decoder_(limits), flows_(limits, observer) {}

void Pipeline::process(const capture::PacketRecord& rec) {
  const PacketRef at{rec.index, rec.ts_ns};
  last_ = at;
  if (decoder_.decode(rec, seg_) == decode::DecodeStatus::tcp) flows_.process(seg_, at);
}

bool Pipeline::run_file(const std::string& path, const std::string& filter, CaptureInfo& info) {
  info.file = path;
  try {
    capture::OfflineCapture cap(path);
    info.linktype = cap.linktype();
    info.link_name = cap.linktype_name();
    info.snaplen = cap.snaplen();
    if (!decode::link_type_supported(cap.linktype())) {
      info.error = fmt::format("unsupported link type {} ({})", info.linktype, info.link_name);
      return false;
    }
    if (!filter.empty()) cap.set_filter(filter);
    capture::PacketRecord rec;
    // A timestamp out of range is saturated (capture layer); say so once, with the file's result.
    const auto note_clamped = [&] {
      if (cap.clamped_timestamps() == 0) return;
      if (!info.warning.empty()) info.warning += "; ";
      info.warning += fmt::format("{} packet(s) have a timestamp beyond year 2116 or before 1824: saturated, "
                                  "so durations involving them are meaningless",
                                  cap.clamped_timestamps());
    };
    for (;;) {
      if (max_packets_ != 0 && next_index_ > max_packets_) {  // -c N
        note_clamped();
        return true;
      }
      const auto st = cap.next(rec, next_index_);
      if (st == capture::ReadStatus::packet) {
        ++next_index_;
        if (info.packets == 0) info.first_ts_ns = rec.ts_ns;
        ++info.packets;
        info.bytes += rec.caplen;
        info.last_ts_ns = rec.ts_ns;
        process(rec);
        if (progress_ != nullptr && (info.packets & 0xFFFF) == 0) {
          progress_(progress_ctx_, cap.position(), cap.size());
        }
        continue;
      }
      note_clamped();
      if (st == capture::ReadStatus::end) return true;
      if (st == capture::ReadStatus::truncated) {
        info.truncated = true;
        info.warning = fmt::format("capture ends in the middle of a record after packet {} ({}); "
                                   "the packets before it were analysed",
                                   info.packets, cap.error());
        return true;
      }
      info.error = fmt::format("corrupt capture after packet {}: {}", info.packets, cap.error());
      return false;
    }
  } catch (const capture::CaptureError& e) {
    info.error = e.what();
    return false;
  }
}

void Pipeline::finish() { flows_.finish(last_); }

void Pipeline::tick(std::int64_t now_ns) { flows_.sweep(now_ns, PacketRef{last_.index, now_ns}); }

}  // namespace wsdiag::cli
