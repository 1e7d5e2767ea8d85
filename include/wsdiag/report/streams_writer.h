// wsdiag — `--streams DIR`: each reassembled TCP direction written to a file, with DIR/index.tsv
// (CLI.md). This is the public proof of the reassembly: byte for byte what tshark's
// `follow,tcp,raw` shows, gaps left out and counted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wsdiag/flow/flow_table.h"

namespace wsdiag::report {

class StreamsWriter : public flow::ConnectionObserver {
 public:
  /// Creates DIR if needed. Throws std::runtime_error (one line) if it cannot.
  explicit StreamsWriter(std::filesystem::path dir);
  std::unique_ptr<reassembly::StreamSink> on_open(flow::Connection& c) override;
  void on_close(flow::Connection& c) override;
  /// Renames every connection's endpoints in the index (--anonymize: Redactor::endpoint).
  void rename_endpoints(const std::function<std::string(const std::string&)>& name);
  /// Writes DIR/index.tsv (connections in id order). Throws std::runtime_error on I/O failure.
  void write_index();
  /// First write error, if any ("" if none).
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

  struct Row {
    std::uint64_t id = 0;
    std::string client, server;
    std::uint64_t bytes[2] = {0, 0};
    std::uint64_t gaps = 0;
    std::uint64_t gap_bytes[2] = {0, 0};
  };

 private:
  class Sink;
  std::filesystem::path dir_;
  std::vector<Row> rows_;
  std::string error_;
};

}  // namespace wsdiag::report
