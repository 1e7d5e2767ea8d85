// wsdiag — flow layer: TCP segments -> connections.
//
// Design note. Connections are keyed by the full 5-tuple (both endpoints, compared whole: no
// hashed keys standing in for the tuple) plus the virtual network of a tunnelled segment (the
// VXLAN or Geneve VNI, Encap::virtual_network()): tenants of two virtual networks may reuse the
// same inner addresses, and a VNI is the same in both directions. Other tunnel identifiers are
// not in the key: GTP-U TEIDs and MPLS labels differ per direction, a GRE key may (ikey/okey),
// and outer addresses swap per direction and change with the path; keying by them would split
// one connection in two. A capture of both underlay and overlay (`-i any` on a node) therefore
// shows a VXLAN connection twice (VNI and none) but a GRE or IP-in-IP one once, with every
// segment seen twice (retransmissions in its history). The client is the SYN sender; a SYN-ACK's receiver is
// the client when the SYN was missed; for a capture that starts mid-connection the role is a
// guess (an HTTP request line marks its sender as the client, a status line its receiver; else
// the lower port is the server) and is re-checked at the first payload byte. Each connection
// owns the two directions' reassemblers and the StreamSink the observer gave it.
//
// Lifetime: a connection closes when both sides sent FIN or one sent RST; it lingers for
// Limits::closed_linger_ns of capture time to absorb late ACKs and retransmissions, then it is
// finalised (observer.on_close) and freed. A SYN with a new ISN on a known 5-tuple finalises the
// old connection (port reuse) and starts a new one. The table is bounded: beyond
// Limits::max_connections the least recently active connection is evicted (closed ones first).
// Memory is therefore O(open connections), independent of the capture's length.
//
// A connection costs what it uses: until its first payload byte, FIN or RST it holds its TCP
// counters and where each stream begins (reassembly::StreamStart); the two reassemblers, the path
// tracker and the observer's sink are made then; the encapsulation records at its first tunnelled
// packet. A SYN that is never answered costs sizeof(Connection) (392 bytes) plus its table slot.
// Activity order without a list touched per packet: each packet stamps its connection with a
// per-table counter; the least recently active open connection is found from a batch of the
// oldest stamps collected by one scan of the table when it is full (see FlowTable::oldest_open).
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "wsdiag/common/limits.h"
#include "wsdiag/common/types.h"
#include "wsdiag/decode/decoder.h"
#include "wsdiag/flow/path_tracker.h"
#include "wsdiag/reassembly/reassembler.h"

