// wsdiag — causes: *why* a connection ended, as data rows of pure predicates.
//
// Per connection: an ordered table of CauseRow (first match wins), each a pure function of the
// connection's facts (ConnectionSummary) and its verdict, giving an id, a confidence and the
// evidence in words. Over a run: PatternRow, pure functions over the endings of every connection
// (EndingFact), giving groups (many connections torn down after the same silence, or within
// milliseconds of each other) with their members. A new cause is one row plus one test over a
// hand-built summary; the report writers show whatever the rows return.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wsdiag/diag/summary.h"

namespace wsdiag::diag {

enum class Confidence : std::uint8_t { possible, likely, certain };
const char* to_string(Confidence c) noexcept;

struct CauseMatch {
  std::string_view id;     ///< "idle-timeout", "heartbeat-too-slow", "app-close-code", ...
  Confidence confidence = Confidence::possible;
  std::string evidence;    ///< what on the wire says so, one sentence
  std::string_view fix;    ///< how to fix it
};

struct CauseRow {
  std::string_view id;
  std::string_view title;  ///< what it means
  std::string_view fix;
  /// Pure predicate: the evidence and confidence when the row applies to this connection.
  std::optional<CauseMatch> (*match)(const ConnectionSummary&, const Verdict&);
};

/// The ordered per-connection table (exposed for tests and documentation).
std::span<const CauseRow> cause_table() noexcept;
/// The most likely cause of this connection's ending, or nullopt (a clean close needs none).
std::optional<CauseMatch> likely_cause(const ConnectionSummary& s, const Verdict& v);

/// Application close codes a subprotocol defines (data rows: diag/subprotocol_codes.cpp).
struct SubprotocolCode {
  std::string_view subprotocol;  ///< as negotiated in Sec-WebSocket-Protocol
  std::uint16_t code;
  std::string_view name;
  std::string_view meaning;
};
std::optional<SubprotocolCode> subprotocol_code(std::string_view subprotocol, std::uint16_t code) noexcept;

// ---- over a run -------------------------------------------------------------------------------

/// One connection's ending, kept for the run-level patterns (a few dozen bytes per connection).
struct EndingFact {
  std::uint64_t id = 0;
  std::string server;                 ///< "ip:port" of the server
  std::int64_t end_ns = 0;            ///< when the ending began (first Close, or first FIN/RST)
  Side by = Side::none;               ///< who began it
  bool close_frame = false;           ///< a valid Close was sent
  std::optional<std::uint16_t> code;  ///< the verdict code
  bool tcp_ended = false;             ///< FIN or RST seen
  std::optional<double> idle_ms;      ///< silence before a teardown without Close
  std::int64_t start_ns = 0;          ///< the connection's first packet (its age is end_ns - start_ns)
  std::optional<double> quiet_ms;     ///< silence before the ending, however it ended (no traffic: nullopt)
};
/// The ending of a diagnosed WebSocket connection (nullopt for connections still open).
std::optional<EndingFact> ending_fact(const ConnectionSummary& s, const Verdict& v);

struct Pattern {
  std::string_view id;        ///< "idle-timeout", "correlated-teardown", "graceful-restart"
  Confidence confidence = Confidence::likely;
  std::string summary;        ///< one line: "6 connections were torn down by the server after 2.0 ± 0.0 s of silence ..."
  std::string_view fix;
  std::vector<std::uint64_t> members;  ///< connection ids, ascending
  std::int64_t first_ns = 0, last_ns = 0;
};
/// Whether connection `id` already belongs to one of the groups in `out`.
bool in_a_pattern(const std::vector<Pattern>& out, std::uint64_t id);
/// A group of endings as a Pattern: members sorted, first/last end times; the summary is the caller's.
Pattern make_pattern(std::string_view id, Confidence c, std::string_view fix, std::span<const EndingFact* const> g);

struct PatternRow {
  std::string_view id;
  std::string_view fix;
  /// Pure function over every ending of the run (sorted by end time), appending the groups it finds.
  void (*find)(std::span<const EndingFact>, std::vector<Pattern>&);
};
std::span<const PatternRow> pattern_table() noexcept;
/// Every pattern of the run, largest group first; a connection is in at most one group.
std::vector<Pattern> find_patterns(std::vector<EndingFact> endings);

}  // namespace wsdiag::diag
