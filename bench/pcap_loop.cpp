// wsdiag_pcap_loop: the bare libpcap read loop scripts/bench compares wsdiag with.
// pcap_open_offline + pcap_next_ex over the whole file, counting records and captured bytes;
// nothing is decoded. Prints "packets N bytes B wire_bytes W".
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: wsdiag_pcap_loop FILE\n");
    return 2;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(argv[1], errbuf);
  if (p == nullptr) {
    std::fprintf(stderr, "wsdiag_pcap_loop: %s: %s\n", argv[1], errbuf);
    return 2;
  }
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t wire_bytes = 0;
  std::uint64_t checksum = 0;  // touch the bytes, as any analyser must
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
    ++packets;
    bytes += hdr->caplen;
    wire_bytes += hdr->len;
    if (hdr->caplen > 0) checksum += data[hdr->caplen - 1];
  }
  if (rc == PCAP_ERROR) {
    std::fprintf(stderr, "wsdiag_pcap_loop: %s: %s\n", argv[1], pcap_geterr(p));
    pcap_close(p);
    return 2;
  }
  pcap_close(p);
  std::printf("packets %llu bytes %llu wire_bytes %llu (check %llu)\n",
              static_cast<unsigned long long>(packets), static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(wire_bytes),
              static_cast<unsigned long long>(checksum & 0xff));
  return 0;
}
