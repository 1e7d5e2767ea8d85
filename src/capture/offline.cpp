#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>

#include "wsdiag/capture/capture.h"
#include "decompress.h"
#include "wsdiag/common/types.h"

namespace wsdiag::capture {

namespace {

// libpcap's messages are good but sometimes long or technical; give the common cases one clear line.
std::string explain_open_error(const std::string& path, std::string_view pcap_msg) {
  if (pcap_msg.find("unknown file format") != std::string_view::npos) {
    return "not a pcap or pcapng capture (unknown file format)";
  }
  if (pcap_msg.find("truncated dump file") != std::string_view::npos ||
      pcap_msg.find("only got 0") != std::string_view::npos) {
    return "file too short to be a capture (truncated header)";
  }
  (void)path;
  return std::string(pcap_msg);
}

// A regular file is read through a read-only memory map handed to libpcap as a stdio stream
// (fmemopen): libpcap still parses every record, but the bytes come straight from the page cache
// instead of through read() — about 40% less time spent reading a 400 MB capture (scripts/bench).
// If another process truncates the file while it is mapped, touching the lost pages raises SIGBUS:
// that one case ends the run with a one-line error instead of a crash.
// The name the handler prints: a pointer to a string that is never freed or changed once
// published (read in the handler without a lock, so it must be an atomic pointer, not a buffer
// that another thread may be rewriting). Only the first thread to fault writes the line.
std::atomic<const char*> g_mapped_name{"capture file"};
std::atomic_flag g_sigbus_seen = ATOMIC_FLAG_INIT;

void on_sigbus(int /*sig*/) {
  if (g_sigbus_seen.test_and_set()) {
    for (;;) pause();  // another thread is writing the line and ending the process
  }
  constexpr char kHead[] = "wsdiag: ";
  constexpr char kTail[] = ": the file shrank while it was being read (truncated by another program?)\n";
  const char* name = g_mapped_name.load();
  ssize_t ignored = write(STDERR_FILENO, kHead, sizeof kHead - 1);
  ignored = write(STDERR_FILENO, name, strnlen(name, 4096));
  ignored = write(STDERR_FILENO, kTail, sizeof kTail - 1);
  (void)ignored;
  _exit(2);
}

void note_mapped(const std::string& path) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction sa {};
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, nullptr);
  });
  // Several threads may open captures (cli's run_sharded). Each name is kept for the whole run
  // (one per capture file given), so a published pointer stays valid.
  static std::mutex naming;
  static std::set<std::string> names;
  const std::lock_guard<std::mutex> lock(naming);
  g_mapped_name.store(names.insert(path).first->c_str());
}

}  // namespace

void OfflineCapture::open_compressed(const std::string& path, Compression c, char* errbuf) {
  std::string err;
  CompressedStream* stream = nullptr;
  std::FILE* f = open_decompressed(path, c, stream, err);
  if (f == nullptr) throw CaptureError(err);
  handle_ = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle_ == nullptr) {
    std::fclose(f);  // frees the stream too
    throw CaptureError(std::string(to_string(c)) + "-compressed, but inside: " + explain_open_error(path, errbuf));
  }
  packed_ = stream;
}

std::string linktype_name(int dlt) {
  const char* name = pcap_datalink_val_to_name(dlt);
  if (name != nullptr) return name;
  return "DLT_" + std::to_string(dlt);
}

