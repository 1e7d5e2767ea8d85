// wsdiag — TLS records held back until their secret is logged. See held_records.h.
#include "wsdiag/tls/held_records.h"

#include <algorithm>
#include <cstring>

namespace wsdiag::tls {

bool HeldRecords::push(Dir d, const RecordHeader& h, Bytes body, PacketRef at) {
  if (size() + 1 > max_records_ || bytes() + body.size() > max_bytes_) return false;
  if (head_ != 0) {
    // Records were taken from the front while others stay: move the rest to the start, so the
    // buffer never holds more than the budget (rare: only while keys arrive).
    const std::size_t dead = items_[head_].off;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(dead));
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    for (auto& it : items_) it.off -= dead;
    head_ = 0;
  }
  const std::size_t need = buf_.size() + body.size();
  if (need > buf_.capacity()) buf_.reserve(std::min(max_bytes_, std::max(need, 2 * buf_.capacity())));
  if (items_.empty()) items_.reserve(std::min<std::size_t>(max_records_, 8));
  items_.push_back(Item{d, h, buf_.size(), at});
  buf_.insert(buf_.end(), body.begin(), body.end());
  ++per_dir_[static_cast<int>(d)];
  return true;
}

HeldRecords::Record HeldRecords::front() const noexcept {
  const Item& it = items_[head_];
  const std::size_t end = head_ + 1 < items_.size() ? items_[head_ + 1].off : buf_.size();
  return Record{it.dir, it.header, Bytes(buf_.data() + it.off, end - it.off), it.at};
}

void HeldRecords::pop_front() noexcept {
  if (empty()) return;
  --per_dir_[static_cast<int>(items_[head_].dir)];
  ++head_;
  if (empty()) clear();
}

void HeldRecords::clear() noexcept {
  buf_ = std::vector<std::uint8_t>();
  items_ = std::vector<Item>();
  head_ = 0;
  per_dir_[0] = per_dir_[1] = 0;
}

}  // namespace wsdiag::tls
