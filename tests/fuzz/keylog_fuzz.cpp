// Fuzz target "keylog": NSS key log text through tls::KeyLog (add_text, load_file, refresh, find)
// and pcapng Decryption Secrets Blocks through load_pcapng_secrets.
//
// Input: byte 0 flags (bit 0: the rest is a pcapng file for load_pcapng_secrets, else key log
// text), bytes 1-4 seed how the text is split into pieces (always after a newline: the way a
// writer appends lines), then the bytes.
//
// Checks beyond ASan + UBSan, for text: the key log read whole (add_text), piece by piece
// (add_text per piece) and from a file (load_file, through a memfd) holds the same client randoms
// and bad-line count, and every secret equals what a reference reading of the format gives
// (keylog.h: "LABEL <64 hex client random> <hex secret of at most 64 bytes>", spaces or tabs
// between fields, '#' comments, CR/LF line ends, later lines win). For pcapng: the number of
// secrets blocks read is at most the blocks in the file, and reading it twice gives the same.
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "wsdiag/tls/keylog.h"

namespace {

using namespace wsdiag;

// A file in memory with a path (/proc/self/fd/N) that load_file and load_pcapng_secrets can open.
class MemFile {
 public:
  explicit MemFile(fuzz::ByteSpan bytes) {
    fd_ = memfd_create("wsdiag-fuzz-keylog", MFD_CLOEXEC);
    if (fd_ < 0) return;
    for (std::size_t at = 0; at < bytes.size();) {
      const ssize_t n = write(fd_, bytes.data() + at, bytes.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() {
    if (fd_ >= 0) close(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string path_;
};

// ---- reference reading of the key log format --------------------------------------------------

constexpr std::array<std::string_view, 7> kLabels = {
    "CLIENT_RANDOM",          "CLIENT_EARLY_TRAFFIC_SECRET", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET"};

bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string from_hex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    const auto v = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    out.push_back(static_cast<char>(v(h[i]) * 16 + v(h[i + 1])));
  }
  return out;
}

struct Reference {
  std::map<std::string, std::array<std::string, kLabels.size()>> secrets;  // client random -> per label
  std::size_t bad = 0;

  void line(std::string_view l) {
    while (!l.empty() && (l.back() == '\r' || l.back() == '\n')) l.remove_suffix(1);
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < l.size()) {
      while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
      const std::size_t b = i;
      while (i < l.size() && l[i] != ' ' && l[i] != '\t') ++i;
      if (i > b) fields.push_back(l.substr(b, i - b));
    }
    if (fields.empty() || fields[0][0] == '#') return;
    std::size_t label = kLabels.size();
    for (std::size_t k = 0; k < kLabels.size(); ++k) {
      if (fields[0] == kLabels[k]) label = k;
    }
    const auto all_hex = [](std::string_view h) {
      for (const char c : h) {
        if (!hex_digit(c)) return false;
      }
      return true;
    };
    if (label == kLabels.size() || fields.size() != 3 || fields[1].size() != 64 || !all_hex(fields[1]) ||
        fields[2].empty() || fields[2].size() % 2 != 0 || fields[2].size() > 128 || !all_hex(fields[2])) {
      ++bad;
      return;
    }
    secrets[from_hex(fields[1])][label] = from_hex(fields[2]);
  }
  void text(std::string_view t) {
    while (!t.empty()) {
      const auto nl = t.find('\n');
      line(t.substr(0, nl));
      t.remove_prefix(nl == std::string_view::npos ? t.size() : nl + 1);
    }
  }
};

std::string secret(const tls::Secret& s) { return std::string(reinterpret_cast<const char*>(s.bytes.data()), s.len); }

void compare(const tls::KeyLog& k, const Reference& ref) {
  WSDIAG_FUZZ_CHECK(k.size() == ref.secrets.size());
  WSDIAG_FUZZ_CHECK(k.bad_lines() == ref.bad);
  for (const auto& [cr, want] : ref.secrets) {
    std::array<std::uint8_t, 32> key{};
    std::copy(cr.begin(), cr.end(), key.begin());
    const auto got = k.find(key);
    WSDIAG_FUZZ_CHECK(got.has_value());
    const std::array<const tls::Secret*, kLabels.size()> slots = {
        &got->master, &got->client_early, &got->client_handshake, &got->server_handshake,
        &got->client_app0, &got->server_app0, &got->exporter};
    for (std::size_t i = 0; i < slots.size(); ++i) WSDIAG_FUZZ_CHECK(secret(*slots[i]) == want[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.u8();
  fuzz::Rng rng(in.u32());
  const fuzz::ByteSpan bytes = in.rest();
  if ((flags & 1) != 0) {
    const MemFile file(bytes);
    if (!file.ok()) return 0;
    tls::KeyLog a, b;
    const std::size_t n = a.load_pcapng_secrets(file.path());
    WSDIAG_FUZZ_CHECK(n <= bytes.size() / 12);
    WSDIAG_FUZZ_CHECK(b.load_pcapng_secrets(file.path()) == n);
    WSDIAG_FUZZ_CHECK(a.size() == b.size() && a.bad_lines() == b.bad_lines());
    return 0;
  }
  const fuzz::Owned owned(bytes);
  const std::string_view text(reinterpret_cast<const char*>(owned.span().data()), owned.span().size());
  Reference ref;
  ref.text(text);

  tls::KeyLog whole;
  whole.add_text(text);
  compare(whole, ref);

  // Pieces that end after a newline (or at the end), each an exact-size copy.
  tls::KeyLog pieces;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = std::min(text.size(), at + 1 + rng.below(200));
    const auto nl = text.find('\n', end - 1);
    end = nl == std::string_view::npos ? text.size() : nl + 1;
    const fuzz::Owned piece(owned.span().subspan(at, end - at));
    pieces.add_text(std::string_view(reinterpret_cast<const char*>(piece.span().data()), piece.span().size()));
    at = end;
  }
  compare(pieces, ref);

  // From a file: load_file, then a refresh that finds nothing new changes nothing.
  const MemFile file(bytes);
  if (!file.ok()) return 0;
  tls::KeyLog from_file;
  std::string err;
  WSDIAG_FUZZ_CHECK(from_file.load_file(file.path(), err));
  WSDIAG_FUZZ_CHECK(from_file.size() == ref.secrets.size());
  const std::size_t size_before = from_file.size();
  from_file.refresh();
  WSDIAG_FUZZ_CHECK(from_file.size() == size_before);
  from_file.set_follow(true);
  (void)from_file.find(std::array<std::uint8_t, 32>{});
  return 0;
}
