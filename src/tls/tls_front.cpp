// wsdiag — the TLS layer: recognition, record facts, handshake facts, decryption with a key log
// (RFC 8446 §4-§7, RFC 5246 §6-§7). See tls_front.h for the design note.
#include "wsdiag/tls/tls_front.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "wsdiag/tls/crypto.h"
#include "wsdiag/tls/hello.h"
#include "wsdiag/tls/record.h"

namespace wsdiag::tls {

namespace {

Bytes secret_bytes(const Secret& s) { return Bytes(s.bytes.data(), s.len); }

}  // namespace

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
  void install13_all();
  /// Live mode: clients log their secrets only after the ServerHello, so a connection without
  /// secrets looks again (a bounded number of times) when an encrypted record arrives.
  void late_lookup();
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
  int late_lookups = 64;
  DirState dirs[2];
};

// ---- recognition and forwarding ----------------------------------------------------------------

TlsFront::TlsFront(reassembly::StreamSink& inner, const Limits& limits, const KeyLog* keys)
    : inner_(&inner), limits_(&limits), keys_(keys) {}
TlsFront::~TlsFront() = default;

void TlsFront::start_tls(bool midstream) { st_ = std::make_unique<State>(*inner_, *limits_, keys_, midstream); }

void TlsFront::on_data(Dir d, Bytes bytes, PacketRef at) {
  if (!decided_) {
    if (bytes.empty()) return;
    decided_ = true;
    if (d == Dir::c2s && looks_like_client_hello(bytes)) {
      start_tls(false);
    } else if (looks_like_records(bytes) && bytes[0] != content::handshake) {
      start_tls(true);  // the capture started after the handshake
    } else if (d == Dir::s2c && looks_like_records(bytes)) {
      start_tls(true);
    }
  }
  if (!st_) {
    inner_->on_data(d, bytes, at);
    return;
  }
  auto& ds = st_->dir(d);
  ds.cur_at = at;
  const auto before = ds.rec.status();
  const auto status = ds.rec.feed(bytes, at, ds);
  if (status != before) {
    auto& f = ds.f();
    f.problem_at = at;
    f.malformed_len = ds.rec.bad_length();
    if (status == RecordAssembler::Status::too_long && ds.rec.bad_length() <= kMaxRecordBody) {
      f.limit_hit = true;
    } else {
      f.malformed = true;
    }
  }
}

void TlsFront::on_gap(Dir d, std::uint64_t len, reassembly::GapReason why, PacketRef at) {
  if (!st_) {
    if (decided_) inner_->on_gap(d, len, why, at);
    return;
  }
  auto& ds = st_->dir(d);
  auto& df = ds.f();
  if (why == reassembly::GapReason::snaplen) {
    if (df.snaplen_bytes == 0) df.first_snaplen = at;
    df.snaplen_bytes += len;
  } else {
    if (df.gaps == 0) df.first_gap = at;
    ++df.gaps;
    df.gap_bytes += len;
  }
  if (!ds.rec.stopped() && !ds.rec.skip_gap(len, at, ds)) {
    auto& f = ds.f();
    if (!f.gap) {
      f.gap = true;
      f.problem_at = at;
    }
  }
  // The plaintext stream above lost bytes too (whatever the records held).
  inner_->on_gap(d, len, why, at);
}

void TlsFront::on_end(Dir d, reassembly::EndReason how, PacketRef at) {
  if (st_) {
    auto& ds = st_->dir(d);
    ds.ended = true;
    ds.rec.release();
    ds.plain_hs.reset();
    ds.enc_hs.reset();
    ds.dec.reset();
    ds.out.reset();
  }
  inner_->on_end(d, how, at);
}

TlsFacts TlsFront::facts() const {
  if (!st_) return {};
  TlsFacts f = st_->facts;
  if (f.keys == KeyStatus::failed) return f;
  if (keys_ == nullptr || !keys_->given()) {
    f.keys = KeyStatus::no_keylog;
  } else if (!f.client_hello) {
    f.keys = KeyStatus::no_hello;
  } else if (!st_->secrets) {
    f.keys = KeyStatus::not_found;
  } else if (st_->unsupported) {
    f.keys = KeyStatus::unsupported;
  } else {
    f.keys = KeyStatus::decrypted;
  }
  return f;
}

// ---- handshake ---------------------------------------------------------------------------------

void TlsFront::State::lookup_secrets() {
  if (keys == nullptr || !facts.client_hello) return;
  if (!secrets) secrets = keys->find(facts.client_random);
  looked_up = true;
}

