// wsdiag — NSS key log parsing and pcapng Decryption Secrets Blocks. See keylog.h.
#include "wsdiag/tls/keylog.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "wsdiag/common/byte_reader.h"

namespace wsdiag::tls {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes hex into out (at most out.size() bytes); false if not hex or too long.
template <std::size_t N>
bool unhex(std::string_view h, std::array<std::uint8_t, N>& out, std::size_t& n) {
  if (h.size() % 2 != 0 || h.size() / 2 > N || h.empty()) return false;
  n = h.size() / 2;
  for (std::size_t i = 0; i < n; ++i) {
    const int hi = hex_value(h[2 * i]), lo = hex_value(h[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

std::string_view next_field(std::string_view& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(b);
  const auto e = s.find_first_of(" \t");
  const std::string_view f = s.substr(0, e);
  s.remove_prefix(e == std::string_view::npos ? s.size() : e);
  return f;
}

}  // namespace

void KeyLog::add_line(std::string_view line) const {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  std::string_view rest = line;
  const std::string_view label = next_field(rest);
  if (label.empty() || label[0] == '#') return;
  const std::string_view cr_hex = next_field(rest);
  const std::string_view secret_hex = next_field(rest);
  Secret Secrets::*slot = nullptr;
  if (label == "CLIENT_RANDOM") slot = &Secrets::master;
  else if (label == "CLIENT_EARLY_TRAFFIC_SECRET") slot = &Secrets::client_early;
  else if (label == "CLIENT_HANDSHAKE_TRAFFIC_SECRET") slot = &Secrets::client_handshake;
  else if (label == "SERVER_HANDSHAKE_TRAFFIC_SECRET") slot = &Secrets::server_handshake;
  else if (label == "CLIENT_TRAFFIC_SECRET_0") slot = &Secrets::client_app0;
  else if (label == "SERVER_TRAFFIC_SECRET_0") slot = &Secrets::server_app0;
  else if (label == "EXPORTER_SECRET") slot = &Secrets::exporter;
  if (slot == nullptr) {
    ++bad_;  // RSA, EARLY_EXPORTER_SECRET, ...: not used
    return;
  }
  std::array<std::uint8_t, 32> cr{};
  std::size_t crn = 0;
  Secret sec;
  std::size_t sn = 0;
  if (!unhex(cr_hex, cr, crn) || crn != 32 || !unhex(secret_hex, sec.bytes, sn) || !next_field(rest).empty()) {
    ++bad_;
    return;
  }
  sec.len = static_cast<std::uint8_t>(sn);
  map_[std::string(reinterpret_cast<const char*>(cr.data()), cr.size())].*slot = sec;
}

void KeyLog::add_text(std::string_view text) {
  const std::lock_guard<std::mutex> lock(mutex_);
  given_ = true;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    add_line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

bool KeyLog::load_file(const std::string& path, std::string& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = std::string("cannot read the TLS key log: ") + std::strerror(errno);
    return false;
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    path_ = path;
    read_ = 0;
    seen_size_ = kUnknownSize;
    given_ = true;
  }
  refresh();
  return true;
}

void KeyLog::refresh() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (path_.empty()) return;
  // Looked up for every record that waits for a secret: one stat() when the file did not grow.
  struct stat sb {};
  if (::stat(path_.c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
    const auto size = static_cast<std::uint64_t>(sb.st_size);
    if (size == seen_size_) return;
    seen_size_ = size;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(read_));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Complete lines are consumed. A last line without a newline is read again next time; it is used
  // now only when the file is not followed (a finished file). A followed file grows while clients
  // write it, and a line cut in the middle of its secret is still valid hex: used, it would be a
  // wrong key, and a record that does not authenticate stops decryption for good.
  const auto last_nl = text.rfind('\n');
  const std::size_t complete = last_nl == std::string::npos ? 0 : last_nl + 1;
  read_ += complete;
  std::string_view rest(text);
  if (follow_) rest = rest.substr(0, complete);
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    add_line(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
}

std::size_t KeyLog::load_pcapng_secrets(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  std::array<std::uint8_t, 12> head{};
  std::size_t found = 0;
  bool little = true;
  bool first = true;
  // Bounded: at most this many leading blocks, each secrets block at most 16 MiB.
  for (int blocks = 0; blocks < 4096; ++blocks) {
    if (!in.read(reinterpret_cast<char*>(head.data()), 8)) break;
    ByteReader r(head);
    std::uint32_t type = r.u32le();
    if (first) {
      if (type != 0x0A0D0D0A) return 0;  // not pcapng
      if (!in.read(reinterpret_cast<char*>(head.data() + 8), 4)) return 0;
      little = head[8] == 0x4D;  // byte-order magic 0x1A2B3C4D
      first = false;
      in.seekg(-4, std::ios::cur);
    }
    ByteReader r2(head);
    type = little ? r2.u32le() : r2.u32be();
    const std::uint32_t len = little ? r2.u32le() : r2.u32be();
    if (len < 12 || len % 4 != 0) break;
    if (type == 0x0A0D0D0A && blocks > 0) {
      // a new section: byte order may change
      if (!in.read(reinterpret_cast<char*>(head.data() + 8), 4)) break;
      little = head[8] == 0x4D;
      in.seekg(-4, std::ios::cur);
    }
    if (type == 0x00000006 || type == 0x00000003 || type == 0x00000002) break;  // packets begin
    if (type == 0x0000000A && len <= (16u << 20) + 20) {
      std::vector<std::uint8_t> body(len - 8);
      if (!in.read(reinterpret_cast<char*>(body.data()), static_cast<std::streamsize>(body.size()))) break;
      ByteReader b(body);
      const std::uint32_t stype = little ? b.u32le() : b.u32be();
      const std::uint32_t slen = little ? b.u32le() : b.u32be();
      const Bytes text = b.bytes(slen);
      if (b.ok() && stype == 0x544C534B) {
        add_text(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
        ++found;
      }
      continue;
    }
    in.seekg(static_cast<std::streamoff>(len) - 8, std::ios::cur);
  }
  return found;
}

std::optional<Secrets> KeyLog::find(const std::array<std::uint8_t, 32>& client_random) const {
  const std::string key(reinterpret_cast<const char*>(client_random.data()), client_random.size());
  // Followed: read what was appended first, also when this client random is known already (its
  // secrets are logged a line at a time; a connection asks again for the ones it lacks).
  if (follow_) refresh();
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

std::size_t KeyLog::size() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return map_.size();
}

std::size_t KeyLog::bad_lines() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return bad_;
}

}  // namespace wsdiag::tls
