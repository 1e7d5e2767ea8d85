// Live mode: records that arrive before their secret is in the key log are held and decrypted in
// order once it is (held_records.h, src/tls/front_hold.cpp). A whole TLS 1.3 session is fed with
// the key log lines appended to a followed file at every combination of points; the plaintext, its
// packets and its order across directions, and the facts must equal an offline run with the lines
// that had arrived by the connection's end. Budgets: the finding, and judgement with the secrets
// logged so far.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "tls13_sealer.h"
#include "tls_test_util.h"
#include "wsdiag/tls/held_records.h"
#include "wsdiag/tls/hello.h"
#include "wsdiag/tls/tls_front.h"

using namespace wsdiag;
using namespace wsdiag::tls;
using namespace wsdiag::tls::test;

namespace {

// Every delivery to the layer above, in order: direction, packet, bytes (or a gap / an end).
struct Log : reassembly::StreamSink {
  std::vector<std::tuple<int, std::uint64_t, std::string>> events;
  void on_data(Dir d, Bytes b, PacketRef at) override {
    events.emplace_back(static_cast<int>(d), at.index, std::string(b.begin(), b.end()));
  }
  void on_gap(Dir d, std::uint64_t len, reassembly::GapReason, PacketRef at) override {
    events.emplace_back(static_cast<int>(d), at.index, "<gap " + std::to_string(len) + ">");
  }
  void on_end(Dir d, reassembly::EndReason, PacketRef at) override {
    events.emplace_back(static_cast<int>(d), at.index, "<end>");
  }
};

struct Step {
  Dir dir;
  std::vector<std::uint8_t> bytes;
  std::uint64_t packet;
};

// A TLS 1.3 session as python websockets over OpenSSL runs it: the server's flight split over two
// segments, a ticket under the server's application secret before the client's Finished arrives,
// requests and answers, a KeyUpdate, close_notify both ways.
struct Session {
  std::vector<std::uint8_t> chs = std::vector<std::uint8_t>(32, 0xC1), shs = std::vector<std::uint8_t>(32, 0x51),
                            capp = std::vector<std::uint8_t>(32, 0xCA), sapp = std::vector<std::uint8_t>(32, 0x5A);
  std::vector<std::string> lines;  // the key log lines, in the order an OpenSSL client writes them
  std::vector<Step> steps;

  Session() {
    const std::string cr = random_hex(0x11);
    lines = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + hex_of(chs) + "\n",
             "SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + hex_of(shs) + "\n",
             "SERVER_TRAFFIC_SECRET_0 " + cr + " " + hex_of(sapp) + "\n",
             "CLIENT_TRAFFIC_SECRET_0 " + cr + " " + hex_of(capp) + "\n"};
    Sealer ch(chs), sh(shs), ca(capp), sa(sapp);
    std::vector<std::uint8_t> sapp1(32);
    REQUIRE(tls13_next_secret(*suite_info(0x1301), sapp, sapp1));
    Sealer sa1(sapp1);
    const auto hello = handshake(1, client_hello_body(0x11, "ws.example", {"http/1.1"}));
    steps.push_back({Dir::c2s, record(22, hello, 0x0301), 1});
    auto sh_ccs = record(22, handshake(2, server_hello_body(0x1301, true)));
    append(sh_ccs, record(20, {1}));
    steps.push_back({Dir::s2c, sh_ccs, 2});
    std::vector<std::uint8_t> ee_fin;
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
    const auto flight = sh.seal(22, ee_fin);
    steps.push_back({Dir::s2c, std::vector<std::uint8_t>(flight.begin(), flight.begin() + 30), 3});
    steps.push_back({Dir::s2c, std::vector<std::uint8_t>(flight.begin() + 30, flight.end()), 4});
    steps.push_back({Dir::s2c, sa.seal(22, handshake(4, std::vector<std::uint8_t>(40, 0x7E))), 5});  // a ticket
    steps.push_back({Dir::c2s, ch.seal(22, handshake(hs::finished, std::vector<std::uint8_t>(32, 0xF2))), 6});
    steps.push_back({Dir::c2s, ca.seal(23, bytes_of("GET / HTTP/1.1\r\n\r\n")), 7});
    steps.push_back({Dir::s2c, sa.seal(23, bytes_of("HTTP/1.1 101 Switching Protocols\r\n\r\n")), 8});
    auto two = ca.seal(23, bytes_of("client-1"));
    append(two, ca.seal(23, bytes_of("client-2")));
    steps.push_back({Dir::c2s, two, 9});
    auto ku = sa.seal(22, handshake(hs::key_update, {0}));
    append(ku, sa1.seal(23, bytes_of("after")));
    steps.push_back({Dir::s2c, ku, 10});
    steps.push_back({Dir::s2c, sa1.seal(21, {1, 0}), 11});
    steps.push_back({Dir::c2s, ca.seal(21, {1, 0}), 12});
  }
};

