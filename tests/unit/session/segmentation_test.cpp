// [session] segmentation invariance: TCP may cut the byte streams anywhere (RFC 9293 is a byte
// stream), so a whole conversation (handshake, frames with every length encoding, fragments,
// control frames, violations, close handshake) must give the same summary however it is
// segmented: split at every byte position, one byte per segment, or coalesced.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "session_test_util.h"
#include "wsdiag/diag/verdict.h"
#include "wsdiag/ws/frame_parser.h"

using namespace wsdiag;
using namespace wsdiag::session::test;
using diag::RuleId;
using diag::Side;
namespace op = wsdiag::ws::opcode;

namespace {

constexpr Dir C = Conv::C;
constexpr Dir S = Conv::S;

struct Chunk {
  Dir d;
  std::string bytes;
};

const std::string kHelloDeflated("\xF2\x48\xCD\xC9\xC9\x07\x00", 7);  // RFC 7692 §7.2.3.1

/// A conversation with a bit of everything, one chunk per "natural" segment.
std::vector<Chunk> script(bool deflate) {
  HandshakeOpts o;
  o.offer_deflate = deflate;
  o.accept_deflate = deflate;
  std::vector<Chunk> v;
  v.push_back({C, upgrade_request(o)});
  v.push_back({S, upgrade_response(o) + sf(op::ping, "hb0").bytes()});  // a Ping coalesced with the 101
  v.push_back({C, cf(op::pong, "hb0").bytes()});
  // A fragmented text message, a UTF-8 sequence split across fragments, a Ping in between.
  v.push_back({C, cf(op::text, "caf\xC3").set_fin(false).bytes()});
  v.push_back({C, cf(op::ping, "mid").bytes()});
  v.push_back({S, sf(op::pong, "mid").bytes()});
  v.push_back({C, cf(op::continuation, "\xA9 \xE2\x82").set_fin(false).bytes()});
  v.push_back({C, cf(op::continuation, "\xAC!").bytes()});
  // Every length encoding, both directions.
  v.push_back({C, cf(op::binary, std::string(300, '\x5A')).bytes()});
  v.push_back({S, sf(op::binary, std::string(200, '\xA5')).bytes()});
  v.push_back({S, sf(op::binary, "tiny").set_len(LenEnc::ext64).bytes()});  // length-not-minimal (server)
  v.push_back({C, cf(op::text, "ok").set_len(LenEnc::ext16).bytes()});      // length-not-minimal (client)
  // Violations whose counts must not depend on segmentation.
  v.push_back({C, cf(op::text, "bad \xFF here").bytes()});                  // invalid-utf8
  v.push_back({C, cf(op::text, "ends in \xF0\x9F").bytes()});               // invalid-utf8 (at the end)
  v.push_back({S, sf(op::text, "hi").set_masked(true).bytes()});            // server-masked
  v.push_back({C, cf(op::binary, "r").set_rsv(2).bytes()});                 // rsv-bits
  v.push_back({S, sf(op::ping, "x").bytes()});
  v.push_back({C, cf(op::pong, "y").bytes()});                              // pong-mismatch
  if (deflate) {
    v.push_back({C, cf(op::text, kHelloDeflated).set_rsv(4).bytes()});
    v.push_back({S, sf(op::text, kHelloDeflated.substr(0, 2)).set_rsv(4).set_fin(false).bytes()});
    v.push_back({S, sf(op::continuation, kHelloDeflated.substr(2)).bytes()});
  }
  // Several frames in one chunk, then the close handshake with a reason.
  v.push_back({S, sf(op::text, "a").bytes() + sf(op::text, "b").bytes() + sf(op::binary, "c").bytes()});
  v.push_back({S, sf(op::close, close_payload(1001, "going away \xE2\x9C\x93")).bytes()});
  v.push_back({C, cf(op::close, close_payload(1001)).bytes()});
  return v;
}

diag::ConnectionSummary play(const std::vector<Chunk>& segments) {
  Conv c;
  for (const auto& ch : segments) c.send(ch.d, ch.bytes);
  c.fin(S);
  c.fin(C);
  return c.finish();
}

/// Everything in a summary that must not depend on how the streams were segmented (packet
/// numbers do).
std::string fingerprint(const diag::ConnectionSummary& s) {
  std::string out;
  auto add = [&out](std::string_view k, const auto& v) {
    out += k;
    out += '=';
    out += std::to_string(v);
    out += ' ';
  };
  add("ws", s.websocket);
  add("ok", s.handshake.ok);
  add("status", s.handshake.status.value_or(0));
  add("deflate", s.handshake.deflate);
  for (const auto* d : {&s.c2s, &s.s2c}) {
    out += d == &s.c2s ? "| c2s " : "| s2c ";
    add("frames", d->frames);
    add("messages", d->messages);
    add("payload", d->payload_bytes);
    add("message_bytes", d->message_bytes);
    add("max", d->max_message);
    add("pings", d->pings);
    add("pongs", d->pongs);
    add("compressed", d->compressed_messages);
    add("gap", d->gap_bytes);
  }
  out += "| close ";
  add("seen", s.close.seen);
  add("by", static_cast<int>(s.close.initiator));
  add("code", s.close.code.value_or(0));
  out += "reason=" + s.close.reason + ' ';
  add("echoed", s.close.echoed);
  add("echo", s.close.echo_code.value_or(0));
  out += "| tcp ";
  add("how", static_cast<int>(s.tcp_end.how));
  add("by", static_cast<int>(s.tcp_end.by));
  out += "| findings";
  for (const auto& f : s.findings) {
    out += ' ';
    out += diag::rule_info(f.rule).name;
    out += '/';
    out += diag::to_string(f.side);
    out += 'x';
    out += std::to_string(f.count);
  }
  return out;
}

}  // namespace

