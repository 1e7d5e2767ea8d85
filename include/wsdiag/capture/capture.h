// wsdiag — capture layer: libpcap offline reading (pcap and pcapng, micro- and nanosecond
// timestamps, a file or standard input). Live capture sits beside it behind the same next().
//
// A PacketRecord's bytes are owned by libpcap and valid only until the next call to next():
// anything kept longer must be copied (only the reassembler does so, for out-of-order bytes).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "wsdiag/common/byte_reader.h"

struct pcap;

namespace wsdiag::capture {

enum class Compression : std::uint8_t;
struct CompressedStream;

struct PacketRecord {
  std::uint64_t index = 0;  ///< 1-based record number, continuing across files in one run
  std::int64_t ts_ns = 0;   ///< nanoseconds since the Unix epoch
  std::uint32_t caplen = 0;
  std::uint32_t wire_len = 0;
  int linktype = 0;
  Bytes bytes;
};

/// Opening failed: the message is one line, fit for "wsdiag: FILE: message".
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ReadStatus {
  packet,     ///< a record was read
  end,        ///< clean end of file
  truncated,  ///< the file ends in the middle of a record: warning, what was read stands
  error,      ///< a corrupt record (e.g. an impossible length): error, stop reading this file
};

class OfflineCapture {
 public:
  /// Opens a pcap or pcapng file ("-" = standard input). Throws CaptureError on failure.
  explicit OfflineCapture(const std::string& path);
  ~OfflineCapture();
  OfflineCapture(const OfflineCapture&) = delete;
  OfflineCapture& operator=(const OfflineCapture&) = delete;

  /// Applies a BPF filter compiled by libpcap. Throws CaptureError if it does not compile.
  void set_filter(const std::string& expr);

  /// Reads the next record; `next_index` is the number to give it (the caller's running count).
  ReadStatus next(PacketRecord& out, std::uint64_t next_index);

  [[nodiscard]] int linktype() const noexcept { return linktype_; }
  [[nodiscard]] std::string linktype_name() const;
  [[nodiscard]] int snaplen() const noexcept;
  /// Bytes of the file read so far and its size (0 if unknown, e.g. a pipe): for progress display.
  [[nodiscard]] std::int64_t position() const noexcept;
  [[nodiscard]] std::int64_t size() const noexcept { return size_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Text of the last truncated/error status.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  /// Records whose timestamp lay beyond ±kMaxTimestampNs and was saturated (hostile or corrupt files).
  [[nodiscard]] std::uint64_t clamped_timestamps() const noexcept { return clamped_timestamps_; }

 private:
  void open_mapped(const std::string& path, char* errbuf);
  void release_behind() noexcept;
  void open_compressed(const std::string& path, Compression c, char* errbuf);

  std::string path_;
  pcap* handle_ = nullptr;
  int linktype_ = 0;
  std::int64_t size_ = 0;
  std::string error_;
  void* map_ = nullptr;  ///< a regular file's read-only mapping (see offline.cpp)
  std::size_t map_len_ = 0;
  std::size_t released_ = 0;  ///< bytes at the start of the mapping already given back
  std::uint64_t reads_ = 0;
  CompressedStream* packed_ = nullptr;  ///< a .gz/.zst capture's decoder, owned by libpcap's FILE (decompress.h)
  std::uint64_t clamped_timestamps_ = 0;
};

/// Name of a DLT value as libpcap knows it ("EN10MB"), or "DLT_<n>".
std::string linktype_name(int dlt);

}  // namespace wsdiag::capture
