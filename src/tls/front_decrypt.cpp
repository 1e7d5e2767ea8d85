// wsdiag — TLS record decryption for the TLS layer: TLS 1.3 (RFC 8446 §5.2-§5.3, §7.2-§7.3: inner
// content type, epochs early -> handshake -> application, KeyUpdate) and TLS 1.2 AEAD records
// (RFC 5246 §6.2.3.3, RFC 5288, RFC 7905). Plaintext goes to the inner sink from a fixed buffer.
#include <cstring>

#include "front_state.h"

namespace wsdiag::tls {

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

void TlsFront::State::DirState::fail(PacketRef at) {
  failed = true;
  auto& df = f();
  if (!df.decrypt_failed) {
    df.decrypt_failed = true;
    df.decrypt_failed_at = at;
  }
  st.facts.keys = KeyStatus::failed;
}

void TlsFront::State::DirState::not_decrypted(const RecordHeader& h, PacketRef at) {
  ++f().undecrypted_records;
  if (h.type == content::alert && !st.tls13()) note_alert(0, 0, true, h.length, at);
}

bool TlsFront::State::DirState::secret_missing() const {
  // Without the ServerHello nothing can be decrypted, whatever the key log says.
  if (!st.facts.server_hello) return false;
  if (!st.secrets) return true;
  const Secrets& s = *st.secrets;
  if (!st.tls13()) return !s.master.present();
  const bool c2s = dir == Dir::c2s;
  const Secret& hs = c2s ? s.client_handshake : s.server_handshake;
  const Secret& app0 = c2s ? s.client_app0 : s.server_app0;
  switch (epoch) {
    case Epoch::none:
      return !hs.present() && !app0.present();  // no keys yet for this direction
    case Epoch::early:
      return !hs.present() || !app0.present();
    case Epoch::handshake:
      return !app0.present();  // the record may be under the next secret
    case Epoch::app:
      return false;  // later secrets come from this one (KeyUpdate), not from the key log
  }
  return false;
}

TlsFront::State::Opened TlsFront::State::DirState::open_record(const RecordHeader& h, Bytes body, PacketRef at) {
  const bool keyed = can_decrypt() || (epoch == Epoch::early && !failed);
  if (!keyed && !failed && body.size() == h.length && h.length != 0 && st.may_wait() && secret_missing()) {
    return Opened::wait;
  }
  if (body.empty() || !keyed) {
    not_decrypted(h, at);
    return Opened::done;
  }
  return st.tls13() || epoch == Epoch::early ? decrypt13(h, body, at) : decrypt12(h, body, at);
}

long TlsFront::State::DirState::try_open(const RecordHeader& h, Bytes body) {
  return dec->open(h.type, h.version, body, std::span<std::uint8_t>(out.get(), kMaxRecordBody));
}

TlsFront::State::Opened TlsFront::State::DirState::decrypt12(const RecordHeader& h, Bytes body, PacketRef at) {
  const long n = try_open(h, body);
  if (n < 0) {
    ++f().undecrypted_records;
    fail(at);
    return Opened::done;
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
  return Opened::done;
}

TlsFront::State::Opened TlsFront::State::DirState::decrypt13(const RecordHeader& h, Bytes body, PacketRef at) {
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
      return Opened::done;
    }
  }
  long n = try_open(h, body);
  if (n < 0 && !st.secrets_complete()) st.late_lookup();  // live: the next secret may be logged by now
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
    // Live mode: the record may be under a secret the client has not logged yet.
    if (st.may_wait() && secret_missing()) return Opened::wait;
    ++f().undecrypted_records;
    fail(at);
    return Opened::done;
  }
  st.decrypted_any = true;
  // RFC 8446 §5.2: TLSInnerPlaintext = content || type || zeros.
  std::size_t len = static_cast<std::size_t>(n);
  while (len > 0 && out[len - 1] == 0) --len;
  if (len == 0) {
    fail(at);  // no content type: not a valid record
    return Opened::done;
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
    if (!(c2s ? st.secrets->client_app0 : st.secrets->server_app0).present()) st.late_lookup();
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
  return Opened::done;
}

}  // namespace wsdiag::tls