TEST_CASE("segmentation invariance over a whole conversation", "[session]") {
  const bool deflate = GENERATE(false, true);
  INFO("permessage-deflate " << deflate);
  const auto chunks = script(deflate);
  const auto ref = play(chunks);
  const std::string want = fingerprint(ref);

  // The reference itself is what the script says.
  INFO("reference: " << want);
  CHECK(ref.handshake.ok);
  CHECK(ref.handshake.deflate == deflate);
  CHECK(count_of(ref, RuleId::invalid_utf8, Side::client) == 2);
  CHECK(count_of(ref, RuleId::length_not_minimal, Side::client) == 1);
  CHECK(count_of(ref, RuleId::length_not_minimal, Side::server) == 1);
  CHECK(count_of(ref, RuleId::server_masked, Side::server) == 1);
  CHECK(count_of(ref, RuleId::rsv_bits, Side::client) == 1);
  CHECK(count_of(ref, RuleId::pong_mismatch, Side::client) == 1);
  CHECK(ref.findings.size() == 6);
  CHECK(ref.s2c.pings == 2);
  CHECK(ref.c2s.pings == 1);
  CHECK(ref.c2s.messages == (deflate ? 7u : 6u));
  CHECK(ref.s2c.messages == (deflate ? 7u : 6u));
  CHECK(ref.close.code == 1001);
  CHECK(ref.close.initiator == Side::server);
  CHECK(ref.close.echoed);
  CHECK(diag::diagnose(ref).code == 1001);

  SECTION("each chunk split in two at every byte position") {
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      for (std::size_t p = 1; p < chunks[i].bytes.size(); ++p) {
        auto segs = chunks;
        segs[i].bytes = chunks[i].bytes.substr(0, p);
        segs.insert(segs.begin() + static_cast<std::ptrdiff_t>(i) + 1, Chunk{chunks[i].d, chunks[i].bytes.substr(p)});
        const auto got = fingerprint(play(segs));
        if (got != want) {
          INFO("chunk " << i << " split at byte " << p);
          REQUIRE(got == want);
        }
      }
    }
  }
  SECTION("one byte per segment") {
    std::vector<Chunk> segs;
    for (const auto& ch : chunks) {
      for (char b : ch.bytes) segs.push_back({ch.d, std::string(1, b)});
    }
    CHECK(fingerprint(play(segs)) == want);
  }
  SECTION("consecutive chunks of one direction coalesced into one segment") {
    std::vector<Chunk> segs;
    for (const auto& ch : chunks) {
      if (!segs.empty() && segs.back().d == ch.d) {
        segs.back().bytes += ch.bytes;
      } else {
        segs.push_back(ch);
      }
    }
    REQUIRE(segs.size() < chunks.size());
    CHECK(fingerprint(play(segs)) == want);
  }
  SECTION("three-byte segments") {
    std::vector<Chunk> segs;
    for (const auto& ch : chunks) {
      for (std::size_t i = 0; i < ch.bytes.size(); i += 3) segs.push_back({ch.d, ch.bytes.substr(i, 3)});
    }
    CHECK(fingerprint(play(segs)) == want);
  }
}

