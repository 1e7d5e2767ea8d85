// wsdiag — connection table and TCP endpoint tracking (RFC 9293 §3.5-3.6 for SYN/FIN/RST).
#include "wsdiag/flow/flow_table.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <string_view>
#include <vector>

namespace wsdiag::flow {

using decode::TcpSegment;
namespace tf = decode::tcp_flag;
using reassembly::EndReason;

const char* to_string(RoleEvidence r) noexcept {
  switch (r) {
    case RoleEvidence::syn: return "syn";
    case RoleEvidence::syn_ack: return "syn-ack";
    case RoleEvidence::http_request: return "http-request";
    case RoleEvidence::http_response: return "http-response";
    case RoleEvidence::port: return "port";
  }
  return "?";
}

namespace {

constexpr std::int64_t kSweepEveryNs = 1'000'000'000;
/// Eviction candidates collected per scan: this share of the open connections (at least 64), so
/// one scan of the table pays for that many evictions.
constexpr std::size_t kCandidateShare = 2;
constexpr std::size_t kMinCandidates = 64;

bool starts_with(Bytes b, std::string_view s) {
  return b.size() >= s.size() && std::memcmp(b.data(), s.data(), s.size()) == 0;
}

bool looks_like_request(Bytes b) {
  for (std::string_view m : {"GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ",
                             "CONNECT "}) {
    if (starts_with(b, m)) return true;
  }
  return false;
}

bool looks_like_response(Bytes b) { return starts_with(b, "HTTP/1."); }

// A connection picked up mid-stream whose first payload starts like a WebSocket frame header
// (RFC 6455 §5.2: no RSV2/RSV3, a defined opcode, control frames whole and short): its MASK bit
// says which side sent it (§5.3: clients mask, servers do not). +1 client, -1 server, 0 unknown.
// Only the orientation depends on this; whether it is WebSocket is decided by the session.
int frame_sender(Bytes b) {
  if (b.size() < 2) return 0;
  const unsigned op = b[0] & 0x0Fu;
  const unsigned rsv = (b[0] >> 4) & 0x7u;
  const unsigned len7 = b[1] & 0x7Fu;
  if ((rsv & 3u) != 0 || (op > 2 && op < 8) || op > 10) return 0;
  if (op >= 8 && ((b[0] & 0x80u) == 0 || len7 > 125)) return 0;
  return (b[1] & 0x80u) != 0 ? 1 : -1;
}

// Bit per history letter.
int letter_bit(char c) {
  constexpr std::string_view kLetters = "SHADFRTGI";
  const auto pos = kLetters.find(c);
  return pos == std::string_view::npos ? 31 : static_cast<int>(pos);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(std::uint64_t id, const Endpoint& client, const Endpoint& server,
                       RoleEvidence role, PacketRef first)
    : id_(id),
      client_(client),
      server_(server),
      role_(role),
      first_(first),
      last_(first) {
  if (role != RoleEvidence::syn) history_.push_back('^');
}

const reassembly::Reassembler& Connection::stream(Dir d) const noexcept {
  if (streams_) return (*streams_)[static_cast<std::size_t>(d)];
  static const Limits kLimits{};
  static const reassembly::Reassembler kNone(Dir::c2s, kLimits);
  return kNone;
}

void Connection::make_streams(const Limits& limits) {
  if (streams_) return;
  streams_ = std::make_unique<Streams>(Streams{reassembly::Reassembler(Dir::c2s, limits, start_[0]),
                                               reassembly::Reassembler(Dir::s2c, limits, start_[1])});
}

void Connection::set_sink(std::unique_ptr<reassembly::StreamSink> sink) {
  sink_ = std::move(sink);
  for (auto& rs : *streams_) rs.set_sink(sink_.get());
}

void Connection::flip() {
  std::swap(client_, server_);
  std::swap(ep_[0], ep_[1]);
  std::swap(start_[0], start_[1]);
  if (streams_) {
    auto& rs = *streams_;
    std::swap(rs[0], rs[1]);
    rs[0].set_dir(Dir::c2s);
    rs[1].set_dir(Dir::s2c);
  }
  std::swap(marked_[0], marked_[1]);
  if (tunnel_) {
    std::swap(tunnel_->encap[0], tunnel_->encap[1]);
    std::swap(tunnel_->packets[0], tunnel_->packets[1]);
  }
  if (path_) path_->flip();
  for (char& ch : history_) {
    if (ch >= 'A' && ch <= 'Z') {
      ch = static_cast<char>(ch - 'A' + 'a');
    } else if (ch >= 'a' && ch <= 'z') {
      ch = static_cast<char>(ch - 'a' + 'A');
    }
  }
}

void Connection::mark(Dir d, char letter) {
  const auto side = static_cast<std::size_t>(d);
  const std::uint32_t bit = 1u << letter_bit(letter);
  if ((marked_[side] & bit) != 0) return;
  marked_[side] |= bit;
  history_.push_back(d == Dir::c2s ? letter : static_cast<char>(letter - 'A' + 'a'));
}

void Connection::process(Dir d, const TcpSegment& seg, PacketRef at) {
  const auto i = static_cast<std::size_t>(d);
  auto& ep = ep_[i];
  last_ = at;
  ++ep.packets;
  ep.last_packet = at;
  ep.payload_bytes += seg.payload_wire_len;
  if (seg.payload_wire_len > 0) ep.last_payload = at;
  if (!seg.encap.empty()) {
    if (!tunnel_) tunnel_ = std::make_unique<Tunnel>();
    if (tunnel_->packets[i]++ == 0) tunnel_->encap[i] = seg.encap;
  }
  if (path_) path_->on_segment(d, seg, at);

  std::uint32_t data_seq = seg.seq;
  if (seg.has(tf::syn)) {
    mark(d, seg.has(tf::ack) ? 'H' : 'S');
    if (!ep.syn) {
      ep.syn = true;
      ep.isn = seg.seq;
    }
    if (streams_) {
      (*streams_)[i].on_syn(seg.seq);
    } else {
      start_[i].on_syn(seg.seq);
    }
    data_seq = seg.seq + 1;
  }
  if (seg.payload_wire_len > 0) {
    mark(d, 'D');
  } else if (seg.flags == tf::ack) {
    mark(d, 'A');
  }
  if (seg.has(tf::fin)) {
    mark(d, 'F');
    if (!ep.fin) {
      ep.fin = true;
      ep.first_fin = at;
    }
  }
  if (seg.has(tf::rst)) {
    mark(d, 'R');
    if (!ep.rst) {
      ep.rst = true;
      ep.first_rst = at;
    }
  }

  if (!streams_) {
    // Nothing yet for the streams (no payload, FIN or RST: the table makes the streams with the
    // sink before such a segment): only where this side's stream begins; ACKs change nothing
    // while no bytes are held.
    start_[i].on_segment(data_seq);
    return;
  }
  auto& rs = (*streams_)[i];
  auto& peer = (*streams_)[1 - i];
  const auto& st = rs.stats();
  const std::uint64_t inconsistent_before = st.inconsistent_overlaps;
  const std::uint64_t gaps_before = st.gaps;
  const auto status = rs.on_segment(data_seq, seg.payload, seg.payload_wire_len, seg.has(tf::fin),
                                    seg.has(tf::rst), at);
  if (status == reassembly::SegmentStatus::retransmit ||
      status == reassembly::SegmentStatus::partial_overlap) {
    mark(d, 'T');
  }
  if (st.inconsistent_overlaps != inconsistent_before) mark(d, 'I');
  if (st.gaps != gaps_before) mark(d, 'G');

  if (seg.has(tf::ack) && !seg.has(tf::rst)) {
    const auto peer_gaps = peer.stats().gaps;
    peer.on_peer_ack(seg.ack, at);
    if (peer.stats().gaps != peer_gaps) mark(other(d), 'G');
  }
  if (ep.rst || (ep_[0].fin && ep_[1].fin)) closed_ = true;
}

void Connection::finish(EndReason how, PacketRef at) {
  // A connection that closed by itself ended with its FINs or its RST, whenever it is freed.
  if (closed_) how = reset() ? EndReason::rst : EndReason::fin;
  end_reason_ = how;
  // A reset kills both directions: a side that never ended by itself ends with the reset.
  const EndReason rest = reset() ? EndReason::rst : how;
  if (streams_) {
    for (auto& rs : *streams_) rs.finish(rest, at);
  }
}

// ---------------------------------------------------------------------------------------------
// FlowTable

std::size_t FlowTable::KeyHash::operator()(const Key& k) const noexcept {
  // Only spreads buckets (the map compares whole keys): mix the address words and ports with a
  // multiply-xorshift, 8 bytes at a time.
  auto word = [](const std::array<std::uint8_t, 16>& b, std::size_t i) {
    std::uint64_t w;
    std::memcpy(&w, b.data() + i, sizeof w);
    return w;
  };
  auto mix = [](std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
  };
  std::uint64_t h = (std::uint64_t{k.vnet} << 32) | (std::uint64_t{k.lo.port} << 16) | k.hi.port;
  h = mix(h, word(k.lo.addr.bytes, 0));
  h = mix(h, word(k.hi.addr.bytes, 0));
  if ((k.lo.addr.family | k.hi.addr.family) == 6) {
    h = mix(h, word(k.lo.addr.bytes, 8));
    h = mix(h, word(k.hi.addr.bytes, 8));
  }
  return static_cast<std::size_t>(h);
}

FlowTable::FlowTable(const Limits& limits, ConnectionObserver& observer)
    : limits_(limits), observer_(&observer) {
  table_.reserve(std::min<std::size_t>(limits_.max_connections, 4096));
}

FlowTable::~FlowTable() = default;

void FlowTable::set_shard(unsigned index, unsigned count) noexcept {
  shards_ = count < 1 ? 1 : count;
  shard_ = index % shards_;
  next_id_ = shard_ + 1;
  id_step_ = shards_;
  // The connection budget is the whole run's: each shard gets its part.
  limits_.max_connections = std::max<std::size_t>(1, (limits_.max_connections + shards_ - 1) / shards_);
}

FlowTable::Key FlowTable::key_of(const TcpSegment& seg) noexcept {
  const std::uint32_t vnet = seg.encap.virtual_network();
  if (seg.src < seg.dst) return Key{seg.src, seg.dst, vnet};
  return Key{seg.dst, seg.src, vnet};
}

FlowTable::Key FlowTable::key_of(const Connection& c) noexcept {
  return Key{std::min(c.client_, c.server_), std::max(c.client_, c.server_), c.vnet_};
}

Connection* FlowTable::create(const TcpSegment& seg, std::size_t hash, PacketRef at) {
  // Make room first: closed connections go before open ones, least recently active first.
  while (table_.size() >= limits_.max_connections && !table_.empty()) {
    Connection* victim = !closed_lru_.empty() ? closed_lru_.back() : oldest_open();
    if (victim == nullptr) break;
    ++stats_.evicted;
    finalize(victim, EndReason::evicted, at);
  }

  RoleEvidence role = RoleEvidence::port;
  bool sender_is_client = false;
  if (seg.has(tf::syn) && !seg.has(tf::ack)) {
    role = RoleEvidence::syn;
    sender_is_client = true;
  } else if (seg.has(tf::syn)) {
    role = RoleEvidence::syn_ack;
    sender_is_client = false;
  } else if (looks_like_request(seg.payload)) {
    role = RoleEvidence::http_request;
    sender_is_client = true;
  } else if (looks_like_response(seg.payload)) {
    role = RoleEvidence::http_response;
    sender_is_client = false;
  } else {
    // Ephemeral ports are high: the lower port is the server's. On a tie, the receiver serves.
    sender_is_client = seg.src.port >= seg.dst.port;
  }
  if (role != RoleEvidence::syn) ++stats_.midstream;
  const Endpoint& client = sender_is_client ? seg.src : seg.dst;
  const Endpoint& server = sender_is_client ? seg.dst : seg.src;
  auto conn = std::make_unique<Connection>(next_id_, client, server, role, at);
  conn->vnet_ = seg.encap.virtual_network();
  conn->hash_ = hash;
  next_id_ += id_step_;
  if (shards_ > 1) created_at_.push_back(at.index);
  Connection* c = conn.get();
  table_.insert(std::move(conn));
  ++stats_.connections;
  stats_.peak_open = std::max<std::uint64_t>(stats_.peak_open, table_.size());
  return c;
}

Connection* FlowTable::oldest_open() {
  for (int round = 0; round < 2; ++round) {
    while (!oldest_.empty()) {
      const Candidate cand = oldest_.back();
      oldest_.pop_back();
      if (cand.conn == nullptr) continue;  // finalised since the scan
      Connection* c = cand.conn;
      c->candidate_ = 0;
      // Still open and not active since the scan: then nothing outside the batch is older
      // (everything outside was newer at the scan, or became active or was made since).
      if (c->active_ == cand.active && !c->closed_) return c;
    }
    if (round == 1) break;
    // One scan: the oldest share of the open connections, sorted so the oldest is last.
    std::vector<Candidate> open;
    open.reserve(table_.size());
    for (const auto& conn : table_) {
      if (!conn->closed_) open.push_back(Candidate{conn->active_, conn.get()});
    }
    const std::size_t keep =
        std::min(open.size(), std::max(kMinCandidates, open.size() / kCandidateShare));
    const auto cut = open.begin() + static_cast<std::ptrdiff_t>(keep);
    std::nth_element(open.begin(), cut, open.end());
    oldest_.assign(std::make_reverse_iterator(cut), open.rend());
    std::sort(oldest_.begin(), oldest_.end(),
              [](const Candidate& a, const Candidate& b) { return b < a; });
    for (std::size_t i = 0; i < oldest_.size(); ++i) {
      oldest_[i].conn->candidate_ = static_cast<std::uint32_t>(i + 1);
    }
  }
  return nullptr;
}

void FlowTable::open_sink(Connection* c) {
  if (c->sink_opened_) return;
  c->sink_opened_ = true;
  c->make_streams(limits_);
  c->path_ = std::make_unique<PathTracker>();
  c->set_sink(observer_->on_open(*c));
}

void FlowTable::finalize(Connection* c, EndReason how, PacketRef at) {
  open_sink(c);
  c->finish(how, at);
  observer_->on_close(*c);
  if (c->closed_) closed_lru_.erase(c->lru_pos_);
  if (c->candidate_ != 0) oldest_[c->candidate_ - 1].conn = nullptr;
  table_.erase(table_.find(key_of(*c), static_cast<std::size_t>(c->hash_)));
}

void FlowTable::process(const TcpSegment& seg, PacketRef at) {
  if (at.ts_ns - last_sweep_ns_ > kSweepEveryNs || at.ts_ns < last_sweep_ns_) {
    sweep(at.ts_ns, at);
    last_sweep_ns_ = at.ts_ns;
  }
  const Key key = key_of(seg);
  const std::size_t hash = KeyHash{}(key);
  // The high half of the hash picks the shard: the table's slots use the low bits.
  if (shards_ > 1 && static_cast<unsigned>((std::uint64_t{hash} >> 32) % shards_) != shard_) return;
  auto it = table_.find(key, hash);
  Connection* c = nullptr;
  if (it != table_.end()) {
    c = it->get();
    if (seg.has(tf::syn) && !seg.has(tf::ack)) {
      // A SYN on a known tuple: a retransmission if it repeats the client's ISN, else a new
      // connection reusing the ports.
      const bool from_client = seg.src == c->client_;
      const auto& ep = c->ep_[0];
      if (!(from_client && ep.syn && ep.isn == seg.seq)) {
        ++stats_.port_reuse;
        finalize(c, EndReason::port_reuse, at);
        c = nullptr;
      }
    }
  }
  if (c == nullptr) c = create(seg, hash, at);
  c->active_ = ++activity_;
  open_ts_floor_ = std::min(open_ts_floor_, at.ts_ns);

  Dir d = seg.src == c->client_ ? Dir::c2s : Dir::s2c;
  // A guessed role is re-checked at the first payload byte, before anything was delivered.
  if (!c->any_payload_ && seg.payload_wire_len > 0) {
    c->any_payload_ = true;
    if (c->role_ == RoleEvidence::port) {
      const bool req = looks_like_request(seg.payload);
      const bool resp = looks_like_response(seg.payload);
      const int ws_sender = req || resp ? 0 : frame_sender(seg.payload);
      if ((req && d == Dir::s2c) || (resp && d == Dir::c2s) || (ws_sender > 0 && d == Dir::s2c) ||
          (ws_sender < 0 && d == Dir::c2s)) {
        c->flip();
        d = other(d);
      }
      if (req) c->role_ = RoleEvidence::http_request;
      if (resp) c->role_ = RoleEvidence::http_response;
    }
  }
  // The observer's sink (the session: kilobytes) is made when the first byte, FIN or RST could
  // reach it, so a connection that never carried any (a SYN scan) costs only its TCP state.
  if (seg.payload_wire_len > 0 || seg.has(tf::fin) || seg.has(tf::rst)) open_sink(c);
  const bool was_closed = c->closed_;
  c->process(d, seg, at);
  if (!was_closed && c->closed_) {
    closed_lru_.push_front(c);
    c->lru_pos_ = closed_lru_.begin();
  } else if (c->closed_ && c->lru_pos_ != closed_lru_.begin()) {
    // A late packet of a closed connection (an open one's packet touches no list: its stamp
    // orders it).
    closed_lru_.splice(closed_lru_.begin(), closed_lru_, c->lru_pos_);
  }
  // Both directions ended (FIN each way, delivered in order): nothing more can be delivered,
  // but late ACKs still belong here; the linger sweep frees it.
}

void FlowTable::sweep(std::int64_t now_ns, PacketRef at) {
  while (!closed_lru_.empty()) {
    Connection* c = closed_lru_.back();
    if (now_ns - c->last_.ts_ns <= limits_.closed_linger_ns) break;
    finalize(c, EndReason::capture_end, at);
  }
  if (limits_.idle_timeout_ns > 0 && now_ns - open_ts_floor_ > limits_.idle_timeout_ns) {
    // Open connections in activity order, oldest first, end while idle past the timeout, up to
    // the first one that is not (timestamps may go back in a capture). One scan finds them: the
    // idle ones older than the oldest connection that is not idle.
    std::vector<Connection*> idle;
    std::uint64_t first_busy = std::numeric_limits<std::uint64_t>::max();
    std::int64_t floor = kMaxTimestampNs;
    for (const auto& conn : table_) {
      if (conn->closed_) continue;
      if (now_ns - conn->last_.ts_ns > limits_.idle_timeout_ns) {
        idle.push_back(conn.get());
      } else {
        first_busy = std::min(first_busy, conn->active_);
        floor = std::min(floor, conn->last_.ts_ns);
      }
    }
    std::sort(idle.begin(), idle.end(),
              [](const Connection* a, const Connection* b) { return a->active_ < b->active_; });
    for (Connection* c : idle) {
      if (c->active_ > first_busy) {
        floor = std::min(floor, c->last_.ts_ns);  // stays open: behind a busy one
        continue;
      }
      ++stats_.idle_timeouts;
      finalize(c, EndReason::idle_timeout, at);
    }
    open_ts_floor_ = floor;
  }
}

void FlowTable::finish(PacketRef at) {
  std::vector<Connection*> all;
  all.reserve(table_.size());
  for (const auto& conn : table_) all.push_back(conn.get());
  std::sort(all.begin(), all.end(),
            [](const Connection* a, const Connection* b) { return a->id_ < b->id_; });
  for (Connection* c : all) finalize(c, EndReason::capture_end, at);
}

}  // namespace wsdiag::flow
