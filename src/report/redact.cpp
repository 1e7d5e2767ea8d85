// wsdiag — redaction at the report edge (redact.h; issue #13 §1).
#include "wsdiag/report/redact.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace wsdiag::report {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

bool is_alnum(char c) noexcept { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_b64url(char c) noexcept { return is_alnum(c) || c == '-' || c == '_' || c == '=' ; }

char lower(char c) noexcept { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool iends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Replaces every occurrence of `from` (non-empty) in s by `to`.
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

/// redact_url's work; the hidden values go to `secrets`.
std::string redact_url_into(std::string_view url, std::vector<std::string>& secrets) {
  std::string out;
  out.reserve(url.size());
  std::size_t i = 0;
  // userinfo: scheme://userinfo@host...
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos && url.find_first_of("/?#") > scheme) {
    const std::size_t auth = scheme + 3;
    const std::size_t auth_end = std::min(url.find_first_of("/?#", auth), url.size());
    const std::size_t at = url.substr(auth, auth_end - auth).rfind('@');
    out.append(url.substr(0, auth));
    i = auth;
    if (at != std::string_view::npos) {
      secrets.emplace_back(url.substr(auth, at));
      out.append(kRedacted);
      i = auth + at;  // keeps the '@'
    }
  }
  const std::size_t q = url.find('?', i);
  const std::size_t hash = url.find('#', i);
  const std::size_t path_end = std::min({q, hash, url.size()});
  out.append(url.substr(i, path_end - i));
  if (q != std::string_view::npos && q < std::min(hash, url.size())) {
    out.push_back('?');
    const std::string_view query = url.substr(q + 1, std::min(hash, url.size()) - q - 1);
    std::size_t start = 0;
    while (start <= query.size()) {
      const std::size_t amp = std::min(query.find('&', start), query.size());
      const std::string_view item = query.substr(start, amp - start);
      const std::size_t eq = item.find('=');
      if (eq != std::string_view::npos && eq + 1 < item.size()) {
        out.append(item.substr(0, eq + 1));
        out.append(kRedacted);
        secrets.emplace_back(item.substr(eq + 1));
      } else if (eq == std::string_view::npos && looks_like_credential(item)) {
        out.append(kRedacted);
        secrets.emplace_back(item);
      } else {
        out.append(item);
      }
      if (amp == query.size()) break;
      out.push_back('&');
      start = amp + 1;
    }
  }
  if (hash != std::string_view::npos) {
    out.push_back('#');
    if (hash + 1 < url.size()) {
      out.append(kRedacted);
      secrets.emplace_back(url.substr(hash + 1));
    }
  }
  return out;
}

std::string redact_subprotocols_into(std::string_view list, std::vector<std::string>& secrets) {
  std::string out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const std::string_view raw = list.substr(start, comma - start);
    const std::string_view item = trim(raw);
    if (looks_like_credential(item)) {
      out.append(raw.substr(0, raw.find(item)));  // leading blanks as they were
      out.append(kRedacted);
      secrets.emplace_back(item);
    } else {
      out.append(raw);
    }
    if (comma == list.size()) break;
    out.push_back(',');
    start = comma + 1;
  }
  return out;
}

/// The address part of "ip:port" / "[ip]:port" (the whole text when there is no port).
std::string_view endpoint_ip(std::string_view ep) noexcept {
  if (!ep.empty() && ep.front() == '[') {
    const auto close = ep.find(']');
    return close == std::string_view::npos ? ep : ep.substr(1, close - 1);
  }
  const auto colon = ep.rfind(':');
  if (colon == std::string_view::npos || ep.find(':') != colon) return ep;  // bare v4 or bare v6
  return ep.substr(0, colon);
}

}  // namespace

// ---- pure helpers ----

std::string redact_url(std::string_view url, bool& changed) {
  std::vector<std::string> secrets;
  std::string out = redact_url_into(url, secrets);
  changed = !secrets.empty();
  return out;
}

bool looks_like_credential(std::string_view t) {
  if (t.empty() || t == kRedacted) return false;
  // JWT: header.payload.signature, base64url, the header starting with "eyJ" ('{"').
  if (t.size() >= 20 && t.substr(0, 3) == "eyJ" && std::count(t.begin(), t.end(), '.') == 2 &&
      std::all_of(t.begin(), t.end(), [](char c) { return is_b64url(c) || c == '.'; })) {
    return true;
  }
  // A long opaque token: a run of >= 16 letters and digits mixing both, or any run >= 32.
  std::size_t run = 0;
  bool digit = false, alpha = false;
  for (std::size_t i = 0; i <= t.size(); ++i) {
    const char c = i < t.size() ? t[i] : '\0';
    if (i < t.size() && (is_alnum(c) || c == '+' || c == '/' || c == '=' || c == '_')) {
      ++run;
      digit = digit || std::isdigit(static_cast<unsigned char>(c)) != 0;
      alpha = alpha || std::isalpha(static_cast<unsigned char>(c)) != 0;
      continue;
    }
    if (run >= 32 || (run >= 16 && digit && alpha)) return true;
    run = 0;
    digit = alpha = false;
  }
  return false;
}

std::string redact_subprotocols(std::string_view list, bool& changed) {
  std::vector<std::string> secrets;
  std::string out = redact_subprotocols_into(list, secrets);
  changed = !secrets.empty();
  return out;
}