OfflineCapture::OfflineCapture(const std::string& path) : path_(path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  if (path == "-") {
    handle_ = pcap_fopen_offline_with_tstamp_precision(stdin, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (handle_ == nullptr) {
      throw CaptureError(explain_open_error(path, errbuf));
    }
  } else {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      throw CaptureError(std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) throw CaptureError("is a directory, not a capture file");
    if (S_ISREG(st.st_mode) && st.st_size == 0) throw CaptureError("empty file, not a capture");
    if (S_ISREG(st.st_mode)) {
      size_ = static_cast<std::int64_t>(st.st_size);
      if (const Compression c = sniff_compression(path); c != Compression::none) {
        open_compressed(path, c, errbuf);
      } else {
        open_mapped(path, errbuf);
      }
    }
    if (handle_ == nullptr && errbuf[0] == '\0') {
      handle_ = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    }
    if (handle_ == nullptr) throw CaptureError(explain_open_error(path, errbuf));
  }
  linktype_ = pcap_datalink(handle_);
}

void OfflineCapture::open_mapped(const std::string& path, char* errbuf) {
  // Any failure before libpcap sees the stream leaves errbuf empty: the caller then opens the
  // file the ordinary way.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    return;
  }
  const auto len = static_cast<std::size_t>(st.st_size);
  void* map = mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return;
  madvise(map, len, MADV_SEQUENTIAL);
  std::FILE* f = fmemopen(map, len, "r");
  if (f == nullptr) {
    munmap(map, len);
    return;
  }
  note_mapped(path);
  handle_ = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle_ == nullptr) {
    std::fclose(f);
    munmap(map, len);
    return;
  }
  map_ = map;
  map_len_ = len;
  size_ = static_cast<std::int64_t>(len);
}

void OfflineCapture::release_behind() noexcept {
  // libpcap copies each record out of the stream: the pages behind the read position are not
  // needed again. Unmapping them (they stay in the page cache) keeps the process's resident size
  // independent of the file's size.
  constexpr std::size_t kStep = 1u << 20;  // 1 MiB, a multiple of any page size
  std::FILE* f = pcap_file(handle_);
  if (f == nullptr) return;
  const auto pos = ftello(f);
  if (pos <= 0) return;
  const std::size_t upto = static_cast<std::size_t>(pos) / kStep * kStep;
  if (upto <= released_) return;
  madvise(static_cast<char*>(map_) + released_, upto - released_, MADV_DONTNEED);
  released_ = upto;
}

OfflineCapture::~OfflineCapture() {
  if (handle_ != nullptr) pcap_close(handle_);  // closes the stream too
  if (map_ != nullptr) munmap(map_, map_len_);
}

void OfflineCapture::set_filter(const std::string& expr) {
  bpf_program prog{};
  if (pcap_compile(handle_, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    throw CaptureError(std::string("bad filter '") + expr + "': " + pcap_geterr(handle_));
  }
  const int rc = pcap_setfilter(handle_, &prog);
  pcap_freecode(&prog);
  if (rc != 0) throw CaptureError(std::string("cannot set filter: ") + pcap_geterr(handle_));
}

std::string OfflineCapture::linktype_name() const { return capture::linktype_name(linktype_); }

int OfflineCapture::snaplen() const noexcept { return pcap_snapshot(handle_); }

std::int64_t OfflineCapture::position() const noexcept {
  if (packed_ != nullptr) return compressed_offset(packed_);  // compressed bytes, against the file's size
  std::FILE* f = pcap_file(handle_);
  if (f == nullptr) return 0;
  const auto pos = ftello(f);
  return pos < 0 ? 0 : static_cast<std::int64_t>(pos);
}

ReadStatus OfflineCapture::next(PacketRecord& out, std::uint64_t next_index) {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_, &hdr, &data);
  if (map_ != nullptr && (++reads_ & 1023) == 0) release_behind();
  if (rc == 1) {
    out.index = next_index;
    // Nanosecond precision was requested at open, so tv_usec holds nanoseconds.
    bool clamped = false;
    out.ts_ns = timestamp_ns(static_cast<std::int64_t>(hdr->ts.tv_sec), static_cast<std::int64_t>(hdr->ts.tv_usec),
                             clamped);
    if (clamped) ++clamped_timestamps_;
    out.caplen = hdr->caplen;
    out.wire_len = hdr->len;
    out.linktype = linktype_;
    out.bytes = Bytes(data, hdr->caplen);
    return ReadStatus::packet;
  }
  if (rc == PCAP_ERROR_BREAK) return ReadStatus::end;
  error_ = pcap_geterr(handle_);
  // libpcap reports a record cut off by the end of the file as "truncated dump file" (pcap) or
  // "truncated pcapng dump file"; anything else (bad block, impossible length) is corruption.
  if (error_.find("truncated") != std::string::npos) {
    return ReadStatus::truncated;
  }
  return ReadStatus::error;
}

}  // namespace wsdiag::capture
