// wsdiag — every resource bound in one place. Nothing is allocated because a packet asked for it:
// each buffer that grows with input is capped here, and hitting a cap yields a named finding.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wsdiag {

struct Limits {
  /// Out-of-order bytes buffered per direction before the reassembler gives up on a hole.
  std::size_t ooo_bytes_per_dir = 1 << 20;
  /// Out-of-order segments buffered per direction.
  std::size_t ooo_segments_per_dir = 1024;
  /// Open connections tracked at once; the least recently active is evicted beyond this.
  std::size_t max_connections = 200'000;
  /// Capture-time seconds a closed (FIN both ways or RST) connection lingers for late packets.
  std::int64_t closed_linger_ns = 5'000'000'000;
  /// Idle timeout after which an open connection is reported and evicted; 0 = never (offline).
  std::int64_t idle_timeout_ns = 0;
  /// IP fragment reassembly: datagrams in progress, and bytes held by all of them together.
  std::size_t ip_frag_datagrams = 256;
  std::size_t ip_frag_bytes = 4 << 20;
  std::int64_t ip_frag_timeout_ns = 30'000'000'000;
  /// Encapsulation layers (tunnels, MPLS, PPPoE) decoded around one packet; at most
  /// Encap::kMaxLayers. A packet nested deeper is counted (DecodeStats::tunnel_limit), not decoded.
  std::size_t tunnel_layers = 4;
  /// Largest HTTP Upgrade request/response head kept.
  std::size_t http_head_bytes = 16 * 1024;
  /// Largest inflated message size validated before a finding (permessage-deflate).
  std::uint64_t inflate_bytes_per_message = 64ull << 20;
  /// Largest TLS record body buffered per direction (TLS allows 2^14 + 2048); a longer record
  /// stops TLS parsing of that direction with a `limit-tls-record` finding.
  std::size_t tls_record_bytes = (1u << 14) + 2048;
  /// Largest plaintext TLS handshake message kept for parsing (ClientHello, ServerHello,
  /// EncryptedExtensions); longer ones are skipped unparsed.
  std::size_t tls_handshake_bytes = 64 * 1024;
  /// Live mode: encrypted TLS records kept per connection (both directions, in arrival order)
  /// while the secret that decrypts them is not in the key log yet (a client logs a secret only
  /// after it uses it), and decrypted in order once it is. Beyond either budget the records held
  /// are judged with the secrets logged so far (`limit-tls-held`) and the connection stops waiting.
  std::size_t tls_held_bytes = 64 * 1024;
  std::size_t tls_held_records = 64;
  /// Live mode: the run-level causes (patterns) are found over the endings of the last
  /// `pattern_window_ns` of capture time, at most `pattern_window_endings` of them (oldest dropped
  /// first), and a group is reported once no new ending joined it for `pattern_settle_ns`.
  std::int64_t pattern_window_ns = 600'000'000'000;
  std::size_t pattern_window_endings = 65'536;
  std::int64_t pattern_settle_ns = 2'000'000'000;
  /// Pings and Pongs kept per connection for its timeline (the last ones); older ones are only
  /// counted (diag::WireEvents::pings_pongs_not_kept).
  std::size_t timeline_pings = 6;
  /// Offline `--format json`: bytes of connection objects the report keeps in memory. The document
  /// is kept whole while it fits in half of this, then goes to an unlinked temporary file; the
  /// other half holds objects that ended before an earlier connection, waiting for it so the file
  /// stays in id order (past it they are stored out of order and fetched one by one at the end).
  /// Divided among the analysis threads.
  std::size_t json_report_memory = 32u << 20;
};

}  // namespace wsdiag
