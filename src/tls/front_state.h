// wsdiag — the TLS layer's per-connection state, shared by tls_front.cpp (recognition, records,
// handshake facts) and front_decrypt.cpp (decryption). Private to src/tls.
#pragma once

#include <array>
#include <memory>
#include <optional>

#include "wsdiag/tls/crypto.h"
#include "wsdiag/tls/held_records.h"
#include "wsdiag/tls/hello.h"
#include "wsdiag/tls/record.h"
#include "wsdiag/tls/tls_front.h"

namespace wsdiag::tls {

inline Bytes secret_bytes(const Secret& s) { return Bytes(s.bytes.data(), s.len); }

class TlsFront::State {
 public:
  enum class Epoch : std::uint8_t { none, early, handshake, app };
  /// What became of a protected record: decrypted or judged (done), or it must wait for a secret
  /// the key log does not hold yet (live mode; the caller holds it).
  enum class Opened : std::uint8_t { done, wait };

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
    /// A protected record: decrypts it, judges it undecryptable, or says it must wait.
    Opened open_record(const RecordHeader& h, Bytes body, PacketRef at);
    /// Live mode: the secret this direction needs next is not logged (yet).
    [[nodiscard]] bool secret_missing() const;
    void not_decrypted(const RecordHeader& h, PacketRef at);
    Opened decrypt13(const RecordHeader& h, Bytes body, PacketRef at);
    Opened decrypt12(const RecordHeader& h, Bytes body, PacketRef at);
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
      : inner(&inner_sink), limits(&lim), keys(key_log), held(lim.tls_held_bytes, lim.tls_held_records),
        dirs{DirState(*this, Dir::c2s), DirState(*this, Dir::s2c)} {
    facts.midstream = midstream;
    // Joined after the handshake: every record is protected (TLS 1.2 record types still show).
    if (midstream) dirs[0].encrypted = dirs[1].encrypted = true;
  }

  DirState& dir(Dir d) { return dirs[static_cast<int>(d)]; }
  [[nodiscard]] bool tls13() const { return facts.version == 0x0304; }
  void lookup_secrets();
  /// Installs TLS 1.3 keys in each direction (but those `skip` names: they already decrypt).
  void install13_all(std::array<bool, 2> skip = {false, false});
  /// Live mode: clients log their secrets only after using them, a line at a time, so a connection
  /// whose secrets are missing or incomplete looks again when a record or a new epoch needs one
  /// (while it may still wait: bounded by the held-record budget). True if new secrets came.
  bool late_lookup();
  /// Live mode: records wait for secrets (front_hold.cpp). Only while the key log is followed, the
  /// ClientHello was seen, and the connection did not give up (held-record budget).
  [[nodiscard]] bool may_wait() const;
  /// Entry point of every protected record: decrypted now, or held behind the ones waiting.
  void protect(DirState& ds, const RecordHeader& h, Bytes body, PacketRef at);
  /// Decrypts held records in order while the secrets allow.
  void release();
  /// Judges held records with the secrets logged so far (no more waiting), in order: all of them,
  /// or (given a direction) until none of that direction is left.
  void flush(const Dir* until_none_of = nullptr);
  /// A direction ends or loses bytes: its held records go first (a last look at the key log).
  void settle(Dir d);
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
  HeldRecords held;
  bool gave_up_waiting = false;  // the held-record budget was hit: judged with the secrets so far
  bool flushing = false;         // held records are being judged: no waiting now
  unsigned secrets_gen = 0;      // bumped whenever more secrets were found
  unsigned tried_gen = 0;        // secrets_gen when the held records last tried to open
  DirState dirs[2];
};

}  // namespace wsdiag::tls
