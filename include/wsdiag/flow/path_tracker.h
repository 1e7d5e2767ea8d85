// wsdiag — flow layer: per-side path facts of one TCP connection (common/path_facts.h).
//
// Fed every segment of the connection by Connection::process, in order of capture. Constant
// memory (two SideFacts and a few sequence numbers per side), no allocation, a few comparisons per
// packet. Sequence numbers compare modulo 2^32 (RFC 9293 §3.4). It records, it does not judge:
// what a retransmission, a window probe or an RST's fields mean is diag's business.
#pragma once

#include <array>
#include <cstdint>

#include "wsdiag/common/path_facts.h"
#include "wsdiag/common/types.h"
#include "wsdiag/decode/decoder.h"

namespace wsdiag::flow {

class PathTracker {
 public:
  /// One segment sent by side `d` (Dir::c2s: the client).
  void on_segment(Dir d, const decode::TcpSegment& seg, PacketRef at) noexcept;
  /// The roles were swapped (Connection::flip): the sides' facts swap with them.
  void flip() noexcept;
  [[nodiscard]] const SideFacts& facts(Dir d) const noexcept { return facts_[static_cast<int>(d)]; }

 private:
  /// Sequence state of one side (not a fact: what the next segment is compared with).
  struct SeqState {
    bool seq_known = false;    ///< snd_max is set
    bool una_known = false;    ///< snd_una is set (the peer acknowledged something of ours)
    bool ack_known = false;    ///< ack_sent is set
    bool ip_id_known = false;  ///< an IPv4 packet was seen (ip_id_last is set)
    bool zero_open = false;    ///< the last window this side advertised was zero
    std::uint32_t snd_max = 0;   ///< one past the highest sequence number sent (SYN and FIN count)
    std::uint32_t snd_una = 0;   ///< the highest acknowledgement the peer sent for our bytes
    std::uint32_t ack_sent = 0;  ///< the highest acknowledgement we sent for the peer's bytes
    std::uint32_t last_rtx_seq = 0;
    std::int64_t zero_since_ns = 0;
  };
  void on_ack(std::size_t i, std::uint32_t ack) noexcept;
  void on_rst(std::size_t i, const decode::TcpSegment& seg, PacketRef at) noexcept;
  void on_sequence(std::size_t i, const decode::TcpSegment& seg, PacketRef at) noexcept;

  std::array<SideFacts, 2> facts_{};
  std::array<SeqState, 2> seq_{};
};

}  // namespace wsdiag::flow
