// wsdiag — TCP stream reassembly, one direction (RFC 9293 §3.4 sequence numbers; RFC 1982
// serial-number arithmetic for comparisons). See reassembler.h for the policy.
#include "wsdiag/reassembly/reassembler.h"

#include <algorithm>
#include <cstring>

namespace wsdiag::reassembly {

namespace {
// A segment this far ahead of the delivery point is not plausible TCP (the largest scaled
// window is 1 GiB); it is dropped rather than opening a hole of that size.
constexpr std::int64_t kMaxAhead = std::int64_t{1} << 30;
}  // namespace

const char* to_string(GapReason r) noexcept {
  switch (r) {
    case GapReason::capture_loss: return "capture-loss";
    case GapReason::snaplen: return "snaplen";
    case GapReason::buffer_limit: return "buffer-limit";
    case GapReason::unfilled: return "unfilled";
  }
  return "?";
}

const char* to_string(EndReason r) noexcept {
  switch (r) {
    case EndReason::fin: return "fin";
    case EndReason::rst: return "rst";
    case EndReason::capture_end: return "capture-end";
    case EndReason::evicted: return "evicted";
    case EndReason::idle_timeout: return "idle-timeout";
    case EndReason::port_reuse: return "port-reuse";
  }
  return "?";
}

std::int64_t Reassembler::offset_of(std::uint32_t seq) const noexcept {
  const auto next_seq = static_cast<std::uint32_t>(start_.base_seq + static_cast<std::uint32_t>(next_off_));
  const auto diff = static_cast<std::int32_t>(seq - next_seq);
  return static_cast<std::int64_t>(next_off_) + diff;
}

void Reassembler::deliver(Bytes bytes, PacketRef at) {
  if (bytes.empty()) return;
  next_off_ += bytes.size();
  stats_.bytes_delivered += bytes.size();
  if (sink_ != nullptr) sink_->on_data(dir_, bytes, at);
}

void Reassembler::gap_to(std::uint64_t end_off, GapReason why, PacketRef at) {
  if (end_off <= next_off_) return;
  const std::uint64_t len = end_off - next_off_;
  next_off_ = end_off;
  ++stats_.gaps;
  stats_.gap_bytes += len;
  if (why == GapReason::capture_loss) stats_.capture_loss_bytes += len;
  if (why == GapReason::snaplen) stats_.snaplen_bytes += len;
  if (sink_ != nullptr) sink_->on_gap(dir_, len, why, at);
}

void Reassembler::drain(PacketRef at) {
  while (!ooo_.empty()) {
    auto it = ooo_.begin();
    if (it->first > next_off_) break;
    const std::uint64_t end_off = it->first + it->second.size();
    if (end_off > next_off_) {
      const auto skip = static_cast<std::size_t>(next_off_ - it->first);
      deliver(Bytes(it->second).subspan(skip), at);
    }
    buffered_bytes_ -= it->second.size();
    ooo_.erase(it);
  }
}

void Reassembler::store(std::uint64_t off, Bytes bytes) {
  // Insert [off, off+len) into the store, keeping entries disjoint: bytes already held win
  // (first copy seen), and overlapping bytes that differ are counted as inconsistent.
  std::uint64_t s = off;
  const std::uint64_t e = off + bytes.size();
  bool overlapped = false;
  bool inconsistent = false;
  auto compare = [&](std::uint64_t held_off, const std::vector<std::uint8_t>& held,
                     std::uint64_t from, std::uint64_t to) {
    overlapped = true;
    if (std::memcmp(held.data() + (from - held_off), bytes.data() + (from - off), to - from) != 0) {
      inconsistent = true;
    }
  };
  auto it = ooo_.upper_bound(s);
  if (it != ooo_.begin()) {
    auto prev = std::prev(it);
    const std::uint64_t prev_end = prev->first + prev->second.size();
    if (prev_end > s) {
      const std::uint64_t to = std::min(e, prev_end);
      compare(prev->first, prev->second, s, to);
      s = to;
    }
  }
  while (s < e && it != ooo_.end() && it->first < e) {
    if (it->first > s) {
      const auto from = static_cast<std::size_t>(s - off);
      const auto len = static_cast<std::size_t>(it->first - s);
      ooo_.emplace_hint(it, s, std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(from),
                                                          bytes.begin() + static_cast<std::ptrdiff_t>(from + len)));
      buffered_bytes_ += len;
    }
    const std::uint64_t held_end = it->first + it->second.size();
    const std::uint64_t to = std::min(e, held_end);
    compare(it->first, it->second, std::max(s, it->first), to);
    s = to;
    ++it;
  }
  if (s < e) {
    const auto from = static_cast<std::size_t>(s - off);
    ooo_.emplace_hint(it, s, std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(from),
                                                        bytes.end()));
    buffered_bytes_ += e - s;
  }
  if (overlapped) ++stats_.overlaps;
  if (inconsistent) ++stats_.inconsistent_overlaps;
  stats_.peak_buffered = std::max<std::uint64_t>(stats_.peak_buffered, buffered_bytes_);
}

