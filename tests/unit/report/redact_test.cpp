#include <catch2/catch.hpp>

#include <string>

#include "wsdiag/report/redact.h"

using namespace wsdiag::report;

TEST_CASE("redact: query values and userinfo are hidden, names and path kept", "[report][redact]") {
  bool changed = false;
  CHECK(redact_url("/live?access_token=abc123&room=7", changed) == "/live?access_token=<redacted>&room=<redacted>");
  CHECK(changed);
  CHECK(redact_url("/chat", changed) == "/chat");
  CHECK_FALSE(changed);
  CHECK(redact_url("/x?flag&=v&k=", changed) == "/x?flag&=<redacted>&k=");
  CHECK(changed);
  CHECK(redact_url("wss://user:pw@example.com:443/p?t=1#frag", changed) ==
        "wss://<redacted>@example.com:443/p?t=<redacted>#<redacted>");
  CHECK(redact_url("https://example.com", changed) == "https://example.com");
  CHECK_FALSE(changed);
  // a bare opaque token as the whole query
  CHECK(redact_url("/ws?Zm9vYmFyYmF6cXV4MTIzNDU2", changed) == "/ws?<redacted>");
  CHECK(redact_url("/ws?debug", changed) == "/ws?debug");
  CHECK_FALSE(changed);
}

TEST_CASE("redact: credential-like subprotocols hidden, protocol names kept", "[report][redact]") {
  CHECK(looks_like_credential("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"));
  CHECK(looks_like_credential("base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpTVXpJMU5p"));
  CHECK(looks_like_credential("a1b2c3d4e5f6a7b8c9d0"));
  for (const char* name : {"graphql-transport-ws", "graphql-ws", "mqtt", "v12.stomp", "wamp.2.json.batched",
                           "actioncable-v1-json", "com.microsoft.signalr.json", "dumb-increment-protocol"}) {
    CAPTURE(name);
    CHECK_FALSE(looks_like_credential(name));
  }
  bool changed = false;
  CHECK(redact_subprotocols("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl, graphql-transport-ws", changed) ==
        "<redacted>, graphql-transport-ws");
  CHECK(changed);
  CHECK(redact_subprotocols("chat, superchat", changed) == "chat, superchat");
  CHECK_FALSE(changed);
}

TEST_CASE("redact: credential headers", "[report][redact]") {
  CHECK(redact_header("Cookie", "a=b") == "<redacted>");
  CHECK(redact_header("set-cookie", "a=b") == "<redacted>");
  CHECK(redact_header("Authorization", "Bearer x") == "<redacted>");
  CHECK(redact_header("Proxy-Authorization", "Basic x") == "<redacted>");
  CHECK(redact_header("X-Api-Key", "k") == "<redacted>");
  CHECK(redact_header("X-Auth-Token", "k") == "<redacted>");
  CHECK(redact_header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(redact_header("User-Agent", "curl/8") == "curl/8");
}

TEST_CASE("redact: capture paths become base names", "[report][redact]") {
  CHECK(base_name("/home/me/secret-project/cap.pcap") == "cap.pcap");
  CHECK(base_name("cap.pcap") == "cap.pcap");
  CHECK(base_name("-") == "-");
}

namespace {
ConnReport conn(const std::string& client, const std::string& server, const std::string& path) {
  ConnReport c;
  c.summary.client = client;
  c.summary.server = server;
  c.summary.handshake.path = path;
  c.summary.handshake.host = server;
  c.verdict.cause = "The server answered 403 for \"" + path + "\" from " + client;
  return c;
}
}  // namespace

TEST_CASE("redact: a connection's facts and the verdict text quoting them", "[report][redact]") {
  Redactor r;
  auto c = conn("10.1.2.3:5000", "10.9.9.9:443", "/ws?token=TOPSECRET99");
  r.apply(c);
  CHECK(c.summary.handshake.path == "/ws?token=<redacted>");
  CHECK(c.verdict.cause.find("TOPSECRET99") == std::string::npos);
  CHECK(c.verdict.cause.find("/ws?token=<redacted>") != std::string::npos);
  CHECK(c.summary.client == "10.1.2.3:5000");  // not anonymized unless asked
  REQUIRE(c.redacted.size() == 1);
  CHECK(c.redacted[0] == "query values in the request path");
  CHECK(r.preview("hello") == "<redacted>");
  CHECK(r.note().find("--no-redact") != std::string::npos);
}

TEST_CASE("redact: --no-redact shows everything, --payload shows previews", "[report][redact]") {
  Redactor off(RedactOptions{false, false, false});
  auto c = conn("10.1.2.3:5000", "10.9.9.9:443", "/ws?token=TOPSECRET99");
  off.apply(c);
  CHECK(c.summary.handshake.path == "/ws?token=TOPSECRET99");
  CHECK(c.redacted.empty());
  CHECK(off.preview("hello") == "hello");
  CHECK(off.note().empty());
  Redactor payload(RedactOptions{true, false, true});
  CHECK(payload.preview("hello") == "hello");
}

TEST_CASE("redact: --anonymize maps each address to one pseudonym, ports kept", "[report][redact]") {
  Redactor r(RedactOptions{true, true, false});
  auto a = conn("10.1.2.3:5000", "10.9.9.9:443", "/");
  auto b = conn("10.1.2.4:5001", "10.9.9.9:443", "/");
  auto v6 = conn("[2001:db8::1]:6000", "10.9.9.9:443", "/");
  r.apply(a);
  r.apply(b);
  r.apply(v6);
  CHECK(a.summary.client == "addr-1:5000");
  CHECK(a.summary.server == "addr-2:443");
  CHECK(b.summary.client == "addr-3:5001");
  CHECK(b.summary.server == "addr-2:443");
  CHECK(v6.summary.client == "addr-4:6000");
  CHECK(a.summary.handshake.host == "addr-2:443");
  CHECK(a.verdict.cause.find("10.1.2.3") == std::string::npos);
  CHECK(a.verdict.cause.find("addr-1:5000") != std::string::npos);
}
