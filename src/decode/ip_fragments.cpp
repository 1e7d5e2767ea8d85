// wsdiag — IP fragment reassembly: RFC 791 §3.2 (IPv4 fragmentation and reassembly), RFC 815
// (hole tracking), RFC 8200 §4.5 (IPv6 Fragment header), RFC 5722 (overlapping fragments).
//
// A fragment carries bytes [offset, offset + len) of the datagram's fragmentable part; the last
// one (MF/M clear) fixes the total. Non-last fragments carry a multiple of 8 bytes, and no byte
// lies past 65535. Pieces are kept in one byte store per datagram plus a sorted piece index;
// completion is checked by walking the index for holes.
#include "wsdiag/decode/ip_fragments.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace wsdiag::decode {

namespace {

constexpr std::uint32_t kMaxDatagram = 65535;

}  // namespace

FragmentTable::FragmentTable(const Limits& limits) noexcept : limits_(limits) {}

void FragmentTable::erase_at(std::size_t i, bool count_evicted) {
  Datagram& d = *datagrams_[i];
  held_ -= d.held();
  if (count_evicted && !d.dead) ++evicted_;
  if (i + 1 != datagrams_.size()) datagrams_[i] = std::move(datagrams_.back());
  datagrams_.pop_back();
}

void FragmentTable::expire(std::int64_t now) {
  if (limits_.ip_frag_timeout_ns <= 0) return;
  const auto timeout = static_cast<std::uint64_t>(limits_.ip_frag_timeout_ns);
  for (std::size_t i = 0; i < datagrams_.size();) {
    const std::int64_t first = datagrams_[i]->first_ts;
    // Unsigned subtraction is exact here because now > first.
    if (now > first &&
        static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(first) > timeout) {
      erase_at(i, true);
    } else {
      ++i;
    }
  }
}

bool FragmentTable::evict_oldest_except(const Datagram* keep) {
  std::size_t victim = datagrams_.size();
  for (std::size_t i = 0; i < datagrams_.size(); ++i) {
    if (datagrams_[i].get() == keep) continue;
    if (victim == datagrams_.size() || datagrams_[i]->serial < datagrams_[victim]->serial) {
      victim = i;
    }
  }
  if (victim == datagrams_.size()) return false;
  erase_at(victim, true);
  return true;
}

void FragmentTable::kill(Datagram& d) {
  held_ -= d.held();
  d.dead = true;
  std::vector<Piece>().swap(d.pieces);
  std::vector<std::uint8_t>().swap(d.store);
}

// Makes `extra` more bytes of capacity available to `d`, evicting other datagrams oldest first.
bool FragmentTable::make_room(const Datagram& d, std::size_t extra) {
  while (extra > limits_.ip_frag_bytes || held_ > limits_.ip_frag_bytes - extra) {
    if (!evict_oldest_except(&d)) return false;
  }
  return true;
}

FragmentResult FragmentTable::finish(std::size_t i) {
  Datagram& d = *datagrams_[i];
  if (assembled_.size() < d.total) assembled_.resize(d.total);
  for (const Piece& p : d.pieces) {
    std::memcpy(assembled_.data() + p.offset, d.store.data() + p.pos, p.len);
  }
  assembled_size_ = d.total;
  assembled_next_ = d.next_header;
  erase_at(i, false);
  return FragmentResult::complete;
}

