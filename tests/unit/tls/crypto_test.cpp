// TLS key derivation and record decryption against RFC 8448 §3 (the simple 1-RTT handshake):
// traffic secrets -> keys and IVs, the client's and server's protected records, a bad tag, a
// wrong sequence number.
#include <catch2/catch.hpp>

#include <vector>

#include "tls13_sealer.h"
#include "tls_test_util.h"
#include "wsdiag/tls/crypto.h"
#include "wsdiag/tls/record.h"

using namespace wsdiag;
using namespace wsdiag::tls;
using namespace wsdiag::tls::test;

namespace {

// RFC 8448 §3 traffic secrets.
const auto kClientHs = hex("b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21");
const auto kServerHs = hex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38");
const auto kClientApp = hex("9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5");
const auto kServerApp = hex("a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43");

// {client} send application_data record (50 bytes 00..31), then the client's close_notify.
const auto kClientAppRecord = hex(
    "17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b 98 19 a8"
    "a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4");
const auto kClientAlertRecord = hex("17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3");
const auto kServerAppRecord = hex(
    "17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc 32 25 d0 5f 82 aa 1b 36 e3 0e fa f9"
    "7d 90 e6 df fc 60 2d cb 50 1a 59 a8 fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d");

std::vector<std::uint8_t> v(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("HKDF-Expand-Label gives RFC 8448's traffic keys and IVs") {
  const SuiteInfo& s = *suite_info(0x1301);
  struct Case {
    const std::vector<std::uint8_t>* secret;
    const char* key;
    const char* iv;
  } cases[] = {
      {&kClientHs, "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01", "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"},
      {&kServerHs, "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc", "5d 31 3e b2 67 12 76 ee 13 00 0b 30"},
      {&kClientApp, "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51", "5b 78 92 3d ee 08 57 90 33 e5 23 d9"},
      {&kServerApp, "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56", "cf 78 2b 88 dd 83 54 9a ad f1 e9 84"},
  };
  for (const auto& c : cases) {
    TrafficKeys k;
    REQUIRE(tls13_traffic_keys(s, *c.secret, k));
    CHECK(v(std::span(k.key).first(16)) == hex(c.key));
    CHECK(v(k.iv) == hex(c.iv));
  }
}

TEST_CASE("RFC 8448's client application data and close_notify decrypt; sequence numbers advance") {
  const SuiteInfo& s = *suite_info(0x1301);
  TrafficKeys k;
  REQUIRE(tls13_traffic_keys(s, kClientApp, k));
  RecordDecryptor d;
  REQUIRE(d.set_keys(s, true, k));
  std::vector<std::uint8_t> out(kClientAppRecord.size());
  const Bytes body = Bytes(kClientAppRecord).subspan(5);
  const long n = d.open(0x17, 0x0303, body, out);
  REQUIRE(n == 51);
  for (int i = 0; i < 50; ++i) CHECK(out[static_cast<std::size_t>(i)] == i);
  CHECK(out[50] == 0x17);  // inner content type: application_data
  CHECK(d.seq() == 1);
  const long a = d.open(0x17, 0x0303, Bytes(kClientAlertRecord).subspan(5), out);
  REQUIRE(a == 3);
  CHECK(out[0] == 1);     // warning
  CHECK(out[1] == 0);     // close_notify
  CHECK(out[2] == 0x15);  // inner content type: alert
}

TEST_CASE("a bad tag, a flipped bit or a wrong sequence number does not decrypt") {
  const SuiteInfo& s = *suite_info(0x1301);
  TrafficKeys k;
  REQUIRE(tls13_traffic_keys(s, kServerApp, k));
  RecordDecryptor d;
  REQUIRE(d.set_keys(s, true, k));
  std::vector<std::uint8_t> out(kServerAppRecord.size());
  // The server's application data is its second record under this key (a NewSessionTicket came
  // first): at sequence number 0 it must fail, and the failure must not advance the sequence.
  CHECK(d.open(0x17, 0x0303, Bytes(kServerAppRecord).subspan(5), out) == -1);
  CHECK(d.seq() == 0);
  auto tampered = kClientAppRecord;
  tampered[20] ^= 1;
  TrafficKeys ck;
  REQUIRE(tls13_traffic_keys(s, kClientApp, ck));
  RecordDecryptor c;
  REQUIRE(c.set_keys(s, true, ck));
  CHECK(c.open(0x17, 0x0303, Bytes(tampered).subspan(5), out) == -1);
  auto bad_tag = kClientAppRecord;
  bad_tag.back() ^= 0x80;
  CHECK(c.open(0x17, 0x0303, Bytes(bad_tag).subspan(5), out) == -1);
  // the header is authenticated too
  CHECK(c.open(0x17, 0x0301, Bytes(kClientAppRecord).subspan(5), out) == -1);
  CHECK(c.open(0x17, 0x0303, Bytes(kClientAppRecord).subspan(5), out) == 51);
  // too short for a tag
  CHECK(c.open(0x17, 0x0303, Bytes(kClientAppRecord).subspan(5, 10), out) == -1);
}

TEST_CASE("KeyUpdate's next secret differs and derives fresh keys") {
  const SuiteInfo& s = *suite_info(0x1301);
  std::vector<std::uint8_t> next(32);
  REQUIRE(tls13_next_secret(s, kClientApp, next));
  CHECK(next != kClientApp);
  std::vector<std::uint8_t> again(32);
  REQUIRE(hkdf_expand_label(false, kClientApp, "traffic upd", {}, again));
  CHECK(next == again);
}

TEST_CASE("TLS 1.2 key block: the PRF splits into distinct client/server keys and salts") {
  for (const int id : {0xC02F, 0xC030, 0xCCA8}) {
    const SuiteInfo& s = *suite_info(static_cast<std::uint16_t>(id));
    const std::vector<std::uint8_t> master(48, 0x42), cr(32, 1), sr(32, 2);
    TrafficKeys c, sv;
    REQUIRE(tls12_key_block(s, master, cr, sr, c, sv));
    CHECK(c.key != sv.key);
    CHECK(c.iv != sv.iv);
    TrafficKeys c2, s2;
    REQUIRE(tls12_key_block(s, master, sr, cr, c2, s2));  // randoms swapped: other keys
    CHECK(c2.key != c.key);
  }
  CHECK(suite_info(0x0005) == nullptr);  // RC4 is not decrypted
}

TEST_CASE("AES-GCM and ChaCha20-Poly1305 records of every size open in sequence, also after refused ones") {
  // The decryptor sets each record's nonce as a parameter on a context keyed once; a refused
  // record (bad tag, flipped bit, short) must leave the context ready for the next one.
  for (const std::uint16_t id : {std::uint16_t{0x1301}, std::uint16_t{0x1302}, std::uint16_t{0x1303}}) {
    INFO("suite " << id);
    const SuiteInfo& s = *suite_info(id);
    const std::vector<std::uint8_t> secret(s.sha384 ? 48 : 32, 0x42);
    Sealer sealer(secret, id);
    TrafficKeys k;
    REQUIRE(tls13_traffic_keys(s, secret, k));
    RecordDecryptor d;
    REQUIRE(d.set_keys(s, true, k));
    std::vector<std::uint8_t> out(kMaxRecordBody);
    std::uint64_t n = 0;
    for (const std::size_t size : {0, 1, 15, 16, 17, 63, 64, 65, 200, 1000, 4096, 16384, 5, 300}) {
      INFO("record " << n << ", " << size << " bytes");
      std::vector<std::uint8_t> plain(size);
      for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 7 + n);
      const auto rec = sealer.seal(23, plain);
      const Bytes body = Bytes(rec).subspan(5);
      if (n % 3 == 1) {
        auto bad = rec;
        bad[5 + size / 2] ^= 0x10;
        CHECK(d.open(23, 0x0303, Bytes(bad).subspan(5), out) == -1);
        CHECK(d.open(23, 0x0303, body.first(body.size() - 1), out) == -1);
        CHECK(d.seq() == n);
      }
      const long got = d.open(23, 0x0303, body, out);
      REQUIRE(got == static_cast<long>(size + 2));
      CHECK(std::vector<std::uint8_t>(out.begin(), out.begin() + static_cast<long>(size)) == plain);
      CHECK(out[size] == 23);
      CHECK(d.seq() == ++n);
    }
  }
}
