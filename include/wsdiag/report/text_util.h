// wsdiag — string helpers for the report writers: escaping raw wire bytes for TSV, terminals and
// Markdown; word wrapping; human-readable sizes and durations.
//
// Wire strings (close reasons, paths, header values) are arbitrary bytes. UTF-8 validity follows
// RFC 3629 §4; anything that is not a well-formed sequence is shown byte by byte as \xNN.
#pragma once

#include "wsdiag/common/duration.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wsdiag::report {

/// Length of the well-formed UTF-8 sequence at the start of s (1-4), or 0 if s is empty or does not
/// start with one (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s) noexcept;

/// TSV cell, as the corpus truth files write it (truth/README.md): tab, newline, CR and backslash
/// as \t \n \r \\; other C0 controls, DEL and bytes outside well-formed UTF-8 as \xNN (lower-case
/// hex); well-formed UTF-8 unchanged.
std::string escape_tsv(std::string_view raw);

/// Safe to print on a terminal: as escape_tsv, and also C1 controls (U+0080-U+009F) and bidi
/// controls (U+200E/F, U+202A-U+202E, U+2066-U+2069) as \uXXXX. No ESC byte can survive.
std::string escape_terminal(std::string_view raw);

/// A Markdown table cell or inline value: escape_terminal, then backslash and the characters
/// Markdown gives meaning to (| ` * _ [ ] ~) backslash-escaped and & < > as entities.
std::string escape_markdown(std::string_view raw);
/// Text for a Mermaid diagram (a message, a note, a participant's name): escape_terminal, then
/// every character Mermaid's grammar or HTML gives a meaning (# ; : < > & " ` { } [ ] | \ %) as a
/// Mermaid entity code "#NN;". Safe inside a fenced code block: it never contains a backtick.
std::string escape_mermaid(std::string_view raw);

/// Columns a string takes on a terminal, counting each code point as one column (bytes that are
/// not UTF-8 as one each). ANSI colour sequences are not counted.
std::size_t display_width(std::string_view s) noexcept;

/// Word-wraps text so that, with `indent` columns already printed before the first line and
/// `indent` spaces prefixed to every following line, no line passes `width` columns (a word longer
/// than the room is split). Returns the lines without indentation. Empty text gives no lines.
std::vector<std::string> wrap(std::string_view text, std::size_t indent, std::size_t width);

/// "512 B", "1.5 KiB", "3.2 MiB", "1.1 GiB".
std::string human_bytes(std::uint64_t n);

}  // namespace wsdiag::report
