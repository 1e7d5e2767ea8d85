// Fuzz target "tls": one direction of a TLS connection through the record layer
// (tls::RecordAssembler, including skip_gap), the handshake message framing (tls::HandshakeStream)
// and the hello parsers (parse_client_hello, parse_server_hello, parse_encrypted_extensions), plus
// the recognisers looks_like_records / looks_like_client_hello.
//
// Input: byte 0 flags (bit 0: application_data bodies are wanted, as with a key; bit 1: a small
// record limit, 512 bytes; bit 2: a capture gap of (byte 5) + 1 bytes after a piece the seed picks;
// bit 6: the whole stream is also parsed as a ServerHello body, else as a ClientHello body), bytes
// 1-4 seed the chunking (pieces of 0..64 bytes, sometimes one byte, sometimes the rest), then the
// stream bytes as sent (record headers first).
//
// Checks beyond ASan + UBSan: the stream fed in the chunks the input picks gives exactly the records
// (type, version, length, body bytes, packet of the last byte) and final status it gives fed whole;
// the handshake messages of the handshake records are the same whether the record bodies are fed to
// HandshakeStream whole or one byte at a time; a message kept whole is never longer than its limit;
// each kept hello is parsed from an exact-size copy (an over-read is an ASan report) and parsing it
// twice gives the same facts.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "wsdiag/tls/facts.h"
#include "wsdiag/tls/hello.h"
#include "wsdiag/tls/record.h"

namespace {

using namespace wsdiag;

struct Record {
  tls::RecordHeader h;
  std::vector<std::uint8_t> body;
  std::uint64_t at = 0;
  bool operator==(const Record& o) const {
    return h.type == o.h.type && h.version == o.h.version && h.length == o.h.length && body == o.body && at == o.at;
  }
};

struct Records : tls::RecordHandler {
  bool want_app = false;
  std::vector<Record> got;
  bool wants_body(const tls::RecordHeader& h) override {
    return h.type != tls::content::application_data || want_app;
  }
  void on_record(const tls::RecordHeader& h, Bytes body, PacketRef at) override {
    WSDIAG_FUZZ_CHECK(body.empty() || body.size() == h.length);
    if (got.size() < 4096) got.push_back(Record{h, std::vector<std::uint8_t>(body.begin(), body.end()), at.index});
  }
};

struct Message {
  std::uint8_t type = 0;
  std::vector<std::uint8_t> body;
  bool truncated = false;
  bool operator==(const Message& o) const { return type == o.type && body == o.body && truncated == o.truncated; }
};

constexpr std::size_t kMaxKeep = 2048;

struct Messages : tls::HandshakeStream::Handler {
  std::vector<Message> got;
  bool keep(std::uint8_t type) override {
    return type == tls::hs::client_hello || type == tls::hs::server_hello || type == tls::hs::encrypted_extensions;
  }
  void on_message(std::uint8_t type, Bytes body, bool truncated) override {
    WSDIAG_FUZZ_CHECK(body.size() <= kMaxKeep);
    if (got.size() < 1024) got.push_back(Message{type, std::vector<std::uint8_t>(body.begin(), body.end()), truncated});
  }
};

std::string client_facts(Bytes body) {
  tls::TlsFacts f;
  const bool ok = tls::parse_client_hello(body, f);
  std::string s = ok ? "ok" : "bad";
  s += " " + std::to_string(f.client_legacy_version) + " " + std::to_string(f.client_max_version) + " " + f.sni + " " +
       f.alpn_offered + " " + std::to_string(f.key_share) + std::to_string(f.psk_offered) +
       std::to_string(f.early_data_offered) + " " + std::to_string(f.session_id_len);
  s.append(reinterpret_cast<const char*>(f.client_random.data()), f.client_random.size());
  return s;
}

std::string server_facts(Bytes body) {
  tls::ServerHelloInfo i;
  const bool ok = tls::parse_server_hello(body, i);
  std::string s = ok ? "ok" : "bad";
  s += " " + std::to_string(i.legacy_version) + " " + std::to_string(i.version) + " " + std::to_string(i.cipher) + " " +
       std::to_string(i.hello_retry) + std::to_string(i.psk) + " " + i.alpn;
  return s;
}

void parse(const Message& m) {
  const fuzz::Owned body(m.body);
  const Bytes b = body.span();
  if (m.type == tls::hs::client_hello) {
    WSDIAG_FUZZ_CHECK(client_facts(b) == client_facts(b));
  } else if (m.type == tls::hs::server_hello) {
    WSDIAG_FUZZ_CHECK(server_facts(b) == server_facts(b));
  } else if (m.type == tls::hs::encrypted_extensions) {
    std::string a, c;
    const bool ok1 = tls::parse_encrypted_extensions(b, a);
    const bool ok2 = tls::parse_encrypted_extensions(b, c);
    WSDIAG_FUZZ_CHECK(ok1 == ok2 && a == c);
  }
}

struct Run {
  std::vector<Record> records;
  tls::RecordAssembler::Status status = tls::RecordAssembler::Status::ok;
};

// The stream through a RecordAssembler in the given pieces (each an exact-size heap copy; a gap of
// `gap` bytes after piece `gap_after`).
Run assemble(Bytes stream, const std::vector<std::size_t>& cuts, bool want_app, std::size_t max_record,
             std::size_t gap_after, std::uint64_t gap) {
  Run r;
  Records h;
  h.want_app = want_app;
  tls::RecordAssembler a(max_record);
  std::size_t at = 0;
  std::uint64_t index = 0;
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const fuzz::Owned piece(stream.subspan(at, cuts[i]));
    at += cuts[i];
    a.feed(piece.span(), PacketRef{++index, 0}, h);
    if (i == gap_after && gap != 0 && !a.skip_gap(gap, PacketRef{++index, 0}, h)) a.stop();
  }
  (void)a.mid_record();
  (void)a.bad_length();
  r.records = std::move(h.got);
  r.status = a.status();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.u8();
  fuzz::Rng rng(in.u32());
  const std::uint64_t gap = (flags & 4) != 0 ? std::uint64_t{in.u8()} + 1 : 0;
  const Bytes stream = in.rest();
  const bool want_app = (flags & 1) != 0;
  const std::size_t max_record = (flags & 2) != 0 ? 512 : tls::kMaxRecordBody;

