// wsdiag — command line (CLI.md): options, modes, exit codes, error lines.
#include "wsdiag/cli/cli.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "wsdiag/cli/pipeline.h"
#include "wsdiag/report/streams_writer.h"

namespace wsdiag::cli {

namespace {

struct Options {
  std::vector<std::string> files;
  std::string filter;
  std::string streams_dir;
  std::string output;
};

void error_line(const std::string& file, const std::string& msg) {
  fmt::print(stderr, "wsdiag: {}: {}\n", file, msg);
}

// Runs every file through one pipeline; returns the exit status for input problems.
int run_files(const Options& opt, flow::ConnectionObserver& observer, Pipeline& pipe,
              std::vector<CaptureInfo>& infos) {
  int status = kExitOk;
  for (const auto& file : opt.files) {
    CaptureInfo info;
    if (!pipe.run_file(file, opt.filter, info)) {
      error_line(file, info.error);
      status = kExitError;
    } else if (!info.warning.empty()) {
      error_line(file, "warning: " + info.warning);
    }
    infos.push_back(std::move(info));
  }
  pipe.finish();
  (void)observer;
  return status;
}

// Until the WebSocket report exists: one line per TCP connection.
class ConnList : public flow::ConnectionObserver {
 public:
  explicit ConnList(std::FILE* out) : out_(out) {}
  std::unique_ptr<reassembly::StreamSink> on_open(flow::Connection&) override { return nullptr; }
  void on_close(flow::Connection& c) override {
    const auto& a = c.stream(Dir::c2s).stats();
    const auto& b = c.stream(Dir::s2c).stats();
    fmt::print(out_, "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", c.id(), c.client().to_string(),
               c.server().to_string(), c.history(), c.packets(), a.bytes_delivered,
               b.bytes_delivered, reassembly::to_string(c.end_reason()));
  }

 private:
  std::FILE* out_;
};

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"wsdiag: tells you why your WebSocket connections die, from a packet capture"};
  app.set_version_flag("-V,--version", std::string("wsdiag ") + WSDIAG_VERSION);
  Options opt;
  std::vector<std::string> read_files;
  app.add_option("files", opt.files, "pcap or pcapng capture files (\"-\" reads standard input)");
  app.add_option("-r,--read", read_files, "a capture file to read (tcpdump style; may repeat)");
  app.add_option("-f,--filter", opt.filter, "BPF filter expression (libpcap syntax)");
  app.add_option("--streams", opt.streams_dir,
                 "write each reassembled TCP direction to DIR, with DIR/index.tsv");
  app.add_option("-o,--output", opt.output, "write the report to FILE instead of standard output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "wsdiag: {}\nTry 'wsdiag --help'.\n", e.what());
    return kExitError;
  }
  opt.files.insert(opt.files.end(), read_files.begin(), read_files.end());
  if (opt.files.empty()) {
    fmt::print(stderr, "wsdiag: no capture file given\nTry 'wsdiag --help'.\n");
    return kExitError;
  }

  Limits limits;
  std::vector<CaptureInfo> infos;
  if (!opt.streams_dir.empty()) {
    std::unique_ptr<report::StreamsWriter> writer;
    try {
      writer = std::make_unique<report::StreamsWriter>(opt.streams_dir);
    } catch (const std::exception& e) {
      error_line(opt.streams_dir, e.what());
      return kExitError;
    }
    Pipeline pipe(limits, *writer);
    int status = run_files(opt, *writer, pipe, infos);
    try {
      writer->write_index();
    } catch (const std::exception& e) {
      error_line(opt.streams_dir, e.what());
      status = kExitError;
    }
    return status;
  }

  std::FILE* out = stdout;
  if (!opt.output.empty()) {
    out = std::fopen(opt.output.c_str(), "w");
    if (out == nullptr) {
      error_line(opt.output, "cannot open for writing");
      return kExitError;
    }
  }
  ConnList list(out);
  Pipeline pipe(limits, list);
  const int status = run_files(opt, list, pipe, infos);
  if (out != stdout) std::fclose(out);
  return status;
}

}  // namespace wsdiag::cli
