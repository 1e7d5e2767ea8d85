// wsdiag — Sec-WebSocket-Extensions grammar (RFC 6455 §9.1) and permessage-deflate parameters
// (RFC 7692 §7.1). See extensions.h for the grammar and the parameter table.
#include "wsdiag/http/extensions.h"

#include <fmt/format.h>

#include "wsdiag/http/text.h"

namespace wsdiag::http {

namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) noexcept : s_(s) {}
  void skip_ows() noexcept {
    while (pos_ < s_.size() && is_ows(s_[pos_])) ++pos_;
  }
  [[nodiscard]] bool at_end() const noexcept { return pos_ >= s_.size(); }
  [[nodiscard]] char peek() const noexcept { return at_end() ? '\0' : s_[pos_]; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  void advance() noexcept { ++pos_; }
  std::string_view token() noexcept {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && is_tchar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; appends the unescaped text.
  bool quoted_string(std::string& out) {
    if (peek() != '"') return false;
    ++pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (pos_ >= s_.size()) return false;
        out.push_back(s_[pos_++]);
      } else {
        out.push_back(c);
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

void set_error(std::string* error, std::string text) {
  if (error) *error = std::move(text);
}

}  // namespace

std::optional<std::vector<Extension>> parse_extensions(std::string_view value, std::string* error) {
  std::vector<Extension> out;
  Cursor cur(value);
  for (;;) {
    cur.skip_ows();
    if (cur.at_end()) break;
    if (cur.peek() == ',') {  // empty list element
      cur.advance();
      continue;
    }
    Extension ext;
    const std::string_view name = cur.token();
    if (name.empty()) {
      set_error(error, fmt::format("expected an extension name at offset {}", cur.pos()));
      return std::nullopt;
    }
    ext.name = std::string(name);
    cur.skip_ows();
    while (cur.peek() == ';') {
      cur.advance();
      cur.skip_ows();
      ExtensionParam param;
      const std::string_view pname = cur.token();
      if (pname.empty()) {
        set_error(error, fmt::format("expected a parameter name at offset {}", cur.pos()));
        return std::nullopt;
      }
      param.name = std::string(pname);
      cur.skip_ows();
      if (cur.peek() == '=') {
        cur.advance();
        cur.skip_ows();
        std::string v;
        if (cur.peek() == '"') {
          if (!cur.quoted_string(v)) {
            set_error(error, fmt::format("unterminated quoted value of '{}'", param.name));
            return std::nullopt;
          }
          if (!is_token(v)) {  // RFC 6455 §9.1: the unescaped value must be a token
            set_error(error, fmt::format("quoted value of '{}' is not a token", param.name));
            return std::nullopt;
          }
        } else {
          v = std::string(cur.token());
          if (v.empty()) {
            set_error(error, fmt::format("missing value of '{}'", param.name));
            return std::nullopt;
          }
        }
        param.value = std::move(v);
        cur.skip_ows();
      }
      ext.params.push_back(std::move(param));
    }
    out.push_back(std::move(ext));
    if (cur.at_end()) break;
    if (cur.peek() != ',') {
      set_error(error, fmt::format("unexpected '{}' at offset {}", cur.peek(), cur.pos()));
      return std::nullopt;
    }
    cur.advance();
  }
  return out;
}

namespace {

/// 8..15 written without leading zeroes; 0 if invalid.
int window_bits(std::string_view v) noexcept {
  if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return v[0] - '0';
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
  return 0;
}

}  // namespace

std::optional<DeflateElement> parse_deflate(const Extension& ext, DeflateRole role,
                                            std::string* error) {
  DeflateElement el;
  bool seen_snct = false;
  bool seen_cnct = false;
  bool seen_smwb = false;
  for (const auto& p : ext.params) {
    auto once = [&](bool& seen) {
      if (seen) {
        set_error(error, fmt::format("duplicate parameter {}", p.name));
        return false;
      }
      seen = true;
      return true;
    };
    auto no_value = [&] {
      if (p.value) {
        set_error(error, fmt::format("{} takes no value (got \"{}\")", p.name, *p.value));
        return false;
      }
      return true;
    };
    auto bits = [&](bool required, int& out) {
      if (!p.value) {
        if (required) {
          set_error(error, fmt::format("{} needs a value", p.name));
          return false;
        }
        return true;
      }
      out = window_bits(*p.value);
      if (out == 0) {
        set_error(error, fmt::format("{}={} is not 8..15", p.name, *p.value));
        return false;
      }
      return true;
    };
    if (p.name == "server_no_context_takeover") {
      if (!once(seen_snct) || !no_value()) return std::nullopt;
      el.server_no_context_takeover = true;
    } else if (p.name == "client_no_context_takeover") {
      if (!once(seen_cnct) || !no_value()) return std::nullopt;
      el.client_no_context_takeover = true;
    } else if (p.name == "server_max_window_bits") {
      if (!once(seen_smwb) || !bits(true, el.server_max_window_bits)) return std::nullopt;
    } else if (p.name == "client_max_window_bits") {
      if (!once(el.client_max_window_bits_present) ||
          !bits(role == DeflateRole::response, el.client_max_window_bits)) {
        return std::nullopt;
      }
    } else {
      set_error(error, fmt::format("unknown parameter {}", p.name));
      return std::nullopt;
    }
  }
  return el;
}

bool deflate_accepts(const DeflateElement& offer, const DeflateElement& response,
                     std::string* error) {
  if (response.client_max_window_bits_present && !offer.client_max_window_bits_present) {
    set_error(error, "client_max_window_bits in the response but not in the offer");
    return false;
  }
  if (offer.server_no_context_takeover && !response.server_no_context_takeover) {
    set_error(error, "server_no_context_takeover was offered but not echoed");
    return false;
  }
  if (offer.server_max_window_bits != 0) {
    if (response.server_max_window_bits == 0) {
      set_error(error, fmt::format("server_max_window_bits={} was offered but not echoed",
                                   offer.server_max_window_bits));
      return false;
    }
    if (response.server_max_window_bits > offer.server_max_window_bits) {
      set_error(error, fmt::format("server_max_window_bits={} exceeds the offered {}",
                                   response.server_max_window_bits, offer.server_max_window_bits));
      return false;
    }
  }
  return true;
}

DeflateParams negotiated_deflate(const DeflateElement* offer,
                                 const DeflateElement& response) noexcept {
  DeflateParams p;
  p.enabled = true;
  p.server_no_context_takeover = response.server_no_context_takeover;
  p.client_no_context_takeover = response.client_no_context_takeover;
  if (response.server_max_window_bits != 0)
    p.server_max_window_bits = response.server_max_window_bits;
  if (response.client_max_window_bits != 0)
    p.client_max_window_bits = response.client_max_window_bits;
  if (offer && offer->client_max_window_bits != 0 &&
      offer->client_max_window_bits < p.client_max_window_bits) {
    p.client_max_window_bits = offer->client_max_window_bits;
  }
  return p;
}

}  // namespace wsdiag::http