void TlsFront::State::on_client_hello(Bytes body) {
  const bool again = facts.client_hello;  // the second ClientHello after a HelloRetryRequest
  const auto random = facts.client_random;
  parse_client_hello(body, facts);
  facts.client_hello = true;
  if (again) facts.client_random = random;  // RFC 8446 §4.1.2: unchanged
  else facts.client_hello_at = dir(Dir::c2s).cur_at;
  lookup_secrets();
}

void TlsFront::State::start_early(DirState& ds) {
  // 0-RTT data before the ServerHello: the cipher suite is the resumed session's, not known yet;
  // the secret's length tells the hash, and the record tag tells which AEAD is right.
  if (!secrets || !secrets->client_early.present() || ds.epoch != Epoch::none) return;
  ds.epoch = Epoch::early;
}

void TlsFront::State::on_server_hello(Bytes body) {
  ServerHelloInfo sh;
  const bool ok = parse_server_hello(body, sh);
  facts.version = sh.version;
  facts.cipher = sh.cipher;
  if (ok && sh.hello_retry) {
    facts.hello_retry = true;  // the client sends a second ClientHello; the real ServerHello follows
    return;
  }
  facts.server_hello = true;
  facts.server_hello_at = dir(Dir::s2c).cur_at;
  facts.psk_accepted = sh.psk;
  if (!sh.alpn.empty()) facts.alpn = sh.alpn;
  server_random = sh.random;
  suite = suite_info(sh.cipher);
  if (!looked_up || !secrets) lookup_secrets();
  if (!tls13()) return;  // TLS 1.2: keys at ChangeCipherSpec
  dir(Dir::c2s).encrypted = true;
  dir(Dir::s2c).encrypted = true;
  install13_all();
}

void TlsFront::State::late_lookup() {
  if (secrets || keys == nullptr || !keys->follows() || late_lookups <= 0 || !facts.client_hello) return;
  --late_lookups;
  secrets = keys->find(facts.client_random);
  if (!secrets || !tls13() || !facts.server_hello) return;
  install13_all();
  // Handshake records that went by undecrypted used up sequence numbers of the handshake keys.
  for (auto& d : dirs) {
    if (d.dec && d.epoch == Epoch::handshake) d.dec->set_seq(d.f().app_records);
  }
}

void TlsFront::State::install13_all() {
  auto& c = dir(Dir::c2s);
  auto& s = dir(Dir::s2c);
  if (!secrets) return;
  if (suite == nullptr || !suite->tls13) {
    unsupported = true;
    return;
  }
  if (secrets->server_handshake.present()) s.install13(secrets->server_handshake, Epoch::handshake);
  else if (secrets->server_app0.present()) s.install13(secrets->server_app0, Epoch::app);
  if (c.epoch != Epoch::early) {
    if (secrets->client_handshake.present()) c.install13(secrets->client_handshake, Epoch::handshake);
    else if (secrets->client_app0.present()) c.install13(secrets->client_app0, Epoch::app);
  }
}

void TlsFront::State::install_tls12(DirState& ds) {
  late_lookup();
  if (!secrets || !secrets->master.present() || !facts.server_hello) return;
  if (suite == nullptr || suite->tls13) {
    unsupported = true;
    return;
  }
  TrafficKeys ck, sk;
  if (!tls12_key_block(*suite, secret_bytes(secrets->master), Bytes(facts.client_random), Bytes(server_random), ck,
                       sk)) {
    unsupported = true;
    return;
  }
  if (!ds.dec) ds.dec = std::make_unique<RecordDecryptor>();
  if (!ds.out) ds.out = std::make_unique<std::uint8_t[]>(kMaxRecordBody);
  ds.dec->set_keys(*suite, false, ds.dir == Dir::c2s ? ck : sk);
  ds.epoch = Epoch::app;
}

bool TlsFront::State::DirState::install13(const Secret& secret, Epoch e) {
  const SuiteInfo* s = st.suite;
  if (s == nullptr) return false;
  TrafficKeys k;
  if (!tls13_traffic_keys(*s, secret_bytes(secret), k)) return false;
  if (!dec) dec = std::make_unique<RecordDecryptor>();
  if (!out) out = std::make_unique<std::uint8_t[]>(kMaxRecordBody);
  if (!dec->set_keys(*s, true, k)) return false;
  epoch = e;
  if (e == Epoch::app) app_secret = secret;
  return true;
}

