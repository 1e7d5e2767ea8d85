// wsdiag — one direction of TCP stream reassembly.
//
// Design note. Sequence numbers are mapped to 64-bit stream offsets relative to the first byte
// seen (or ISN+1 when the SYN was seen), always through serial-number arithmetic (RFC 1982), so
// wrapping past 2^32 is invisible above this class. Policy:
//   - In-order bytes are delivered straight from the packet (no copy).
//   - Bytes ahead of a hole are copied into a bounded out-of-order store (Limits) and released as
//     soon as the hole fills. Overlaps: the first copy seen wins (as tshark and most stacks do);
//     an overlap whose bytes differ from buffered bytes is counted as inconsistent.
//   - Bytes before the delivery point are retransmissions and dropped. Bytes already delivered
//     are not kept (zero copy), so a retransmission can only be compared with bytes still buffered.
//   - A hole becomes a gap (on_gap) when the peer acknowledges bytes stored after it (capture
//     loss: tshark's rule too), when the store is full (buffer_limit), or when the direction ends
//     with the hole open (unfilled). An ACK past a hole with nothing stored after it is not proof
//     of loss (the data may have been captured after its ACK) and changes nothing.
//   - FIN ends the direction once every byte before it is delivered; RST ends it at once (bytes
//     still buffered are released first, holes as gaps). Once the FIN is known, the peer's ACKs
//     no longer turn holes before it into gaps: a segment captured after the FIN whose range lies
//     before it (reordering, a late retransmission) is data of the stream and is delivered in
//     sequence order before on_end. Holes still open when the connection is finished (linger,
//     capture end, eviction) become gaps then: capture-loss if the peer acknowledged them.
//   - A stream picked up mid-connection starts at the first segment seen.
// Memory: at most Limits::ooo_bytes_per_dir payload bytes and ooo_segments_per_dir segments.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "wsdiag/common/limits.h"
#include "wsdiag/reassembly/stream_sink.h"

namespace wsdiag::reassembly {

/// What one segment did, PcapPlusPlus-style: counted per direction, asserted by tests.
enum class SegmentStatus : std::uint8_t {
  in_order,       ///< delivered at once
  buffered,       ///< ahead of a hole: stored
  retransmit,     ///< every byte was already delivered or buffered
  partial_overlap,///< started before the delivery point, new bytes delivered
  no_payload,     ///< control-only (pure ACK, SYN, FIN, RST without data)
  after_end,      ///< arrived after the direction had ended
  limit_hit,      ///< store full or implausibly far ahead: bytes dropped
};

struct DirectionStats {
  std::uint64_t segments = 0;          ///< segments with payload
  std::uint64_t bytes_delivered = 0;   ///< payload bytes delivered to the sink
  std::uint64_t gaps = 0;              ///< gap events
  std::uint64_t gap_bytes = 0;         ///< bytes never delivered
  std::uint64_t capture_loss_bytes = 0;///< of which: acknowledged but never captured
  std::uint64_t snaplen_bytes = 0;     ///< of which: cut by the snaplen
  std::uint64_t retransmits = 0;       ///< segments wholly retransmitted
  std::uint64_t retransmitted_bytes = 0;
  std::uint64_t out_of_order = 0;      ///< segments that had to wait in the store
  std::uint64_t overlaps = 0;          ///< segments overlapping bytes already held
  std::uint64_t inconsistent_overlaps = 0; ///< ...whose overlapping bytes differed
  std::uint64_t limit_hits = 0;        ///< store limit reached
  std::uint64_t after_end = 0;         ///< segments with payload after the direction ended
  std::uint64_t peak_buffered = 0;     ///< largest number of bytes held at once
};

/// Where one direction's stream begins, as its SYN and first segment say: the whole state a
/// direction has before it carries a byte, a FIN or a RST (12 bytes). The flow layer keeps only
/// this for a connection that has carried nothing (a SYN scan) and makes the Reassembler from it
/// when the first byte, FIN or RST arrives.
struct StreamStart {
  std::uint32_t isn = 0;
  std::uint32_t base_seq = 0;  ///< sequence number of stream offset 0 (valid when started)
  bool started = false;
  bool syn_seen = false;

