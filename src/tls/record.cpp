// wsdiag — TLS record reassembly (RFC 8446 §5.1, RFC 5246 §6.2). See record.h.
#include "wsdiag/tls/record.h"

#include <algorithm>
#include <cstring>

namespace wsdiag::tls {

bool decode_header(Bytes b, RecordHeader& h) noexcept {
  ByteReader r(b);
  h.type = r.u8();
  h.version = r.u16be();
  h.length = r.u16be();
  return r.ok();
}

bool plausible_header(const RecordHeader& h) noexcept {
  return h.type >= content::change_cipher_spec && h.type <= content::heartbeat && (h.version >> 8) == 3 &&
         (h.version & 0xFF) <= 4 && h.length <= kMaxRecordBody && h.length > 0;
}

bool looks_like_records(Bytes b) noexcept {
  RecordHeader h;
  if (b.size() < 3) return false;
  if (!decode_header(b, h)) {
    // Fewer than 5 bytes: type and version must still fit.
    return b[0] >= content::change_cipher_spec && b[0] <= content::heartbeat && b[1] == 3 && b[2] <= 4;
  }
  if (!plausible_header(h)) return false;
  const std::size_t end = 5 + std::size_t{h.length};
  if (end < b.size()) {
    RecordHeader next;
    const Bytes rest = b.subspan(end);
    if (rest.size() < 5) return rest[0] >= content::change_cipher_spec && rest[0] <= content::heartbeat;
    return decode_header(rest, next) && plausible_header(next);
  }
  return true;
}

bool looks_like_client_hello(Bytes b) noexcept {
  RecordHeader h;
  if (!decode_header(b, h) || h.type != content::handshake || !plausible_header(h)) return false;
  // RFC 8446 §4: msg_type 1 = client_hello; a ClientHello is at least 38 bytes long.
  return b.size() > 5 && b[5] == 1;
}

RecordAssembler::Status RecordAssembler::feed(Bytes bytes, PacketRef at, RecordHandler& handler) {
  if (stopped()) return status_;
  while (!bytes.empty()) {
    if (!in_body_) {
      // Header: straight from the piece when all 5 bytes are there, else through the spill.
      RecordHeader h;
      if (hdr_len_ == 0 && bytes.size() >= 5) {
        decode_header(bytes, h);
        bytes = bytes.subspan(5);
      } else {
        const std::size_t n = std::min(bytes.size(), hdr_.size() - hdr_len_);
        std::memcpy(hdr_.data() + hdr_len_, bytes.data(), n);
        hdr_len_ += n;
        bytes = bytes.subspan(n);
        if (hdr_len_ < hdr_.size()) return status_;
        decode_header(hdr_, h);
        hdr_len_ = 0;
      }
      if (!plausible_header(h) && !(h.length == 0 && h.type >= content::change_cipher_spec &&
                                    h.type <= content::heartbeat && (h.version >> 8) == 3)) {
        status_ = h.length > kMaxRecordBody && (h.version >> 8) == 3 ? Status::too_long : Status::malformed;
        bad_len_ = h.length;
        return status_;
      }
      if (h.length > max_) {
        status_ = Status::too_long;
        bad_len_ = h.length;
        return status_;
      }
      cur_ = h;
      body_got_ = 0;
      keep_ = handler.wants_body(h);
      if (h.length == 0) {
        handler.on_record(cur_, {}, at);
        if (stopped()) return status_;
        continue;
      }
      in_body_ = true;
      if (keep_ && bytes.size() >= h.length) {
        // Whole body in this piece: no copy.
        handler.on_record(cur_, bytes.first(h.length), at);
        bytes = bytes.subspan(h.length);
        in_body_ = false;
        if (stopped()) return status_;
        continue;
      }
      if (keep_) buf_.clear();
    }
    const std::size_t need = std::size_t{cur_.length} - body_got_;
    const std::size_t n = std::min(need, bytes.size());
    if (keep_) buf_.insert(buf_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    body_got_ += n;
    bytes = bytes.subspan(n);
    if (body_got_ < cur_.length) return status_;
    in_body_ = false;
    handler.on_record(cur_, keep_ ? Bytes(buf_) : Bytes{}, at);
    if (stopped()) return status_;
  }
  return status_;
}

bool RecordAssembler::skip_gap(std::uint64_t len, PacketRef at, RecordHandler& h) {
  if (stopped()) return false;
  if (!in_body_ || keep_ || len > std::size_t{cur_.length} - body_got_) {
    stopped_ = true;
    return false;
  }
  body_got_ += static_cast<std::size_t>(len);
  if (body_got_ == cur_.length) {
    in_body_ = false;
    h.on_record(cur_, {}, at);
  }
  return true;
}

}  // namespace wsdiag::tls
