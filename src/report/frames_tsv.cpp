// wsdiag — `--frames` TSV (CLI.md): one line per WebSocket frame (RFC 6455 §5.2 header fields),
// escaped as the corpus truth files are (truth/README.md) so the two can be diffed.
#include <fmt/format.h>

#include <iterator>

#include "wsdiag/report/report.h"
#include "wsdiag/report/text_util.h"

namespace wsdiag::report {

namespace {
constexpr std::uint8_t kOpClose = 0x8;
}

void write_frames_header(std::FILE* out) {
  std::fputs(
      "packet\tconn\ttime\tdir\tfin\trsv\topcode\tmasked\tpayload_len\tclose_code\tclose_reason\t"
      "message_len\ttext_preview\n",
      out);
}

namespace {

// Formats into a fixed inline buffer: no heap allocation per frame (a Close reason that needs
// escaping is the exception).
template <typename Buffer>
void format_frame(Buffer& buf, const session::FrameRecord& f, std::string_view preview) {
  std::int64_t secs = f.at.ts_ns / 1'000'000'000;
  std::int64_t rem = f.at.ts_ns % 1'000'000'000;
  if (rem < 0) {  // floor division, so the fraction is never negative
    rem += 1'000'000'000;
    --secs;
  }
  fmt::format_to(std::back_inserter(buf), "{}\t{}\t{}.{:06}\t{}\t{}\t{}\t{}\t{}\t{}\t", f.at.index,
                 f.conn, secs, rem / 1000, to_string(f.dir), f.fin ? 1 : 0, f.rsv & 0x7, f.opcode,
                 f.masked ? 1 : 0, f.payload_len);
  if (f.opcode == kOpClose && f.close_code) {
    fmt::format_to(std::back_inserter(buf), "{}", *f.close_code);
  }
  buf.push_back('\t');
  if (f.opcode == kOpClose && !f.close_reason.empty()) {
    const std::string reason = escape_tsv(f.close_reason);
    buf.append(reason.data(), reason.data() + reason.size());
  }
  // Beyond CLI.md's columns: on a message's last frame, its size after inflating and (text) its
  // first 80 characters, as tshark's websocket.payload.text shows them.
  buf.push_back('\t');
  if (f.message_len) fmt::format_to(std::back_inserter(buf), "{}", *f.message_len);
  buf.push_back('\t');
  if (!preview.empty()) {
    const std::string text = escape_tsv(preview);
    buf.append(text.data(), text.data() + text.size());
  }
}

}  // namespace

std::string frame_line(const session::FrameRecord& f, std::string_view preview) {
  fmt::memory_buffer buf;
  format_frame(buf, f, preview);
  return fmt::to_string(buf);
}

void write_frame(std::FILE* out, const session::FrameRecord& f, std::string_view preview) {
  fmt::memory_buffer buf;
  format_frame(buf, f, preview);
  buf.push_back('\n');
  std::fwrite(buf.data(), 1, buf.size(), out);
}

}  // namespace wsdiag::report
