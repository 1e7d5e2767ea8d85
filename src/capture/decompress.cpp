// wsdiag — compressed capture files, read through a cookie FILE (see decompress.h).
#include "decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

namespace wsdiag::capture {

struct CompressedStream {
  Compression kind = Compression::none;
  gzFile gz = nullptr;
  // zstd: the file, the decoder and one input buffer of the size zstd recommends.
  std::FILE* file = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  std::unique_ptr<std::uint8_t[]> in_buf;
  std::size_t in_cap = 0;
  ZSTD_inBuffer in{nullptr, 0, 0};
  std::int64_t consumed = 0;  // compressed bytes handed to the decoder

  ~CompressedStream() {
    if (gz != nullptr) gzclose_r(gz);
    if (dctx != nullptr) ZSTD_freeDCtx(dctx);
    if (file != nullptr) std::fclose(file);
  }
};

namespace {

ssize_t gz_read(void* cookie, char* buf, size_t n) {
  auto* s = static_cast<CompressedStream*>(cookie);
  const auto want = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
  const int got = gzread(s->gz, buf, want);
  return got < 0 ? -1 : static_cast<ssize_t>(got);
}

ssize_t zstd_read(void* cookie, char* buf, size_t n) {
  auto* s = static_cast<CompressedStream*>(cookie);
  ZSTD_outBuffer out{buf, n, 0};
  while (out.pos == 0) {
    if (s->in.pos == s->in.size) {
      const std::size_t got = std::fread(s->in_buf.get(), 1, s->in_cap, s->file);
      if (got == 0) {
        if (std::ferror(s->file) != 0) return -1;
        // End of file. Inside a frame the file was cut: what was decoded has been handed on, and
        // libpcap says the capture ends mid-record, as for a cut plain capture.
        return 0;
      }
      s->in = ZSTD_inBuffer{s->in_buf.get(), got, 0};
    }
    const std::size_t before = s->in.pos;
    const std::size_t rc = ZSTD_decompressStream(s->dctx, &out, &s->in);
    s->consumed += static_cast<std::int64_t>(s->in.pos - before);
    if (ZSTD_isError(rc) != 0) {
      errno = EIO;
      return -1;
    }
    (void)rc;  // 0: a frame ended; more input (or the next frame) goes on the same way
  }
  return static_cast<ssize_t>(out.pos);
}

int stream_close(void* cookie) {
  delete static_cast<CompressedStream*>(cookie);
  return 0;
}

}  // namespace

Compression sniff_compression(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Compression::none;
  std::array<unsigned char, 4> m{};
  const std::size_t got = std::fread(m.data(), 1, m.size(), f);
  std::fclose(f);
  if (got >= 2 && m[0] == 0x1f && m[1] == 0x8b) return Compression::gzip;
  if (got == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return Compression::zstd;
  return Compression::none;
}

const char* to_string(Compression c) noexcept {
  switch (c) {
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
    case Compression::none: break;
  }
  return "none";
}

std::FILE* open_decompressed(const std::string& path, Compression c, CompressedStream*& stream, std::string& err) {
  auto s = std::make_unique<CompressedStream>();
  s->kind = c;
  cookie_io_functions_t io{nullptr, nullptr, nullptr, stream_close};
  if (c == Compression::gzip) {
    s->gz = gzopen(path.c_str(), "rb");
    if (s->gz == nullptr) {
      err = std::strerror(errno != 0 ? errno : ENOMEM);
      return nullptr;
    }
    gzbuffer(s->gz, 1u << 16);
    io.read = gz_read;
  } else if (c == Compression::zstd) {
    s->file = std::fopen(path.c_str(), "rb");
    if (s->file == nullptr) {
      err = std::strerror(errno);
      return nullptr;
    }
    s->dctx = ZSTD_createDCtx();
    if (s->dctx == nullptr) {
      err = "cannot make a zstd decoder";
      return nullptr;
    }
    // A hostile frame header cannot make the decoder allocate a huge window: 2^27 (128 MiB) is
    // zstd's own default cap for streaming decoding; say it explicitly.
    ZSTD_DCtx_setParameter(s->dctx, ZSTD_d_windowLogMax, 27);
    s->in_cap = ZSTD_DStreamInSize();
    s->in_buf = std::make_unique<std::uint8_t[]>(s->in_cap);
    io.read = zstd_read;
  } else {
    err = "not compressed";
    return nullptr;
  }
  std::FILE* f = fopencookie(s.get(), "r", io);
  if (f == nullptr) {
    err = std::string("cannot read the ") + to_string(c) + " stream";
    return nullptr;
  }
  stream = s.release();
  return f;
}

std::int64_t compressed_offset(const CompressedStream* s) noexcept {
  if (s == nullptr) return 0;
  if (s->kind == Compression::gzip) return static_cast<std::int64_t>(gzoffset(s->gz));
  return s->consumed;
}

}  // namespace wsdiag::capture
