// wsdiag — the JSON document's spill store (json_spill.h).
#include "json_spill.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace wsdiag::report {

namespace {
constexpr std::size_t kChunk = 1 << 20;  // write buffer, read buffer, largest kernel copy per call

bool write_all(int fd, const char* p, std::size_t n) {
  while (n != 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}
}  // namespace

SpillStore::~SpillStore() {
  if (fd_ >= 0) ::close(fd_);
}

bool SpillStore::flush_buffer() {
  if (fd_ < 0 || mem_.empty()) return true;
  if (!write_all(fd_, mem_.data(), mem_.size())) return false;
  on_disk_ += mem_.size();
  mem_.clear();
  return true;
}

bool SpillStore::append(std::string_view text) {
  if (fd_ < 0 && mem_.size() + text.size() > budget_) {
    // Over the budget: from now on the bytes live in an unlinked temporary file.
    std::FILE* f = std::tmpfile();
    if (f == nullptr) return false;
    fd_ = ::dup(::fileno(f));
    std::fclose(f);
    if (fd_ < 0) return false;
    if (!flush_buffer()) return false;
    std::string().swap(mem_);  // the budget's worth of memory goes back
    mem_.reserve(kChunk);
  }
  if (fd_ >= 0 && mem_.size() + text.size() > kChunk) {
    if (!flush_buffer()) return false;
    if (text.size() >= kChunk) {  // bigger than the buffer: straight to the file
      if (!write_all(fd_, text.data(), text.size())) return false;
      on_disk_ += text.size();
      size_ += text.size();
      return true;
    }
  }
  mem_.append(text);
  size_ += text.size();
  return true;
}

std::string_view SpillStore::read(std::uint64_t off, std::size_t len) {
  if (off + len > size_) return {};
  if (fd_ < 0) return std::string_view(mem_).substr(static_cast<std::size_t>(off), len);
  if (!flush_buffer()) return {};
  if (off < rbuf_off_ || off + len > rbuf_off_ + rbuf_.size()) {
    // Reading on from the buffer: a MiB ahead. Elsewhere (an object stored out of order): a
    // little, so scattered reads do not each cost a MiB.
    const bool sequential = !rbuf_.empty() && off >= rbuf_off_ && off <= rbuf_off_ + rbuf_.size();
    rbuf_.resize(std::max(sequential ? kChunk : std::size_t{16 * 1024}, len));
    std::size_t got = 0;
    while (got < len) {
      const ssize_t r = ::pread(fd_, rbuf_.data() + got, rbuf_.size() - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        rbuf_.clear();
        return {};
      }
      got += static_cast<std::size_t>(r);
    }
    rbuf_.resize(got);
    rbuf_off_ = off;
  }
  return std::string_view(rbuf_).substr(static_cast<std::size_t>(off - rbuf_off_), len);
}

bool SpillStore::copy_to(std::FILE* out, std::uint64_t off, std::uint64_t len) {
  if (off + len > size_) return false;
  if (fd_ < 0) {
    return std::fwrite(mem_.data() + off, 1, static_cast<std::size_t>(len), out) == len;
  }
  if (!flush_buffer()) return false;
  const int out_fd = ::fileno(out);
  if (len >= 64 * 1024 && out_fd >= 0 && std::fflush(out) == 0) {
    // In the kernel, page cache to page cache: the 3 GB of a million connections are not read
    // back into the process. copy_file_range needs a regular file opened without O_APPEND;
    // sendfile takes any output; whichever is refused leaves the rest to the read loop below.
    bool cfr = true;
    while (len != 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, 64 * kChunk));
      auto in_off = static_cast<off_t>(off);
      ssize_t w = -1;
      if (cfr) {
        w = ::copy_file_range(fd_, &in_off, out_fd, nullptr, n, 0);
        if (w <= 0) {
          if (w < 0 && errno == EINTR) continue;
          cfr = false;
          in_off = static_cast<off_t>(off);
        }
      }
      if (!cfr) w = ::sendfile(out_fd, fd_, &in_off, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += static_cast<std::uint64_t>(w);
      len -= static_cast<std::uint64_t>(w);
    }
  }
  while (len != 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, kChunk));
    const std::string_view s = read(off, n);
    if (s.size() != n || std::fwrite(s.data(), 1, n, out) != n) return false;
    off += n;
    len -= n;
  }
  return true;
}

}  // namespace wsdiag::report
