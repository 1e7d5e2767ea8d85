#include "wsdiag/report/streams_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace wsdiag::report {

namespace {

std::string file_name(std::uint64_t id, Dir d) { return fmt::format("{}-{}.bin", id, to_string(d)); }

}  // namespace

// One per connection. Files are opened in append mode for each write and closed again, so the
// number of open descriptors does not grow with the number of open connections.
class StreamsWriter::Sink : public reassembly::StreamSink {
 public:
  Sink(StreamsWriter& w, std::uint64_t id) : w_(w), id_(id) {
    for (int i = 0; i < 2; ++i) path_[i] = w_.dir_ / file_name(id, static_cast<Dir>(i));
    for (auto& p : path_) append(p, {});  // create both files, even if a direction stays empty
  }
  void on_data(Dir d, Bytes bytes, PacketRef) override {
    append(path_[static_cast<int>(d)], bytes);
  }
  void on_gap(Dir, std::uint64_t, reassembly::GapReason, PacketRef) override {}
  void on_end(Dir, reassembly::EndReason, PacketRef) override {}

 private:
  void append(const std::filesystem::path& p, Bytes bytes) {
    std::FILE* f = std::fopen(p.c_str(), bytes.empty() ? "wb" : "ab");
    if (f == nullptr) {
      if (w_.error_.empty()) w_.error_ = fmt::format("cannot write {}: {}", p.string(), std::strerror(errno));
      return;
    }
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() &&
        w_.error_.empty()) {
      w_.error_ = fmt::format("cannot write {}: {}", p.string(), std::strerror(errno));
    }
    std::fclose(f);
  }
  StreamsWriter& w_;
  std::uint64_t id_;
  std::filesystem::path path_[2];
};

StreamsWriter::StreamsWriter(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (!std::filesystem::is_directory(dir_)) {
    throw std::runtime_error(fmt::format("cannot create directory {}{}{}", dir_.string(),
                                         ec ? ": " : "", ec ? ec.message() : ""));
  }
}

std::unique_ptr<reassembly::StreamSink> StreamsWriter::on_open(flow::Connection& c) {
  return std::make_unique<Sink>(*this, c.id());
}

void StreamsWriter::on_close(flow::Connection& c) {
  Row r;
  r.id = c.id();
  r.client = c.client().to_string();
  r.server = c.server().to_string();
  for (int i = 0; i < 2; ++i) {
    const auto& st = c.stream(static_cast<Dir>(i)).stats();
    r.bytes[i] = st.bytes_delivered;
    r.gaps += st.gaps;
    r.gap_bytes[i] = st.gap_bytes;
  }
  rows_.push_back(std::move(r));
}

void StreamsWriter::write_index() {
  std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  const auto path = dir_ / "index.tsv";
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  fmt::print(f, "conn\tclient\tserver\tc2s_file\ts2c_file\tc2s_bytes\ts2c_bytes\tgaps\tc2s_gap_bytes\ts2c_gap_bytes\n");
  for (const auto& r : rows_) {
    fmt::print(f, "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", r.id, r.client, r.server,
               file_name(r.id, Dir::c2s), file_name(r.id, Dir::s2c), r.bytes[0], r.bytes[1], r.gaps,
               r.gap_bytes[0], r.gap_bytes[1]);
  }
  if (std::fclose(f) != 0) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
  if (!error_.empty()) throw std::runtime_error(error_);
}

void StreamsWriter::rename_endpoints(const std::function<std::string(const std::string&)>& name) {
  for (auto& r : rows_) {
    r.client = name(r.client);
    r.server = name(r.server);
  }
}

}  // namespace wsdiag::report