bool TlsFront::State::DirState::keep(std::uint8_t type) {
  switch (type) {
    case hs::client_hello:
      return dir == Dir::c2s;
    case hs::server_hello:
      return dir == Dir::s2c;
    case hs::encrypted_extensions:
    case hs::key_update:
      return true;
    default:
      return false;
  }
}

void TlsFront::State::DirState::on_message(std::uint8_t type, Bytes body, bool) {
  switch (type) {
    case hs::client_hello:
      if (dir == Dir::c2s && !body.empty()) st.on_client_hello(body);
      break;
    case hs::server_hello:
      if (dir == Dir::s2c && !body.empty()) st.on_server_hello(body);
      break;
    case hs::encrypted_extensions:
      if (dir == Dir::s2c) parse_encrypted_extensions(body, st.facts.alpn);
      break;
    case hs::finished:
      f().handshake_done = true;
      // TLS 1.3: the sender's next records use its application traffic secret.
      if (st.tls13() && epoch == Epoch::handshake) to_app = true;
      break;
    case hs::end_of_early_data:
      if (epoch == Epoch::early) to_handshake = true;
      break;
    case hs::key_update:
      if (st.tls13() && epoch == Epoch::app) key_update = true;
      break;
    default:
      break;
  }
}

// ---- records -----------------------------------------------------------------------------------

bool TlsFront::State::DirState::wants_body(const RecordHeader& h) {
  if (h.type == content::change_cipher_spec) return false;
  if (!encrypted && (h.type == content::handshake || h.type == content::alert)) return true;
  if (h.type == content::application_data && !encrypted && dir == Dir::c2s && st.facts.client_hello &&
      st.facts.early_data_offered) {
    st.start_early(*this);
    return epoch == Epoch::early;
  }
  if (encrypted && !can_decrypt() && !failed && !st.secrets) st.late_lookup();
  return can_decrypt();
}

void TlsFront::State::DirState::note_alert(std::uint8_t level, std::uint8_t desc, bool enc, std::uint16_t len,
                                           PacketRef at) {
  auto& a = f().alert;
  if (!enc && desc == 0) f().close_notify = true;
  if (a.seen && !(a.encrypted && !enc)) return;
  a.seen = true;
  a.encrypted = enc;
  a.level = level;
  a.description = desc;
  a.record_len = len;
  a.at = at;
}

void TlsFront::State::DirState::fail(PacketRef at) {
  failed = true;
  auto& df = f();
  if (!df.decrypt_failed) {
    df.decrypt_failed = true;
    df.decrypt_failed_at = at;
  }
  st.facts.keys = KeyStatus::failed;
}

long TlsFront::State::DirState::try_open(const RecordHeader& h, Bytes body) {
  return dec->open(h.type, h.version, body, std::span<std::uint8_t>(out.get(), kMaxRecordBody));
}

void TlsFront::State::DirState::on_record(const RecordHeader& h, Bytes body, PacketRef at) {
  auto& df = f();
  ++df.records;
  df.last_record = at;
  df.last_type = h.type;
  df.last_len = h.length;
  cur_at = at;
  switch (h.type) {
    case content::change_cipher_spec:
      df.change_cipher_spec = true;
      if (!st.tls13() && st.facts.server_hello) df.handshake_done = true;
      if (!st.tls13() && st.facts.server_hello) {
        encrypted = true;
        st.install_tls12(*this);
      }
      return;
    case content::alert:
      if (!encrypted) {
        ByteReader r(body);
        const std::uint8_t level = r.u8();
        const std::uint8_t desc = r.u8();
        if (r.ok()) note_alert(level, desc, false, h.length, at);
        return;
      }
      if (!st.tls13()) df.encrypted_alert_record = true;
      break;
    case content::handshake:
      if (!encrypted) {
        plain_hs.feed(body, *this);
        return;
      }
      break;
    case content::application_data:
      // TLS 1.3: an alert is 19 bytes (2 + type + tag); the Finished is at least 53.
      if (st.tls13() && st.facts.server_hello && h.length > 19) df.handshake_done = true;
      ++df.app_records;
      df.app_bytes += h.length;
      if (df.first_app.index == 0) df.first_app = at;
      df.last_app = at;
      break;
    default:
      return;  // heartbeat: nothing to learn
  }
  // A protected record (or early data).
  if (body.empty() || failed || (!can_decrypt() && epoch != Epoch::early)) {
    ++df.undecrypted_records;
    if (h.type == content::alert && !st.tls13()) note_alert(0, 0, true, h.length, at);
    return;
  }
  if (st.tls13() || epoch == Epoch::early) decrypt13(h, body, at);
  else decrypt12(h, body, at);
}

