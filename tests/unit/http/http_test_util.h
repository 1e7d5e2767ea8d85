// Helpers shared by the [http] tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/http/text.h"

namespace wsdiag::http::test {

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// A head built line by line, so tests can change one header of a known-good message.
struct Msg {
  std::string start;
  std::vector<std::string> lines;

  /// Replaces every `name` field with one `name: value` (added at the end if absent).
  Msg& set(std::string_view name, std::string_view value) {
    drop(name);
    lines.push_back(std::string(name) + ": " + std::string(value));
    return *this;
  }
  /// Adds a field line (keeps existing ones with the same name).
  Msg& add(std::string_view name, std::string_view value) {
    lines.push_back(std::string(name) + ": " + std::string(value));
    return *this;
  }
  Msg& drop(std::string_view name) {
    std::erase_if(lines, [&](const std::string& l) {
      const auto colon = l.find(':');
      return colon != std::string::npos && iequals(std::string_view(l).substr(0, colon), name);
    });
    return *this;
  }
  [[nodiscard]] std::string str(std::string_view eol = "\r\n") const {
    std::string out = start;
    out.append(eol);
    for (const auto& l : lines) out.append(l).append(eol);
    out.append(eol);
    return out;
  }
};

/// RFC 6455 §1.3 request.
inline Msg rfc_request() {
  return Msg{"GET /chat HTTP/1.1",
             {"Host: server.example.com", "Upgrade: websocket", "Connection: Upgrade",
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: http://example.com",
              "Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Version: 13"}};
}

/// RFC 6455 §1.3 response (without Sec-WebSocket-Protocol, added where a test needs it).
inline Msg rfc_response() {
  return Msg{"HTTP/1.1 101 Switching Protocols",
             {"Upgrade: websocket", "Connection: Upgrade",
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}};
}

}  // namespace wsdiag::http::test
