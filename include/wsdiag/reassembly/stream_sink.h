// wsdiag — the stream interface between TCP reassembly and the protocol parsers above it.
//
// Design note. Reassembly pushes three kinds of events per direction into one StreamSink per
// connection (Zeek's DeliverStream / Undelivered / EndOfData):
//   on_data  in-order payload bytes. The span points into the capture buffer (zero copy) or into
//            the reassembler's out-of-order store, and is valid only for the duration of the call.
//   on_gap   bytes of the stream that will never be delivered: acknowledged by the peer but never
//            captured, cut off by the snaplen, or abandoned when a buffer limit was hit. Gaps are
//            out of band: no filler bytes are ever inserted into the stream.
//   on_end   the direction ended: FIN delivered in order, RST, end of capture, eviction.
// Every event carries the PacketRef of the capture record that made it happen (for data released
// from the out-of-order store, the record that filled the hole), so a frame can be attributed to
// the packet that delivered its last byte, as tshark does.
#pragma once

#include <cstdint>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/common/types.h"

namespace wsdiag::reassembly {

enum class GapReason : std::uint8_t {
  capture_loss,  ///< the peer acknowledged bytes the capture never saw
  snaplen,       ///< the segment was captured, but the snaplen cut its payload
  buffer_limit,  ///< out-of-order buffer full: the hole was given up on
  unfilled,      ///< a hole was still open when the direction ended (FIN/RST/capture end)
};

enum class EndReason : std::uint8_t {
  fin,          ///< FIN reached in sequence order
  rst,          ///< a RST was seen from this side
  capture_end,  ///< the capture ended with the direction still open
  evicted,      ///< the connection table was full and this connection was the least recently active
  idle_timeout, ///< no packet for longer than the idle timeout
  port_reuse,   ///< a new connection (new SYN) took over the same 5-tuple
};

const char* to_string(GapReason r) noexcept;
const char* to_string(EndReason r) noexcept;

class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void on_data(Dir d, Bytes bytes, PacketRef at) = 0;
  virtual void on_gap(Dir d, std::uint64_t len, GapReason why, PacketRef at) = 0;
  virtual void on_end(Dir d, EndReason how, PacketRef at) = 0;
};

}  // namespace wsdiag::reassembly