void TlsFront::State::DirState::decrypt12(const RecordHeader& h, Bytes body, PacketRef at) {
  const long n = try_open(h, body);
  if (n < 0) {
    ++f().undecrypted_records;
    fail(at);
    return;
  }
  st.decrypted_any = true;
  const Bytes plain(out.get(), static_cast<std::size_t>(n));
  if (h.type == content::application_data) {
    f().plaintext_bytes += plain.size();
    if (!plain.empty()) st.inner->on_data(dir, plain, at);
  } else if (h.type == content::alert) {
    ByteReader r(plain);
    const std::uint8_t level = r.u8();
    const std::uint8_t desc = r.u8();
    if (r.ok()) note_alert(level, desc, false, h.length, at);
  }
  // handshake (Finished, renegotiation): nothing to learn
}

void TlsFront::State::DirState::decrypt13(const RecordHeader& h, Bytes body, PacketRef at) {
  if (epoch == Epoch::early && !can_decrypt()) {
    // First 0-RTT record: pick the AEAD by the secret's hash and the record's tag.
    const Secret& es = st.secrets->client_early;
    const std::uint16_t candidates[2] = {static_cast<std::uint16_t>(es.len == 48 ? 0x1302 : 0x1301),
                                         static_cast<std::uint16_t>(es.len == 48 ? 0 : 0x1303)};
    for (const auto id : candidates) {
      const SuiteInfo* s = suite_info(id);
      if (s == nullptr) continue;
      const SuiteInfo* saved = st.suite;
      st.suite = s;
      const bool ok = install13(es, Epoch::early) && try_open(h, body) >= 0;
      st.suite = saved;
      if (ok) {
        dec->set_keys(*s, true, [&] {
          TrafficKeys k;
          tls13_traffic_keys(*s, secret_bytes(es), k);
          return k;
        }());
        break;
      }
      dec.reset();
    }
    if (!can_decrypt()) {
      ++f().undecrypted_records;
      fail(at);
      return;
    }
  }
  long n = try_open(h, body);
  if (n < 0 && st.secrets) {
    // The peer moved on to its next secret before we saw why (early data rejected, a lost
    // Finished): try the next epoch once.
    const bool c2s = dir == Dir::c2s;
    const Secret& hs_secret = c2s ? st.secrets->client_handshake : st.secrets->server_handshake;
    const Secret& app0 = c2s ? st.secrets->client_app0 : st.secrets->server_app0;
    if (epoch == Epoch::early && hs_secret.present() && install13(hs_secret, Epoch::handshake)) {
      n = try_open(h, body);
    }
    if (n < 0 && epoch == Epoch::handshake && app0.present() && install13(app0, Epoch::app)) {
      n = try_open(h, body);
    }
  }
  if (n < 0) {
    ++f().undecrypted_records;
    fail(at);
    return;
  }
  st.decrypted_any = true;
  // RFC 8446 §5.2: TLSInnerPlaintext = content || type || zeros.
  std::size_t len = static_cast<std::size_t>(n);
  while (len > 0 && out[len - 1] == 0) --len;
  if (len == 0) {
    fail(at);  // no content type: not a valid record
    return;
  }
  const std::uint8_t type = out[len - 1];
  const Bytes plain(out.get(), len - 1);
  switch (type) {
    case content::application_data:
      f().plaintext_bytes += plain.size();
      if (!plain.empty()) st.inner->on_data(dir, plain, at);
      break;
    case content::handshake:
      enc_hs.feed(plain, *this);
      break;
    case content::alert: {
      ByteReader r(plain);
      const std::uint8_t level = r.u8();
      const std::uint8_t desc = r.u8();
      if (r.ok()) note_alert(level, desc, false, h.length, at);
      break;
    }
    default:
      break;
  }
  const bool c2s = dir == Dir::c2s;
  if (to_handshake) {
    to_handshake = false;
    const Secret& s = c2s ? st.secrets->client_handshake : st.secrets->server_handshake;
    if (s.present()) install13(s, Epoch::handshake);
  }
  if (to_app) {
    to_app = false;
    enc_hs.reset();
    const Secret& s = c2s ? st.secrets->client_app0 : st.secrets->server_app0;
    if (s.present()) install13(s, Epoch::app);
  }
  if (key_update) {
    key_update = false;
    Secret next;
    next.len = app_secret.len;
    if (st.suite != nullptr &&
        tls13_next_secret(*st.suite, secret_bytes(app_secret), std::span(next.bytes).first(next.len))) {
      install13(next, Epoch::app);
    }
  }
}

}  // namespace wsdiag::tls
