// The TLS layer as a StreamSink: plain connections pass through, ClientHello/ServerHello facts,
// decryption with a key log (RFC 8448 §3 records) split at every position, wrong keys, no keys,
// plaintext alerts, HelloRetryRequest, and records after a gap.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tls13_sealer.h"
#include "tls_test_util.h"
#include "wsdiag/tls/tls_front.h"

using namespace wsdiag;
using namespace wsdiag::tls;
using namespace wsdiag::tls::test;

namespace {

const char* kClientApp = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
const auto kClientAppRecord = hex(
    "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b 98 19 a8"
    "a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4");
const auto kClientAlertRecord = hex("17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3");

struct Inner : reassembly::StreamSink {
  std::vector<std::uint8_t> data[2];
  std::vector<std::uint64_t> packets[2];  // packet of each delivery
  std::uint64_t gaps = 0;
  int ends = 0;
  void on_data(Dir d, Bytes b, PacketRef at) override {
    data[static_cast<int>(d)].insert(data[static_cast<int>(d)].end(), b.begin(), b.end());
    packets[static_cast<int>(d)].push_back(at.index);
  }
  void on_gap(Dir, std::uint64_t len, reassembly::GapReason, PacketRef) override { gaps += len; }
  void on_end(Dir, reassembly::EndReason, PacketRef) override { ++ends; }
};

// ClientHello (random 0x11..) and a TLS 1.3 ServerHello with TLS_AES_128_GCM_SHA256.
void handshake13(TlsFront& f, bool early = false) {
  f.on_data(Dir::c2s, record(22, handshake(1, client_hello_body(0x11, "ws.example", {"http/1.1"}, early)), 0x0301),
            PacketRef{4, 0});
  f.on_data(Dir::s2c, record(22, handshake(2, server_hello_body(0x1301, true))), PacketRef{6, 0});
  f.on_data(Dir::c2s, record(20, {1}), PacketRef{8, 0});  // middlebox-compatibility CCS
}

std::vector<std::uint8_t> zero_to_49() {
  std::vector<std::uint8_t> v;
  for (int i = 0; i < 50; ++i) v.push_back(static_cast<std::uint8_t>(i));
  return v;
}

}  // namespace

TEST_CASE("plain connections pass through untouched") {
  Inner in;
  Limits limits;
  TlsFront f(in, limits, nullptr);
  const std::string get = "GET /chat HTTP/1.1\r\nHost: x\r\n\r\n";
  f.on_data(Dir::c2s, Bytes(reinterpret_cast<const std::uint8_t*>(get.data()), get.size()), PacketRef{1, 0});
  f.on_gap(Dir::s2c, 10, reassembly::GapReason::capture_loss, PacketRef{2, 0});
  f.on_end(Dir::c2s, reassembly::EndReason::fin, PacketRef{3, 0});
  CHECK_FALSE(f.is_tls());
  CHECK(std::string(in.data[0].begin(), in.data[0].end()) == get);
  CHECK(in.gaps == 10);
  CHECK(in.ends == 1);
}

TEST_CASE("hello facts without keys: nothing reaches HTTP, records are measured") {
  Inner in;
  Limits limits;
  TlsFront f(in, limits, nullptr);
  handshake13(f);
  f.on_data(Dir::c2s, kClientAppRecord, PacketRef{10, 0});
  f.on_data(Dir::c2s, kClientAlertRecord, PacketRef{11, 0});
  REQUIRE(f.is_tls());
  const TlsFacts t = f.facts();
  CHECK(t.client_hello);
  CHECK(t.server_hello);
  CHECK(t.sni == "ws.example");
  CHECK(t.alpn_offered == "http/1.1");
  CHECK(t.client_max_version == 0x0304);
  CHECK(t.version == 0x0304);
  CHECK(t.cipher == 0x1301);
  CHECK(t.key_share);
  CHECK(t.session_id_len == 32);
  CHECK(t.client_hello_at.index == 4);
  CHECK(t.keys == KeyStatus::no_keylog);
  CHECK(t.c2s.app_records == 2);
  CHECK(t.c2s.last_len == 19);  // the size of an encrypted alert
  CHECK(t.c2s.last_record.index == 11);
  CHECK(in.data[0].empty());
}

