#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "wsdiag/capture/capture.h"

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

}  // namespace

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
    if (S_ISREG(st.st_mode)) size_ = static_cast<std::int64_t>(st.st_size);
    handle_ = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO,
                                                      errbuf);
    if (handle_ == nullptr) throw CaptureError(explain_open_error(path, errbuf));
  }
  linktype_ = pcap_datalink(handle_);
}

OfflineCapture::~OfflineCapture() {
  if (handle_ != nullptr) pcap_close(handle_);
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
  std::FILE* f = pcap_file(handle_);
  if (f == nullptr) return 0;
  const auto pos = ftello(f);
  return pos < 0 ? 0 : static_cast<std::int64_t>(pos);
}

ReadStatus OfflineCapture::next(PacketRecord& out, std::uint64_t next_index) {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_, &hdr, &data);
  if (rc == 1) {
    out.index = next_index;
    // Nanosecond precision was requested at open, so tv_usec holds nanoseconds.
    out.ts_ns = static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000'000 +
                static_cast<std::int64_t>(hdr->ts.tv_usec);
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
