// wsdiag — offline mode: capture files -> the Pipeline (on one or several threads) -> a report,
// the --frames TSV or the --streams directory.
#pragma once

#include "wsdiag/cli/options.h"

namespace wsdiag::cli {

/// Analyses opt.files and writes what the options ask for; returns the exit status.
int run_offline(const Options& opt);

}  // namespace wsdiag::cli
