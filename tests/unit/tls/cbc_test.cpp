// TLS 1.1/1.2 CBC records (RFC 5246 §6.2.3.2, RFC 7366 encrypt-then-MAC): records sealed here
// the way the RFCs describe (OpenSSL's AES-CBC encryption and one-shot HMAC), opened by
// RecordDecryptor; a flipped MAC or ciphertext bit, bad padding, a length that is not whole
// blocks, the wrong sequence number and the wrong MAC order are all refused.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "wsdiag/tls/crypto.h"
#include "wsdiag/tls/record.h"

using namespace wsdiag;
using namespace wsdiag::tls;

namespace {

std::vector<std::uint8_t> hmac(const char* digest, std::span<const std::uint8_t> key, std::uint64_t seq,
                               std::uint8_t type, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> in;
  for (int i = 7; i >= 0; --i) in.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  in.push_back(type);
  in.push_back(3);
  in.push_back(3);
  in.push_back(static_cast<std::uint8_t>(data.size() >> 8));
  in.push_back(static_cast<std::uint8_t>(data.size()));
  in.insert(in.end(), data.begin(), data.end());
  std::vector<std::uint8_t> out(64);
  std::size_t n = 0;
  REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(), in.data(), in.size(),
                    out.data(), out.size(), &n) != nullptr);
  out.resize(n);
  return out;
}

