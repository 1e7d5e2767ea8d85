// wsdiag — judgement over heartbeats (issue #11 §3): control-frame Pings and the application
// heartbeats the session recognised (summary.h AppHeartbeats, session/heartbeat.h). Pure functions
// of a ConnectionSummary, used by the heartbeat-* cause rows (causes.cpp) and the verdict texts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wsdiag/diag/summary.h"

namespace wsdiag::diag {

/// A Pong (or application answer) may take this long; a heartbeat this old at the end is unanswered.
inline constexpr double kHeartbeatGraceSeconds = 1.0;

/// "an Engine.IO ping (\"2\")", "an MQTT PINGREQ", "a STOMP heart-beat (EOL)", ...: one heartbeat of that kind.
std::string_view heartbeat_name(AppHeartbeat kind) noexcept;

/// One side's heartbeat: its control Pings or its application heartbeats, whichever came more often.
struct SideHeartbeat {
  std::string what;     ///< "a Ping", "an Engine.IO ping (\"2\")"
  std::uint64_t count = 0;
  double every_s = 0;   ///< mean interval between them
};
/// The side's most frequent heartbeat with two or more sent, or nullopt.
std::optional<SideHeartbeat> heartbeat_of(const DirCounters& d);

/// Whether either side sent any heartbeat (Pings or application heartbeats).
bool any_heartbeat(const ConnectionSummary& s) noexcept;
/// Whether either side sent an application heartbeat.
bool any_app_heartbeat(const ConnectionSummary& s) noexcept;

/// An application heartbeat that asked for an answer and got none before the connection ended.
struct UnansweredHeartbeat {
  Side pinger = Side::none;
  AppHeartbeat kind = AppHeartbeat::none;
  PacketRef at;                    ///< the unanswered heartbeat
  PacketRef answered;              ///< the pinger's last answered heartbeat (index 0: none)
  double before_end_s = 0;         ///< from it to the end of the connection (TCP end, or capture end)
};
/// The side whose last answerable heartbeat went unanswered for at least kHeartbeatGraceSeconds
/// before the connection ended; the earliest if both.
std::optional<UnansweredHeartbeat> unanswered_app_heartbeat(const ConnectionSummary& s) noexcept;

/// What happened after `at`: "the server closed the connection 1.0 s later (an empty Close, 1005)",
/// "TCP was torn down by the server (FIN) 1.3 s later", "the connection was still open ...".
std::string ending_after(const ConnectionSummary& s, const PacketRef& at);

}  // namespace wsdiag::diag
