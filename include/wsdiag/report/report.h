// wsdiag — the report layer: what the user reads (CLI.md).
//
// A Report is plain data collected by the CLI after the pipeline has run (or, in live mode, one
// ConnReport at a time). The writers only format it:
//   text      a terminal report: verdict table, then one block per connection (colour optional)
//   json      one document, schema "wsdiag.report/1" (field order and types as CLI.md lists them)
//   jsonl     one connection object per line, written as each connection ends
//   markdown  a report to attach to a bug ticket
// and, for `--frames`, a TSV line per WebSocket frame.
//
// Strings taken from the wire (close reasons, paths, headers) are raw bytes: the writers never
// throw on invalid UTF-8 and never pass control bytes through to a terminal (escape.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "wsdiag/common/limits.h"
#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/causes_path.h"
#include "wsdiag/diag/summary.h"
#include "wsdiag/session/frame_record.h"

namespace wsdiag::report {

/// The name of the JSON schema the json/jsonl writers produce.
inline constexpr std::string_view kSchema = "wsdiag.report/1";

/// One capture file that was read.
struct CaptureMeta {
  std::string file;
  std::string link_type;           ///< e.g. "EN10MB"
  std::uint64_t packets = 0;       ///< records read
  std::uint64_t bytes = 0;         ///< captured bytes
  bool truncated = false;          ///< the file ended mid-record
  std::int64_t first_ts_ns = 0;    ///< meaningful when packets > 0
  std::int64_t last_ts_ns = 0;
};

/// One connection: the facts and the diagnosis.
struct ConnReport {
  diag::ConnectionSummary summary;
  diag::Verdict verdict;
  std::optional<diag::CauseMatch> cause;  ///< the most likely cause (diag::likely_cause)
  std::optional<diag::CapturePoint> capture_point;  ///< where the capture was taken (with a path cause)
  /// What redact.h hid in this connection ("query values in the request path"); writers show it.
  std::vector<std::string> redacted;
};

/// Diagnoses one connection: its verdict and most likely cause (WebSocket connections only).
void diagnose_into(ConnReport& c);

/// Whole-run facts that are not about one connection (all optional; zero = not known).
struct RunStats {
  std::uint64_t tcp_connections = 0;     ///< every TCP connection seen (listed or not)
  std::uint64_t tcp_segments = 0;
  std::uint64_t not_tcp = 0;             ///< records that were not TCP over IP
  std::uint64_t malformed = 0;           ///< records that could not be decoded
  std::uint64_t payload_truncated = 0;   ///< TCP segments whose payload the snaplen cut
  std::uint64_t connections_evicted = 0; ///< connection table full: tracking stopped early
};

struct Report {
  std::vector<CaptureMeta> captures;
  std::vector<ConnReport> connections;  ///< sorted by id
  std::string tool_version;             ///< e.g. "0.1.0"
  bool all = false;                     ///< non-WebSocket connections are included (--all)
  RunStats stats;
  std::vector<std::string> warnings;    ///< run-level warnings ("capture.pcap: file ends mid-record")
  std::vector<diag::Pattern> patterns;  ///< run-level causes (groups of connections), largest first
  std::string redaction;                ///< what the run hides and how to show it (Redactor::note)
};

enum class Format : std::uint8_t { text, json, jsonl, markdown, table };

/// "text", "json", "jsonl", "markdown" (or "md"), "table"; nullopt for anything else.
std::optional<Format> parse_format(std::string_view s) noexcept;
const char* to_string(Format f) noexcept;

// ---- JSON (schema wsdiag.report/1) ----

/// The whole report as one JSON value, in CLI.md's field order.
nlohmann::ordered_json to_json(const Report& r);
/// One connection object, as it appears in "connections" and in jsonl.
nlohmann::ordered_json to_json(const ConnReport& c);
/// Writes the report as one pretty-printed JSON document and a newline. Invalid UTF-8 in any
/// string is replaced by U+FFFD (close reasons also carry the raw bytes in "reason_hex").
void write_json(std::FILE* out, const Report& r);

/// Counts behind the JSON document's "summary".
struct JsonTally {
  std::uint64_t connections = 0;
  std::uint64_t websocket = 0;
  std::map<std::string, std::uint64_t> by_verdict;
  std::uint64_t by_severity[3] = {0, 0, 0};
  std::map<std::string, std::uint64_t> by_rule;  ///< connections with at least one such finding
  std::uint64_t tls_not_decrypted = 0;           ///< TLS connections listed without plaintext
  std::map<std::string, std::uint64_t> tls_sni;  ///< ... by SNI ("" when none was sent)
  void add(const ConnReport& c);
  [[nodiscard]] nlohmann::ordered_json summary_json(const Report& r) const;
};

/// TLS connections whose WebSocket traffic could not be seen (not decrypted, failed), by SNI.
struct TlsTally {
  std::uint64_t not_decrypted = 0;
  std::map<std::string, std::uint64_t> by_sni;
  void add(const diag::ConnectionSummary& s);
  /// "3 TLS connections not decrypted (to a.example x2, b.example)"; "" when none.
  [[nodiscard]] std::string line() const;
};

/// The `--format json` document built connection by connection as they end, then written in id
/// order by write(), identical to write_json() of the same report. Memory stays bounded whatever
/// the number of connections: objects that end in id order are appended to a SpillStore (in memory
/// up to a budget, then an unlinked temporary file) already with their separators, so write()
/// copies them out as one range (by the kernel when spilled, not read back); an object that ends
/// before an earlier id waits in memory until that id ends (or is skipped), within the budget too;
/// past it the waiting ones are stored anyway and write() fetches them by their index entry.
/// Several analysis threads number connections per shard (offline.cpp run_sharded): with
/// `streams` = n, provisional id i belongs to stream (i - 1) % n, each in order in its own store.
class SpillStore;
class JsonDocument {
 public:
  /// `memory_budget`: bytes of connection text kept in memory (Limits::json_report_memory).
  explicit JsonDocument(std::size_t memory_budget = kDefaultMemory, unsigned streams = 1);
  ~JsonDocument();
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;
  static constexpr std::size_t kDefaultMemory = Limits{}.json_report_memory;
  /// Adds a finished connection. False if the temporary file could not be written.
  bool add(const ConnReport& c);
  /// The connection's object as add() stores it, appended to `out` (cleared first). Needs no
  /// document: threads render in parallel, each into its own reused buffer, then add_rendered()
  /// one at a time.
  static void render(std::string& out, const ConnReport& c);
  bool add_rendered(const ConnReport& c, std::string_view text);
  /// A connection with this id ended and is not listed: ids after it need not wait for it.
  bool skip(std::uint64_t id);
  /// Gives every connection added so far a new id (`map(old id)`); write() then orders by, and
  /// prints, the new ids. For runs that number connections provisionally (several threads).
  void renumber(const std::function<std::uint64_t(std::uint64_t)>& map);
  /// Writes the whole document; `meta` gives everything but the connections (ignored there).
  bool write(std::FILE* out, const Report& meta);

