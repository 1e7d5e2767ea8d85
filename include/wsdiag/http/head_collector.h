// wsdiag — incremental HTTP/1.x head accumulator, one per direction (RFC 9112 §2.1-2.2).
//
//   HTTP-message head = start-line CRLF *( field-line CRLF ) CRLF
//   start-line        = method SP request-target SP HTTP-version      (request)
//                     / HTTP-version SP status-code SP [ reason ]     (response)
//
// Bytes of one TCP direction arrive in chunks split anywhere (mid-CRLF included). The collector
// copies them (bounded by Limits::http_head_bytes) until the empty line that ends the head. A bare
// LF is accepted as a line end (§2.2), so LFLF, CRLFLF and LFCRLF all end a head. Empty lines
// before the start-line are skipped (§2.2) but count against the bound.
//
// feed() reports how many bytes of the chunk it consumed. When the head completes, the remainder of
// that chunk (`chunk.subspan(consumed)`) belongs to the next parser: WebSocket frames coalesced
// with a 101 response, or a pipelined request. This is llhttp's PAUSED_UPGRADE + error_pos
// contract.
//
// "Not HTTP" is recognised from the first bytes: a request starts with a method token of at most
// kMaxMethodLen tchars followed by SP; a response starts with "HTTP/" DIGIT. A control byte
// (other than HTAB, CR, LF) anywhere in the head also means not HTTP, so binary streams are
// rejected within a few bytes.
//
// complete, too_large and not_http are sticky: later feed() calls consume nothing until reset().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wsdiag/common/byte_reader.h"
#include "wsdiag/common/limits.h"

namespace wsdiag::http {

class HeadCollector {
 public:
  enum class State : std::uint8_t {
    collecting,  ///< the head is not complete yet; the whole chunk was consumed
    complete,    ///< head() holds the whole head, terminator included
    too_large,   ///< the head would exceed the bound; nothing more is stored
    not_http,    ///< the bytes are not an HTTP/1.x head
  };
  /// What the start-line looks like, known after its first token.
  enum class Kind : std::uint8_t { unknown, request, response };

  static constexpr std::size_t kMaxMethodLen = 24;

  explicit HeadCollector(std::size_t max_bytes = Limits{}.http_head_bytes)
      : max_bytes_(max_bytes) {}

  /// Consumes bytes of `chunk` into the head. `consumed` is set to the number of bytes of this
  /// chunk that belong to the head: all of them while collecting, up to and including the final LF
  /// when complete, and the offset where scanning stopped for too_large / not_http (the offending
  /// byte is not counted). Once the state is not `collecting`, consumed is 0 until reset().
  State feed(Bytes chunk, std::size_t& consumed);

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  /// The stored head bytes from the start-line on, terminator included when complete. Leading
  /// empty lines are not stored. Valid until the next feed() or reset().
  [[nodiscard]] std::string_view head() const noexcept { return buf_; }
  /// All bytes consumed for this head so far, skipped leading empty lines included.
  [[nodiscard]] std::size_t bytes_seen() const noexcept { return seen_; }
  [[nodiscard]] std::size_t max_bytes() const noexcept { return max_bytes_; }

  /// Forgets the current head (keeps the buffer's capacity) to collect the next one.
  void reset() noexcept;

 private:
  enum class Phase : std::uint8_t { leading, first_token, version_digit, body };
  /// Advances the syntax state by one byte; returns false if the byte proves "not HTTP".
  bool step(char c) noexcept;

  std::string buf_;
  std::size_t max_bytes_;
  std::size_t seen_ = 0;
  std::size_t token_len_ = 0;
  std::size_t http_match_ = 0;  ///< leading bytes of the first token that match "HTTP"
  State state_ = State::collecting;
  Kind kind_ = Kind::unknown;
  Phase phase_ = Phase::leading;
  bool at_line_start_ = false;     ///< the previous byte ended a line (LF)
  bool cr_at_line_start_ = false;  ///< ... and one CR followed it
  bool done_ = false;              ///< step() saw the empty line
};

[[nodiscard]] constexpr const char* to_string(HeadCollector::State s) noexcept {
  switch (s) {
    case HeadCollector::State::collecting:
      return "collecting";
    case HeadCollector::State::complete:
      return "complete";
    case HeadCollector::State::too_large:
      return "too_large";
    case HeadCollector::State::not_http:
      return "not_http";
  }
  return "?";
}

}  // namespace wsdiag::http
