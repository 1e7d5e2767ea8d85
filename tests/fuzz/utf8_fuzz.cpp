// Fuzz target "utf8": the incremental UTF-8 validator (RFC 3629 §4) with each block kernel the CPU
// has (scalar, SSE4.1, AVX2), fed in chunks the input picks, against a reference written here from
// the RFC's table of well-formed sequences, one code point at a time.
//
// Input: bytes 0-3 seed the chunking (0..100 bytes, sometimes 1, sometimes 64, sometimes the rest),
// then the text. For every kernel: valid or not, the offset of the first invalid byte (the first byte
// after which no continuation can make the text valid), finish() at the end, the pending sequence's
// start, and the one-shot helpers (is_valid_utf8, utf8_kernel_valid) must match the reference.
#include <array>
#include <cstdint>

#include "fuzz_input.h"
#include "wsdiag/ws/utf8.h"

namespace {

using namespace wsdiag;

struct RefResult {
  bool failed = false;
  std::uint64_t error_offset = 0;  // first byte that cannot continue a valid prefix
  bool complete = true;            // no sequence left open at the end
  std::uint64_t pending = 0;       // start of the open sequence
};

// RFC 3629 §4, checked one code point at a time.
RefResult reference(Bytes t) {
  RefResult r;
  std::size_t i = 0;
  while (i < t.size()) {
    const unsigned b = t[i];
    std::size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b == 0xE0) {
      need = 2, lo = 0xA0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      need = 2;
    } else if (b == 0xED) {
      need = 2, hi = 0x9F;
    } else if (b == 0xF0) {
      need = 3, lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      need = 3;
    } else if (b == 0xF4) {
      need = 3, hi = 0x8F;
    } else {
      return {true, i, false, 0};
    }
    for (std::size_t k = 1; k <= need; ++k) {
      if (i + k >= t.size()) {
        r.complete = false;
        r.pending = i;
        return r;
      }
      const unsigned c = t[i + k];
      const unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (c < l || c > h) return {true, i + k, false, 0};
    }
    i += need + 1;
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  wsdiag::fuzz::FuzzInput in(data, size);
  const std::uint32_t seed = in.u32();
  const wsdiag::fuzz::Owned text_copy(in.rest());
  const Bytes text = text_copy.span();
  const RefResult want = reference(text);
  const bool want_valid = !want.failed && want.complete;

  WSDIAG_FUZZ_CHECK(ws::is_valid_utf8(text) == want_valid);
  constexpr std::array<ws::detail::Utf8Kernel, 3> kKernels = {
      ws::detail::Utf8Kernel::scalar, ws::detail::Utf8Kernel::sse41, ws::detail::Utf8Kernel::avx2};
  const auto saved = ws::detail::utf8_kernel();
  for (const auto k : kKernels) {
    if (!ws::detail::utf8_kernel_supported(k)) continue;
    WSDIAG_FUZZ_CHECK(ws::detail::utf8_kernel_valid(k, text) == want_valid);
    WSDIAG_FUZZ_CHECK(ws::detail::set_utf8_kernel(k));
    wsdiag::fuzz::Rng rng(seed);
    ws::Utf8Validator v;
    bool ok = true;
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t pick = rng.below(8);
      std::size_t n = pick == 0 ? 1 : pick == 1 ? 64 : pick == 2 ? text.size() - at : rng.below(101);
      n = std::min(n, text.size() - at);
      const wsdiag::fuzz::Owned chunk(text.subspan(at, n));
      const bool r = v.feed(chunk.span());
      WSDIAG_FUZZ_CHECK(r || !ok || v.failed());
      if (!ok) WSDIAG_FUZZ_CHECK(!r);
      ok = ok && r;
      at += n;
    }
    WSDIAG_FUZZ_CHECK(v.failed() == want.failed);
    if (want.failed) {
      WSDIAG_FUZZ_CHECK(v.error_offset() == want.error_offset);
      WSDIAG_FUZZ_CHECK(v.bytes_validated() == want.error_offset);
      WSDIAG_FUZZ_CHECK(v.result() == ws::Utf8Validator::Result::invalid);
    } else {
      WSDIAG_FUZZ_CHECK(v.finish() == want.complete);
      WSDIAG_FUZZ_CHECK(v.bytes_validated() == text.size());
      if (!want.complete) {
        WSDIAG_FUZZ_CHECK(v.result() == ws::Utf8Validator::Result::incomplete);
        WSDIAG_FUZZ_CHECK(v.pending_offset() == want.pending);
      }
    }
  }
  ws::detail::set_utf8_kernel(saved);
  return 0;
}
