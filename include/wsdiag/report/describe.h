// wsdiag — plain-language descriptions of a connection's facts, shared by the text and Markdown
// writers. Every string returned here may contain raw wire bytes (paths, close reasons): the caller
// escapes it for its medium (escape_terminal / escape_markdown).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wsdiag/diag/causes.h"
#include "wsdiag/diag/summary.h"

namespace wsdiag::report {

/// "1006 Abnormal Closure", "1005 No Status Received", "open", "handshake failed".
std::string verdict_label(const diag::Verdict& v, const diag::ConnectionSummary& s);
/// "client", "server", "both", or `none_text` for Side::none.
std::string side_text(diag::Side side, const char* none_text = "-");
/// The run-level group (patterns) a connection belongs to, or nullptr. Reports say it under the
/// connection's own cause: one socket alone cannot tell a crash from an idle timeout, its group can.
const diag::Pattern* pattern_of(std::span<const diag::Pattern> patterns, std::uint64_t id);
/// "correlated-teardown (likely): one of 22 connections; <the group's summary>".
std::string pattern_membership(const diag::Pattern& p);
/// Milliseconds from the connection's first packet to `at` (0 for an unset ref).
double offset_ms(const diag::ConnectionSummary& s, PacketRef at);
/// Time from the first Close to its echo, if the Close was echoed.
std::optional<double> echo_delay_ms(const diag::CloseSummary& c);
/// "1001 Going Away", or the bare number for codes without a name.
std::string close_code_text(std::uint16_t code);

/// Lines describing the opening handshake: request and response, then negotiated subprotocol and
/// extensions, then problems. `detail` adds the other headers and packet numbers.
std::vector<std::string> describe_handshake(const diag::ConnectionSummary& s, bool detail);
/// "12 frames, 10 messages, 1.2 KiB" (detail: pings, pongs, compression, largest message, gaps).
std::string describe_direction(const diag::DirCounters& d, bool detail);
/// Lines describing the close handshake (who, code, reason, echo and its delay).
std::vector<std::string> describe_close(const diag::ConnectionSummary& s);
/// Lines describing how TCP ended (how, by, packet, idle before; detail: FIN/RST of each side).
/// TLS (wss://): version, cipher, SNI, ALPN, key status, and how TLS ended in each direction.
std::vector<std::string> describe_tls(const diag::ConnectionSummary& s);

std::vector<std::string> describe_tcp_end(const diag::ConnectionSummary& s, bool detail);

/// Lines describing the encapsulation the packets came in (empty for an untunnelled connection):
/// one line when both directions mirror each other ("VXLAN VNI 42 10.0.0.1 <-> 10.0.0.2"), else
/// one per side; a note when only some packets were encapsulated.
std::vector<std::string> describe_tunnel(const diag::TunnelSummary& t);
/// One layer without addresses: "VXLAN VNI 42", "GTP-U TEID 0x00000001", "IPv6 in IPv4".
std::string encap_layer_text(const EncapLayer& l);

struct TimelineLine {
  PacketRef at;
  double offset_ms = 0;  ///< from the connection's first packet
  std::string what;      ///< may hold wire bytes: the writer escapes it
};
/// The text report's timeline (--conn): the steps of build_timeline (timeline.h), the one home of a
/// connection's sequence, with each finding at its packet.
std::vector<TimelineLine> timeline_lines(const diag::ConnectionSummary& s);

}  // namespace wsdiag::report
