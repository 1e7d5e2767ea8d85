// wsdiag — bounded IP fragment reassembly (IPv4 RFC 791 §3.2 / RFC 815, IPv6 RFC 8200 §4.5).
//
// Design note. Fragments are rare and off the hot path, so this table may use the heap, but only
// within Limits: at most `ip_frag_datagrams` datagrams in progress, and at most `ip_frag_bytes`
// of buffer capacity held by all of them together. Memory grows only with fragment bytes that are
// actually present; an offset or a "last fragment" claim never makes the table allocate.
// Overlapping fragments are accepted only when the overlapping bytes agree (a retransmission);
// any disagreement, a total that changes, or a fragment past the end drops the whole datagram
// (RFC 5722's rule for IPv6, applied to both). A dropped datagram stays as a marker, so its later
// fragments are dropped too, until it times out or is evicted. Incomplete datagrams are evicted
// when older than `ip_frag_timeout_ns` (capture time since their first fragment) or, oldest
// first, when a new datagram or new bytes need room.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/common/limits.h"

namespace wsdiag::decode {

/// Identifies the datagram a fragment belongs to. IPv4: (src, dst, protocol, id);
/// IPv6: (src, dst, id) with protocol 0.
struct FragmentKey {
  std::uint8_t family = 4;
  std::uint8_t protocol = 0;
  std::uint32_t id = 0;
  std::array<std::uint8_t, 16> src{};
  std::array<std::uint8_t, 16> dst{};
  friend bool operator==(const FragmentKey&, const FragmentKey&) = default;
};

struct Fragment {
  FragmentKey key;
  std::uint32_t offset = 0;  ///< byte offset in the fragmentable part
  bool more = false;         ///< more fragments follow (MF / M flag)
  /// IPv6: Next Header of the fragment header (only the offset-0 fragment's value is used).
  std::uint8_t next_header = 0;
  Bytes data;  ///< the fragment's bytes (complete: a snaplen-cut fragment is never added)
  std::int64_t ts_ns = 0;
};

enum class FragmentResult : std::uint8_t { pending, complete, dropped };

class FragmentTable {
 public:
  explicit FragmentTable(const Limits& limits) noexcept;

  /// Adds one fragment. On `complete`, datagram() holds the reassembled fragmentable part.
  FragmentResult add(const Fragment& f);

  /// The last completed datagram; valid until the next add().
  [[nodiscard]] Bytes datagram() const noexcept { return {assembled_.data(), assembled_size_}; }
  /// Next Header of the last completed datagram's offset-0 fragment (IPv6).
  [[nodiscard]] std::uint8_t datagram_next_header() const noexcept { return assembled_next_; }

  [[nodiscard]] std::size_t in_progress() const noexcept { return datagrams_.size(); }
  /// Buffer capacity currently held by incomplete datagrams.
  [[nodiscard]] std::size_t bytes_held() const noexcept { return held_; }
  /// Incomplete datagrams thrown away by timeout or to make room.
  [[nodiscard]] std::uint64_t evicted() const noexcept { return evicted_; }

 private:
  struct Piece {
    std::uint32_t offset;
    std::uint32_t len;
    std::uint32_t pos;  ///< where its bytes start in Datagram::store
  };
  struct Datagram {
    FragmentKey key;
    std::uint64_t serial = 0;  ///< creation order (oldest = smallest)
    std::int64_t first_ts = 0;
    std::uint32_t total = 0;
    bool total_known = false;
    bool dead = false;
    std::uint8_t next_header = 0;
    std::vector<Piece> pieces;  ///< sorted by offset
    std::vector<std::uint8_t> store;
    [[nodiscard]] std::size_t held() const noexcept {
      return store.capacity() + pieces.capacity() * sizeof(Piece);
    }
  };

  void expire(std::int64_t now);
  void erase_at(std::size_t i, bool count_evicted);
  bool evict_oldest_except(const Datagram* keep);
  void kill(Datagram& d);
  bool make_room(const Datagram& d, std::size_t extra);
  FragmentResult finish(std::size_t i);

  Limits limits_;
  std::vector<std::unique_ptr<Datagram>> datagrams_;  // few (<= ip_frag_datagrams): linear search
  std::uint64_t next_serial_ = 0;
  std::size_t held_ = 0;
  std::uint64_t evicted_ = 0;
  std::vector<std::uint8_t> assembled_;
  std::size_t assembled_size_ = 0;
  std::uint8_t assembled_next_ = 0;
};

}  // namespace wsdiag::decode