  /// A SYN from this side: the stream begins at isn + 1. A later SYN is ignored.
  void on_syn(std::uint32_t syn_isn) noexcept {
    if (syn_seen) return;
    syn_seen = true;
    isn = syn_isn;
    if (!started) begin(syn_isn + 1);
  }
  /// Any segment from this side: a stream picked up mid-connection starts at the first one seen.
  void on_segment(std::uint32_t seq) noexcept {
    if (!started) begin(seq);
  }

 private:
  void begin(std::uint32_t seq) noexcept {
    started = true;
    base_seq = seq;
  }
};

class Reassembler {
 public:
  Reassembler(Dir dir, const Limits& limits, const StreamStart& start = {}) noexcept
      : dir_(dir), limits_(&limits), start_(start) {}

  void set_sink(StreamSink* sink) noexcept { sink_ = sink; }
  void set_dir(Dir d) noexcept { dir_ = d; }
  [[nodiscard]] Dir dir() const noexcept { return dir_; }

  /// A SYN from this side: the stream begins at isn + 1. A later SYN is ignored.
  void on_syn(std::uint32_t isn) noexcept { start_.on_syn(isn); }

  /// A segment from this side: payload (captured bytes), its length on the wire, FIN/RST flags.
  SegmentStatus on_segment(std::uint32_t seq, Bytes payload, std::uint32_t wire_len, bool fin,
                           bool rst, PacketRef at);

  /// The other side acknowledged `ack` (its ACK flag was set). Holes below stored bytes that it
  /// covers become capture loss.
  void on_peer_ack(std::uint32_t ack, PacketRef at);

  /// No more packets will come (capture end, eviction, port reuse): release buffered bytes with gaps
  /// for the holes, then end with `how` (or with fin if the FIN was reached).
  void finish(EndReason how, PacketRef at);

  [[nodiscard]] bool started() const noexcept { return start_.started; }
  [[nodiscard]] bool ended() const noexcept { return ended_; }
  [[nodiscard]] bool syn_seen() const noexcept { return start_.syn_seen; }
  [[nodiscard]] bool fin_seen() const noexcept { return fin_seen_; }
  [[nodiscard]] std::uint64_t buffered_bytes() const noexcept { return buffered_bytes_; }
  /// Stream offset of the next byte to deliver (bytes delivered + gap bytes).
  [[nodiscard]] std::uint64_t next_offset() const noexcept { return next_off_; }
  [[nodiscard]] const DirectionStats& stats() const noexcept { return stats_; }

 private:
  /// Maps a sequence number to a signed 64-bit offset relative to the delivery point's numbering.
  [[nodiscard]] std::int64_t offset_of(std::uint32_t seq) const noexcept;
  SegmentStatus place(std::int64_t off, Bytes payload, std::uint32_t wire_len, PacketRef at);
  void deliver(Bytes bytes, PacketRef at);
  void gap_to(std::uint64_t end_off, GapReason why, PacketRef at);
  void store(std::uint64_t off, Bytes bytes);
  void drain(PacketRef at);
  void maybe_end_fin(PacketRef at);
  void end(EndReason how, PacketRef at);
  void release_all(PacketRef at);

  Dir dir_;
  const Limits* limits_;
  StreamSink* sink_ = nullptr;

  StreamStart start_;            ///< ISN, sequence number of stream offset 0
  bool fin_seen_ = false;
  bool ended_ = false;
  std::uint64_t next_off_ = 0;   ///< next stream offset to deliver
  std::uint64_t fin_off_ = 0;    ///< stream offset of the FIN (valid when fin_seen_)
  std::uint64_t buffered_bytes_ = 0;
  std::uint64_t acked_off_ = 0;  ///< highest offset the peer acknowledged after the FIN was seen
  std::map<std::uint64_t, std::vector<std::uint8_t>> ooo_;  ///< offset -> bytes, non-overlapping
  DirectionStats stats_;
};

}  // namespace wsdiag::reassembly
