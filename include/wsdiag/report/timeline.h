// wsdiag — a connection's timeline, built once from its summary and rendered by the Markdown
// writer (a Mermaid sequence diagram) and the JSON writer (`timeline[]`, json_connection.cpp).
//
// Steps, in packet order: the client's SYN when captured, the Upgrade request and the response,
// the data messages between control events as counts (never one step per message), the Pings and
// Pongs kept (diag::WireEvents: the last ones), the first Close of each side with its code, each
// side's FIN and RST, and, when TCP never ended, the end of the capture. Each step carries its
// time from the first packet and the idle time before it. Strings may hold wire bytes (the path,
// a close reason): the renderer escapes them for its medium.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wsdiag/diag/summary.h"

namespace wsdiag::report {

enum class StepKind : std::uint8_t { syn, request, response, messages, ping, pong, close, fin, rst, capture_end };
const char* to_string(StepKind k) noexcept;

struct TimelineStep {
  StepKind kind = StepKind::messages;
  diag::Side from = diag::Side::none;  ///< the sender; none for a span of both sides' messages
  PacketRef at;                        ///< messages: the last message of the span
  double offset_ms = 0;                ///< from the connection's first packet
  /// Time since the previous step; nullopt for a span of messages (they fill the time) and the first step.
  std::optional<double> idle_before_ms;
  std::string text;                    ///< "GET /chat?token=<redacted>", "Close 1001 \"bye\"", "RST"
  std::uint64_t client_messages = 0;   ///< messages: how many each side sent in the span
  std::uint64_t server_messages = 0;
  std::uint64_t pings_pongs = 0;       ///< messages: Pings and Pongs in the span not drawn as steps
};

struct Timeline {
  std::vector<TimelineStep> steps;
  bool handshake_captured = true;
};

/// Idle gaps at least this long are drawn in the diagram.
inline constexpr double kIdleShownMs = 1000.0;

Timeline build_timeline(const diag::ConnectionSummary& s);

/// The Mermaid `sequenceDiagram` source (no code fence), every text escaped with escape_mermaid.
std::string mermaid_sequence(const diag::ConnectionSummary& s, const Timeline& t);

}  // namespace wsdiag::report
