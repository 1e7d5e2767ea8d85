#include "wsdiag/cli/cli.h"

#include <fmt/core.h>

namespace wsdiag::cli {

int run(int /*argc*/, char** /*argv*/) {
  fmt::print("wsdiag {}\n", WSDIAG_VERSION);
  return kExitOk;
}

}  // namespace wsdiag::cli
