// wsdiag — WebSocket opening handshake checks (RFC 6455 §4.1, §4.2.2, §4.4, §9.1;
// RFC 7692 §7.1).
// See handshake.h for the message layout and the rule ids.
#include "wsdiag/http/handshake.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "wsdiag/http/text.h"

namespace wsdiag::http {

bool Handshake::add_response(HttpResponse resp) {
  if (resp.interim()) {
    if (!response && interim_statuses.size() < kMaxInterimResponses) {
      interim_statuses.push_back(resp.status);
    }
    return false;
  }
  if (!response) response = std::move(resp);
  return true;
}

bool Handshake::has(HandshakeRule r) const noexcept {
  return std::any_of(problems.begin(), problems.end(),
                     [r](const HandshakeProblem& p) { return p.rule == r; });
}

std::string compute_accept(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kWebSocketGuid.size());
  input.append(key).append(kWebSocketGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (EVP_Digest(input.data(), input.size(), md.data(), &md_len, EVP_sha1(), nullptr) != 1 ||
      md_len != 20) {
    return {};
  }
  std::array<unsigned char, 32> b64{};  // 4 * ceil(20 / 3) = 28, plus NUL
  const int n = EVP_EncodeBlock(b64.data(), md.data(), static_cast<int>(md_len));
  if (n <= 0) return {};
  std::string out(static_cast<std::size_t>(n), '\0');
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(b64[i]);
  return out;
}

bool is_valid_key(std::string_view key) noexcept {
  auto is_b64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  return std::all_of(key.begin(), key.begin() + 22, is_b64);
}

namespace {

void add(Handshake& hs, HandshakeRule rule, Dir side, std::string message) {
  hs.problems.push_back(HandshakeProblem{rule, side, std::move(message)});
}

std::string join(const std::vector<int>& v) {
  std::string out;
  for (const int x : v) {
    if (!out.empty()) out.append(", ");
    out.append(std::to_string(x));
  }
  return out;
}

std::string header_or_empty(const Headers& h, std::string_view name) {
  return h.get(name).value_or(std::string{});
}

void check_request(Handshake& hs, const HttpRequest& req) {
  const Headers& h = req.headers;
  hs.path = req.target;
  hs.host = header_or_empty(h, "Host");
  hs.origin = header_or_empty(h, "Origin");
  hs.user_agent = header_or_empty(h, "User-Agent");
  hs.via_request = header_or_empty(h, "Via");
  hs.forwarded_for = header_or_empty(h, "X-Forwarded-For");
  if (hs.forwarded_for.empty()) hs.forwarded_for = header_or_empty(h, "Forwarded");
  hs.key = header_or_empty(h, "Sec-WebSocket-Key");
  hs.client_version = header_or_empty(h, "Sec-WebSocket-Version");
  for (const auto p : h.tokens("Sec-WebSocket-Protocol")) hs.subprotocols_offered.emplace_back(p);
  hs.extensions_offered = header_or_empty(h, "Sec-WebSocket-Extensions");

  // handshake-method (§4.1 item 1)
  if (req.method != "GET") {
    add(hs, HandshakeRule::method, Dir::c2s,
        fmt::format("request method is {}; a WebSocket handshake must be GET", req.method));
  }
  if (req.version < HttpVersion{1, 1}) {
    add(hs, HandshakeRule::method, Dir::c2s,
        fmt::format("request is HTTP/{}.{}; a WebSocket handshake needs HTTP/1.1 or later",
                    req.version.major, req.version.minor));
  }

  // handshake-upgrade-header (§4.1 items 5-6)
  if (!h.has_token("Upgrade", "websocket")) {
    add(hs, HandshakeRule::upgrade_header, Dir::c2s,
        h.has("Upgrade") ? fmt::format("request Upgrade header \"{}\" does not name websocket",
                                       header_or_empty(h, "Upgrade"))
                         : std::string("request has no Upgrade header"));
  }
  if (!h.has_token("Connection", "upgrade")) {
    add(hs, HandshakeRule::upgrade_header, Dir::c2s,
        h.has("Connection") ? fmt::format("request Connection header \"{}\" has no Upgrade token",
                                          header_or_empty(h, "Connection"))
                            : std::string("request has no Connection header"));
  }

  // handshake-key (§4.1 item 7; §11.3.1: at most once)
  const std::size_t keys = h.count("Sec-WebSocket-Key");
  if (keys == 0) {
    add(hs, HandshakeRule::key, Dir::c2s, "request has no Sec-WebSocket-Key");
  } else if (keys > 1) {
    add(hs, HandshakeRule::key, Dir::c2s,
        fmt::format("Sec-WebSocket-Key sent {} times; it must appear once", keys));
  } else if (!is_valid_key(hs.key)) {
    add(hs, HandshakeRule::key, Dir::c2s,
        fmt::format("Sec-WebSocket-Key \"{}\" is not base64 of 16 bytes", hs.key));
  }
}

void check_version(Handshake& hs) {
  // handshake-version (§4.1 item 9; §4.4: a server that does not support the version answers
  // 426 with the versions it supports in Sec-WebSocket-Version)
  std::string server_side;
  if (hs.status == 426) {
    server_side = hs.server_versions.empty()
                      ? std::string("; the server answered 426 without listing its versions")
                      : fmt::format("; the server answered 426 and supports version {}",
                                    join(hs.server_versions));
  }
  if (hs.request) {
    const Headers& h = hs.request->headers;
    const std::size_t n = h.count("Sec-WebSocket-Version");
    if (n == 0) {
      add(hs, HandshakeRule::version, Dir::c2s,
          "request has no Sec-WebSocket-Version (must be 13)" + server_side);
    } else if (n > 1 || hs.client_version != "13") {
      add(hs, HandshakeRule::version, Dir::c2s,
          fmt::format("request asks for Sec-WebSocket-Version {}; RFC 6455 is version 13{}",
                      hs.client_version, server_side));
    }
  }
  if (hs.status == 426 && hs.server_versions.empty()) {
    add(hs, HandshakeRule::version, Dir::s2c,
        "426 Upgrade Required without Sec-WebSocket-Version listing the supported versions");
  }
}

void check_upgrade_response(Handshake& hs, const Headers& h) {
  // §4.1, client's checks of the response, items 2-3
  if (!h.has_token("Upgrade", "websocket")) {
    add(hs, HandshakeRule::upgrade_header, Dir::s2c,
        h.has("Upgrade") ? fmt::format("101 response Upgrade header \"{}\" is not websocket",
                                       header_or_empty(h, "Upgrade"))
                         : std::string("101 response has no Upgrade header"));
  }
  if (!h.has_token("Connection", "upgrade")) {
    add(hs, HandshakeRule::upgrade_header, Dir::s2c,
        h.has("Connection")
            ? fmt::format("101 response Connection header \"{}\" has no Upgrade token",
                          header_or_empty(h, "Connection"))
            : std::string("101 response has no Connection header"));
  }
}

void check_accept(Handshake& hs, const Headers& h) {
  // §4.1 item 4 of the response checks; §4.2.2 step 5.4
  if (hs.request && hs.request->headers.count("Sec-WebSocket-Key") == 1) {
    hs.expected_accept = compute_accept(hs.key);
  }
  const std::size_t n = h.count("Sec-WebSocket-Accept");
  if (n == 0) {
    hs.accept_status = AcceptStatus::missing;
    add(hs, HandshakeRule::accept, Dir::s2c, "101 response has no Sec-WebSocket-Accept");
    return;
  }
  const std::string got = header_or_empty(h, "Sec-WebSocket-Accept");
  if (n > 1) {
    hs.accept_status = AcceptStatus::mismatch;
    add(hs, HandshakeRule::accept, Dir::s2c,
        fmt::format("Sec-WebSocket-Accept sent {} times (\"{}\")", n, got));
    return;
  }
  if (hs.expected_accept.empty()) return;  // no key to check against: not_checked
  if (got == hs.expected_accept) {
    hs.accept_status = AcceptStatus::valid;
    return;
  }
  hs.accept_status = AcceptStatus::mismatch;
  add(hs, HandshakeRule::accept, Dir::s2c,
      fmt::format("Sec-WebSocket-Accept is \"{}\"; for key \"{}\" it must be \"{}\"", got, hs.key,
                  hs.expected_accept));
}

void check_subprotocol(Handshake& hs, const Headers& h) {
  // §4.1 item 6 of the response checks; §4.2.2 /subprotocol/
  const std::size_t n = h.count("Sec-WebSocket-Protocol");
  if (n == 0) return;
  const auto selected = h.tokens("Sec-WebSocket-Protocol");
  const std::string raw = header_or_empty(h, "Sec-WebSocket-Protocol");
  if (n > 1 || selected.size() != 1) {
    add(hs, HandshakeRule::subprotocol, Dir::s2c,
        fmt::format("server must select one subprotocol, sent \"{}\"", raw));
    if (selected.empty()) return;
  }
  hs.subprotocol = std::string(selected.front());
  if (!hs.request) return;
  if (hs.subprotocols_offered.empty()) {
    add(hs, HandshakeRule::subprotocol, Dir::s2c,
        fmt::format("server selected subprotocol \"{}\" but the client offered none",
                    hs.subprotocol));
  } else if (std::find(hs.subprotocols_offered.begin(), hs.subprotocols_offered.end(),
                       hs.subprotocol) == hs.subprotocols_offered.end()) {
    add(hs, HandshakeRule::subprotocol, Dir::s2c,
        fmt::format("server selected subprotocol \"{}\", not one the client offered (\"{}\")",
                    hs.subprotocol,
                    header_or_empty(hs.request->headers, "Sec-WebSocket-Protocol")));
  }
}

/// The client's offers, checked for syntax and permessage-deflate parameters (RFC 6455 §9.1,
/// RFC 7692 §7.1). Returns nullopt if the header is malformed.
std::optional<std::vector<Extension>> check_offers(Handshake& hs,
                                                   std::vector<DeflateElement>& deflate_offers) {
  if (!hs.request || !hs.request->headers.has("Sec-WebSocket-Extensions")) {
    return std::vector<Extension>{};
  }
  std::string error;
  auto offers = parse_extensions(hs.extensions_offered, &error);
  if (!offers) {
    add(hs, HandshakeRule::extension, Dir::c2s,
        fmt::format("request Sec-WebSocket-Extensions \"{}\" is malformed: {}",
                    hs.extensions_offered, error));
    return std::nullopt;
  }
  std::size_t index = 0;
  for (const auto& ext : *offers) {
    if (ext.name != kPermessageDeflate) continue;
    ++index;
    if (auto el = parse_deflate(ext, DeflateRole::offer, &error)) {
      deflate_offers.push_back(*el);
    } else {
      add(hs, HandshakeRule::extension, Dir::c2s,
          fmt::format("permessage-deflate offer {} is invalid: {}", index, error));
    }
  }
  return offers;
}

void check_extensions(Handshake& hs, const Headers& h) {
  std::vector<DeflateElement> deflate_offers;
  const auto offers = check_offers(hs, deflate_offers);
  if (!h.has("Sec-WebSocket-Extensions") || hs.status != 101) return;

  std::string error;
  const auto accepted = parse_extensions(hs.extensions_accepted, &error);
  if (!accepted) {
    add(hs, HandshakeRule::extension, Dir::s2c,
        fmt::format("response Sec-WebSocket-Extensions \"{}\" is malformed: {}",
                    hs.extensions_accepted, error));
    return;
  }
  std::vector<std::string_view> seen;
  for (const auto& ext : *accepted) {
    if (std::find(seen.begin(), seen.end(), ext.name) != seen.end()) {
      add(hs, HandshakeRule::extension, Dir::s2c,
          fmt::format("server accepted extension {} more than once", ext.name));
      continue;
    }
    seen.emplace_back(ext.name);
    // §9.1: the server may only accept what the client offered.
    bool offered = true;
    if (hs.request && offers) {
      offered = std::any_of(offers->begin(), offers->end(),
                            [&](const Extension& o) { return o.name == ext.name; });
      if (!offered) {
        add(hs, HandshakeRule::extension, Dir::s2c,
            offers->empty()
                ? fmt::format("server accepted extension {} but the client offered none", ext.name)
                : fmt::format("server accepted extension {}, which the client did not offer",
                              ext.name));
      }
    }
    if (ext.name != kPermessageDeflate) continue;

    hs.deflate = DeflateParams{};
    hs.deflate.enabled = true;  // the server will compress; parameters below are best effort
    const auto response = parse_deflate(ext, DeflateRole::response, &error);
    if (!response) {
      add(hs, HandshakeRule::extension, Dir::s2c,
          fmt::format("permessage-deflate response is invalid: {}", error));
      continue;
    }
    if (!hs.request || !offers || !offered) {
      hs.deflate = negotiated_deflate(nullptr, *response);
      continue;
    }
    const DeflateElement* matched = nullptr;
    std::string first_error;
    for (const auto& offer : deflate_offers) {
      if (deflate_accepts(offer, *response, &error)) {
        matched = &offer;
        break;
      }
      if (first_error.empty()) first_error = error;
    }
    hs.deflate = negotiated_deflate(matched, *response);
    if (!matched) {
      add(hs, HandshakeRule::extension, Dir::s2c,
          deflate_offers.empty()
              ? std::string("server accepted permessage-deflate but the client made no valid offer")
              : fmt::format("permessage-deflate response accepts none of the client's offers: {}",
                            first_error));
    }
  }
}

}  // namespace

void validate(Handshake& hs) {
  std::optional<HttpRequest> request = std::move(hs.request);
  std::optional<HttpResponse> response = std::move(hs.response);
  std::vector<int> interim = std::move(hs.interim_statuses);
  hs = Handshake{};
  hs.request = std::move(request);
  hs.response = std::move(response);
  hs.interim_statuses = std::move(interim);

  if (hs.request) check_request(hs, *hs.request);
  if (hs.response) {
    const Headers& h = hs.response->headers;
    hs.status = hs.response->status;
    hs.reason = hs.response->reason;
    hs.server = header_or_empty(h, "Server");
    hs.via_response = header_or_empty(h, "Via");
    hs.extensions_accepted = header_or_empty(h, "Sec-WebSocket-Extensions");
    for (const auto v : h.tokens("Sec-WebSocket-Version")) {
      int x = 0;
      bool digits = !v.empty() && v.size() <= 3;
      for (const char c : v) {
        if (c < '0' || c > '9') digits = false;
        if (digits) x = x * 10 + (c - '0');
      }
      if (digits) hs.server_versions.push_back(x);
    }
  }
  check_version(hs);
  if (hs.response) {
    const Headers& h = hs.response->headers;
    if (hs.status != 101) {
      add(hs, HandshakeRule::rejected, Dir::s2c,
          hs.reason.empty()
              ? fmt::format("server answered {} instead of 101", hs.status)
              : fmt::format("server answered {} {} instead of 101", hs.status, hs.reason));
    } else {
      check_upgrade_response(hs, h);
      check_accept(hs, h);
      check_subprotocol(hs, h);
    }
  }
  check_extensions(hs, hs.response ? hs.response->headers : Headers{});
}

}  // namespace wsdiag::http
