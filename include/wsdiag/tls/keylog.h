// wsdiag — TLS secrets from an NSS key log (the SSLKEYLOGFILE format of NSS, OpenSSL, BoringSSL,
// Go's KeyLogWriter, Node's 'keylog' event, Python's keylog_filename) and from pcapng Decryption
// Secrets Blocks (pcapng spec §4.7, secrets type 0x544c534b "TLSK": the same text).
//
// Lines: "LABEL <client_random hex> <secret hex>". Labels used: CLIENT_RANDOM (TLS 1.2 master
// secret), CLIENT_EARLY_TRAFFIC_SECRET, CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET,
// CLIENT/SERVER_TRAFFIC_SECRET_0, EXPORTER_SECRET (TLS 1.3). Other lines and comments are ignored
// (counted). Secrets are indexed by client random, as every producer logs them.
//
// Thread safety: lookups and additions are serialised by a mutex (one lookup per connection, not
// per packet), so analysis threads and a live-mode reload can share one KeyLog.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wsdiag::tls {

struct Secret {
  std::array<std::uint8_t, 64> bytes{};
  std::uint8_t len = 0;  ///< 0: not logged
  [[nodiscard]] bool present() const noexcept { return len != 0; }
};

struct Secrets {
  Secret master;          ///< TLS 1.2 CLIENT_RANDOM (48 bytes)
  Secret client_early;
  Secret client_handshake;
  Secret server_handshake;
  Secret client_app0;
  Secret server_app0;
  Secret exporter;
};

class KeyLog {
 public:
  /// Parses key log text (any number of lines; a last line without newline counts).
  void add_text(std::string_view text);
  /// Reads a key log file. False (and err set) if it cannot be read.
  bool load_file(const std::string& path, std::string& err);
  /// Reads pcapng Decryption Secrets Blocks of type TLSK from the start of a pcapng file, up to
  /// its first packet block (where editcap --inject-secrets puts them). Returns how many were read;
  /// a file that is not pcapng is skipped (0).
  std::size_t load_pcapng_secrets(const std::string& path);
  /// Live mode: reads what was appended to the key log file since the last read (once following,
  /// only whole lines: a last line without its newline waits for the next read).
  void refresh() const;
  /// Live mode: every lookup reads what was appended to the file first (one stat() when nothing was).
  void set_follow(bool follow) noexcept { follow_ = follow; }
  [[nodiscard]] bool follows() const noexcept { return follow_; }
  /// The secrets for a client random (a copy: the map may grow meanwhile), if any were logged.
  std::optional<Secrets> find(const std::array<std::uint8_t, 32>& client_random) const;

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t bad_lines() const;
  /// True once any source was given (even if empty): "no key log" differs from "key not found".
  [[nodiscard]] bool given() const noexcept { return given_; }
  void set_given() noexcept { given_ = true; }

 private:
  void add_line(std::string_view line) const;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, Secrets> map_;  // key: the 32 raw bytes of the client random
  mutable std::size_t bad_ = 0;
  bool given_ = false;
  bool follow_ = false;
  std::string path_;
  mutable std::uint64_t read_ = 0;
  static constexpr std::uint64_t kUnknownSize = ~std::uint64_t{0};
  mutable std::uint64_t seen_size_ = kUnknownSize;  // the file's size at the last read (regular files)
};

}  // namespace wsdiag::tls
