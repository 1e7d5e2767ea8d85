// wsdiag — per-side path facts of a TCP connection (flow/path_tracker.h).
#include "wsdiag/flow/path_tracker.h"

#include <algorithm>
#include <utility>

namespace wsdiag::flow {

namespace tf = decode::tcp_flag;

namespace {

// RFC 9293 §3.4: sequence numbers compare modulo 2^32.
constexpr std::int32_t seq_diff(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b);
}
constexpr bool seq_lt(std::uint32_t a, std::uint32_t b) noexcept { return seq_diff(a, b) < 0; }
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) noexcept { return seq_diff(a, b) > 0; }

/// a - b when a is at or after b, else 0.
constexpr std::uint32_t seq_ahead(std::uint32_t a, std::uint32_t b) noexcept {
  return seq_diff(a, b) > 0 ? a - b : 0;
}

}  // namespace

void PathTracker::flip() noexcept {
  std::swap(facts_[0], facts_[1]);
  std::swap(seq_[0], seq_[1]);
}

void PathTracker::on_segment(Dir d, const decode::TcpSegment& seg, PacketRef at) noexcept {
  // The segment's fields are read once: the byte-sized stores below may alias anything, and the
  // compiler would read them again after each one (this runs for every packet).
  const std::uint8_t flags = seg.flags;
  const std::uint8_t ttl = seg.ttl;
  const std::uint8_t version = seg.ip_version;
  const std::uint8_t options = seg.options;
  const std::uint16_t ip_id = seg.ip_id;
  const std::uint16_t window = seg.window;
  const auto i = static_cast<std::size_t>(d);
  SideFacts& f = facts_[i];
  SeqState& s = seq_[i];
  if (f.ip_version == 0) f.ip_version = version;
  if ((flags & tf::rst) != 0) {
    on_rst(i, seg, at);
    return;
  }
  if (f.rst.at.index != 0) {
    ++f.rst.packets_after;
    if (seg.payload_wire_len > 0) ++f.rst.data_packets_after;
  }

  // TTL / hop limit.
  if (f.ttl_packets++ == 0) {
    f.ttl_first = f.ttl_min = f.ttl_max = ttl;
  } else {
    f.ttl_min = std::min(f.ttl_min, ttl);
    f.ttl_max = std::max(f.ttl_max, ttl);
  }
  // IPv4 identification sequence.
  if (version == 4) {
    if (ip_id == 0) ++f.ip_id_zero;
    if (s.ip_id_known) {
      ++f.ip_id_steps;
      const auto step = static_cast<std::uint16_t>(ip_id - f.ip_id_last);
      if (step >= 1 && step <= SideFacts::ip_id_small_step) ++f.ip_id_small_steps;
    }
    s.ip_id_known = true;
    f.ip_id_last = ip_id;
  }

  if ((flags & tf::syn) == 0) {
    // Options, and the window this side advertises (a SYN's window is never scaled nor zero-window).
    f.options_all = f.options_packets++ == 0 ? options : static_cast<std::uint8_t>(f.options_all & options);
    f.options_any = static_cast<std::uint8_t>(f.options_any | options);
    if (window == 0) {
      if (f.zero_windows++ == 0) f.zero_window_first = at;
      f.zero_window_last = at;
      if (!s.zero_open) {
        s.zero_open = true;
        s.zero_since_ns = at.ts_ns;
      }
      f.zero_window_longest_ns = std::max(f.zero_window_longest_ns, at.ts_ns - s.zero_since_ns);
      f.zero_window_at_end = true;
    } else if (s.zero_open) {
      f.zero_window_longest_ns = std::max(f.zero_window_longest_ns, at.ts_ns - s.zero_since_ns);
      s.zero_open = false;
      f.zero_window_at_end = false;
    }
  }

  on_sequence(i, seg, at);
  if ((flags & tf::ack) != 0) on_ack(i, seg.ack);
}

