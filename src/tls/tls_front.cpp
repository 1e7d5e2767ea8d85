// wsdiag — the TLS layer: recognition, record facts, handshake facts, decryption with a key log
// (RFC 8446 §4-§7, RFC 5246 §6-§7). See tls_front.h for the design note.
#include "wsdiag/tls/tls_front.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "front_state.h"
#include "wsdiag/tls/hello.h"

namespace wsdiag::tls {

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
    inner_->on_gap(d, len, why, at);  // plain (or not decided yet): the session sees every gap
    return;
  }
  st_->settle(d);  // records held before the gap go first
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
    st_->settle(d);  // this direction's held records are decrypted or judged before its end
    if (st_->gave_up_waiting && !st_->secrets && !st_->facts.keys_logged_late && keys_ != nullptr &&
        st_->facts.client_hello) {
      st_->facts.keys_logged_late = keys_->find(st_->facts.client_random).has_value();  // for the finding
    }
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
  if (!secrets) {
    secrets = keys->find(facts.client_random);
    if (secrets) ++secrets_gen;
  }
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
  encrypt_then_mac = sh.encrypt_then_mac;
  suite = suite_info(sh.cipher);
  if (!looked_up || !secrets) lookup_secrets();
  if (!tls13()) return;  // TLS 1.2: keys at ChangeCipherSpec
  dir(Dir::c2s).encrypted = true;
  dir(Dir::s2c).encrypted = true;
  install13_all();
}

bool TlsFront::State::secrets_complete() const {
  if (!secrets) return false;
  if (!tls13()) return secrets->master.present();
  return secrets->client_handshake.present() && secrets->server_handshake.present() &&
         secrets->client_app0.present() && secrets->server_app0.present();
}

namespace {
int present_count(const Secrets& s) {
  int n = 0;
  for (const Secret* x : {&s.master, &s.client_early, &s.client_handshake, &s.server_handshake, &s.client_app0,
                          &s.server_app0, &s.exporter}) {
    n += x->present() ? 1 : 0;
  }
  return n;
}
}  // namespace

bool TlsFront::State::late_lookup() {
  // A key log is written a line at a time while wsdiag reads it: the secrets found first may lack
  // the server's, or the application ones; look again until they are complete. Only while records
  // may wait: each look is for a record that is then held (bounded) or decrypted.
  if (secrets_complete() || !may_wait()) return false;
  auto found = keys->find(facts.client_random);
  if (!found || (secrets && present_count(*found) <= present_count(*secrets))) return false;
  secrets = std::move(found);
  ++secrets_gen;
  if (!facts.server_hello) return true;
  if (tls13()) {
    // Keys for the directions that have none yet; a direction already decrypting keeps its state
    // (its next epoch's secret is taken when a record needs it). Records that came before the
    // keys were held, so sequence numbers start at 0.
    install13_all({dirs[0].dec != nullptr, dirs[1].dec != nullptr});
  } else {
    for (auto& d : dirs) {
      if (d.encrypted && !d.dec) install_tls12(d);  // after its ChangeCipherSpec
    }
  }
  return true;
}

void TlsFront::State::install13_all(std::array<bool, 2> skip) {
  auto& c = dir(Dir::c2s);
  auto& s = dir(Dir::s2c);
  if (!secrets) return;
  if (suite == nullptr || !suite->tls13) {
    unsupported = true;
    return;
  }
  if (!skip[static_cast<int>(Dir::s2c)]) {
    if (secrets->server_handshake.present()) s.install13(secrets->server_handshake, Epoch::handshake);
    else if (secrets->server_app0.present()) s.install13(secrets->server_app0, Epoch::app);
  }
  if (!skip[static_cast<int>(Dir::c2s)] && c.epoch != Epoch::early) {
    if (secrets->client_handshake.present()) c.install13(secrets->client_handshake, Epoch::handshake);
    else if (secrets->client_app0.present()) c.install13(secrets->client_app0, Epoch::app);
  }
}

void TlsFront::State::install_tls12(DirState& ds) {
  if (!secrets || !secrets->master.present() || !facts.server_hello) return;
  // CBC before TLS 1.1 chains its IV across records (no explicit IV): not decrypted.
  if (suite == nullptr || suite->tls13 || (suite->cbc() && facts.version < 0x0302)) {
    unsupported = true;
    return;
  }
  TrafficKeys ck, sk;
  if (!tls12_key_block(*suite, secret_bytes(secrets->master), Bytes(facts.client_random), Bytes(server_random), ck,
                       sk, facts.version)) {
    unsupported = true;
    return;
  }
  if (!ds.dec) ds.dec = std::make_unique<RecordDecryptor>();
  if (!ds.out) ds.out = std::make_unique<std::uint8_t[]>(kMaxRecordBody);
  ds.dec->set_keys(*suite, false, ds.dir == Dir::c2s ? ck : sk, encrypt_then_mac);
  ds.epoch = Epoch::app;
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
  if (encrypted && !can_decrypt() && !failed) st.late_lookup();
  // Live mode: a record whose secret is not logged yet is kept, to be held until it is.
  return can_decrypt() || (encrypted && !failed && st.may_wait());
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

void TlsFront::State::DirState::on_record(const RecordHeader& h, Bytes body, PacketRef at) {
  auto& df = f();
  ++df.records;
  df.prev_record = df.last_record;
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
        st.late_lookup();
        if (!dec) st.install_tls12(*this);
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
  // A protected record (or early data): decrypted now, or held while its secret is not logged.
  st.protect(*this, h, body, at);
}

}  // namespace wsdiag::tls
