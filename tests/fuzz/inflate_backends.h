// wsdiag fuzz targets — both permessage-deflate backends in one program.
//
// ws::Inflater (src/ws/inflater.cpp) is built with one backend, chosen at build time: ISA-L when
// libisal is found, zlib otherwise. The differential target needs the other one too, so
// inflate_zlib_copy.cpp compiles that same source file a second time with the zlib backend, its
// class renamed, and hands it out through this small interface. Both sides therefore always run
// the code in src/ws/inflater.cpp as it is (no copy of it to keep in step).
#pragma once

#include <cstdint>
#include <memory>

#include "wsdiag/ws/inflater.h"

namespace wsdiag::fuzz {

/// ws::Inflater::Status, value for value (the zlib copy's class has another name, so its Status
/// is another type: both convert to this one).
enum class InflateStatus : std::uint8_t { ok, error, over_limit, no_context };

/// One Inflater, whichever backend. (In inflate_zlib_copy.cpp, inflater.h was already included
/// under the renaming macro: only InflateSink, which keeps its name, is used from it here.)
class AnyInflater {
 public:
  virtual ~AnyInflater() = default;
  virtual void begin_message() = 0;
  virtual InflateStatus feed(Bytes compressed, ws::InflateSink& sink) = 0;
  virtual InflateStatus end_message(ws::InflateSink& sink) = 0;
  [[nodiscard]] virtual std::uint64_t message_bytes() const = 0;
  [[nodiscard]] virtual const char* backend() const = 0;
};

/// The backend wsdiag_core uses (ws::Inflater).
std::unique_ptr<AnyInflater> make_core_inflater(int window_bits, bool no_context_takeover, std::uint64_t max);
/// src/ws/inflater.cpp's zlib backend, whatever the core uses.
std::unique_ptr<AnyInflater> make_zlib_inflater(int window_bits, bool no_context_takeover, std::uint64_t max);

}  // namespace wsdiag::fuzz
