// wsdiag — TLS records held back until their secret is logged (live mode), one connection.
//
// Design note. A client logs a traffic secret only after it has used it (TLS 1.3: its handshake
// secrets after reading the ServerHello, its application secrets after the server's Finished), so
// in live mode the records under a secret can reach wsdiag before the key log line does. Those
// records are copied here, in arrival order and both directions in one queue (the session above
// must see the two directions' plaintext in the order it was captured), and decrypted in that
// order once the key log has the secret. Bounded: at most Limits::tls_held_records records and
// Limits::tls_held_bytes body bytes per connection (one buffer, grown up to the byte budget and
// never past it, freed when the queue empties); push() refuses a record beyond either budget.
#pragma once

#include <cstdint>
#include <vector>

#include "wsdiag/common/types.h"
#include "wsdiag/tls/record.h"

namespace wsdiag::tls {

class HeldRecords {
 public:
  struct Record {
    Dir dir = Dir::c2s;
    RecordHeader header;
    Bytes body;  ///< valid until the next push(), pop_front() or clear()
    PacketRef at;
  };

  HeldRecords(std::size_t max_bytes, std::size_t max_records) noexcept
      : max_bytes_(max_bytes), max_records_(max_records) {}

  /// Copies the record in behind the others. False (nothing kept) when it would exceed a budget.
  bool push(Dir d, const RecordHeader& h, Bytes body, PacketRef at);
  [[nodiscard]] bool empty() const noexcept { return head_ == items_.size(); }
  /// Records held.
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
  /// Body bytes held.
  [[nodiscard]] std::size_t bytes() const noexcept { return buf_.size() - (empty() ? buf_.size() : items_[head_].off); }
  /// Records of this direction held.
  [[nodiscard]] std::size_t held(Dir d) const noexcept { return per_dir_[static_cast<int>(d)]; }
  /// The oldest record (the queue must not be empty).
  [[nodiscard]] Record front() const noexcept;
  void pop_front() noexcept;
  /// Drops every record and frees the buffer.
  void clear() noexcept;
  [[nodiscard]] std::size_t capacity() const noexcept { return buf_.capacity(); }

 private:
  struct Item {
    Dir dir;
    RecordHeader header;
    std::size_t off;
    PacketRef at;
  };
  std::size_t max_bytes_;
  std::size_t max_records_;
  std::vector<std::uint8_t> buf_;
  std::vector<Item> items_;
  std::size_t head_ = 0;  // items_ before it were taken
  std::size_t per_dir_[2] = {0, 0};
};

}  // namespace wsdiag::tls
