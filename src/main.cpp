#include "wsdiag/cli/cli.h"

int main(int argc, char** argv) { return wsdiag::cli::run(argc, argv); }