TEST_CASE("a violation is attributed to the packet that completed the frame's header", "[session]") {
  // The masked server frame's header arrives over two segments: the finding names the second.
  Conv c;
  c.open();
  const std::string f = sf(op::text, "hello").set_masked(true).bytes();
  c.send(S, f.substr(0, 3));
  const auto at = c.send(S, f.substr(3, 4));  // header = 2 + 4 key bytes: complete here
  c.send(S, f.substr(7));
  close_normally(c);
  const auto s = c.finish();
  expect_only(s, RuleId::server_masked, Side::server, at);
  CHECK(s.s2c.message_bytes == 5);
}

TEST_CASE("invalid UTF-8 is attributed to the packet that carried the bad byte", "[session]") {
  Conv c;
  c.open();
  const std::string f = cf(op::text, "0123456789\xFF" "abcdef").bytes();
  c.send(C, f.substr(0, 10));
  const auto at = c.send(C, f.substr(10, 8));  // payload bytes 4..11: the 0xFF is byte 10
  c.send(C, f.substr(18));
  close_normally(c);
  const auto s = c.finish();
  expect_only(s, RuleId::invalid_utf8, Side::client, at);
}

TEST_CASE("framing is regained at a frame start cut into segments shorter than its header", "[session]") {
  // A 101 answers a request head whose last LF never came (as a fuzzer wrote it): the request
  // counts as not captured, and the client's side starts without framing, waiting for a plausible
  // frame start. Segments shorter than a frame header used to be judged alone, never plausible, so
  // in 1-byte segments no client frame was ever decoded and the verdict blamed the client
  // (close-not-echoed). Issue #16, fuzz finding conversation/client-frames-lost-in-1-byte-segments.
  std::string req = upgrade_request();
  req.pop_back();
  const std::string frames = cf(0x1, "hello").bytes() + cf(0x2, std::string(300, 'x')).bytes() +
                             cf(0x8, close_payload(1000)).bytes();
  const std::size_t piece = GENERATE(std::size_t{100000}, std::size_t{1}, std::size_t{2}, std::size_t{3},
                                     std::size_t{5}, std::size_t{13});
  INFO("client segments of " << piece << " bytes");
  Conv c;
  c.send(Conv::C, req);
  c.send(Conv::S, upgrade_response());
  c.send_pieces(Conv::C, frames, piece);
  c.send(Conv::S, sf(0x8, close_payload(1000)).bytes());
  c.fin(Conv::S);
  c.fin(Conv::C);
  const auto s = c.finish();
  CHECK(s.c2s.frames == 3);
  CHECK(s.c2s.messages == 2);
  CHECK(s.close.initiator == Side::client);
  CHECK(s.close.code == 1000);
  CHECK(s.close.echoed);
  CHECK(count_of(s, RuleId::close_not_echoed, Side::client) == 0);
}

