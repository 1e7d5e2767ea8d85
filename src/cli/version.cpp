// wsdiag — the `--version` text (version.h). Versions are the ones running (run-time calls) except
// ISA-L's, which has no run-time query: its header's version at build time.
#include "wsdiag/cli/version.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <zlib.h>

#if defined(WSDIAG_HAVE_ISAL)
#include <isa-l.h>
#endif

#include "wsdiag/ws/inflater.h"

#ifndef WSDIAG_VERSION
#define WSDIAG_VERSION "unknown"
#endif

namespace wsdiag::cli {

std::string version_text() {
  std::string inflate = ws::Inflater::backend();
#if defined(WSDIAG_HAVE_ISAL)
  inflate += fmt::format(" {}.{}.{} (built with)", ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
#else
  inflate += fmt::format(" {}", zlibVersion());
#endif
  return fmt::format("wsdiag {}\n  libpcap: {}\n  inflate: {}\n  zlib: {}\n  OpenSSL: {}", WSDIAG_VERSION,
                     pcap_lib_version(), inflate, zlibVersion(), OpenSSL_version(OPENSSL_VERSION));
}

}  // namespace wsdiag::cli
