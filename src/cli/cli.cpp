// wsdiag — command line (CLI.md): parses the options and runs the mode they ask for.
//
// Errors read "wsdiag: FILE: problem" (one line, stderr). Exit status: 0 analysed; 1 a --fail-on
// condition matched; 2 bad usage, unreadable or unsupported input (a capture that ends mid-record
// is a warning: its packets are analysed and the status stays 0).
//   options.cpp  every option, --fail-on, checks across options
//   offline.cpp  capture files -> report (several threads), --frames, --streams
//   live.cpp     -i IFACE: each connection reported as it ends
//   output.cpp   error lines, -o, --color, the --frames printer (both modes)
#include "wsdiag/cli/cli.h"

#include <fmt/core.h>

#include "wsdiag/cli/live.h"
#include "wsdiag/cli/offline.h"
#include "wsdiag/cli/options.h"
#include "wsdiag/diag/rules.h"

namespace wsdiag::cli {

namespace {

int print_rules() {
  for (const auto& r : diag::all_rules()) {
    fmt::print("{:<28} {:<8} {:<26} {}\n", r.name, diag::to_string(r.severity), r.spec.empty() ? "-" : r.spec,
               r.title);
  }
  return kExitOk;
}

}  // namespace

int run(int argc, char** argv) {
  Options opt;
  if (const auto exit_now = parse_options(argc, argv, opt)) return *exit_now;
  if (opt.list_rules) return print_rules();
  if (opt.list_interfaces) return list_interfaces();
  if (opt.is_live()) return run_live(opt);
  return run_offline(opt);
}

}  // namespace wsdiag::cli