bool is_secret_header(std::string_view name) {
  for (const std::string_view n : {"cookie", "set-cookie", "authorization", "proxy-authorization", "x-api-key",
                                   "x-auth-token", "x-csrf-token"}) {
    if (iequals(name, n)) return true;
  }
  return iends_with(name, "-key") || iends_with(name, "-token") || iends_with(name, "-secret") ||
         iends_with(name, "-password") || iends_with(name, "-credentials");
}

std::string redact_header(std::string_view name, std::string_view value) {
  if (iequals(name, "sec-websocket-key") || iequals(name, "sec-websocket-accept")) return std::string(value);
  if (is_secret_header(name)) return std::string(value.empty() ? value : kRedacted);
  if (iequals(name, "sec-websocket-protocol")) {
    bool changed = false;
    return redact_subprotocols(value, changed);
  }
  return std::string(value);
}

std::string base_name(std::string_view path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string_view::npos || slash + 1 == path.size()) return std::string(path);
  return std::string(path.substr(slash + 1));
}

// ---- Redactor ----

std::string Redactor::pseudonym(std::string_view ip) {
  auto [it, added] = names_.try_emplace(std::string(ip));
  if (added) it->second = fmt::format("addr-{}", names_.size());
  return it->second;
}

std::string Redactor::endpoint(std::string_view ep) {
  if (!o_.anonymize) return std::string(ep);
  Pairs seen;
  return anonymize_endpoint(ep, seen);
}

std::string Redactor::anonymize_endpoint(std::string_view ep, Pairs& seen) {
  const std::string_view ip = endpoint_ip(ep);
  if (ip.empty()) return std::string(ep);
  std::string name;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    name = pseudonym(ip);
  }
  seen.emplace_back(std::string(ip), name);
  std::string out(ep);
  // "[::1]:443" -> "addr-2:443"
  if (!ep.empty() && ep.front() == '[') replace_all(out, fmt::format("[{}]", ip), name);
  else replace_all(out, ip, name);
  return out;
}

void Redactor::apply(ConnReport& c) {
  auto& s = c.summary;
  auto& h = s.handshake;
  Pairs swaps;  // (text as the wire had it, text to show) applied to every prose field below
  if (o_.redact) {
    std::vector<std::string> secrets;
    const std::string path = redact_url_into(h.path, secrets);
    if (!secrets.empty()) {
      c.redacted.emplace_back("query values in the request path");
      swaps.emplace_back(h.path, path);
      swaps.emplace_back(h.path.substr(0, 120), path);  // diag quotes paths cut to 120 bytes
      h.path = path;
    }
    const std::size_t before = secrets.size();
    const std::string origin = redact_url_into(h.origin, secrets);
    if (secrets.size() != before) {
      c.redacted.emplace_back("userinfo or query in Origin");
      swaps.emplace_back(h.origin, origin);
      h.origin = origin;
    }
    const std::size_t before_proto = secrets.size();
    h.subprotocols_offered = redact_subprotocols_into(h.subprotocols_offered, secrets);
    h.subprotocol = redact_subprotocols_into(h.subprotocol, secrets);
    if (secrets.size() != before_proto) c.redacted.emplace_back("credential-like Sec-WebSocket-Protocol values");
    for (auto& v : secrets) {
      if (v.size() >= 4) swaps.emplace_back(std::move(v), std::string(kRedacted));
    }
  }
  if (o_.anonymize) {
    Pairs ips;
    s.client = anonymize_endpoint(s.client, ips);
    s.server = anonymize_endpoint(s.server, ips);
    for (auto& p : ips) swaps.push_back(std::move(p));
    for (const auto& [ip, name] : swaps) {
      if (ip.find_first_not_of("0123456789abcdefABCDEF.:") == std::string::npos) replace_all(h.host, ip, name);
    }
    c.redacted.emplace_back("IP addresses (anonymized)");
  }
  if (swaps.empty()) return;
  auto scrub = [&swaps](std::string& text) {
    for (const auto& [from, to] : swaps) replace_all(text, from, to);
  };
  scrub(c.verdict.summary);
  scrub(c.verdict.cause);
  scrub(c.verdict.advice);
  for (auto& f : s.findings) scrub(f.message);
}

void Redactor::apply(CaptureMeta& m) const {
  if (o_.redact) m.file = base_name(m.file);
}

void Redactor::apply(Report& r) {
  for (auto& m : r.captures) {
    const std::string full = m.file;
    apply(m);
    if (full != m.file) {
      for (auto& w : r.warnings) replace_all(w, full, m.file);
    }
  }
  r.redaction = note();
}

std::string_view Redactor::preview(std::string_view text_preview) const noexcept {
  if (!o_.redact || o_.payload || text_preview.empty()) return text_preview;
  return kRedacted;
}

std::string Redactor::note() const {
  std::string n;
  if (o_.redact) {
    n = "redacted: query values, userinfo, credential-like subprotocols and credential headers";
    if (!o_.payload) n += ", message previews";
    n += "; capture paths shown as file names. --no-redact shows everything";
    if (!o_.payload) n += ", --payload the previews";
  }
  if (o_.anonymize) {
    if (!n.empty()) n += "; ";
    n += "IP addresses anonymized (addr-N, ports kept)";
  }
  return n;
}

}  // namespace wsdiag::report
