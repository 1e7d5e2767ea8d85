// wsdiag — live capture through libpcap: pcap_create, options, pcap_activate (pcap(3PCAP)),
// pcap_next_ex with a read timeout, pcap_dump for -w, pcap_stats for drops.
#include "wsdiag/capture/live.h"
#include "wsdiag/common/types.h"

#include <pcap/pcap.h>
#include <poll.h>

#include <string_view>

namespace wsdiag::capture {

namespace {

std::string activate_problem(pcap_t* h, int rc) {
  std::string detail = pcap_geterr(h);
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return detail.empty() ? "no such interface (see wsdiag -D)" : detail + " (see wsdiag -D)";
    case PCAP_ERROR_PERM_DENIED:
      return detail.empty() ? "permission denied: capturing needs root or CAP_NET_RAW" : detail;
    case PCAP_ERROR_IFACE_NOT_UP:
      return "interface is not up";
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return "no permission to enable promiscuous mode (try -p)";
    default:
      return detail.empty() ? std::string(pcap_statustostr(rc)) : detail;
  }
}

}  // namespace

LiveCapture::LiveCapture(const LiveOptions& opt) : device_(opt.device) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  handle_ = pcap_create(device_.c_str(), errbuf);
  if (handle_ == nullptr) throw CaptureError(errbuf);
  pcap_set_snaplen(handle_, opt.snaplen);
  pcap_set_promisc(handle_, opt.promiscuous ? 1 : 0);
  pcap_set_timeout(handle_, opt.timeout_ms);
  if (opt.immediate) pcap_set_immediate_mode(handle_, 1);
  if (opt.buffer_kib > 0) pcap_set_buffer_size(handle_, opt.buffer_kib * 1024);
  nano_ = pcap_set_tstamp_precision(handle_, PCAP_TSTAMP_PRECISION_NANO) == 0;
  const int rc = pcap_activate(handle_);
  if (rc < 0) {
    std::string msg = activate_problem(handle_, rc);
    pcap_close(handle_);
    handle_ = nullptr;
    throw CaptureError(msg);
  }
  if (rc > 0) {
    const std::string detail = pcap_geterr(handle_);
    warning_ = detail.empty() ? std::string(pcap_statustostr(rc)) : detail;
  }
  linktype_ = pcap_datalink(handle_);
  // libpcap's read timeout does not make pcap_next_ex return on every platform (Linux with
  // immediate mode waits for a packet), so reads are non-blocking and next() polls the
  // selectable descriptor with the timeout itself.
  timeout_ms_ = opt.timeout_ms;
  if (pcap_setnonblock(handle_, 1, errbuf) != 0) {
    const std::string msg = errbuf;
    pcap_close(handle_);
    handle_ = nullptr;
    throw CaptureError("cannot set non-blocking mode: " + msg);
  }
  fd_ = pcap_get_selectable_fd(handle_);
  nano_ = pcap_get_tstamp_precision(handle_) == PCAP_TSTAMP_PRECISION_NANO;
}

LiveCapture::~LiveCapture() {
  if (dumper_ != nullptr) pcap_dump_close(dumper_);
  if (handle_ != nullptr) pcap_close(handle_);
}

void LiveCapture::set_filter(const std::string& expr) {
  bpf_program prog{};
  if (pcap_compile(handle_, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    throw CaptureError(std::string("bad filter '") + expr + "': " + pcap_geterr(handle_));
  }
  const int rc = pcap_setfilter(handle_, &prog);
  pcap_freecode(&prog);
  if (rc != 0) throw CaptureError(std::string("cannot set filter: ") + pcap_geterr(handle_));
}

void LiveCapture::open_dump(const std::string& path) {
  dumper_ = pcap_dump_open(handle_, path.c_str());
  if (dumper_ == nullptr) throw CaptureError(pcap_geterr(handle_));
}

bool LiveCapture::flush_dump() noexcept {
  if (dumper_ == nullptr) return true;
  return pcap_dump_flush(dumper_) == 0;
}

LiveStatus LiveCapture::next(PacketRecord& out, std::uint64_t next_index) {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(handle_, &hdr, &data);
  if (rc == 0) {
    // Nothing buffered: wait for the descriptor (a signal interrupts the wait), then try again.
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = poll(&pfd, fd_ >= 0 ? 1 : 0, timeout_ms_);
    if (ready <= 0) return LiveStatus::timeout;
    rc = pcap_next_ex(handle_, &hdr, &data);
  }
  if (rc == 1) {
    out.index = next_index;
    const auto frac = static_cast<std::int64_t>(hdr->ts.tv_usec);
    bool clamped = false;
    out.ts_ns = timestamp_ns(static_cast<std::int64_t>(hdr->ts.tv_sec), nano_ ? frac : frac * 1000, clamped);
    out.caplen = hdr->caplen;
    out.wire_len = hdr->len;
    out.linktype = linktype_;
    out.bytes = Bytes(data, hdr->caplen);
    if (dumper_ != nullptr) pcap_dump(reinterpret_cast<u_char*>(dumper_), hdr, data);
    return LiveStatus::packet;
  }
  if (rc == 0) return LiveStatus::timeout;
  if (rc == PCAP_ERROR_BREAK) return LiveStatus::stopped;
  error_ = pcap_geterr(handle_);
  return LiveStatus::error;
}

void LiveCapture::break_loop() noexcept { pcap_breakloop(handle_); }

LiveStats LiveCapture::stats() const noexcept {
  LiveStats s;
  pcap_stat ps{};
  if (pcap_stats(handle_, &ps) != 0) return s;
  s.valid = true;
  s.received = ps.ps_recv;
  s.dropped = ps.ps_drop;
  s.if_dropped = ps.ps_ifdrop;
  return s;
}

int LiveCapture::snaplen() const noexcept { return pcap_snapshot(handle_); }

std::vector<InterfaceInfo> list_interfaces() {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_if_t* all = nullptr;
  if (pcap_findalldevs(&all, errbuf) != 0) throw CaptureError(errbuf);
  std::vector<InterfaceInfo> out;
  for (const pcap_if_t* d = all; d != nullptr; d = d->next) {
    InterfaceInfo i;
    i.name = d->name;
    if (d->description != nullptr) i.description = d->description;
    i.up = (d->flags & PCAP_IF_UP) != 0;
    i.running = (d->flags & PCAP_IF_RUNNING) != 0;
    i.loopback = (d->flags & PCAP_IF_LOOPBACK) != 0;
    out.push_back(std::move(i));
  }
  pcap_freealldevs(all);
  return out;
}

}  // namespace wsdiag::capture
