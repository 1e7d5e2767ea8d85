// The zlib backend of src/ws/inflater.cpp, compiled again under another class name (see
// inflate_backends.h). Everything the source includes is included first, so the renaming macro
// reaches only inflater.h and inflater.cpp themselves; WSDIAG_HAVE_ISAL is never defined here.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include "wsdiag/common/byte_reader.h"

#undef WSDIAG_HAVE_ISAL
#define Inflater ZlibBackendInflater
#include "../../src/ws/inflater.cpp"  // NOLINT(bugprone-suspicious-include)
#undef Inflater

#include "inflate_backends.h"

namespace wsdiag::fuzz {

static_assert(static_cast<int>(ws::ZlibBackendInflater::Status::no_context) ==
              static_cast<int>(InflateStatus::no_context));

namespace {

class ZlibCopy final : public AnyInflater {
 public:
  ZlibCopy(int bits, bool nct, std::uint64_t max) : z_(bits, nct, max) {}
  void begin_message() override { z_.begin_message(); }
  InflateStatus feed(Bytes in, ws::InflateSink& sink) override { return convert(z_.feed(in, sink)); }
  InflateStatus end_message(ws::InflateSink& sink) override { return convert(z_.end_message(sink)); }
  [[nodiscard]] std::uint64_t message_bytes() const override { return z_.message_bytes(); }
  [[nodiscard]] const char* backend() const override { return ws::ZlibBackendInflater::backend(); }

 private:
  static InflateStatus convert(ws::ZlibBackendInflater::Status s) {
    return static_cast<InflateStatus>(static_cast<std::uint8_t>(s));
  }
  ws::ZlibBackendInflater z_;
};

}  // namespace

std::unique_ptr<AnyInflater> make_zlib_inflater(int window_bits, bool no_context_takeover, std::uint64_t max) {
  return std::make_unique<ZlibCopy>(window_bits, no_context_takeover, max);
}

}  // namespace wsdiag::fuzz
