// wsdiag — judgement about TLS connections (wss://). See tls_verdict.h.
#include "wsdiag/diag/tls_verdict.h"

#include <fmt/format.h>

#include <algorithm>

#include <array>

#include "wsdiag/tls/record.h"

namespace wsdiag::diag {

namespace {

using tls::KeyStatus;

constexpr std::array<KeyLogHowTo, 7> kHowTo{{
    {"Chrome, Chromium, Edge, Firefox",
     "start the browser with the environment variable SSLKEYLOGFILE=/path/keys.txt (or "
     "--ssl-key-log-file=/path/keys.txt for Chromium)"},
    {"Node.js", "tlsSocket.on('keylog', line => fs.appendFileSync('keys.txt', line)) on the client or "
                "server ('keylog' event on tls.Server / https.Agent), or run node --tls-keylog=keys.txt"},
    {"Python (ssl, websockets, aiohttp)",
     "ctx = ssl.create_default_context(); ctx.keylog_filename = 'keys.txt' (Python 3.8+), or set "
     "SSLKEYLOGFILE for contexts made by ssl.create_default_context()"},
    {"curl", "SSLKEYLOGFILE=/path/keys.txt curl ... (OpenSSL, GnuTLS and NSS builds)"},
    {"Go", "tls.Config{KeyLogWriter: f} with f an opened key log file"},
    {"Java", "no built-in key log: use a javaagent such as jSSLKeyLog"},
    {"nginx, HAProxy, other servers",
     "log from the client side instead, or use the server's key-log option where it has one"},
}};

std::string dur(std::optional<double> ms) { return ms ? format_duration_ms(*ms) : std::string("?"); }

// What the last records tell about how TLS ended, without keys.
std::string close_notify_text(const tls::TlsFacts& t, Side side) {
  const tls::TlsDirFacts& d = side == Side::client ? t.c2s : t.s2c;
  const char* who = side == Side::client ? "client" : "server";
  if (d.alert.seen && !d.alert.encrypted) {
    return fmt::format("the {} sent a TLS {} alert ({}) at packet {}", who,
                       d.alert.level == 2 ? "fatal" : "warning", tls::alert_name(d.alert.description),
                       d.alert.at.index);
  }
  if (d.encrypted_alert_record) {
    return fmt::format("the {} sent an encrypted TLS alert record at packet {} (close_notify or a fatal alert: "
                       "not distinguishable without keys)",
                       who, d.alert.at.index);
  }
  // TLS 1.3 hides the record type: an alert is 2 bytes + the inner type + a 16-byte tag.
  if (t.version == 0x0304 && d.last_type == tls::content::application_data && d.last_len == 19) {
    return fmt::format("the {}'s last record (packet {}) has the size of an encrypted alert, 19 bytes (usually "
                       "close_notify; not provable without keys)",
                       who, d.last_record.index);
  }
  if (d.records == 0) return fmt::format("the {} sent no TLS record", who);
  return fmt::format("no close_notify seen from the {} (its last record, packet {}, was {} bytes)", who,
                     d.last_record.index, d.last_len);
}

// A fatal alert sent in plaintext or decrypted (not close_notify or user_canceled).
const tls::TlsDirFacts* fatal_alert(const tls::TlsFacts& t) {
  for (const auto* d : {&t.c2s, &t.s2c}) {
    if (d->alert.seen && !d->alert.encrypted && d->alert.description != 0 && d->alert.description != 90) return d;
  }
  return nullptr;
}

// Provably never completed: only when no record of either side was lost or unparsed.
bool handshake_failed(const tls::TlsFacts& t) {
  for (const auto* d : {&t.c2s, &t.s2c}) {
    if (d->gap || d->malformed || d->limit_hit) return false;
  }
  return t.client_hello && !t.handshake_complete();
}

}  // namespace

bool tls_verdict_applies(const ConnectionSummary& s) {
  if (!s.tls) return false;
  if (s.tls->keys == KeyStatus::failed) return true;
  return !s.websocket;
}

Verdict make_tls_verdict(const ConnectionSummary& s) {
  const tls::TlsFacts& t = *s.tls;
  const TcpEndSummary& e = s.tcp_end;
  Verdict v;
  v.side = e.initiator;
  const std::string sni = t.sni.empty() ? std::string("(no SNI)") : t.sni;
  const std::string ver = t.version != 0 ? tls::version_name(t.version)
                                         : (t.client_max_version != 0 ? tls::version_name(t.client_max_version) + " offered"
                                                                      : std::string("version unknown"));
  std::string ending;
  if (e.how == TcpEndHow::open) {
    ending = "still open at the end of the capture";
  } else {
    ending = fmt::format("TCP ended by {} from the {} (packet {}) after {} idle", e.initiated_by_rst ? "RST" : "FIN",
                         to_string(e.initiator), e.initiated_at.index, dur(e.idle_before_ms));
  }
  const double lasted = ms_between(s.first, s.last);
  const bool h2 = t.alpn == "h2";
  const bool hs_failed = handshake_failed(t);
  if (hs_failed) {
    v.name = "TLS handshake failed";
    v.severity = Severity::error;
  } else if (t.keys == KeyStatus::failed) {
    v.name = "TLS decryption failed";
    v.severity = Severity::warning;
  } else if (h2 && t.keys == KeyStatus::decrypted) {
    v.name = "WebSocket over HTTP/2";
  } else {
    v.name = "TLS, not decrypted";
    v.severity = e.how == TcpEndHow::rst ? Severity::warning : Severity::info;
  }
  v.summary = fmt::format("{} to {}: {}; lasted {}", ver, sni, ending, format_duration_ms(lasted));

  std::string facts;
  if (t.client_hello) {
    facts = fmt::format("ClientHello at packet {} (SNI {}, ALPN offered {})", t.client_hello_at.index, sni,
                        t.alpn_offered.empty() ? "none" : t.alpn_offered);
  } else {
    facts = "The TLS handshake was not captured (the capture starts after it)";
  }
  if (t.server_hello) {
    facts += fmt::format("; ServerHello at packet {}: {}, {}{}{}", t.server_hello_at.index, ver,
                         tls::cipher_name(t.cipher), t.alpn.empty() ? "" : ", ALPN ", t.alpn);
  }
  if (t.hello_retry) facts += "; the server asked for a new key share (HelloRetryRequest)";
  if (t.psk_accepted) facts += "; resumed session (PSK)";
  facts += fmt::format(". Application data: {} records ({} bytes) from the client, {} ({} bytes) from the server.",
                       t.c2s.app_records, t.c2s.app_bytes, t.s2c.app_records, t.s2c.app_bytes);
  std::string tls_end;
  if (e.initiator == Side::client || e.initiator == Side::server) {
    tls_end = fmt::format(" Before TCP ended, {}; {}.", close_notify_text(t, e.initiator),
                          close_notify_text(t, e.initiator == Side::client ? Side::server : Side::client));
  }
  if (hs_failed) {
    const tls::TlsDirFacts* fa = fatal_alert(t);
    std::string what;
    if (fa != nullptr) {
      what = fmt::format("The {} refused the TLS handshake with a fatal {} alert (packet {}).",
                         fa == &t.c2s ? "client" : "server", tls::alert_name(fa->alert.description), fa->alert.at.index);
    } else if (!t.server_hello) {
      what = "The server never answered the ClientHello with a ServerHello.";
    } else {
      what = fmt::format("The {} never finished its part of the handshake{}.",
                         !t.c2s.handshake_done ? "client" : "server",
                         !t.c2s.handshake_done
                             ? " after the server's certificate flight: the usual reason is that the client did not "
                               "accept the certificate (untrusted CA or self-signed, wrong host name, expired)"
                             : "");
    }
    v.cause = fmt::format("{} No HTTP request and no WebSocket connection followed; {}. {}{}", what,
                          e.how == TcpEndHow::open ? std::string("the connection was still open")
                                                   : fmt::format("TCP ended by {} from the {} (packet {})",
                                                                 e.initiated_by_rst ? "RST" : "FIN",
                                                                 to_string(e.initiator), e.initiated_at.index),
                          facts, tls_end);
    v.advice = "Check the server certificate from the client's point of view (openssl s_client -connect HOST:443 "
               "-servername " + (t.sni.empty() ? std::string("HOST") : t.sni) +
               "): chain and CA trusted by the client, name matching the SNI, validity dates; and that both "
               "sides share a TLS version and cipher suite. Browsers show the reason in the console "
               "(net::ERR_CERT_...).";
    return v;
  }
  if (t.keys == KeyStatus::failed) {
    const auto& d = t.c2s.decrypt_failed ? t.c2s : t.s2c;
    v.cause = fmt::format(
        "The key log holds secrets for this connection's client random, but the {}'s record at packet {} did "
        "not authenticate with them, so nothing from there on was decoded and no WebSocket close code is "
        "claimed. {}{}",
        t.c2s.decrypt_failed ? "client" : "server", d.decrypt_failed_at.index, facts, tls_end);
    v.advice = rule_info(RuleId::tls_decrypt_failed).advice;
    return v;
  }
  if (h2 && t.keys == KeyStatus::decrypted) {
    v.cause = fmt::format("{} {}{}", rule_info(RuleId::tls_h2).cause, facts, tls_end);
    v.advice = std::string(rule_info(RuleId::tls_h2).advice);
    return v;
  }
  std::string why;
  switch (t.keys) {
    case KeyStatus::no_keylog: why = "no key log was given"; break;
    case KeyStatus::no_hello: why = "the ClientHello (whose random indexes the key log) was not captured"; break;
    case KeyStatus::not_found: why = "the key log has no secret for this connection's client random"; break;
    case KeyStatus::unsupported:
      why = fmt::format("its cipher suite ({}) is not one wsdiag decrypts (AEAD suites only)", tls::cipher_name(t.cipher));
      break;
    default: why = "its keys were not available"; break;
  }
  v.cause = fmt::format(
      "A TLS connection (a WebSocket-over-TLS candidate), not decrypted: {}. Without the plaintext the HTTP "
      "upgrade, the WebSocket frames and any Close code cannot be seen, so no close code is claimed; only what "
      "TCP and TLS prove is reported. {}{}",
      why, facts, tls_end);
  if (t.keys == KeyStatus::no_hello) {
    v.advice = "Start the capture before the connection opens (the ClientHello is needed), and log the TLS keys: " +
               keylog_advice();
  } else {
    v.advice = "Log the TLS keys and run wsdiag --tls-keylog keys.txt (or set SSLKEYLOGFILE): " + keylog_advice();
  }
  return v;
}

bool tls_candidate(const ConnectionSummary& s) noexcept {
  if (!s.tls || s.websocket) return false;
  return s.tls->keys != KeyStatus::decrypted || s.tls->alpn == "h2" || handshake_failed(*s.tls) ||
         fatal_alert(*s.tls) != nullptr;
}

namespace {

// The packet of the alert record that was this direction's last record, if it was one: a
// plaintext or decrypted alert, a TLS 1.2 encrypted alert record, or (TLS 1.3, not decrypted) a
// last record of an encrypted alert's size.
PacketRef closing_alert(const tls::TlsFacts& t, const tls::TlsDirFacts& d, std::string& what) {
  if (d.records == 0 || d.last_record.index == 0) return {};
  if (d.alert.seen && d.alert.at.index == d.last_record.index) {
    what = d.alert.encrypted ? std::string("an encrypted TLS alert record")
                             : fmt::format("TLS {}", tls::alert_name(d.alert.description));
    return d.alert.at;
  }
  if (t.version == 0x0304 && d.last_type == tls::content::application_data && d.last_len == 19 &&
      d.handshake_done) {
    what = "a TLS record of an encrypted alert's size";
    return d.last_record;
  }
  return {};
}

// The last record of d sent before packet `before` (its last, or the one before that).
PacketRef record_before(const tls::TlsDirFacts& d, std::uint64_t before) {
  if (d.last_record.index != 0 && d.last_record.index < before) return d.last_record;
  if (d.prev_record.index != 0 && d.prev_record.index < before) return d.prev_record;
  return {};
}

}  // namespace

std::optional<TlsEnding> tls_ending(const ConnectionSummary& s) {
  if (!s.tls) return std::nullopt;
  const tls::TlsFacts& t = *s.tls;
  const TcpEndSummary& e = s.tcp_end;
  TlsEnding out;
  for (const Dir d : {Dir::c2s, Dir::s2c}) {
    std::string what;
    const PacketRef at = closing_alert(t, t.dir(d), what);
    if (at.index == 0) continue;
    // Only an alert before TCP's ending began starts the ending (a FIN in the same packet: TCP's own).
    if (e.how != TcpEndHow::open && e.initiated_at.index != 0 && at.index >= e.initiated_at.index) continue;
    if (out.at.index == 0 || at.index < out.at.index) {
      out.by = side_of(d);
      out.at = at;
      out.what = std::move(what);
    }
  }
  if (out.at.index == 0) return std::nullopt;
  const tls::TlsDirFacts& mine = t.dir(out.by == Side::client ? Dir::c2s : Dir::s2c);
  const tls::TlsDirFacts& peer = t.dir(out.by == Side::client ? Dir::s2c : Dir::c2s);
  const PacketRef a = mine.prev_record;  // the alert is its sender's last record
  const PacketRef b = record_before(peer, out.at.index);
  const PacketRef from = a.index > b.index ? a : b;
  // Unknown when the peer's records before the alert are not both remembered (it sent two or
  // more after it).
  const bool peer_known = peer.last_record.index < out.at.index || peer.prev_record.index < out.at.index ||
                          peer.records < 2;
  if (from.index != 0 && peer_known) out.idle_ms = ms_between(from, out.at);
  return out;
}

bool tls_opaque(const ConnectionSummary& s) noexcept { return tls_candidate(s) && !handshake_failed(*s.tls); }

void add_tls_findings(ConnectionSummary& s) {
  if (!s.tls) return;
  const tls::TlsFacts& t = *s.tls;
  for (const Dir d : {Dir::c2s, Dir::s2c}) {
    const tls::TlsDirFacts& f = t.dir(d);
    const Side side = side_of(d);
    const char* who = d == Dir::c2s ? "client" : "server";
    if (f.decrypt_failed) {
      s.findings.push_back({RuleId::tls_decrypt_failed, side, f.decrypt_failed_at,
                            fmt::format("the {}'s record at packet {} did not authenticate with the logged secret; "
                                        "{} of its records left undecrypted",
                                        who, f.decrypt_failed_at.index, f.undecrypted_records)});
    }
    if (f.alert.seen && !f.alert.encrypted && f.alert.description != 0 && f.alert.description != 90) {
      s.findings.push_back({RuleId::tls_alert, side, f.alert.at,
                            fmt::format("the {} sent a {} alert {} ({})", who, f.alert.level == 2 ? "fatal" : "warning",
                                        tls::alert_name(f.alert.description), f.alert.description)});
    }
    // With the WebSocket layer visible the session reports capture problems itself.
    if (!s.websocket && f.gap_bytes > 0) {
      s.findings.push_back({RuleId::capture_gap, side, f.first_gap,
                            fmt::format("{} bytes from the {} missing from the capture in {} gap(s)", f.gap_bytes, who,
                                        f.gaps)});
    }
    if (!s.websocket && f.snaplen_bytes > 0) {
      s.findings.push_back({RuleId::snaplen_truncated, side, f.first_snaplen,
                            fmt::format("{} payload bytes from the {} cut off by the capture's snaplen",
                                        f.snaplen_bytes, who)});
    }
    if (f.malformed) {
      s.findings.push_back({RuleId::tls_malformed, side, f.problem_at,
                            fmt::format("the {}'s stream stopped being TLS records at packet {}", who, f.problem_at.index)});
    }
    if (f.limit_hit) {
      s.findings.push_back({RuleId::limit_tls_record, side, f.problem_at,
                            fmt::format("a {}-byte TLS record from the {}", f.malformed_len, who)});
    }
    // Only when some secret of this connection was logged: a client that logs nothing makes
    // every record wait until the budget, and then the budget is not the problem.
    const bool logged = (t.keys != KeyStatus::not_found && t.keys != KeyStatus::no_keylog) || t.keys_logged_late;
    if (f.held_limit && logged) {
      s.findings.push_back({RuleId::limit_tls_held, side, f.held_limit_at,
                            fmt::format("{} TLS records ({} bytes) waited for a secret not yet in the key log when "
                                        "the {}'s record at packet {} came; they were judged with the secrets "
                                        "logged by then{}",
                                        f.held_limit_records, f.held_limit_bytes, who, f.held_limit_at.index,
                                        t.keys_logged_late ? " (none: this connection's secrets were logged only "
                                                             "later)"
                                                           : "")});
    }
  }
  if (t.alpn == "h2") {
    s.findings.push_back({RuleId::tls_h2, Side::server, t.server_hello_at, "ALPN h2 selected"});
  }
  std::stable_sort(s.findings.begin(), s.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.at.index < b.at.index; });
}

std::span<const KeyLogHowTo> keylog_howto() noexcept { return kHowTo; }

std::string keylog_advice() {
  std::string out;
  for (const auto& h : kHowTo) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {}", h.stack, h.how);
  }
  out += ". A pcapng with the secrets inside (editcap --inject-secrets tls,keys.txt) needs no option.";
  return out;
}

}  // namespace wsdiag::diag
