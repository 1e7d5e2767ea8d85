// wsdiag — the `--version` text: wsdiag's version and the libraries doing the work (issue #13 §4).
#pragma once

#include <string>

namespace wsdiag::cli {

/// "wsdiag 0.1.0" then one line per library: libpcap, the inflate backend, zlib, OpenSSL.
std::string version_text();

}  // namespace wsdiag::cli