 private:
  struct Entry {
    std::uint64_t id;       ///< the id to print and order by
    std::uint64_t text_id;  ///< the id inside the stored text
    std::uint64_t off;      ///< in its stream's store
    std::uint32_t len;
    std::uint32_t stream;
  };
  struct Waiting {
    std::uint64_t id = 0;
    std::string text;  ///< empty: skipped
  };
  struct Stream;
  bool store(Stream& st, std::uint64_t id, std::string_view text);
  bool drain(Stream& st);
  bool stop_waiting(Stream& st);

  std::size_t budget_;
  std::vector<Stream> streams_;
  std::vector<Entry> index_;
  JsonTally tally_;
  bool failed_ = false;  ///< a store failed while renumbering
};
/// One connection object, compact, with no newline (for --format jsonl).
std::string json_line(const ConnReport& c);
/// One run-level group as a compact JSON object with "type": "pattern" (live --format jsonl).
std::string pattern_json_line(const diag::Pattern& p);
/// json_line(c) and a newline, flushed (jsonl consumers read as connections end).
void write_json_line(std::FILE* out, const ConnReport& c);

// ---- text ----

struct TextOptions {
  bool color = false;   ///< ANSI colours (see use_color)
  bool detail = false;  ///< everything known: timeline, per-direction counters, rule explanations
  int width = 100;      ///< wrap prose at this column
};

void write_text(std::FILE* out, const Report& r, const TextOptions& o);
/// The block for one connection (what write_text prints per connection; live mode uses it alone).
std::string format_connection_text(const ConnReport& c, const TextOptions& o);
/// One run-level group (live mode prints each as it is found): "pattern <id> (<confidence>): ...".
std::string format_pattern_text(const diag::Pattern& p, const TextOptions& o);

// ---- markdown ----

/// What a GitHub comment or issue body holds (characters; the writer counts bytes, never fewer).
inline constexpr std::size_t kMarkdownLimit = 65'536;
/// Problem connections first (a Mermaid sequence diagram each), healthy ones folded; the document
/// stays under `limit` bytes by summarising the problem sections that do not fit.
void write_markdown(std::FILE* out, const Report& r);
void write_markdown(std::FILE* out, const Report& r, std::size_t limit);
/// Not a clean close: a WebSocket (or undecrypted TLS) connection whose verdict is worse than
/// info, whose close code is not 1000/1001, or with a warning or error finding.
bool is_problem(const ConnReport& c);

// ---- table (--format table) ----

/// One line per connection, in columns: id, client, server, path, verdict, side, duration, idle
/// before the end, cause; then the groups (write_groups). Plain text, aligned, no colour.
void write_table(std::FILE* out, const Report& r);

/// A group of connections with the same verdict, server, path and cause (the summary of a big run).
struct ConnGroup {
  std::string verdict;  ///< verdict_label
  diag::Severity severity = diag::Severity::info;
  std::string server;
  std::string path;     ///< the request path (redacted as the report is), "" when none was seen
  std::string cause;    ///< the likely cause's id, "" when none
  std::vector<std::uint64_t> ids;
};
/// The report's connections grouped by verdict, server, path and cause: worst severity first,
/// then the largest group.
std::vector<ConnGroup> group_connections(const Report& r);
/// "1006 Abnormal Closure  10.0.0.2:8080 /chat  idle-timeout  x12: #3 #5 ..." lines (ids capped at
/// `max_ids` per group), escaped for a terminal.
std::vector<std::string> group_lines(const std::vector<ConnGroup>& groups, std::size_t max_ids);

/// The Wireshark display filter that selects one connection's packets, from its "ip:port"
/// endpoints ("[v6]:port" for IPv6); only the ports when the addresses are pseudonyms (--anonymize).
std::string wireshark_filter(const diag::ConnectionSummary& s);

// ---- --frames TSV ----

/// The header line: packet conn time dir fin rsv opcode masked payload_len close_code close_reason
void write_frames_header(std::FILE* out);
/// `preview` is what the text_preview column shows (Redactor::preview decides).
void write_frame(std::FILE* out, const session::FrameRecord& f, std::string_view preview);
/// One TSV line for a frame, without the newline.
std::string frame_line(const session::FrameRecord& f, std::string_view preview);

// ---- helpers ----

/// True if colour should be used on fd: it is a terminal, NO_COLOR is unset or empty
/// (https://no-color.org), and TERM is not "dumb".
bool use_color(int fd);
/// The width to wrap the text report at: on a terminal, COLUMNS or the terminal's width (kept
/// within 40-400); 100 when fd is not a terminal.
int text_width(int fd);

/// The key a verdict is counted under in summary.by_verdict: the code ("1000") or the name.
std::string verdict_key(const diag::Verdict& v);

}  // namespace wsdiag::report
