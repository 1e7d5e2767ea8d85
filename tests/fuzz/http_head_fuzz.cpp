// Fuzz target "http_head": the HTTP/1.x head collector (RFC 9112 §2.1-2.2) and the WebSocket opening
// handshake checks (RFC 6455 §4, RFC 7692 §5, §7.1) on the heads it collects.
//
// Input: byte 0 flags (bit 0: a 96-byte head bound instead of Limits' 16 KiB), bytes 1-4 seed the
// chunking, then one byte stream: the client's head, then the server's (interim 1xx responses,
// then the final one) — a request and its 101 response written one after the other make a seed.
// Each head is collected twice, in chunks the input picks (0..40 bytes, sometimes 1, sometimes the
// rest) and in one piece: state, kind, head text, bytes seen and the offset where the head ended
// must be equal. The heads are then parsed, the handshake validated (twice: validate() starts over,
// so the second run must give the same facts), and the extension grammar run on both sides' values.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "fuzz_input.h"
#include "wsdiag/http/extensions.h"
#include "wsdiag/http/handshake.h"
#include "wsdiag/http/head_collector.h"
#include "wsdiag/http/message.h"

namespace {

using namespace wsdiag;
using wsdiag::fuzz::Owned;
using wsdiag::fuzz::Rng;

struct Collected {
  http::HeadCollector::State state;
  http::HeadCollector::Kind kind;
  std::string head;
  std::size_t seen;
  std::size_t used;  ///< bytes of the stream that belong to the head
};

Collected collect(Bytes stream, std::size_t bound, Rng* rng) {
  http::HeadCollector hc(bound);
  std::size_t used = 0;
  for (std::size_t at = 0; at < stream.size() && hc.state() == http::HeadCollector::State::collecting;) {
    std::size_t n = stream.size() - at;
    if (rng != nullptr) {
      const std::size_t pick = rng->below(8);
      n = std::min(n, pick == 0 ? 1 : pick == 1 ? n : rng->below(41));
    }
    const Owned chunk(stream.subspan(at, n));
    std::size_t consumed = 99999;
    const auto st = hc.feed(chunk.span(), consumed);
    WSDIAG_FUZZ_CHECK(consumed <= n);
    WSDIAG_FUZZ_CHECK(st == hc.state());
    if (st == http::HeadCollector::State::collecting) WSDIAG_FUZZ_CHECK(consumed == n);
    used += consumed;
    at += n;
  }
  // Once finished, the collector takes nothing more.
  if (hc.state() != http::HeadCollector::State::collecting) {
    std::size_t consumed = 1;
    const std::uint8_t more[2] = {'\r', '\n'};
    hc.feed(Bytes(more, 2), consumed);
    WSDIAG_FUZZ_CHECK(consumed == 0);
  }
  WSDIAG_FUZZ_CHECK(hc.head().size() <= bound);
  return {hc.state(), hc.kind(), std::string(hc.head()), hc.bytes_seen(), used};
}

Collected collect_both(Bytes stream, std::size_t bound, Rng& rng) {
  const Collected a = collect(stream, bound, &rng);
  const Collected b = collect(stream, bound, nullptr);
  WSDIAG_FUZZ_CHECK(a.state == b.state);
  WSDIAG_FUZZ_CHECK(a.kind == b.kind);
  WSDIAG_FUZZ_CHECK(a.head == b.head);
  WSDIAG_FUZZ_CHECK(a.seen == b.seen);
  WSDIAG_FUZZ_CHECK(a.used == b.used);
  if (a.state == http::HeadCollector::State::complete) {
    WSDIAG_FUZZ_CHECK(a.head.size() >= 2 && a.head.back() == '\n');
  }
  return a;
}

std::string facts(const http::Handshake& hs) {
  std::string s = hs.path + '|' + hs.host + '|' + hs.key + '|' + hs.subprotocol + '|' + hs.extensions_accepted + '|' +
                  std::to_string(hs.status) + '|' + std::to_string(static_cast<int>(hs.accept_status)) + '|' +
                  hs.expected_accept + '|' + std::to_string(hs.deflate.enabled) +
                  std::to_string(hs.deflate.server_max_window_bits) + std::to_string(hs.deflate.client_max_window_bits);
  for (const auto& p : hs.problems) s += '|' + std::string(p.id()) + ':' + p.message;
  return s;
}

void extensions(std::string_view value, http::DeflateRole role) {
  std::string error;
  const auto exts = http::parse_extensions(value, &error);
  if (!exts) {
    WSDIAG_FUZZ_CHECK(!error.empty());
    return;
  }
  for (const auto& e : *exts) {
    if (e.name != http::kPermessageDeflate) continue;
    const auto el = http::parse_deflate(e, role, &error);
    if (!el) continue;
    const auto p = http::negotiated_deflate(&*el, *el);
    WSDIAG_FUZZ_CHECK(p.server_max_window_bits >= 8 && p.server_max_window_bits <= 15);
    WSDIAG_FUZZ_CHECK(p.client_max_window_bits >= 8 && p.client_max_window_bits <= 15);
    (void)http::deflate_accepts(*el, *el, &error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wsdiag::fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.u8();
  const std::size_t bound = (flags & 1) != 0 ? 96 : Limits{}.http_head_bytes;
  Rng rng(in.u32());
  Bytes stream = in.rest();

  http::Handshake hs;
  for (int heads = 0; heads < 2 + static_cast<int>(http::kMaxInterimResponses) && !stream.empty(); ++heads) {
    const Collected c = collect_both(stream, bound, rng);
    stream = stream.subspan(c.used);
    if (c.state != http::HeadCollector::State::complete) break;
    if (c.kind == http::HeadCollector::Kind::request) {
      auto req = http::parse_request(c.head);
      if (req && !hs.request) hs.request = std::move(*req);
    } else if (c.kind == http::HeadCollector::Kind::response) {
      auto resp = http::parse_response(c.head);
      if (resp) {
        WSDIAG_FUZZ_CHECK(resp->status >= 0 && resp->status <= 999);
        if (hs.add_response(std::move(*resp))) break;
      }
    }
  }
  WSDIAG_FUZZ_CHECK(hs.interim_statuses.size() <= http::kMaxInterimResponses);
  http::validate(hs);
  const std::string first = facts(hs);
  http::validate(hs);
  WSDIAG_FUZZ_CHECK(first == facts(hs));
  if (hs.ok()) WSDIAG_FUZZ_CHECK(hs.accept_status == http::AcceptStatus::valid);
  if (http::is_valid_key(hs.key)) WSDIAG_FUZZ_CHECK(http::compute_accept(hs.key).size() == 28);
  extensions(hs.extensions_offered, http::DeflateRole::offer);
  extensions(hs.extensions_accepted, http::DeflateRole::response);
  return 0;
}
