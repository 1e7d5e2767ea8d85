// RFC 6455 §7.4.1 / RFC 7692: a client closing with 1010 because an extension it required was not
// accepted; the verdict names the extension.
#include <catch2/catch.hpp>

#include "wsdiag/diag/verdict.h"

using namespace wsdiag;
using namespace wsdiag::diag;
using Catch::Matchers::Contains;

namespace {
ConnectionSummary closed_1010(std::string reason, std::string offered, std::string accepted) {
  ConnectionSummary s;
  s.id = 1;
  s.websocket = true;
  s.handshake.request_seen = s.handshake.response_seen = true;
  s.handshake.status = 101;
  s.handshake.ok = true;
  s.handshake.extensions_offered = std::move(offered);
  s.handshake.extensions = std::move(accepted);
  s.close.seen = true;
  s.close.initiator = Side::client;
  s.close.code = 1010;
  s.close.reason = std::move(reason);
  s.close.at = PacketRef{9, 1'000'000'000};
  s.tcp_end.how = TcpEndHow::fin;
  s.tcp_end.by = Side::server;
  s.tcp_end.at = PacketRef{11, 1'001'000'000};
  return s;
}
}  // namespace

TEST_CASE("1010: the verdict names the extension the client required", "[diag]") {
  SECTION("from the offer minus what the 101 accepted") {
    const auto v = diagnose(closed_1010("", "permessage-deflate; client_max_window_bits, x-webkit-foo", "x-webkit-foo"));
    CHECK(v.code == std::optional<std::uint16_t>(1010));
    CHECK(v.side == Side::client);
    CHECK_THAT(v.summary, Contains("required permessage-deflate, which the server did not accept"));
  }
  SECTION("from the Close reason, which should list it") {
    const auto v = diagnose(closed_1010("permessage-deflate", "permessage-deflate", ""));
    CHECK_THAT(v.summary, Contains("required permessage-deflate"));
  }
  SECTION("a server's 1010 is not described as a client requirement") {
    auto s = closed_1010("", "permessage-deflate", "");
    s.close.initiator = Side::server;
    CHECK_THAT(diagnose(s).summary, !Contains("required"));
  }
}
