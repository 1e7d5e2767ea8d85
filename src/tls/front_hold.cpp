// wsdiag — the TLS layer in live mode: records that arrive before their secret is logged are held
// (held_records.h), in arrival order across both directions, and decrypted in that order once the
// key log has the secret. A client logs a TLS 1.3 secret only after it has used it, so this is the
// normal case on a fast link, not an accident. Bounded by Limits::tls_held_*; the budget hit is
// `limit-tls-held`, and the connection then judges what it holds with the secrets logged so far,
// as offline analysis of the same capture and key log would.
#include "front_state.h"

namespace wsdiag::tls {

bool TlsFront::State::may_wait() const {
  return keys != nullptr && keys->given() && keys->follows() && facts.client_hello && !gave_up_waiting &&
         !flushing && !unsupported;
}

void TlsFront::State::protect(DirState& ds, const RecordHeader& h, Bytes body, PacketRef at) {
  if (!held.empty()) {
    // Records wait already: this one goes behind them, whatever its own keys (order), after a
    // look at the key log in case their secret came meanwhile.
    late_lookup();
    if (secrets_gen != tried_gen) release();
  }
  if (held.empty() && ds.open_record(h, body, at) == Opened::done) return;
  if (body.size() != h.length || h.length == 0) {
    // Not kept (wants_body() keeps every record that may wait, so this one never decrypts): no
    // plaintext can come from it, so judging it now does not reorder anything.
    ds.open_record(h, body, at);
    return;
  }
  if (may_wait() && held.push(ds.dir, h, body, at)) {
    ++ds.f().waited_records;
    tried_gen = secrets_gen;
    return;
  }
  if (may_wait()) {
    // Over budget: stop waiting; everything held is judged now, then this record.
    auto& f = ds.f();
    f.held_limit = true;
    f.held_limit_at = at;
    f.held_limit_records = held.size();
    f.held_limit_bytes = held.bytes();
    gave_up_waiting = true;
  }
  flush();
  ds.cur_at = at;
  ds.open_record(h, body, at);
}

void TlsFront::State::release() {
  tried_gen = secrets_gen;
  while (!held.empty()) {
    const HeldRecords::Record r = held.front();
    auto& ds = dir(r.dir);
    ds.cur_at = r.at;
    if (ds.open_record(r.header, r.body, r.at) == Opened::wait) return;
    held.pop_front();
  }
}

void TlsFront::State::flush(const Dir* until_none_of) {
  flushing = true;  // may_wait() is false: open_record decrypts or judges
  while (!held.empty() && (until_none_of == nullptr || held.held(*until_none_of) > 0)) {
    const HeldRecords::Record r = held.front();
    auto& ds = dir(r.dir);
    ds.cur_at = r.at;
    ds.open_record(r.header, r.body, r.at);
    held.pop_front();
  }
  flushing = false;
}

void TlsFront::State::settle(Dir d) {
  if (held.held(d) == 0) return;
  late_lookup();
  release();
  flush(&d);
}

}  // namespace wsdiag::tls