TEST_CASE("with the key log, application data decrypts into HTTP with the record's packet, split anywhere") {
  KeyLog keys;
  keys.add_text(std::string("CLIENT_TRAFFIC_SECRET_0 ") + random_hex(0x11) + " " + kClientApp + "\n");
  Limits limits;
  std::vector<std::uint8_t> stream = kClientAppRecord;
  append(stream, kClientAlertRecord);
  for (std::size_t i = 0; i <= kClientAppRecord.size(); ++i) {
    Inner in;
    TlsFront f(in, limits, &keys);
    handshake13(f);
    f.on_data(Dir::c2s, Bytes(stream).first(i), PacketRef{20, 0});
    f.on_data(Dir::c2s, Bytes(stream).subspan(i), PacketRef{21, 0});
    INFO("split at " << i);
    REQUIRE(in.data[0] == zero_to_49());
    // The record's last byte came in packet 21 unless the first piece held all of it.
    CHECK(in.packets[0] == std::vector<std::uint64_t>{i == kClientAppRecord.size() ? 20u : 21u});
    const TlsFacts t = f.facts();
    CHECK(t.keys == KeyStatus::decrypted);
    CHECK(t.c2s.close_notify);
    CHECK(t.c2s.alert.description == 0);
    CHECK_FALSE(t.c2s.alert.encrypted);
    CHECK(t.c2s.plaintext_bytes == 50);
  }
}

TEST_CASE("a key that does not decrypt is a failure, never garbage") {
  KeyLog keys;
  std::string wrong = kClientApp;
  wrong[0] = wrong[0] == '9' ? '8' : '9';
  keys.add_text("CLIENT_TRAFFIC_SECRET_0 " + random_hex(0x11) + " " + wrong + "\n");
  Inner in;
  Limits limits;
  TlsFront f(in, limits, &keys);
  handshake13(f);
  f.on_data(Dir::c2s, kClientAppRecord, PacketRef{10, 0});
  f.on_data(Dir::c2s, kClientAlertRecord, PacketRef{11, 0});
  const TlsFacts t = f.facts();
  CHECK(t.keys == KeyStatus::failed);
  CHECK(t.c2s.decrypt_failed);
  CHECK(t.c2s.decrypt_failed_at.index == 10);
  CHECK(in.data[0].empty());
}

TEST_CASE("a key log without this client random: key not found") {
  KeyLog keys;
  keys.add_text("CLIENT_TRAFFIC_SECRET_0 " + random_hex(0x22) + " " + kClientApp + "\n# comment\nnonsense\n");
  CHECK(keys.size() == 1);
  CHECK(keys.bad_lines() == 1);
  Inner in;
  Limits limits;
  TlsFront f(in, limits, &keys);
  handshake13(f);
  f.on_data(Dir::c2s, kClientAppRecord, PacketRef{10, 0});
  CHECK(f.facts().keys == KeyStatus::not_found);
  CHECK(in.data[0].empty());
}

TEST_CASE("TLS 1.2 plaintext fatal alert and HelloRetryRequest are recorded") {
  Inner in;
  Limits limits;
  TlsFront f(in, limits, nullptr);
  f.on_data(Dir::c2s, record(22, handshake(1, client_hello_body(0x11, "a", {})), 0x0301), PacketRef{1, 0});
  auto hrr = server_hello_body(0x1301, true);
  const auto hrr_random = hex("CF 21 AD 74 E5 9A 61 11 BE 1D 8C 02 1E 65 B8 91 C2 A2 11 16 7A BB 8C 5E 07 9E 09 E2 C8 A8 33 9C");
  std::copy(hrr_random.begin(), hrr_random.end(), hrr.begin() + 2);
  f.on_data(Dir::s2c, record(22, handshake(2, hrr)), PacketRef{2, 0});
  CHECK(f.facts().hello_retry);
  CHECK_FALSE(f.facts().server_hello);
  f.on_data(Dir::s2c, record(21, {2, 40}), PacketRef{3, 0});
  const TlsFacts t = f.facts();
  CHECK(t.s2c.alert.seen);
  CHECK(t.s2c.alert.level == 2);
  CHECK(t.s2c.alert.description == 40);
  CHECK(std::string(alert_name(40)) == "handshake_failure");
}

