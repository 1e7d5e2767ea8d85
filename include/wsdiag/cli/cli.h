// wsdiag — command line: options, modes, exit codes, error lines (CLI.md).
#pragma once

namespace wsdiag::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailOn = 1;
inline constexpr int kExitError = 2;

/// Runs wsdiag with the given arguments; returns the process exit status.
int run(int argc, char** argv);

}  // namespace wsdiag::cli
