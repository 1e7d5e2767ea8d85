// wsdiag — HTTP/1.x request and response heads (RFC 9112 §3, §4, §5; RFC 9110 §5.3, §5.6).
#include "wsdiag/http/message.h"

#include <fmt/format.h>

#include "wsdiag/http/text.h"

namespace wsdiag::http {

void Headers::add(std::string_view name, std::string_view value) {
  fields_.push_back(HeaderField{std::string(name), std::string(trim_ows(value))});
}

void Headers::append_to_last(std::string_view more) {
  if (fields_.empty()) return;
  std::string& v = fields_.back().value;
  if (!v.empty()) v.push_back(' ');
  v.append(trim_ows(more));
}

std::size_t Headers::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (const auto& f : fields_) n += iequals(f.name, name) ? 1 : 0;
  return n;
}

std::optional<std::string_view> Headers::first(std::string_view name) const noexcept {
  for (const auto& f : fields_) {
    if (iequals(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

std::optional<std::string> Headers::get(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& f : fields_) {
    if (!iequals(f.name, name)) continue;
    if (out) {
      out->append(", ").append(f.value);
    } else {
      out = f.value;
    }
  }
  return out;
}

std::vector<std::string_view> Headers::values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& f : fields_) {
    if (iequals(f.name, name)) out.emplace_back(f.value);
  }
  return out;
}

std::vector<std::string_view> Headers::tokens(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& f : fields_) {
    if (!iequals(f.name, name)) continue;
    for (const auto t : split_list(f.value)) out.push_back(t);
  }
  return out;
}

bool Headers::has_token(std::string_view name, std::string_view token) const {
  for (const auto& f : fields_) {
    if (!iequals(f.name, name)) continue;
    for (const auto t : split_list(f.value)) {
      if (iequals(t, token)) return true;
    }
  }
  return false;
}

namespace {

/// Yields the lines of a head one at a time, without their CR LF / LF.
class LineReader {
 public:
  explicit LineReader(std::string_view s) noexcept : s_(s) {}
  bool next(std::string_view& line) noexcept {
    if (pos_ >= s_.size()) return false;
    const std::size_t lf = s_.find('\n', pos_);
    const std::size_t end = lf == std::string_view::npos ? s_.size() : lf;
    line = s_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = lf == std::string_view::npos ? s_.size() : lf + 1;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// "HTTP/1." DIGIT (the grammar allows any DIGIT "." DIGIT; only 1.x uses this syntax)
std::optional<HttpVersion> parse_version(std::string_view s) noexcept {
  if (s.size() != 8 || s.substr(0, 5) != "HTTP/" || s[5] != '1' || s[6] != '.' || !is_digit(s[7])) {
    return std::nullopt;
  }
  return HttpVersion{s[5] - '0', s[7] - '0'};
}

/// Splits on runs of SP into at most `max_parts` words; the last word takes the rest of the line.
std::size_t split_words(std::string_view line, std::string_view* parts, std::size_t max_parts,
                        bool& extra_spaces) noexcept {
  std::size_t n = 0;
  extra_spaces = false;
  while (!line.empty() && n < max_parts) {
    std::size_t skipped = 0;
    while (!line.empty() && line.front() == ' ') {
      line.remove_prefix(1);
      ++skipped;
    }
    if (skipped > (n == 0 ? 0u : 1u)) extra_spaces = true;
    if (line.empty()) break;
    if (n + 1 == max_parts) {
      parts[n++] = line;
      break;
    }
    const std::size_t sp = line.find(' ');
    parts[n++] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp);
  }
  return n;
}

void note(std::vector<std::string>& notes, std::string text) {
  if (notes.size() < kMaxParseNotes) notes.push_back(std::move(text));
}

/// Parses the field lines that follow the start-line (RFC 9112 §5).
void parse_fields(LineReader& lines, Headers& headers, std::vector<std::string>& notes) {
  std::string_view line;
  std::size_t line_no = 1;
  while (lines.next(line)) {
    ++line_no;
    if (line.empty()) break;  // end of head
    if (is_ows(line.front())) {
      if (headers.empty()) {
        note(notes, fmt::format("line {}: continuation line with no field before it", line_no));
        continue;
      }
      note(notes, fmt::format("line {}: obsolete line folding (RFC 9112 §5.2)", line_no));
      headers.append_to_last(trim_ows(line));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      note(notes, fmt::format("line {}: field line without ':'", line_no));
      continue;
    }
    std::string_view name = line.substr(0, colon);
    if (!name.empty() && is_ows(name.back())) {
      note(notes, fmt::format("line {}: whitespace between field name and ':'", line_no));
      name = trim_ows(name);
    }
    if (!is_token(name)) {
      note(notes, fmt::format("line {}: invalid field name", line_no));
      continue;
    }
    headers.add(name, line.substr(colon + 1));
  }
}

}  // namespace

std::optional<HttpRequest> parse_request(std::string_view head) {
  LineReader lines(head);
  std::string_view line;
  do {
    if (!lines.next(line)) return std::nullopt;
  } while (line.empty());  // leading empty lines (RFC 9112 §2.2)

  line = trim_ows(line);
  std::string_view parts[3];
  bool extra_spaces = false;
  if (split_words(line, parts, 3, extra_spaces) != 3) return std::nullopt;
  // The last word took the rest of the line: the version must be exactly one word.
  const std::string_view version_text = parts[2];
  const auto version = parse_version(version_text);
  if (!is_token(parts[0]) || !version) return std::nullopt;

  HttpRequest req;
  req.method = std::string(parts[0]);
  req.target = std::string(parts[1]);
  req.version = *version;
  if (extra_spaces) note(req.parse_notes, "request-line: more than one SP between parts");
  parse_fields(lines, req.headers, req.parse_notes);
  return req;
}

std::optional<HttpResponse> parse_response(std::string_view head) {
  LineReader lines(head);
  std::string_view line;
  do {
    if (!lines.next(line)) return std::nullopt;
  } while (line.empty());

  std::string_view parts[3];
  bool extra_spaces = false;
  const std::size_t n = split_words(line, parts, 3, extra_spaces);
  if (n < 2) return std::nullopt;
  const auto version = parse_version(parts[0]);
  const std::string_view code = parts[1];
  if (!version || code.size() != 3 || !is_digit(code[0]) || !is_digit(code[1]) ||
      !is_digit(code[2]) || code[0] == '0') {
    return std::nullopt;
  }
  HttpResponse resp;
  resp.version = *version;
  resp.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (n == 3) resp.reason = std::string(trim_ows(parts[2]));
  if (extra_spaces) note(resp.parse_notes, "status-line: more than one SP between parts");
  parse_fields(lines, resp.headers, resp.parse_notes);
  return resp;
}

}  // namespace wsdiag::http
