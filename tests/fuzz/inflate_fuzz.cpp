// Fuzz target "inflate": permessage-deflate messages (RFC 7692 §7.2.2) through ws::Inflater, as a
// differential: the backend wsdiag_core uses (ISA-L when installed) against src/ws/inflater.cpp's
// zlib backend (inflate_backends.h), each both fed in the chunks the input picks and fed whole.
//
// Input: byte 0 configures the stream: window bits 8 + (b & 7), bit 3 no_context_takeover, bits
// 4-5 the inflated-size cap (1 MiB, 64 B, 1 KiB, 64 KiB). Bytes 1-4 seed the chunking (pieces of
// 0..40 bytes, sometimes one byte, sometimes the rest). Then messages: a u16le length and that many
// payload bytes (the 00 00 ff ff tail removed, as on the wire), until the input ends.
//
// Checks, per message: each backend gives the same status and the same bytes however the payload
// was cut (a verdict must never depend on TCP segmentation); both backends give the same status,
// and the same bytes when the message inflated. The cap's exact stopping point is not compared.
// WSDIAG_FUZZ_IGNORE=error-prefix skips comparing the bytes given before an error, limit-vs-error
// takes error and over_limit as one outcome, backend-validity lets the backends differ on accepting a
// message (fuzz_input.h).
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "inflate_backends.h"

namespace wsdiag::fuzz {

namespace {

static_assert(static_cast<int>(ws::Inflater::Status::no_context) == static_cast<int>(InflateStatus::no_context));

class CoreInflater final : public AnyInflater {
 public:
  CoreInflater(int bits, bool nct, std::uint64_t max) : z_(bits, nct, max) {}
  void begin_message() override { z_.begin_message(); }
  InflateStatus feed(Bytes in, ws::InflateSink& sink) override { return convert(z_.feed(in, sink)); }
  InflateStatus end_message(ws::InflateSink& sink) override { return convert(z_.end_message(sink)); }
  [[nodiscard]] std::uint64_t message_bytes() const override { return z_.message_bytes(); }
  [[nodiscard]] const char* backend() const override { return ws::Inflater::backend(); }

 private:
  static InflateStatus convert(ws::Inflater::Status s) { return static_cast<InflateStatus>(static_cast<std::uint8_t>(s)); }
  ws::Inflater z_;
};

struct Collect : ws::InflateSink {
  std::string out;
  void on_inflated(Bytes data) override {
    WSDIAG_FUZZ_CHECK(!data.empty());
    out.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
};

const char* name(InflateStatus s) {
  switch (s) {
    case InflateStatus::ok: return "ok";
    case InflateStatus::error: return "error";
    case InflateStatus::over_limit: return "over_limit";
    case InflateStatus::no_context: return "no_context";
  }
  return "?";
}

struct Result {
  InflateStatus status = InflateStatus::ok;
  std::string out;
  std::uint64_t bytes = 0;
};

// One message through `z`, whole or in the given pieces (each an exact-size heap copy).
Result inflate(AnyInflater& z, Bytes msg, const std::vector<std::size_t>* cuts) {
  Result r;
  Collect sink;
  z.begin_message();
  InflateStatus st = InflateStatus::ok;
  if (cuts == nullptr) {
    const Owned whole(msg);
    st = z.feed(whole.span(), sink);
  } else {
    std::size_t at = 0;
    for (const std::size_t n : *cuts) {
      const Owned piece(msg.subspan(at, n));
      at += n;
      st = z.feed(piece.span(), sink);
    }
  }
  st = z.end_message(sink);
  r.status = st;
  r.out = std::move(sink.out);
  r.bytes = z.message_bytes();
  return r;
}

void compare(const Result& a, const char* an, const Result& b, const char* bn, bool same_backend, std::size_t msg) {
  // "limit-vs-error": error and over_limit taken as one outcome (reported: which one a corrupt
  // message gets depends on the cuts).
  static const bool skip_limit = ignoring("limit-vs-error");
  const auto failed = [](InflateStatus s) { return s == InflateStatus::error || s == InflateStatus::over_limit; };
  bool bad = a.status != b.status && !(skip_limit && failed(a.status) && failed(b.status));
  // "backend-validity": one backend rejects a stream the other accepts (reported: ISA-L accepts
  // invalid Huffman code sets zlib rejects); bytes are still compared when both accept.
  static const bool skip_validity = ignoring("backend-validity");
  if (bad && !same_backend && skip_validity && (failed(a.status) != failed(b.status))) bad = false;
  if (!bad && a.status == InflateStatus::ok && b.status == InflateStatus::ok) bad = a.out != b.out || a.bytes != b.bytes;
  // The bytes a backend gives before an error are not compared: ISA-L's fast loop runs a few bytes
  // past an invalid symbol on streams older than a window (on younger ones the failing call is
  // replayed exactly), and the session never uses them (a failed message is not counted and has no
  // preview), so only the status must agree.
  if (!bad) return;
  std::fprintf(stderr, "message %zu: %s: %s, %zu bytes; %s: %s, %zu bytes\n", msg, an, name(a.status), a.out.size(),
               bn, name(b.status), b.out.size());
  fail(same_backend ? "the outcome depends on how the message was cut" : "the two inflate backends disagree");
}

}  // namespace

}  // namespace wsdiag::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wsdiag::fuzz;
  FuzzInput in(data, size);
  const std::uint8_t cfg = in.u8();
  const int bits = 8 + (cfg & 7);
  const bool nct = (cfg & 8) != 0;
  static constexpr std::array<std::uint64_t, 4> kCaps = {1u << 20, 64, 1024, 1u << 16};
  const std::uint64_t cap = kCaps[(cfg >> 4) & 3];
  Rng rng(in.u32());

  auto core_cut = make_core_inflater(bits, nct, cap);
  auto core_whole = make_core_inflater(bits, nct, cap);
  auto zlib_cut = make_zlib_inflater(bits, nct, cap);
  auto zlib_whole = make_zlib_inflater(bits, nct, cap);
  const char* core_name = core_cut->backend();

  for (std::size_t msg = 0; !in.empty() && msg < 64; ++msg) {
    const wsdiag::Bytes payload = in.bytes(in.u16());
    std::vector<std::size_t> cuts;
    for (std::size_t at = 0; at < payload.size();) {
      const std::size_t pick = rng.below(8);
      std::size_t n = pick == 0 ? 1 : pick == 1 ? payload.size() - at : rng.below(41);
      n = std::min(n, payload.size() - at);
      cuts.push_back(n);
      at += n;
    }
    const Result a = inflate(*core_cut, payload, &cuts);
    const Result b = inflate(*core_whole, payload, nullptr);
    const Result c = inflate(*zlib_cut, payload, &cuts);
    const Result d = inflate(*zlib_whole, payload, nullptr);
    compare(a, core_name, b, core_name, true, msg);
    compare(c, "zlib", d, "zlib", true, msg);
    compare(b, core_name, d, "zlib", false, msg);
  }
  return 0;
}

namespace wsdiag::fuzz {
std::unique_ptr<AnyInflater> make_core_inflater(int window_bits, bool no_context_takeover, std::uint64_t max) {
  return std::make_unique<CoreInflater>(window_bits, no_context_takeover, max);
}
}  // namespace wsdiag::fuzz