std::vector<std::uint8_t> cbc_encrypt(const SuiteInfo& s, std::span<const std::uint8_t> key,
                                      std::span<const std::uint8_t> iv, std::vector<std::uint8_t> plain) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(EVP_EncryptInit_ex2(ctx, s.key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc(), key.data(), iv.data(),
                              nullptr) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  std::vector<std::uint8_t> out(plain.size());
  int len = 0, fin = 0;
  REQUIRE(EVP_EncryptUpdate(ctx, out.data(), &len, plain.data(), static_cast<int>(plain.size())) == 1);
  REQUIRE(EVP_EncryptFinal_ex(ctx, out.data() + len, &fin) == 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

void pad(std::vector<std::uint8_t>& b, std::size_t extra) {
  // padding_length + 1 bytes of value padding_length, to whole blocks (plus `extra` blocks).
  const std::size_t p = 15 - (b.size() % 16) + 16 * extra;
  b.insert(b.end(), p + 1, static_cast<std::uint8_t>(p));
}

struct Sealer {
  const SuiteInfo& s;
  TrafficKeys k;
  const char* digest;
  bool etm;
  std::uint64_t seq = 0;

  std::vector<std::uint8_t> seal(const std::string& text, std::size_t extra_pad = 0) {
    const std::vector<std::uint8_t> content(text.begin(), text.end());
    std::vector<std::uint8_t> iv(16);
    for (std::size_t i = 0; i < iv.size(); ++i) iv[i] = static_cast<std::uint8_t>(0xA0 + i + seq);
    const auto mac_key = std::span<const std::uint8_t>(k.mac).first(s.mac_len);
    const auto key = std::span<const std::uint8_t>(k.key).first(s.key_len);
    std::vector<std::uint8_t> body = iv;
    if (etm) {
      std::vector<std::uint8_t> p = content;
      pad(p, extra_pad);
      const auto ct = cbc_encrypt(s, key, iv, p);
      body.insert(body.end(), ct.begin(), ct.end());
      const auto m = hmac(digest, mac_key, seq, 0x17, body);  // over IV + ciphertext
      body.insert(body.end(), m.begin(), m.end());
    } else {
      std::vector<std::uint8_t> p = content;
      const auto m = hmac(digest, mac_key, seq, 0x17, content);
      p.insert(p.end(), m.begin(), m.end());
      pad(p, extra_pad);
      const auto ct = cbc_encrypt(s, key, iv, p);
      body.insert(body.end(), ct.begin(), ct.end());
    }
    ++seq;
    return body;
  }
};

TrafficKeys keys_for(const SuiteInfo& s) {
  TrafficKeys k;
  for (std::size_t i = 0; i < k.key.size(); ++i) k.key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  for (std::size_t i = 0; i < k.mac.size(); ++i) k.mac[i] = static_cast<std::uint8_t>(i * 13 + 5);
  (void)s;
  return k;
}

std::string opened(RecordDecryptor& d, std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> out(kMaxRecordBody);
  const long n = d.open(0x17, 0x0303, body, out);
  if (n < 0) return "<refused>";
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

}  // namespace

TEST_CASE("CBC suites: MAC-then-encrypt and encrypt-then-MAC records open, in sequence") {
  struct Case {
    std::uint16_t id;
    const char* digest;
    bool etm;
  };
  for (const Case c : {Case{0xC013, "SHA1", true}, Case{0xC013, "SHA1", false}, Case{0xC027, "SHA256", false},
                       Case{0xC028, "SHA384", false}, Case{0xC028, "SHA384", true}, Case{0x0035, "SHA1", false}}) {
    CAPTURE(c.id, c.etm);
    const SuiteInfo* s = suite_info(c.id);
    REQUIRE(s != nullptr);
    REQUIRE(s->cbc());
    const TrafficKeys k = keys_for(*s);
    Sealer seal{*s, k, c.digest, c.etm};
    RecordDecryptor d;
    REQUIRE(d.set_keys(*s, false, k, c.etm));
    const auto r0 = seal.seal("GET /chat HTTP/1.1");
    const auto r1 = seal.seal("", 0);          // empty content: padding only
    const auto r2 = seal.seal("hello", 3);     // extra padding blocks (allowed up to 255 bytes)
    CHECK(opened(d, r0) == "GET /chat HTTP/1.1");
    CHECK(d.seq() == 1);
    CHECK(opened(d, r1).empty());
    CHECK(opened(d, r2) == "hello");
    CHECK(d.seq() == 3);
  }
}

TEST_CASE("CBC suites: damaged records are refused and the sequence number stays") {
  const SuiteInfo& s = *suite_info(0xC013);
  const TrafficKeys k = keys_for(s);
  for (const bool etm : {false, true}) {
    CAPTURE(etm);
    Sealer seal{s, k, "SHA1", etm};
    const auto good = seal.seal("a WebSocket frame");
    const auto next = seal.seal("the next one");
    RecordDecryptor d;
    REQUIRE(d.set_keys(s, false, k, etm));
    auto bad = good;
    bad.back() ^= 1;  // the MAC (etm) or the padding block (mte)
    CHECK(opened(d, bad) == "<refused>");
    bad = good;
    bad[20] ^= 1;  // ciphertext
    CHECK(opened(d, bad) == "<refused>");
    bad = good;
    bad.resize(bad.size() - 1);  // not whole blocks (or a cut MAC)
    CHECK(opened(d, bad) == "<refused>");
    CHECK(opened(d, std::span<const std::uint8_t>(good).first(16)) == "<refused>");  // IV only
    CHECK(opened(d, {}) == "<refused>");
    CHECK(d.seq() == 0);
    CHECK(opened(d, next) == "<refused>");  // sealed with sequence number 1
    CHECK(opened(d, good) == "a WebSocket frame");
    CHECK(opened(d, next) == "the next one");
  }
  // The other MAC order does not authenticate.
  Sealer mte{s, k, "SHA1", false};
  RecordDecryptor etm_dec;
  REQUIRE(etm_dec.set_keys(s, false, k, true));
  CHECK(opened(etm_dec, mte.seal("mac-then-encrypt")) == "<refused>");
}

TEST_CASE("CBC suites: bad padding bytes are refused even when the length fits") {
  const SuiteInfo& s = *suite_info(0xC013);
  const TrafficKeys k = keys_for(s);
  // Seal by hand: content || MAC || padding whose bytes disagree with padding_length.
  const std::string text = "padding oracle";
  std::vector<std::uint8_t> p(text.begin(), text.end());
  const auto m = hmac("SHA1", std::span<const std::uint8_t>(k.mac).first(20), 0, 0x17, p);
  p.insert(p.end(), m.begin(), m.end());
  pad(p, 0);
  REQUIRE(p.back() >= 1);
  p[p.size() - 2] ^= 0x40;  // one padding byte wrong
  std::vector<std::uint8_t> iv(16, 0x11);
  const auto ct = cbc_encrypt(s, std::span<const std::uint8_t>(k.key).first(16), iv, p);
  std::vector<std::uint8_t> body = iv;
  body.insert(body.end(), ct.begin(), ct.end());
  RecordDecryptor d;
  REQUIRE(d.set_keys(s, false, k, false));
  CHECK(opened(d, body) == "<refused>");
}

TEST_CASE("CBC key block: MAC keys first, then the write keys (RFC 5246 §6.3)") {
  const SuiteInfo& s = *suite_info(0xC028);  // HMAC-SHA384, AES-256, SHA-384 PRF
  const std::vector<std::uint8_t> master(48, 0x42), cr(32, 1), sr(32, 2);
  TrafficKeys c, sv;
  REQUIRE(tls12_key_block(s, master, cr, sr, c, sv));
  std::vector<std::uint8_t> block(2 * (48 + 32));
  REQUIRE(tls12_prf(true, master, "key expansion", sr, cr, block));
  CHECK(std::equal(c.mac.begin(), c.mac.end(), block.begin()));
  CHECK(std::equal(sv.mac.begin(), sv.mac.end(), block.begin() + 48));
  CHECK(std::equal(c.key.begin(), c.key.end(), block.begin() + 96));
  CHECK(std::equal(sv.key.begin(), sv.key.end(), block.begin() + 128));
}

namespace {

// RFC 4346 §5 P_hash(secret, seed), written out here from HMAC (the test's own PRF).
std::vector<std::uint8_t> p_hash(const EVP_MD* md, std::span<const std::uint8_t> secret,
                                 const std::vector<std::uint8_t>& seed, std::size_t len) {
  std::vector<std::uint8_t> out, a = seed;
  while (out.size() < len) {
    std::uint8_t buf[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    REQUIRE(HMAC(md, secret.data(), static_cast<int>(secret.size()), a.data(), a.size(), buf, &n) != nullptr);
    a.assign(buf, buf + n);  // A(i)
    std::vector<std::uint8_t> in = a;
    in.insert(in.end(), seed.begin(), seed.end());
    REQUIRE(HMAC(md, secret.data(), static_cast<int>(secret.size()), in.data(), in.size(), buf, &n) != nullptr);
    out.insert(out.end(), buf, buf + n);
  }
  out.resize(len);
  return out;
}

}  // namespace

TEST_CASE("TLS 1.1 key block: the MD5/SHA-1 PRF of RFC 4346 §5, not the suite's hash") {
  const SuiteInfo& s = *suite_info(0xC013);  // ECDHE-RSA-AES128-SHA
  std::vector<std::uint8_t> master(48), cr(32, 1), sr(32, 2);
  for (std::size_t i = 0; i < master.size(); ++i) master[i] = static_cast<std::uint8_t>(i * 5 + 3);
  TrafficKeys c, sv;
  REQUIRE(tls12_key_block(s, master, cr, sr, c, sv, 0x0302));
  // PRF(secret, label, seed) = P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed), S1 and S2 the
  // two halves of the secret; key expansion's seed is server_random + client_random.
  std::vector<std::uint8_t> seed{'k', 'e', 'y', ' ', 'e', 'x', 'p', 'a', 'n', 's', 'i', 'o', 'n'};
  seed.insert(seed.end(), sr.begin(), sr.end());
  seed.insert(seed.end(), cr.begin(), cr.end());
  const std::size_t len = 2 * (20 + 16);
  const auto md5 = p_hash(EVP_md5(), std::span(master).first(24), seed, len);
  const auto sha1 = p_hash(EVP_sha1(), std::span(master).last(24), seed, len);
  std::vector<std::uint8_t> block(len);
  for (std::size_t i = 0; i < len; ++i) block[i] = md5[i] ^ sha1[i];
  CHECK(std::equal(c.mac.begin(), c.mac.begin() + 20, block.begin()));
  CHECK(std::equal(sv.mac.begin(), sv.mac.begin() + 20, block.begin() + 20));
  CHECK(std::equal(c.key.begin(), c.key.begin() + 16, block.begin() + 40));
  CHECK(std::equal(sv.key.begin(), sv.key.begin() + 16, block.begin() + 56));
  // TLS 1.2's key block from the same secrets differs (SHA-256 PRF).
  TrafficKeys c12, s12;
  REQUIRE(tls12_key_block(s, master, cr, sr, c12, s12));
  CHECK(c12.key != c.key);
}