TEST_CASE("a capture that starts after the handshake is recognised by its records") {
  Inner in;
  Limits limits;
  TlsFront f(in, limits, nullptr);
  std::vector<std::uint8_t> s = record(23, std::vector<std::uint8_t>(30, 1));
  append(s, record(23, std::vector<std::uint8_t>(20, 2)));
  f.on_data(Dir::s2c, s, PacketRef{1, 0});
  REQUIRE(f.is_tls());
  const TlsFacts t = f.facts();
  CHECK(t.midstream);
  CHECK(t.s2c.app_records == 2);
}

TEST_CASE("after a gap in a kept record, TLS parsing of that direction stops and the gap goes up") {
  KeyLog keys;
  keys.add_text(std::string("CLIENT_TRAFFIC_SECRET_0 ") + random_hex(0x11) + " " + kClientApp + "\n");
  Inner in;
  Limits limits;
  TlsFront f(in, limits, &keys);
  handshake13(f);
  f.on_data(Dir::c2s, Bytes(kClientAppRecord).first(30), PacketRef{10, 0});
  f.on_gap(Dir::c2s, 10, reassembly::GapReason::capture_loss, PacketRef{11, 0});
  f.on_data(Dir::c2s, Bytes(kClientAppRecord).subspan(40), PacketRef{12, 0});
  f.on_data(Dir::c2s, kClientAlertRecord, PacketRef{13, 0});
  const TlsFacts t = f.facts();
  CHECK(t.c2s.gap);
  CHECK(in.data[0].empty());
  CHECK(in.gaps == 10);
}

// ---- a whole TLS 1.3 session sealed here with libcrypto (the test's own sealer) -------------------

#include "wsdiag/tls/hello.h"

TEST_CASE("TLS 1.3 with every secret logged: early data, handshake keys, ALPN, Finished, KeyUpdate") {
  const std::vector<std::uint8_t> early(32, 0xE1), chs(32, 0xC1), shs(32, 0x51), capp(32, 0xCA), sapp(32, 0x5A);
  KeyLog keys;
  const std::string cr = random_hex(0x11);
  keys.add_text("CLIENT_EARLY_TRAFFIC_SECRET " + cr + " " + hex_of(early) + "\n" +
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + hex_of(chs) + "\n" +
                "SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + hex_of(shs) + "\n" +
                "CLIENT_TRAFFIC_SECRET_0 " + cr + " " + hex_of(capp) + "\n" +
                "SERVER_TRAFFIC_SECRET_0 " + cr + " " + hex_of(sapp) + "\n");
  Sealer e(early), ch(chs), sh(shs), ca(capp), sa(sapp);
  std::vector<std::uint8_t> sapp1(32);
  REQUIRE(tls13_next_secret(*suite_info(0x1301), sapp, sapp1));
  Sealer sa1(sapp1);

  Inner in;
  Limits limits;
  TlsFront f(in, limits, &keys);
  f.on_data(Dir::c2s, record(22, handshake(1, client_hello_body(0x11, "ws.example", {"http/1.1"}, true)), 0x0301),
            PacketRef{1, 0});
  f.on_data(Dir::c2s, e.seal(23, bytes_of("GET /early")), PacketRef{2, 0});       // 0-RTT data
  f.on_data(Dir::c2s, e.seal(22, handshake(hs::end_of_early_data, {})), PacketRef{3, 0});
  f.on_data(Dir::s2c, record(22, handshake(2, server_hello_body(0x1301, true))), PacketRef{4, 0});
  std::vector<std::uint8_t> ee_fin;
  {
    std::vector<std::uint8_t> alpn;
    put16(alpn, 9);
    alpn.push_back(8);
    append(alpn, "http/1.1");
    std::vector<std::uint8_t> exts;
    append(exts, extension(16, alpn));
    std::vector<std::uint8_t> ee;
    put16(ee, exts.size());
    append(ee, exts);
    append(ee_fin, handshake(hs::encrypted_extensions, ee));
    append(ee_fin, handshake(hs::finished, std::vector<std::uint8_t>(32, 0xF1)));
  }
  // The server's flight, its record split across two TCP segments.
  const auto flight = sh.seal(22, ee_fin);
  f.on_data(Dir::s2c, Bytes(flight).first(10), PacketRef{5, 0});
  f.on_data(Dir::s2c, Bytes(flight).subspan(10), PacketRef{6, 0});
  f.on_data(Dir::s2c, sa.seal(23, bytes_of("hello")), PacketRef{7, 0});
  f.on_data(Dir::c2s, ch.seal(22, handshake(hs::finished, std::vector<std::uint8_t>(32, 0xF2))), PacketRef{8, 0});
  f.on_data(Dir::c2s, ca.seal(23, bytes_of("client")), PacketRef{9, 0});
  // KeyUpdate (update_not_requested) and the next record under the next secret, in one segment.
  std::vector<std::uint8_t> both = sa.seal(22, handshake(hs::key_update, {0}));
  append(both, sa1.seal(23, bytes_of("after")));
  f.on_data(Dir::s2c, both, PacketRef{10, 0});
  f.on_data(Dir::s2c, sa1.seal(21, {1, 0}), PacketRef{11, 0});

  const TlsFacts t = f.facts();
  CHECK(t.keys == KeyStatus::decrypted);
  CHECK(t.early_data_offered);
  CHECK(t.alpn == "http/1.1");
  CHECK(std::string(in.data[0].begin(), in.data[0].end()) == "GET /earlyclient");
  CHECK(in.packets[0] == std::vector<std::uint64_t>{2, 9});
  CHECK(std::string(in.data[1].begin(), in.data[1].end()) == "helloafter");
  CHECK(in.packets[1] == std::vector<std::uint64_t>{7, 10});
  CHECK(t.s2c.close_notify);
  CHECK_FALSE(t.c2s.decrypt_failed);
  CHECK_FALSE(t.s2c.decrypt_failed);
}