namespace wsdiag::flow {

/// How the client/server roles were decided.
enum class RoleEvidence : std::uint8_t {
  syn,           ///< the client's SYN was seen
  syn_ack,       ///< only the server's SYN-ACK was seen
  http_request,  ///< mid-stream: the client sent an HTTP request line
  http_response, ///< mid-stream: the server sent an HTTP status line
  port,          ///< mid-stream guess: the lower port is the server
};
const char* to_string(RoleEvidence r) noexcept;

struct EndpointState {
  std::uint64_t packets = 0;
  std::uint64_t payload_bytes = 0;  ///< on the wire, retransmissions included
  bool syn = false;                 ///< SYN (or SYN-ACK) sent
  bool fin = false;
  bool rst = false;
  std::uint32_t isn = 0;
  PacketRef first_fin;
  PacketRef first_rst;
  PacketRef last_packet;
  PacketRef last_payload;  ///< last segment from this side that carried payload
};

class Connection {
 public:
  Connection(std::uint64_t id, const Endpoint& client, const Endpoint& server, RoleEvidence role,
             PacketRef first);

  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] const Endpoint& client() const noexcept { return client_; }
  [[nodiscard]] const Endpoint& server() const noexcept { return server_; }
  [[nodiscard]] RoleEvidence role() const noexcept { return role_; }
  /// True when the client's SYN was captured (the TCP handshake was seen).
  [[nodiscard]] bool handshake_seen() const noexcept { return role_ == RoleEvidence::syn; }
  [[nodiscard]] const EndpointState& endpoint(Dir d) const noexcept {
    return ep_[static_cast<int>(d)];
  }
  /// Side d's reassembler. Made with the sink (the first byte, FIN or RST); before that, and for a
  /// connection that never carried any, an empty one (every count zero).
  [[nodiscard]] const reassembly::Reassembler& stream(Dir d) const noexcept;
  /// Zeek-style history: one letter per event kind and side, upper case for the client:
  /// S syn, H syn-ack, A pure ack, D data, F fin, R rst, T retransmission, G gap, I inconsistent
  /// overlap; a leading '^' means the roles were guessed (the SYN was not seen).
  [[nodiscard]] const std::string& history() const noexcept { return history_; }
  [[nodiscard]] PacketRef first_packet() const noexcept { return first_; }
  [[nodiscard]] PacketRef last_packet() const noexcept { return last_; }
  [[nodiscard]] std::uint64_t packets() const noexcept {
    return ep_[0].packets + ep_[1].packets;
  }
  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] bool reset() const noexcept { return ep_[0].rst || ep_[1].rst; }
  /// Why tracking ended (set just before the observer's on_close).
  [[nodiscard]] reassembly::EndReason end_reason() const noexcept { return end_reason_; }
  [[nodiscard]] reassembly::StreamSink* sink() const noexcept { return sink_.get(); }
  /// The encapsulation of the first tunnelled packet each side sent (empty if none was), and how
  /// many of that side's packets came in an encapsulation.
  [[nodiscard]] const Encap& encap(Dir d) const noexcept {
    return tunnel_ ? tunnel_->encap[static_cast<int>(d)] : kNoEncap;
  }
  [[nodiscard]] std::uint64_t encap_packets(Dir d) const noexcept {
    return tunnel_ ? tunnel_->packets[static_cast<int>(d)] : 0;
  }
  /// What side d's packets said about the path: TTLs, IP IDs, retransmissions, zero windows,
  /// window probes, its first RST (common/path_facts.h). Recorded from the packet that made the
  /// sink on (the first payload byte, FIN or RST): a connection that never carries any (a SYN scan)
  /// keeps no path state, and the handshake's packets are not needed by any path fact.
  [[nodiscard]] const SideFacts& path(Dir d) const noexcept { return path_ ? path_->facts(d) : kNoPathFacts; }
  /// VXLAN/Geneve VNI + 1 this connection is keyed in (0: none).
  [[nodiscard]] std::uint32_t virtual_network() const noexcept { return vnet_; }

 private:
  friend class FlowTable;
  void set_sink(std::unique_ptr<reassembly::StreamSink> sink);
  void flip();
  void mark(Dir d, char letter);
  void make_streams(const Limits& limits);
  void process(Dir d, const decode::TcpSegment& seg, PacketRef at);
  void finish(reassembly::EndReason how, PacketRef at);

  /// The encapsulation of each side's first tunnelled packet and the count of its tunnelled
  /// packets (~380 bytes): made at the connection's first tunnelled packet, none otherwise.
  struct Tunnel {
    std::array<Encap, 2> encap{};
    std::array<std::uint64_t, 2> packets{};
  };
  using Streams = std::array<reassembly::Reassembler, 2>;

  std::uint64_t id_;
  std::uint64_t active_ = 0;  ///< FlowTable's activity stamp of the last packet (LRU order)
  std::uint64_t hash_ = 0;    ///< FlowTable::KeyHash of its key (the table rehashes without rebuilding keys)
  Endpoint client_;
  Endpoint server_;
  RoleEvidence role_;
  bool closed_ = false;
  bool any_payload_ = false;
  bool sink_opened_ = false;  ///< observer.on_open called (lazily: at the first byte, FIN or RST)
  reassembly::EndReason end_reason_ = reassembly::EndReason::capture_end;
  std::uint32_t vnet_ = 0;
  std::uint32_t candidate_ = 0;  ///< position + 1 in FlowTable::oldest_ (0: not a candidate)
  std::array<std::uint32_t, 2> marked_{};  ///< history letters already written, per side
  std::array<EndpointState, 2> ep_;
  /// Where each stream begins, kept until the reassemblers are made (then theirs).
  std::array<reassembly::StreamStart, 2> start_{};
  std::unique_ptr<Streams> streams_;   ///< made with the sink (2 x ~230 bytes)
  std::unique_ptr<Tunnel> tunnel_;     ///< made at the first tunnelled packet
  inline static const SideFacts kNoPathFacts{};
  inline static const Encap kNoEncap{};
  std::unique_ptr<PathTracker> path_;  ///< made with the sink (~750 bytes; none for SYN-only connections)
  std::string history_;
  PacketRef first_;
  PacketRef last_;
  std::unique_ptr<reassembly::StreamSink> sink_;
  std::list<Connection*>::iterator lru_pos_;  ///< in FlowTable::closed_lru_ once closed
};

/// Receives connections as they open and as they are finalised.
class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  /// A new connection: return the sink for its streams (may be null to ignore its bytes). Called
  /// when the first payload byte, FIN or RST arrives (or at the latest just before on_close), so
  /// connections that never carry anything stay small; the roles are final by then.
  virtual std::unique_ptr<reassembly::StreamSink> on_open(Connection& c) = 0;
  /// Both directions have ended (their on_end was delivered); the connection is freed after this.
  virtual void on_close(Connection& c) = 0;
};

struct FlowStats {
  std::uint64_t connections = 0;
  std::uint64_t evicted = 0;
  std::uint64_t idle_timeouts = 0;
  std::uint64_t port_reuse = 0;
  std::uint64_t midstream = 0;
  std::uint64_t peak_open = 0;
  /// Sums another table's counts (sharded runs; peak_open becomes an upper bound).
  FlowStats& operator+=(const FlowStats& o) noexcept {
    connections += o.connections;
    evicted += o.evicted;
    idle_timeouts += o.idle_timeouts;
    port_reuse += o.port_reuse;
    midstream += o.midstream;
    peak_open += o.peak_open;
    return *this;
  }
};