  (void)tls::looks_like_records(fuzz::Owned(stream).span());
  (void)tls::looks_like_client_hello(fuzz::Owned(stream).span());

  // Pieces as the input picks them; the same stream fed as one piece gets the same packet indexes
  // for the records (each record is attributed to the piece of its last byte, so the whole run
  // counts the pieces too: its records carry the index of that piece).
  std::vector<std::size_t> cuts;
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t pick = rng.below(8);
    std::size_t n = pick == 0 ? 1 : pick == 1 ? stream.size() - at : rng.below(65);
    n = std::min(n, stream.size() - at);
    cuts.push_back(n);
    at += n;
  }
  const std::size_t gap_after = cuts.empty() ? 0 : rng.below(cuts.size());
  const Run cut = assemble(stream, cuts, want_app, max_record, gap_after, gap);
  if (gap == 0) {
    // Fed byte by byte, every record ends in a piece of its own: compare everything but `at`.
    std::vector<std::size_t> ones(stream.size(), 1);
    Run bytewise = assemble(stream, ones, want_app, max_record, 0, 0);
    Run whole = assemble(stream, std::vector<std::size_t>{stream.size()}, want_app, max_record, 0, 0);
    WSDIAG_FUZZ_CHECK(whole.status == cut.status && whole.status == bytewise.status);
    WSDIAG_FUZZ_CHECK(whole.records.size() == cut.records.size() && whole.records.size() == bytewise.records.size());
    for (std::size_t i = 0; i < whole.records.size(); ++i) {
      auto a = whole.records[i], b = cut.records[i], c = bytewise.records[i];
      a.at = b.at = c.at = 0;
      WSDIAG_FUZZ_CHECK(a == b && a == c);
    }
  }

  // Handshake records: their bodies as one handshake stream, fed per record and byte by byte.
  Messages per_record, per_byte;
  tls::HandshakeStream hs_a(kMaxKeep), hs_b(kMaxKeep);
  for (const auto& r : cut.records) {
    if (r.h.type != tls::content::handshake || r.body.empty()) continue;
    const fuzz::Owned body(r.body);
    hs_a.feed(body.span(), per_record);
    for (std::size_t i = 0; i < r.body.size(); ++i) {
      const fuzz::Owned one(body.span().subspan(i, 1));
      hs_b.feed(one.span(), per_byte);
    }
  }
  WSDIAG_FUZZ_CHECK(per_record.got == per_byte.got);
  for (const auto& m : per_record.got) parse(m);
  // The parsers on the raw stream too (whatever its framing): the fuzzer reaches them directly.
  if (!stream.empty()) {
    const std::uint8_t type = (flags & 0x40) != 0 ? tls::hs::server_hello : tls::hs::client_hello;
    const Message direct{type, std::vector<std::uint8_t>(stream.begin(), stream.end()), false};
    parse(direct);
    parse(Message{tls::hs::encrypted_extensions, direct.body, false});
  }
  return 0;
}