void PathTracker::on_ack(std::size_t i, std::uint32_t ack) noexcept {
  SeqState& s = seq_[i];
  if (!s.ack_known || seq_gt(ack, s.ack_sent)) {
    s.ack_sent = ack;
    s.ack_known = true;
  }
  // The peer's bytes acknowledged, if the acknowledgement is for bytes it did send.
  SeqState& p = seq_[1 - i];
  SideFacts& pf = facts_[1 - i];
  if (!p.seq_known || seq_gt(ack, p.snd_max)) return;
  if (p.una_known && !seq_gt(ack, p.snd_una)) return;
  p.snd_una = ack;
  p.una_known = true;
  if (pf.run_resends > 0 && seq_gt(ack, pf.run_seq)) pf.run_acked = true;
  if (pf.retransmits > 0 && seq_gt(ack, p.last_rtx_seq)) pf.retransmit_acked = true;
}

void PathTracker::on_rst(std::size_t i, const decode::TcpSegment& seg, PacketRef at) noexcept {
  SideFacts& f = facts_[i];
  if (f.rst.at.index != 0) return;
  const SeqState& s = seq_[i];
  const SeqState& p = seq_[1 - i];
  RstFacts& r = f.rst;
  r.at = at;
  r.ttl = seg.ttl;
  r.ip_id = seg.ip_id;
  r.window = seg.window;
  r.options = seg.options;
  r.ack_flag = seg.has(tf::ack);
  r.seq_offset = s.seq_known ? seq_diff(seg.seq, s.snd_max) : 0;
  r.own_unacked = s.seq_known && s.una_known ? seq_ahead(s.snd_max, s.snd_una) : 0;
  r.peer_unacked = p.seq_known && s.ack_known ? seq_ahead(p.snd_max, s.ack_sent) : 0;
  r.earlier_packets = f.ttl_packets;
  r.earlier_ip_id = f.ip_id_last;
}

void PathTracker::on_sequence(std::size_t i, const decode::TcpSegment& seg, PacketRef at) noexcept {
  SideFacts& f = facts_[i];
  SeqState& s = seq_[i];
  const std::uint32_t len = seg.payload_wire_len;
  const bool syn = seg.has(tf::syn);
  const bool fin = seg.has(tf::fin);
  const std::uint32_t end = seg.seq + len + (syn ? 1u : 0u) + (fin ? 1u : 0u);
  if (!s.seq_known) {
    s.seq_known = true;
    s.snd_max = end;
    return;
  }
  const SeqState& p = seq_[1 - i];
  const bool peer_window_zero = p.zero_open;
  // Nothing outstanding and one byte below the next: a keep-alive, or a window probe when the
  // peer's window is zero (Linux probes so).
  const bool below_next = seg.seq + 1 == s.snd_max && (!s.una_known || s.snd_una == s.snd_max);
  auto probe = [&] {
    if (f.window_probes++ == 0) f.window_probe_first = at;
    f.window_probe_last = at;
  };
  if (len <= 1 && !syn && !fin && below_next) {
    if (peer_window_zero) probe();
  } else if (len == 0 && !syn && !fin) {
    // A pure acknowledgement: nothing sent.
  } else if (seq_lt(seg.seq, s.snd_max)) {
    // Bytes (or a SYN / FIN) already sent: a retransmission.
    if (f.retransmits++ == 0) f.retransmit_first = at;
    f.retransmit_last = at;
    f.retransmit_acked = false;
    s.last_rtx_seq = seg.seq;
    if (f.run_resends > 0 && seg.seq == f.run_seq) {
      const std::int64_t gap = at.ts_ns - f.run_last.ts_ns;
      if (f.run_resends == 1) f.run_first_gap_ns = gap;
      f.run_last_gap_ns = gap;
      ++f.run_resends;
      f.run_last = at;
    } else {
      f.run_seq = seg.seq;
      f.run_resends = 1;
      f.run_first = f.run_last = at;
      f.run_first_gap_ns = f.run_last_gap_ns = 0;
      f.run_acked = false;
    }
  } else if (peer_window_zero && len > 0) {
    probe();  // new data into a zero window (RFC 9293 §3.8.6.1)
  }
  if (seq_gt(end, s.snd_max)) s.snd_max = end;
  if (s.una_known) f.max_in_flight = std::max(f.max_in_flight, seq_ahead(s.snd_max, s.snd_una));
}

}  // namespace wsdiag::flow