FragmentResult FragmentTable::add(const Fragment& f) {
  expire(f.ts_ns);

  std::size_t idx = datagrams_.size();
  for (std::size_t i = 0; i < datagrams_.size(); ++i) {
    if (datagrams_[i]->key == f.key) {
      idx = i;
      break;
    }
  }
  if (idx == datagrams_.size()) {
    if (limits_.ip_frag_datagrams == 0) return FragmentResult::dropped;
    while (datagrams_.size() >= limits_.ip_frag_datagrams) (void)evict_oldest_except(nullptr);
    auto fresh = std::make_unique<Datagram>();
    fresh->key = f.key;
    fresh->serial = next_serial_++;
    fresh->first_ts = f.ts_ns;
    datagrams_.push_back(std::move(fresh));
    idx = datagrams_.size() - 1;
  }
  Datagram& d = *datagrams_[idx];
  if (d.dead) return FragmentResult::dropped;

  const std::size_t n = f.data.size();
  // A fragment past 65535, or a non-last one that is not a multiple of 8 bytes, is invalid.
  if (n > kMaxDatagram || f.offset > kMaxDatagram - n || (f.more && n % 8 != 0)) {
    kill(d);
    return FragmentResult::dropped;
  }
  const auto off = f.offset;
  const auto end = static_cast<std::uint32_t>(off + n);

  if (!f.more) {
    if (d.total_known && d.total != end) {
      kill(d);
      return FragmentResult::dropped;
    }
    if (!d.total_known) {
      for (const Piece& p : d.pieces) {
        if (p.offset + p.len > end) {
          kill(d);
          return FragmentResult::dropped;
        }
      }
      d.total = end;
      d.total_known = true;
    }
  } else if (d.total_known && end > d.total) {
    kill(d);
    return FragmentResult::dropped;
  }

  // Overlaps must agree byte for byte; note how far existing pieces already cover [off, end).
  std::uint32_t covered = off;
  std::size_t insert_at = d.pieces.size();
  for (std::size_t i = 0; i < d.pieces.size(); ++i) {
    const Piece& p = d.pieces[i];
    const std::uint32_t p_end = p.offset + p.len;
    if (insert_at == d.pieces.size() && p.offset > off) insert_at = i;
    if (p.offset < end && p_end > off) {
      const std::uint32_t lo = std::max(off, p.offset);
      const std::uint32_t hi = std::min(end, p_end);
      if (hi > lo && std::memcmp(f.data.data() + (lo - off),
                                 d.store.data() + p.pos + (lo - p.offset), hi - lo) != 0) {
        kill(d);
        return FragmentResult::dropped;
      }
    }
    if (p.offset <= covered && p_end > covered) covered = p_end;
  }

  if (n > 0 && covered < end) {
    const std::size_t old_held = d.held();
    std::size_t store_cap = d.store.capacity();
    std::size_t piece_cap = d.pieces.capacity();
    const std::size_t store_need = d.store.size() + n;
    const std::size_t piece_need = d.pieces.size() + 1;
    if (store_need > store_cap) store_cap = std::max(store_need, store_cap * 2);
    if (piece_need > piece_cap) piece_cap = std::max<std::size_t>(piece_need, piece_cap * 2);
    std::size_t want = store_cap + piece_cap * sizeof(Piece);
    if (want > old_held && !make_room(d, want - old_held)) {
      // Try again without growth headroom.
      store_cap = std::max(store_need, d.store.capacity());
      piece_cap = std::max(piece_need, d.pieces.capacity());
      want = store_cap + piece_cap * sizeof(Piece);
      if (want > old_held && !make_room(d, want - old_held)) {
        kill(d);
        return FragmentResult::dropped;
      }
    }
    d.store.reserve(store_cap);
    d.pieces.reserve(piece_cap);
    const auto pos = static_cast<std::uint32_t>(d.store.size());
    d.store.insert(d.store.end(), f.data.begin(), f.data.end());
    d.pieces.insert(d.pieces.begin() + static_cast<std::ptrdiff_t>(insert_at),
                    Piece{off, static_cast<std::uint32_t>(n), pos});
    held_ = held_ - old_held + d.held();
  }
  if (off == 0 && n > 0) d.next_header = f.next_header;

  if (!d.total_known) return FragmentResult::pending;
  std::uint32_t cursor = 0;
  for (const Piece& p : d.pieces) {
    if (p.offset > cursor) break;
    cursor = std::max(cursor, p.offset + p.len);
  }
  if (cursor < d.total) return FragmentResult::pending;
  // idx may have moved if make_room evicted others; find d again.
  for (std::size_t i = 0; i < datagrams_.size(); ++i) {
    if (datagrams_[i].get() == &d) return finish(i);
  }
  return FragmentResult::pending;  // unreachable: d is never evicted while being filled
}

}  // namespace wsdiag::decode
