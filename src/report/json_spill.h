// wsdiag — where the JSON document's connection objects wait for the final write (report/
// internal; JsonDocument in report.h uses it).
//
// A SpillStore is an append-only run of bytes: kept in memory while it stays within its budget,
// then moved to an unlinked temporary file and written there through a 1 MiB buffer. The final
// write copies ranges out of it: from memory with fwrite, from the file by the kernel
// (copy_file_range, else sendfile) so the bytes are not read back into the process, or, when the
// output is not a file descriptor or a range must be edited first, through a 1 MiB read buffer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace wsdiag::report {

class SpillStore {
 public:
  explicit SpillStore(std::size_t memory_budget) noexcept : budget_(memory_budget) {}
  ~SpillStore();
  SpillStore(const SpillStore&) = delete;
  SpillStore& operator=(const SpillStore&) = delete;

  /// Appends `text`; false if the temporary file could not be made or written.
  bool append(std::string_view text);
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] bool spilled() const noexcept { return fd_ >= 0; }

  /// Copies [off, off + len) to `out` (everything before it already written). False on a read
  /// or write error.
  bool copy_to(std::FILE* out, std::uint64_t off, std::uint64_t len);
  /// The bytes [off, off + len), valid until the next call. Sequential reads cost one pread per
  /// MiB. Empty on a read error.
  std::string_view read(std::uint64_t off, std::size_t len);

 private:
  bool flush_buffer();

  std::size_t budget_;
  int fd_ = -1;
  std::string mem_;             ///< all the bytes while in memory; the write buffer once spilled
  std::uint64_t size_ = 0;      ///< bytes appended
  std::uint64_t on_disk_ = 0;   ///< bytes in the file (the rest is in mem_)
  std::string rbuf_;            ///< read buffer
  std::uint64_t rbuf_off_ = 0;  ///< file offset of rbuf_[0]
};

}  // namespace wsdiag::report
