// wsdiag — the causes that need the path facts of the flow layer (common/path_facts.h), as rows
// of the per-connection cause table (causes.cpp), and the capture-point fact line.
//
//   middlebox-rst  an RST whose TTL / hop limit does not match its claimed sender's earlier packets,
//                  or after which that sender went on sending data: a box on the path forged it
//   blackhole      one side re-sent the same sequence 3+ times with back-off and nothing
//                  acknowledged it, then it gave up (RST, its own close) or the capture ended
//   slow-consumer  one side advertised zero windows while the other probed them (it had data to
//                  send), then that sender closed with 1008/1009/1011 or tore the connection down
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wsdiag/diag/causes.h"

namespace wsdiag::diag {

std::optional<CauseMatch> middlebox_rst(const ConnectionSummary& s, const Verdict& v);
std::optional<CauseMatch> blackhole(const ConnectionSummary& s, const Verdict& v);
std::optional<CauseMatch> slow_consumer(const ConnectionSummary& s, const Verdict& v);

inline constexpr std::string_view kFixMiddleboxRst =
    "Neither endpoint reset the connection: find the box between them that did (a firewall or IDS rule, a load "
    "balancer or NAT that lost or expired the connection's state, a proxy's policy) from the TTL distance, "
    "and fix its rule or timeout; let clients reconnect with backoff.";
inline constexpr std::string_view kFixBlackhole =
    "Packets stopped getting through in one direction: a NAT, load balancer or firewall that forgot the "
    "connection (idle state expiry, failover) or a network that went away. Send heartbeats more often than "
    "the shortest state timeout on the path, give clients a ping timeout so they notice, and reconnect.";
inline constexpr std::string_view kFixSlowConsumer =
    "The receiver stopped reading (a blocked event loop, a suspended process, a consumer slower than the "
    "stream): make it read promptly, apply backpressure at the source, or drop / coalesce messages for slow "
    "clients; the sender's close is its guard against unbounded buffering.";

inline constexpr CauseRow kMiddleboxRstRow{"middlebox-rst", "an RST that its claimed sender did not send",
                                           kFixMiddleboxRst, middlebox_rst};
inline constexpr CauseRow kBlackholeRow{"blackhole", "retransmissions nobody acknowledged: the path went dark",
                                        kFixBlackhole, blackhole};
inline constexpr CauseRow kSlowConsumerRow{"slow-consumer", "the receiver stopped reading; the sender gave up",
                                           kFixSlowConsumer, slow_consumer};

/// Where the capture was taken, as far as the packets tell (a fact line shown next to a cause).
struct CapturePoint {
  int client_hops = -1;  ///< routers between the client and the capture point (initial TTL 64/128/255 minus seen); -1 unknown
  int server_hops = -1;
  std::uint8_t client_ttl = 0, server_ttl = 0;  ///< the highest TTL / hop limit seen from each side
  bool loopback = false;  ///< both ends are loopback addresses (one host, no path)
  std::string proxy;      ///< proxy marks in the handshake: Server naming a proxy, Via, X-Forwarded-For
  std::string line;       ///< one sentence for the report
};
/// The capture point of a connection whose ending has a cause on the path (not an application's
/// own close code); nullopt otherwise, and when the packets say nothing about it.
std::optional<CapturePoint> capture_point(const ConnectionSummary& s, const std::optional<CauseMatch>& cause);

}  // namespace wsdiag::diag