SegmentStatus Reassembler::on_segment(std::uint32_t seq, Bytes payload, std::uint32_t wire_len,
                                      bool fin, bool rst, PacketRef at) {
  if (wire_len < payload.size()) wire_len = static_cast<std::uint32_t>(payload.size());
  if (ended_) {
    if (wire_len > 0) {
      ++stats_.after_end;
      return SegmentStatus::after_end;
    }
    return SegmentStatus::no_payload;
  }
  start_.on_segment(seq);

  SegmentStatus status = SegmentStatus::no_payload;
  const std::int64_t off = offset_of(seq);
  const auto next = static_cast<std::int64_t>(next_off_);

  if (wire_len > 0) {
    ++stats_.segments;
    const std::int64_t end_off = off + wire_len;
    if (end_off <= next) {
      ++stats_.retransmits;
      stats_.retransmitted_bytes += wire_len;
      status = SegmentStatus::retransmit;
    } else if (off - next > kMaxAhead) {
      ++stats_.limit_hits;
      status = SegmentStatus::limit_hit;
    } else {
      status = place(off, payload, wire_len, at);
    }
  }

  if (fin && !fin_seen_) {
    const std::int64_t fin_off = off + wire_len;
    if (fin_off >= 0) {
      fin_seen_ = true;
      fin_off_ = static_cast<std::uint64_t>(fin_off);
    }
  }
  if (rst) {
    release_all(at);
    end(EndReason::rst, at);
  } else {
    maybe_end_fin(at);
  }
  return status;
}

SegmentStatus Reassembler::place(std::int64_t off, Bytes payload, std::uint32_t wire_len,
                                 PacketRef at) {
  const std::uint64_t cap_len = payload.size();
  if (off > static_cast<std::int64_t>(next_off_)) {
    const auto uoff = static_cast<std::uint64_t>(off);
    // Make room: give up on the oldest hole until this segment fits (or becomes in order).
    while (uoff > next_off_ &&
           (buffered_bytes_ + cap_len > limits_->ooo_bytes_per_dir ||
            ooo_.size() >= limits_->ooo_segments_per_dir)) {
      ++stats_.limit_hits;
      if (ooo_.empty()) {
        gap_to(uoff, GapReason::buffer_limit, at);
        break;
      }
      gap_to(ooo_.begin()->first, GapReason::buffer_limit, at);
      drain(at);
    }
    if (uoff > next_off_) {
      const std::uint64_t before = buffered_bytes_;
      ++stats_.out_of_order;
      store(uoff, payload);
      // If the snaplen cut this out-of-order segment, its tail stays a hole and is released as a
      // gap later (capture-loss or unfilled): the bytes were never captured either way.
      return buffered_bytes_ > before ? SegmentStatus::buffered : SegmentStatus::retransmit;
    }
  }

  // In order (possibly starting before the delivery point). Deliver the packet's bytes, letting
  // bytes already held in the store win where they overlap (first copy seen wins).
  const bool partial = off < static_cast<std::int64_t>(next_off_);
  const std::int64_t cap_end = off + static_cast<std::int64_t>(cap_len);
  bool inconsistent = false;
  while (static_cast<std::int64_t>(next_off_) < cap_end) {
    if (!ooo_.empty() && ooo_.begin()->first <= next_off_) {
      // A held entry covers the delivery point: compare its overlap with this packet, deliver it.
      const auto& held = *ooo_.begin();
      const std::uint64_t held_end = held.first + held.second.size();
      const std::uint64_t from = next_off_;
      const std::uint64_t to = std::min<std::uint64_t>(held_end, static_cast<std::uint64_t>(cap_end));
      if (to > from &&
          std::memcmp(held.second.data() + (from - held.first),
                      payload.data() + static_cast<std::size_t>(static_cast<std::int64_t>(from) - off),
                      static_cast<std::size_t>(to - from)) != 0) {
        inconsistent = true;
      }
      drain(at);
      continue;
    }
    std::uint64_t limit = static_cast<std::uint64_t>(cap_end);
    if (!ooo_.empty()) limit = std::min(limit, ooo_.begin()->first);
    const auto from = static_cast<std::size_t>(static_cast<std::int64_t>(next_off_) - off);
    const auto to = static_cast<std::size_t>(static_cast<std::int64_t>(limit) - off);
    deliver(payload.subspan(from, to - from), at);
  }
  if (cap_len < wire_len) {
    // Bytes the snaplen cut off: a gap, unless the store already holds them.
    const std::uint64_t wire_end = static_cast<std::uint64_t>(off + static_cast<std::int64_t>(wire_len));
    std::uint64_t limit = wire_end;
    if (!ooo_.empty()) limit = std::min(limit, ooo_.begin()->first);
    gap_to(limit, GapReason::snaplen, at);
  }
  drain(at);
  if (inconsistent) {
    ++stats_.overlaps;
    ++stats_.inconsistent_overlaps;
  }
  return partial ? SegmentStatus::partial_overlap : SegmentStatus::in_order;
}