class FlowTable {
 public:
  FlowTable(const Limits& limits, ConnectionObserver& observer);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  /// Sharding (several tables analysing one capture in parallel, each reading every packet):
  /// this table keeps only the connections whose 5-tuple hashes to `index` of `count`, and numbers
  /// them index+1, index+1+count, ... Every packet still advances the clock (sweeps, linger), so a
  /// shard finalises its connections exactly when a single table would. Call before process().
  void set_shard(unsigned index, unsigned count) noexcept;
  /// With sharding: the first packet of each connection this table created, in creation order
  /// (the k-th entry belongs to id index+1+k*count). Lets the caller renumber connections as one
  /// table would have (by first packet).
  [[nodiscard]] const std::vector<std::uint64_t>& created_at() const noexcept { return created_at_; }

  void process(const decode::TcpSegment& seg, PacketRef at);
  /// Finalises closed connections past their linger time and, if an idle timeout is set, idle ones.
  void sweep(std::int64_t now_ns, PacketRef at);
  /// End of input: finalises every connection (capture_end), in order of first packet.
  void finish(PacketRef at);

  [[nodiscard]] std::size_t open_connections() const noexcept { return table_.size(); }
  [[nodiscard]] const FlowStats& stats() const noexcept { return stats_; }

 private:
  struct Key {
    Endpoint lo;
    Endpoint hi;
    std::uint32_t vnet = 0;  ///< Encap::virtual_network()
    friend bool operator==(const Key&, const Key&) = default;
  };
  using Owned = std::unique_ptr<Connection>;
  /// The table holds the connections themselves (8-byte slots) and finds them by Key: hash and
  /// equality take either a Key or a connection (whose endpoints and virtual network are its key).
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const Key& k) const noexcept;
    std::size_t operator()(const Owned& c) const noexcept { return static_cast<std::size_t>(c->hash_); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const Key& a, const Key& b) const noexcept { return a == b; }
    bool operator()(const Owned& a, const Key& b) const noexcept { return matches(*a, b); }
    bool operator()(const Key& a, const Owned& b) const noexcept { return matches(*b, a); }
    bool operator()(const Owned& a, const Owned& b) const noexcept { return a == b; }
  };
  /// An eviction candidate: an open connection's activity stamp when the batch was collected
  /// (conn is cleared if the connection is finalised meanwhile).
  struct Candidate {
    std::uint64_t active;
    Connection* conn;
    friend bool operator<(const Candidate& a, const Candidate& b) noexcept { return a.active < b.active; }
  };
  Connection* create(const decode::TcpSegment& seg, std::size_t hash, PacketRef at);
  /// The least recently active open connection (null if none): the oldest candidate of the batch
  /// whose connection is still open and has not been active since; a new batch (the oldest half
  /// of the open connections, one scan) when the batch runs out.
  Connection* oldest_open();
  void open_sink(Connection* c);
  void finalize(Connection* c, reassembly::EndReason how, PacketRef at);
  static Key key_of(const decode::TcpSegment& seg) noexcept;
  static Key key_of(const Connection& c) noexcept;
  /// key_of(c) == k, without ordering the endpoints (the lookup's comparison, once per packet).
  static bool matches(const Connection& c, const Key& k) noexcept {
    return c.vnet_ == k.vnet && ((c.client_ == k.lo && c.server_ == k.hi) ||
                                 (c.client_ == k.hi && c.server_ == k.lo));
  }

  Limits limits_;
  ConnectionObserver* observer_;
  /// Open addressing (absl's SwissTable): one probe of a packed control array per lookup, the
  /// hash computed once per packet (it also picks the shard); a slot is the connection's pointer.
  absl::flat_hash_set<Owned, KeyHash, KeyEq> table_;
  /// Closed, lingering connections; front = most recently active. Touched when a connection closes
  /// and by the (rare) packets of closed ones, not by the packets of open connections.
  std::list<Connection*> closed_lru_;
  /// Eviction candidates among the open connections, the oldest last (see oldest_open).
  std::vector<Candidate> oldest_;
  std::uint64_t activity_ = 0;  ///< stamps packets in order (Connection::active_)
  /// No open connection was last active before this capture time (a lower bound kept per packet;
  /// made exact by each idle scan), so the idle-timeout sweep scans only when one may have expired.
  std::int64_t open_ts_floor_ = kMaxTimestampNs;
  std::uint64_t next_id_ = 1;
  std::uint64_t id_step_ = 1;
  unsigned shard_ = 0;
  unsigned shards_ = 1;
  std::vector<std::uint64_t> created_at_;  ///< sharded only
  std::int64_t last_sweep_ns_ = 0;
  FlowStats stats_;
};

}  // namespace wsdiag::flow
