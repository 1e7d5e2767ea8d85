// wsdiag — TLS handshake message parsing (RFC 8446 §4.1.2-4.1.4, §4.2, §4.3.1; RFC 5246 §7.4.1;
// RFC 6066 §3 server_name; RFC 7301 ALPN; RFC 7366 encrypt_then_mac). See hello.h.
#include "wsdiag/tls/hello.h"

#include <algorithm>
#include <cstring>

namespace wsdiag::tls {

namespace {

namespace ext {
constexpr std::uint16_t server_name = 0;
constexpr std::uint16_t alpn = 16;
constexpr std::uint16_t encrypt_then_mac = 22;
constexpr std::uint16_t pre_shared_key = 41;
constexpr std::uint16_t early_data = 42;
constexpr std::uint16_t supported_versions = 43;
constexpr std::uint16_t key_share = 51;
}  // namespace ext

// RFC 8446 §4.1.3: SHA-256("HelloRetryRequest").
constexpr std::array<std::uint8_t, 32> kHrrRandom = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

void append_text(std::string& out, Bytes b) { out.append(reinterpret_cast<const char*>(b.data()), b.size()); }

// ALPN extension_data: ProtocolNameList <2..2^16-1>, each ProtocolName <1..2^8-1>.
bool parse_alpn(Bytes data, std::string& out) {
  ByteReader r(data);
  const std::uint16_t list = r.u16be();
  ByteReader l(r.bytes(list));
  while (r.ok() && l.ok() && l.remaining() > 0) {
    const std::uint8_t n = l.u8();
    const Bytes name = l.bytes(n);
    if (!l.ok()) break;
    if (!out.empty()) out += ",";
    append_text(out, name);
  }
  return r.ok() && l.ok();
}

// server_name extension_data: ServerNameList; the host_name (type 0) entry.
bool parse_sni(Bytes data, std::string& out) {
  ByteReader r(data);
  const std::uint16_t list = r.u16be();
  ByteReader l(r.bytes(list));
  while (r.ok() && l.ok() && l.remaining() > 0) {
    const std::uint8_t type = l.u8();
    const std::uint16_t n = l.u16be();
    const Bytes name = l.bytes(n);
    if (l.ok() && type == 0 && out.empty()) append_text(out, name);
  }
  return r.ok() && l.ok();
}

// Walks an extensions block, calling fn(type, data) for each.
template <typename Fn>
bool for_each_extension(ByteReader& r, Fn&& fn) {
  if (r.remaining() == 0) return r.ok();  // extensions are optional before TLS 1.3
  const std::uint16_t total = r.u16be();
  ByteReader e(r.bytes(total));
  while (r.ok() && e.ok() && e.remaining() > 0) {
    const std::uint16_t type = e.u16be();
    const std::uint16_t len = e.u16be();
    const Bytes data = e.bytes(len);
    if (!e.ok()) break;
    fn(type, data);
  }
  return r.ok() && e.ok();
}

}  // namespace

bool parse_client_hello(Bytes body, TlsFacts& f) {
  ByteReader r(body);
  f.client_legacy_version = r.u16be();
  f.client_max_version = f.client_legacy_version;
  const Bytes random = r.bytes(32);
  if (!r.ok()) return false;
  std::memcpy(f.client_random.data(), random.data(), 32);
  f.session_id_len = r.u8();
  r.skip(f.session_id_len);
  r.skip(r.u16be());  // cipher_suites
  r.skip(r.u8());     // legacy_compression_methods
  if (!r.ok()) return false;
  bool ok = true;
  const bool ext_ok = for_each_extension(r, [&](std::uint16_t type, Bytes data) {
    switch (type) {
      case ext::server_name:
        f.sni.clear();
        ok = parse_sni(data, f.sni) && ok;
        break;
      case ext::alpn:
        f.alpn_offered.clear();
        ok = parse_alpn(data, f.alpn_offered) && ok;
        break;
      case ext::supported_versions: {
        ByteReader v(data);
        const std::uint8_t n = v.u8();
        ByteReader list(v.bytes(n));
        while (list.remaining() >= 2) {
          const std::uint16_t ver = list.u16be();
          // GREASE values (0x?A?A) are not versions.
          if ((ver & 0x0F0F) == 0x0A0A) continue;
          if ((ver >> 8) == 3 && ver > f.client_max_version) f.client_max_version = ver;
        }
        ok = v.ok() && ok;
        break;
      }
      case ext::key_share:
        f.key_share = true;
        break;
      case ext::pre_shared_key:
        f.psk_offered = true;
        break;
      case ext::early_data:
        f.early_data_offered = true;
        break;
      default:
        break;
    }
  });
  return ext_ok && ok;
}

bool parse_server_hello(Bytes body, ServerHelloInfo& out) {
  ByteReader r(body);
  out.legacy_version = r.u16be();
  out.version = out.legacy_version;
  const Bytes random = r.bytes(32);
  if (!r.ok()) return false;
  std::memcpy(out.random.data(), random.data(), 32);
  out.hello_retry = std::equal(kHrrRandom.begin(), kHrrRandom.end(), random.begin());
  r.skip(r.u8());  // legacy_session_id_echo
  out.cipher = r.u16be();
  r.skip(1);  // legacy_compression_method
  if (!r.ok()) return false;
  bool ok = true;
  const bool ext_ok = for_each_extension(r, [&](std::uint16_t type, Bytes data) {
    if (type == ext::supported_versions) {
      ByteReader v(data);
      const std::uint16_t ver = v.u16be();
      if (v.ok()) out.version = ver;
      ok = v.ok() && ok;
    } else if (type == ext::alpn) {
      out.alpn.clear();
      ok = parse_alpn(data, out.alpn) && ok;
    } else if (type == ext::pre_shared_key) {
      out.psk = true;
    } else if (type == ext::encrypt_then_mac) {
      out.encrypt_then_mac = true;
    }
  });
  return ext_ok && ok;
}

bool parse_encrypted_extensions(Bytes body, std::string& alpn) {
  ByteReader r(body);
  if (r.remaining() < 2) return false;
  bool ok = true;
  const bool ext_ok = for_each_extension(r, [&](std::uint16_t type, Bytes data) {
    if (type == ext::alpn) {
      alpn.clear();
      ok = parse_alpn(data, alpn) && ok;
    }
  });
  return ext_ok && ok;
}

void HandshakeStream::feed(Bytes bytes, Handler& h) {
  while (!bytes.empty()) {
    if (!in_body_) {
      const std::size_t n = std::min(bytes.size(), hdr_.size() - hdr_len_);
      std::memcpy(hdr_.data() + hdr_len_, bytes.data(), n);
      hdr_len_ += n;
      bytes = bytes.subspan(n);
      if (hdr_len_ < hdr_.size()) return;
      hdr_len_ = 0;
      type_ = hdr_[0];
      len_ = (std::uint32_t{hdr_[1]} << 16) | (std::uint32_t{hdr_[2]} << 8) | hdr_[3];
      got_ = 0;
      keep_ = h.keep(type_);
      truncated_ = keep_ && len_ > max_keep_;
      body_.clear();
      if (len_ == 0) {
        h.on_message(type_, {}, false);
        continue;
      }
      if (keep_ && !truncated_ && bytes.size() >= len_) {
        h.on_message(type_, bytes.first(len_), false);  // whole message here: no copy
        bytes = bytes.subspan(len_);
        continue;
      }
      in_body_ = true;
    }
    const std::size_t n = std::min<std::size_t>(len_ - got_, bytes.size());
    if (keep_ && !truncated_) body_.insert(body_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    got_ += static_cast<std::uint32_t>(n);
    bytes = bytes.subspan(n);
    if (got_ < len_) return;
    in_body_ = false;
    h.on_message(type_, keep_ && !truncated_ ? Bytes(body_) : Bytes{}, truncated_);
  }
}

}  // namespace wsdiag::tls
