// wsdiag — the TLS layer between TCP reassembly and HTTP/WebSocket.
//
// Design note. A TlsFront is the StreamSink of every connection; it owns nothing else's state
// and forwards to the inner sink (the HTTP/WebSocket session):
//   - plain connections (the first bytes are not TLS) are forwarded untouched, one branch per call;
//   - TLS is recognised on any port by a ClientHello as the client's first bytes, or by valid
//     record headers when the capture started after the handshake (midstream);
//   - records are reassembled per direction (record.h); ClientHello/ServerHello/HelloRetryRequest
//     are parsed into TlsFacts; alerts in plaintext are decoded, encrypted ones are measured;
//   - with secrets for the connection's client random (keylog.h), records are decrypted into a
//     per-direction fixed buffer and application data goes to the inner sink with the packet ref of
//     the record that carried it. TLS 1.3 follows the handshake (early data, handshake keys,
//     Finished -> application keys, KeyUpdate); TLS 1.2 starts at ChangeCipherSpec. A record that
//     does not authenticate stops decryption of that direction (KeyStatus::failed): no garbage
//     ever reaches the WebSocket parser.
// Nothing here judges: the facts go to diag through the connection summary.
#pragma once

#include <memory>

#include "wsdiag/common/limits.h"
#include "wsdiag/reassembly/stream_sink.h"
#include "wsdiag/tls/facts.h"
#include "wsdiag/tls/keylog.h"

namespace wsdiag::tls {

class TlsFront : public reassembly::StreamSink {
 public:
  /// keys: may be null (no key log given).
  TlsFront(reassembly::StreamSink& inner, const Limits& limits, const KeyLog* keys);
  ~TlsFront() override;
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  void on_data(Dir d, Bytes bytes, PacketRef at) override;
  void on_gap(Dir d, std::uint64_t len, reassembly::GapReason why, PacketRef at) override;
  void on_end(Dir d, reassembly::EndReason how, PacketRef at) override;

  /// True once the connection was recognised as TLS.
  [[nodiscard]] bool is_tls() const noexcept { return st_ != nullptr; }
  /// The facts so far (empty unless is_tls()); final after both directions ended.
  [[nodiscard]] TlsFacts facts() const;

 private:
  class State;
  void start_tls(bool midstream);
  reassembly::StreamSink* inner_;
  const Limits* limits_;
  const KeyLog* keys_;
  bool decided_ = false;
  std::unique_ptr<State> st_;
};

}  // namespace wsdiag::tls
