// wsdiag — the TLS layer's per-connection state, shared by tls_front.cpp (recognition, records,
// handshake facts) and front_decrypt.cpp (decryption). Private to src/tls.
#pragma once

#include <array>
#include <memory>
#include <optional>

#include "wsdiag/tls/crypto.h"
#include "wsdiag/tls/hello.h"
#include "wsdiag/tls/record.h"
#include "wsdiag/tls/tls_front.h"

namespace wsdiag::tls {

inline Bytes secret_bytes(const Secret& s) { return Bytes(s.bytes.data(), s.len); }

class TlsFront::State {
 public:
  enum class Epoch : std::uint8_t { none, early, handshake, app };

  struct DirState final : RecordHandler, HandshakeStream::Handler {
    DirState(State& s, Dir d)
        : st(s), dir(d), rec(s.limits->tls_record_bytes), plain_hs(s.limits->tls_handshake_bytes),
          enc_hs(s.limits->tls_handshake_bytes) {}

    // RecordHandler
    bool wants_body(const RecordHeader& h) override;
    void on_record(const RecordHeader& h, Bytes body, PacketRef at) override;
    // HandshakeStream::Handler (plaintext and decrypted handshake messages)
    bool keep(std::uint8_t type) override;
    void on_message(std::uint8_t type, Bytes body, bool truncated) override;

    [[nodiscard]] TlsDirFacts& f() { return st.facts.dir(dir); }
    [[nodiscard]] bool can_decrypt() const { return dec && dec->ready() && !failed; }
    void note_alert(std::uint8_t level, std::uint8_t desc, bool encrypted, std::uint16_t len, PacketRef at);
    void decrypt13(const RecordHeader& h, Bytes body, PacketRef at);
    void decrypt12(const RecordHeader& h, Bytes body, PacketRef at);
    void fail(PacketRef at);
    bool install13(const Secret& secret, Epoch e);
    long try_open(const RecordHeader& h, Bytes body);

    State& st;
    Dir dir;
    RecordAssembler rec;
    HandshakeStream plain_hs;
    HandshakeStream enc_hs;
    std::unique_ptr<RecordDecryptor> dec;    // made when keys are installed
    std::unique_ptr<std::uint8_t[]> out;     // kMaxRecordBody bytes: plaintext of one record
    bool encrypted = false;                  // records of this direction are protected now
    Epoch epoch = Epoch::none;
    Secret app_secret;                       // TLS 1.3: the current application traffic secret
    bool to_app = false, to_handshake = false, key_update = false;  // after the current record
    bool failed = false;
    bool ended = false;
    PacketRef cur_at{};
  };

  State(reassembly::StreamSink& inner_sink, const Limits& lim, const KeyLog* key_log, bool midstream)
      : inner(&inner_sink), limits(&lim), keys(key_log), dirs{DirState(*this, Dir::c2s), DirState(*this, Dir::s2c)} {
    facts.midstream = midstream;
    // Joined after the handshake: every record is protected (TLS 1.2 record types still show).
    if (midstream) dirs[0].encrypted = dirs[1].encrypted = true;
  }

  DirState& dir(Dir d) { return dirs[static_cast<int>(d)]; }
  [[nodiscard]] bool tls13() const { return facts.version == 0x0304; }
  void lookup_secrets();
  /// Installs TLS 1.3 keys in each direction (but those `skip` names: they already decrypt).
  void install13_all(std::array<bool, 2> skip = {false, false});
  /// Live mode: clients log their secrets only after the ServerHello, a line at a time, so a
  /// connection whose secrets are missing or incomplete looks again (a bounded number of times)
  /// when an encrypted record or a new epoch needs one.
  void late_lookup();
  [[nodiscard]] bool secrets_complete() const;
  void on_client_hello(Bytes body);
  void on_server_hello(Bytes body);
  void install_tls12(DirState& ds);
  void start_early(DirState& ds);

  reassembly::StreamSink* inner;
  const Limits* limits;
  const KeyLog* keys;
  TlsFacts facts;
  std::optional<Secrets> secrets;
  bool looked_up = false;
  const SuiteInfo* suite = nullptr;
  std::array<std::uint8_t, 32> server_random{};
  bool decrypted_any = false;
  bool unsupported = false;
  bool encrypt_then_mac = false;  // TLS 1.2 CBC: the ServerHello echoed RFC 7366's extension
  int late_lookups = 64;
  DirState dirs[2];
};

}  // namespace wsdiag::tls
