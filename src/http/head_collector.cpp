// wsdiag — incremental HTTP/1.x head accumulator (RFC 9112 §2.1-2.2). See head_collector.h.
#include "wsdiag/http/head_collector.h"

#include "wsdiag/http/text.h"

namespace wsdiag::http {

namespace {
constexpr bool is_ctl_not_allowed(unsigned char c) noexcept {
  return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}
}  // namespace

void HeadCollector::reset() noexcept {
  buf_.clear();
  seen_ = 0;
  token_len_ = 0;
  http_match_ = 0;
  state_ = State::collecting;
  kind_ = Kind::unknown;
  phase_ = Phase::leading;
  at_line_start_ = false;
  cr_at_line_start_ = false;
  done_ = false;
}

bool HeadCollector::step(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  switch (phase_) {
    case Phase::leading:
      // Callers only pass non-CR/LF bytes here (feed() skips leading empty lines).
      phase_ = Phase::first_token;
      [[fallthrough]];
    case Phase::first_token:
      if (is_tchar(c)) {
        if (token_len_ < 4 && http_match_ == token_len_ && c == "HTTP"[token_len_]) ++http_match_;
        if (++token_len_ > kMaxMethodLen) return false;
        return true;
      }
      if (c == ' ' && token_len_ > 0) {
        kind_ = Kind::request;
        phase_ = Phase::body;
        return true;
      }
      if (c == '/' && token_len_ == 4 && http_match_ == 4) {  // "HTTP/" starts a status-line
        phase_ = Phase::version_digit;
        return true;
      }
      return false;
    case Phase::version_digit:
      if (c < '0' || c > '9') return false;
      kind_ = Kind::response;
      phase_ = Phase::body;
      return true;
    case Phase::body:
      if (is_ctl_not_allowed(u)) return false;
      if (c == '\n') {
        if (at_line_start_) {
          done_ = true;
        } else {
          at_line_start_ = true;
          cr_at_line_start_ = false;
        }
      } else if (c == '\r') {
        if (at_line_start_) {
          if (cr_at_line_start_) at_line_start_ = false;  // "\n\r\r": not an empty line
          cr_at_line_start_ = true;
        }
      } else {
        at_line_start_ = false;
        cr_at_line_start_ = false;
      }
      return true;
  }
  return false;
}

HeadCollector::State HeadCollector::feed(Bytes chunk, std::size_t& consumed) {
  consumed = 0;
  if (state_ != State::collecting) return state_;

  std::size_t i = 0;
  // Empty lines before the start-line are consumed but not stored (RFC 9112 §2.2).
  while (phase_ == Phase::leading && i < chunk.size() && (chunk[i] == '\r' || chunk[i] == '\n')) {
    if (seen_ >= max_bytes_) break;
    ++seen_;
    ++i;
  }
  const std::size_t store_from = i;
  State result = State::collecting;
  for (; i < chunk.size(); ++i) {
    if (seen_ >= max_bytes_) {
      result = State::too_large;
      break;
    }
    if (!step(static_cast<char>(chunk[i]))) {
      result = State::not_http;
      break;
    }
    ++seen_;
    if (done_) {
      ++i;
      result = State::complete;
      break;
    }
  }
  if (i > store_from) {
    const std::size_t n = i - store_from;
    const std::size_t old = buf_.size();
    buf_.resize(old + n);
    for (std::size_t k = 0; k < n; ++k) buf_[old + k] = static_cast<char>(chunk[store_from + k]);
  }
  consumed = i;
  state_ = result;
  return state_;
}

}  // namespace wsdiag::http
