// wsdiag — what one side's packets said about the path (issue #11): plain facts, no judgement.
//
// The flow layer fills one SideFacts per side of every TCP connection as its packets pass
// (flow/path_tracker.h), in constant memory: first/min/max TTL, the IPv4 IP ID sequence, TCP
// options, retransmissions (with the latest run of re-sends of one sequence number and its
// back-off), zero-window advertisements and window probes, the largest number of bytes in flight,
// and the first RST this side sent with the IP/TCP fields that tell a forged reset from a real one.
// diag reads them (causes_path.cpp): a middlebox RST, a blackhole, a slow consumer, the capture point.
#pragma once

#include <cstdint>

#include "wsdiag/common/types.h"

namespace wsdiag {

/// The first RST one side sent, and the state of the connection when it came.
struct RstFacts {
  PacketRef at;                  ///< index 0: this side sent no RST
  std::uint8_t ttl = 0;          ///< IP TTL / hop limit
  std::uint16_t ip_id = 0;       ///< IPv4 identification (0 for IPv6)
  std::uint16_t window = 0;      ///< raw TCP window field
  std::uint8_t options = 0;      ///< decode::tcp_opt bits present
  bool ack_flag = false;         ///< the RST carried ACK
  /// The RST's sequence number minus the next byte this side would have sent (its highest
  /// sequence number so far): 0 for an RST in the right place.
  std::int64_t seq_offset = 0;
  /// Bytes this side had sent that the peer had not acknowledged when the RST came.
  std::uint32_t own_unacked = 0;
  /// Bytes the peer had sent that this side had not acknowledged when the RST came (data in
  /// flight toward it: an RST that races the peer's data).
  std::uint32_t peer_unacked = 0;
  /// Packets this side sent after its RST, and how many of them carried payload.
  std::uint32_t packets_after = 0;
  std::uint32_t data_packets_after = 0;
  /// This side's earlier (non-RST) packets, for comparison: how many there were, and the IP ID of
  /// the last one (IPv4).
  std::uint64_t earlier_packets = 0;
  std::uint16_t earlier_ip_id = 0;
};

/// One side's packets (everything it sent), as seen at the capture point.
struct SideFacts {
  std::uint8_t ip_version = 0;   ///< of its first packet (4 or 6; 0: none seen)
  /// TTL / hop limit of its packets, RSTs excluded (those are in `rst`). ttl_packets == 0: none.
  std::uint8_t ttl_first = 0, ttl_min = 0, ttl_max = 0;
  std::uint64_t ttl_packets = 0;
  /// IPv4 IP ID sequence (RSTs excluded): steps between consecutive packets, how many of them
  /// went up by 1..ip_id_small_step (a per-connection or global counter), packets with IP ID 0.
  static constexpr std::uint16_t ip_id_small_step = 64;
  std::uint16_t ip_id_last = 0;
  std::uint64_t ip_id_steps = 0;
  std::uint64_t ip_id_small_steps = 0;
  std::uint64_t ip_id_zero = 0;
  /// decode::tcp_opt bits on its non-SYN, non-RST packets: on any of them, and on every one of them.
  std::uint8_t options_any = 0;
  std::uint8_t options_all = 0;
  std::uint64_t options_packets = 0;

  /// Retransmissions: segments with payload (or a FIN) re-sending bytes already sent and not yet
  /// acknowledged (keep-alives and window probes excluded).
  std::uint64_t retransmits = 0;
  PacketRef retransmit_first, retransmit_last;
  /// The peer acknowledged the bytes of the last retransmission after it.
  bool retransmit_acked = false;
  /// The latest run of re-sends of one sequence number: how many, the first and last re-send,
  /// the intervals between the first two and the last two re-sends (back-off when it grows), and
  /// whether the peer acknowledged that sequence afterwards.
  std::uint32_t run_resends = 0;
  std::uint32_t run_seq = 0;
  PacketRef run_first, run_last;
  std::int64_t run_first_gap_ns = 0, run_last_gap_ns = 0;
  bool run_acked = false;

  /// Zero-window advertisements (window field 0 on a non-SYN, non-RST segment).
  std::uint64_t zero_windows = 0;
  PacketRef zero_window_first, zero_window_last;
  std::int64_t zero_window_longest_ns = 0;  ///< longest time the window stayed zero (so far at the end)
  bool zero_window_at_end = false;          ///< the last window it advertised was zero
  /// Window probes it sent while the peer's window was zero (a keep-alive-shaped segment one byte
  /// below the next sequence number, or new data into the zero window).
  std::uint64_t window_probes = 0;
  PacketRef window_probe_first, window_probe_last;

  /// The largest number of bytes it had sent and the peer had not acknowledged yet.
  std::uint32_t max_in_flight = 0;

  RstFacts rst;  ///< its first RST
};

}  // namespace wsdiag