TEST_CASE("hostile input: random and mutated records in random pieces never crash or leak plaintext") {
  KeyLog keys;
  keys.add_text(std::string("CLIENT_TRAFFIC_SECRET_0 ") + random_hex(0x11) + " " + kClientApp + "\n");
  Limits limits;
  limits.tls_record_bytes = 512;  // small, so the limit is hit too
  std::uint32_t x = 12345;
  auto rnd = [&] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  std::vector<std::uint8_t> base = record(22, handshake(1, client_hello_body(0x11, "a", {"h2", "http/1.1"}, true)), 0x0301);
  append(base, kClientAppRecord);
  append(base, kClientAlertRecord);
  int decrypted = 0, failed = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<std::uint8_t> s = base;
    const int flips = static_cast<int>(rnd() % 8);
    for (int i = 0; i < flips; ++i) s[rnd() % s.size()] ^= static_cast<std::uint8_t>(1u << (rnd() % 8));
    if (iter % 3 == 0) {
      for (auto& b : s) b = static_cast<std::uint8_t>(rnd());
      s[0] = 22;
      s[1] = 3;
      s[5] = 1;
    }
    Inner in;
    TlsFront f(in, limits, &keys);
    std::size_t pos = 0;
    std::uint64_t pkt = 2;
    bool sh_sent = false;
    while (pos < s.size()) {
      const std::size_t n = std::min<std::size_t>(s.size() - pos, 1 + rnd() % 64);
      if (!sh_sent && pos > 0 && (pos >= base.size() - kClientAppRecord.size() - kClientAlertRecord.size() ||
                                  rnd() % 4 == 0)) {
        f.on_data(Dir::s2c, record(22, handshake(2, server_hello_body(0x1301, true))), PacketRef{pkt++, 0});
        sh_sent = true;
      }
      if (rnd() % 50 == 0) f.on_gap(Dir::c2s, n, reassembly::GapReason::capture_loss, PacketRef{pkt, 0});
      else f.on_data(Dir::c2s, Bytes(s).subspan(pos, n), PacketRef{pkt, 0});
      pos += n;
      ++pkt;
    }
    f.on_end(Dir::c2s, reassembly::EndReason::fin, PacketRef{pkt, 0});
    const TlsFacts t = f.facts();
    // Whatever reached HTTP authenticated: it can only be the RFC 8448 payload (or a prefix of
    // nothing): never bytes of a record that failed its tag.
    if (!f.is_tls()) continue;  // random first bytes that are not TLS pass through as plain TCP
    if (!in.data[0].empty()) {
      CHECK(in.data[0] == zero_to_49());
      ++decrypted;
    }
    if (t.keys == KeyStatus::failed) {
      CHECK(t.c2s.decrypt_failed);
      ++failed;
    }
  }
  // The mutations must have exercised both outcomes.
  CHECK(decrypted > 5);
  CHECK(failed > 5);
}