TEST_CASE("held bytes that are no frame start give way to the next segment start", "[session]") {
  // Without framing, two short segments that together make an implausible header (a reserved
  // opcode), then a real frame: the candidate at the first segment fails, the one at the second
  // fails, and framing is regained at the third. Nothing before the frame is decoded.
  std::string req = upgrade_request();
  req.pop_back();  // the request head never ends: the client's side starts without framing
  Conv c;
  c.send(Conv::C, req);
  c.send(Conv::S, upgrade_response());
  c.send(Conv::C, std::string("\x83", 1));      // reserved opcode 3, FIN
  c.send(Conv::C, std::string("\x85\x00", 2));  // 0x85 as a mask/length byte: masked, 5 bytes
  c.send(Conv::C, cf(0x1, "after").bytes());
  c.send(Conv::C, cf(0x8, close_payload(1000)).bytes());
  c.send(Conv::S, sf(0x8, close_payload(1000)).bytes());
  const auto s = c.finish();
  CHECK(s.c2s.frames == 2);
  CHECK(s.c2s.messages == 1);
  CHECK(count_of(s, RuleId::reserved_opcode, Side::client) == 0);
  CHECK(s.close.code == 1000);
}

TEST_CASE("a short frame start is judged with the whole header after it, however it is cut", "[session]") {
  // Without framing, a segment starts with a plausible short client frame followed by bytes that
  // are no plausible header (FIN, all RSV bits, opcode 15, unmasked, empty). Judged whole, the look at the next
  // header refuses the candidate; cut at the frame's end, the next header was not at hand and the
  // candidate was taken, so the garbage was decoded as client frames (rsv-bits, reserved opcode).
  // Now a short candidate waits for the whole next header: refused both ways. Issue #16, fuzz
  // finding conversation/frame-start-lookahead-depends-on-cuts.
  std::string req = upgrade_request();
  req.pop_back();  // the request head never ends: the client's side starts without framing
  const std::string frame = cf(0x1, "hi").bytes();
  const std::string garbage("\xff\x00\xff\x00\xff\x00\xff\x00", 8);
  const bool cut = GENERATE(false, true);
  INFO((cut ? "cut at the frame's end" : "one segment"));
  Conv c;
  c.send(Conv::C, req);
  c.send(Conv::S, upgrade_response());
  if (cut) {
    c.send(Conv::C, frame);
    c.send(Conv::C, garbage);
  } else {
    c.send(Conv::C, frame + garbage);
  }
  c.send(Conv::C, cf(0x1, "ok").bytes());
  c.send(Conv::C, cf(0x8, close_payload(1000)).bytes());
  c.send(Conv::S, sf(0x8, close_payload(1000)).bytes());
  c.fin(Conv::S);
  c.fin(Conv::C);
  const auto s = c.finish();
  CHECK(s.c2s.frames == 2);
  CHECK(s.c2s.messages == 1);
  CHECK(count_of(s, RuleId::rsv_bits, Side::client) == 0);
  CHECK(count_of(s, RuleId::reserved_opcode, Side::client) == 0);
  CHECK(s.close.code == 1000);
  CHECK(s.close.echoed);
}

TEST_CASE("a short last frame held to regain framing is judged when the stream ends", "[session]") {
  // The candidate waits for the next header; when the client's stream ends first (FIN), it is
  // judged with what there is: its Close is decoded, as when it came with more bytes after it.
  std::string req = upgrade_request();
  req.pop_back();
  Conv c;
  c.send(Conv::C, req);
  c.send(Conv::S, upgrade_response());
  c.send(Conv::C, cf(0x8, close_payload(1000)).bytes());
  c.send(Conv::S, sf(0x8, close_payload(1000)).bytes());
  c.fin(Conv::C);
  c.fin(Conv::S);
  const auto s = c.finish();
  CHECK(s.c2s.frames == 1);
  CHECK(s.close.initiator == Side::client);
  CHECK(s.close.code == 1000);
}