class TempFile {
 public:
  TempFile() {
    char name[] = "/tmp/wsdiag-keylog-test.XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path_ = name;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  void append(const std::string& text) const {
    std::ofstream out(path_, std::ios::binary | std::ios::app);
    out << text;
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Outcome {
  std::vector<std::tuple<int, std::uint64_t, std::string>> events;
  TlsFacts facts;
};

// Feeds the session; before step i, appends the text in `at[i]` to the followed key log (at[n]:
// after the last step, before the ends).
Outcome run_live(const Session& s, const std::vector<std::string>& at, const Limits& limits = Limits{}) {
  TempFile file;
  KeyLog keys;
  std::string err;
  REQUIRE(keys.load_file(file.path(), err));
  keys.set_follow(true);
  Log log;
  TlsFront f(log, limits, &keys);
  for (std::size_t i = 0; i <= s.steps.size(); ++i) {
    if (i < at.size() && !at[i].empty()) file.append(at[i]);
    if (i == s.steps.size()) break;
    f.on_data(s.steps[i].dir, s.steps[i].bytes, PacketRef{s.steps[i].packet, 0});
  }
  f.on_end(Dir::c2s, reassembly::EndReason::fin, PacketRef{13, 0});
  f.on_end(Dir::s2c, reassembly::EndReason::fin, PacketRef{14, 0});
  return {log.events, f.facts()};
}

// The same session read offline with this key log text from the start.
Outcome run_offline(const Session& s, const std::string& text) {
  KeyLog keys;
  keys.add_text(text);
  Log log;
  Limits limits;
  TlsFront f(log, limits, &keys);
  for (const auto& st : s.steps) f.on_data(st.dir, st.bytes, PacketRef{st.packet, 0});
  f.on_end(Dir::c2s, reassembly::EndReason::fin, PacketRef{13, 0});
  f.on_end(Dir::s2c, reassembly::EndReason::fin, PacketRef{14, 0});
  return {log.events, f.facts()};
}

void same_facts(const TlsDirFacts& a, const TlsDirFacts& b) {
  CHECK(a.decrypt_failed == b.decrypt_failed);
  CHECK(a.decrypt_failed_at.index == b.decrypt_failed_at.index);
  CHECK(a.undecrypted_records == b.undecrypted_records);
  CHECK(a.plaintext_bytes == b.plaintext_bytes);
  CHECK(a.close_notify == b.close_notify);
  CHECK(a.handshake_done == b.handshake_done);
  CHECK(a.records == b.records);
  CHECK_FALSE(a.held_limit);
}

}  // namespace

TEST_CASE("late secrets: records held until the key log has them decrypt to the same plaintext, in order") {
  const Session s;
  std::string all;
  for (const auto& l : s.lines) all += l;
  const Outcome offline = run_offline(s, all);
  REQUIRE(offline.facts.keys == KeyStatus::decrypted);
  REQUIRE_FALSE(offline.facts.s2c.decrypt_failed);
  REQUIRE(offline.events.size() == 7);  // GET, 101, client-1, client-2, after, the ends
  CHECK(std::get<2>(offline.events[0]) == "GET / HTTP/1.1\r\n\r\n");
  CHECK(std::get<2>(offline.events[4]) == "after");

  // Each line appended before step 0..n (n: after the last record), or never (n + 1), in the
  // order the client writes them.
  const std::size_t n = s.steps.size();
  std::size_t runs = 0, waited = 0;
  for (std::size_t a = 0; a <= n + 1; ++a) {
    for (std::size_t b = a; b <= n + 1; ++b) {
      for (std::size_t c = b; c <= n + 1; ++c) {
        for (std::size_t d = c; d <= n + 1; ++d) {
          std::vector<std::string> at(n + 1);
          std::string logged;
          const std::size_t when[4] = {a, b, c, d};
          for (int i = 0; i < 4; ++i) {
            if (when[i] <= n) {
              at[when[i]] += s.lines[static_cast<std::size_t>(i)];
              logged += s.lines[static_cast<std::size_t>(i)];
            }
          }
          INFO("lines before steps " << a << " " << b << " " << c << " " << d);
          const Outcome live = run_live(s, at);
          const Outcome want = d <= n ? offline : run_offline(s, logged);
          CHECK(live.events == want.events);
          CHECK(live.facts.keys == want.facts.keys);
          same_facts(live.facts.c2s, want.facts.c2s);
          same_facts(live.facts.s2c, want.facts.s2c);
          waited += live.facts.c2s.waited_records + live.facts.s2c.waited_records;
          ++runs;
        }
      }
    }
  }
  CHECK(runs > 1000);
  CHECK(waited > 0);
}

TEST_CASE("late secrets: a line still being written is not used until its newline arrives") {
  const Session s;
  const std::size_t n = s.steps.size();
  for (std::size_t cut = 1; cut < s.lines[1].size(); cut += 7) {
    INFO("server handshake line cut after " << cut << " characters");
    std::vector<std::string> at(n + 1);
    at[2] = s.lines[0] + s.lines[1].substr(0, cut);  // before the server's flight
    at[4] = s.lines[1].substr(cut);                  // before the ticket
    at[5] = s.lines[2] + s.lines[3];
    const Outcome live = run_live(s, at);
    CHECK(live.facts.keys == KeyStatus::decrypted);
    CHECK_FALSE(live.facts.s2c.decrypt_failed);
    CHECK(live.events.size() == 7);
  }
}

TEST_CASE("late secrets: over the held-record budget the connection judges what it holds and says so") {
  const Session s;
  const std::size_t n = s.steps.size();
  std::string all;
  for (const auto& l : s.lines) all += l;
  std::vector<std::string> at(n + 1);
  at[n] = all;  // logged after every record, before the ends

  SECTION("record budget") {
    Limits limits;
    limits.tls_held_records = 3;  // the server's flight, its ticket, the client's Finished
    const Outcome live = run_live(s, at, limits);
    CHECK(live.facts.c2s.held_limit);
    CHECK(live.facts.c2s.held_limit_at.index == 7);  // the client's first request
    CHECK(live.facts.c2s.held_limit_records == 3);
    CHECK_FALSE(live.facts.s2c.held_limit);
    CHECK(live.facts.keys == KeyStatus::not_found);  // judged with the secrets logged by then
    CHECK(live.facts.keys_logged_late);
    CHECK(live.events.size() == 2);  // only the ends: nothing guessed
    CHECK(live.facts.c2s.undecrypted_records == 5);
    CHECK(live.facts.s2c.undecrypted_records == 6);
  }
  SECTION("byte budget") {
    Limits limits;
    limits.tls_held_bytes = 50;  // less than the server's first protected record (75 bytes)
    const Outcome live = run_live(s, at, limits);
    CHECK(live.facts.s2c.held_limit);
    CHECK(live.facts.s2c.held_limit_at.index == 4);
    CHECK(live.facts.s2c.held_limit_records == 0);
    CHECK(live.events.size() == 2);
  }
  SECTION("within the budget the same session decrypts") {
    Limits limits;
    limits.tls_held_records = 11;  // every protected record of the session
    const Outcome live = run_live(s, at, limits);
    CHECK_FALSE(live.facts.c2s.held_limit);
    CHECK_FALSE(live.facts.s2c.held_limit);
    CHECK(live.facts.c2s.waited_records + live.facts.s2c.waited_records == 11);
    CHECK(live.facts.keys == KeyStatus::decrypted);
    CHECK(live.events.size() == 7);
  }
  SECTION("a key log that never has this client random: not found, and no budget finding is due") {
    const Outcome live = run_live(s, std::vector<std::string>(n + 1));
    CHECK(live.facts.keys == KeyStatus::not_found);
    CHECK_FALSE(live.facts.keys_logged_late);
    CHECK(live.events.size() == 2);
  }
}

TEST_CASE("held records: bounded by bytes and records, taken in order, memory freed when empty") {
  HeldRecords h(100, 3);
  const std::vector<std::uint8_t> a(40, 1), b(40, 2), c(30, 3);
  CHECK(h.push(Dir::s2c, RecordHeader{23, 0x0303, 40}, a, PacketRef{1, 0}));
  CHECK(h.push(Dir::c2s, RecordHeader{23, 0x0303, 40}, b, PacketRef{2, 0}));
  CHECK_FALSE(h.push(Dir::c2s, RecordHeader{23, 0x0303, 30}, c, PacketRef{3, 0}));  // 110 bytes
  CHECK(h.size() == 2);
  CHECK(h.bytes() == 80);
  CHECK(h.held(Dir::s2c) == 1);
  CHECK(h.capacity() <= 100);
  auto r = h.front();
  CHECK(r.dir == Dir::s2c);
  CHECK(r.at.index == 1);
  CHECK(std::vector<std::uint8_t>(r.body.begin(), r.body.end()) == a);
  h.pop_front();
  CHECK(h.held(Dir::s2c) == 0);
  CHECK(h.bytes() == 40);
  // Room again once the front was taken: the buffer is compacted, never past the budget.
  CHECK(h.push(Dir::s2c, RecordHeader{23, 0x0303, 30}, c, PacketRef{3, 0}));
  CHECK(h.push(Dir::s2c, RecordHeader{23, 0x0303, 30}, c, PacketRef{4, 0}));
  CHECK_FALSE(h.push(Dir::s2c, RecordHeader{23, 0x0303, 0}, {}, PacketRef{5, 0}));  // 4 records
  CHECK(h.capacity() <= 100);
  r = h.front();
  CHECK(std::vector<std::uint8_t>(r.body.begin(), r.body.end()) == b);
  h.pop_front();
  r = h.front();
  CHECK(r.at.index == 3);
  CHECK(r.body.size() == 30);
  h.pop_front();
  h.pop_front();
  CHECK(h.empty());
  CHECK(h.capacity() == 0);
}