void Reassembler::on_peer_ack(std::uint32_t ack, PacketRef at) {
  if (!start_.started || ended_ || ooo_.empty()) return;
  std::int64_t ack_off = offset_of(ack);
  if (fin_seen_) ack_off = std::min(ack_off, static_cast<std::int64_t>(fin_off_));
  const auto next = static_cast<std::int64_t>(next_off_);
  if (ack_off <= next || ack_off - next > kMaxAhead) return;
  const auto target = static_cast<std::uint64_t>(ack_off);
  if (fin_seen_) {
    // The sender already ended its stream: a segment before its FIN that the capture has not seen
    // yet is reordered or retransmitted late, not necessarily lost. Holes wait for it (bounded
    // by the store) until the direction is finished; those acknowledged are capture loss then.
    acked_off_ = std::max(acked_off_, target);
    return;
  }
  // A hole is capture loss only when the peer acknowledges bytes already waiting after it: the
  // receiver had the hole's bytes, and the capture never will. (An ACK past a hole with nothing
  // behind it may just have been captured before its data, as multi-queue NICs do; such a hole
  // is filled when the data comes, or released as a gap when the direction ends.)
  while (!ooo_.empty() && ooo_.begin()->first < target) {
    gap_to(ooo_.begin()->first, GapReason::capture_loss, at);
    drain(at);
  }
  maybe_end_fin(at);
}

void Reassembler::release_all(PacketRef at) {
  // A hole the peer acknowledged is capture loss; any other was never proven lost.
  auto why = [this](std::uint64_t end_off) {
    return end_off <= acked_off_ ? GapReason::capture_loss : GapReason::unfilled;
  };
  while (!ooo_.empty()) {
    gap_to(ooo_.begin()->first, why(ooo_.begin()->first), at);
    drain(at);
  }
  if (fin_seen_) gap_to(fin_off_, why(fin_off_), at);
}

void Reassembler::maybe_end_fin(PacketRef at) {
  if (!ended_ && fin_seen_ && next_off_ >= fin_off_) end(EndReason::fin, at);
}

void Reassembler::finish(EndReason how, PacketRef at) {
  if (ended_) return;
  if (!start_.started) {
    ended_ = true;
    if (sink_ != nullptr) sink_->on_end(dir_, how, at);
    return;
  }
  release_all(at);
  end(fin_seen_ && next_off_ >= fin_off_ ? EndReason::fin : how, at);
}

void Reassembler::end(EndReason how, PacketRef at) {
  if (ended_) return;
  ended_ = true;
  ooo_.clear();
  buffered_bytes_ = 0;
  if (sink_ != nullptr) sink_->on_end(dir_, how, at);
}

}  // namespace wsdiag::reassembly
