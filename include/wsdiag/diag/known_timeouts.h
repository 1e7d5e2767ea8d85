// wsdiag — data: default idle timeouts and lifetimes of the proxies, load balancers and servers that
// sit in front of WebSocket services, with where each figure comes from. Read by the idle-timeout
// cause (causes.cpp) and the verdict texts. A new product is one row.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>

namespace wsdiag::diag {

enum class TimeoutKind : unsigned char {
  idle,      ///< closes a connection after this much silence
  lifetime,  ///< closes a connection at this age whatever its traffic
};

struct KnownTimeout {
  double seconds;
  TimeoutKind kind;
  std::string_view who;     ///< product and setting
  std::string_view silent;  ///< "" when it sends FIN/RST; else how it ends ("next packet gets an RST")
  std::string_view source;  ///< where the default is documented
};

// Ascending by seconds.
inline constexpr std::array<KnownTimeout, 11> kKnownTimeouts{{
    {30, TimeoutKind::lifetime, "GCP external HTTP(S) load balancer backend service timeout (30 s)", "",
     "cloud.google.com/load-balancing/docs/backend-service#timeout-setting"},
    {55, TimeoutKind::idle, "Heroku router idle timeout (55 s)", "",
     "devcenter.heroku.com/articles/websockets#timeouts"},
    {60, TimeoutKind::idle, "nginx proxy_read_timeout / proxy_send_timeout (60 s; ingress-nginx too)", "",
     "nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout"},
    {60, TimeoutKind::idle, "AWS Application Load Balancer idle timeout (60 s)", "",
     "docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html"},
    {100, TimeoutKind::idle, "Cloudflare proxy idle timeout (100 s)", "",
     "developers.cloudflare.com/fundamentals/reference/connection-limits/"},
    {120, TimeoutKind::idle, "uWebSockets default idleTimeout (120 s)", "", "github.com/uNetworking/uWebSockets"},
    {240, TimeoutKind::idle, "Azure Load Balancer idle timeout (4 min)", "silent drop, or an RST when TCP reset is enabled",
     "learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout"},
    {270, TimeoutKind::idle, "Cloudflare gateway/WARP idle timeout (270 s)", "",
     "developers.cloudflare.com/cloudflare-one/"},
    {350, TimeoutKind::idle, "AWS Network Load Balancer idle timeout (350 s)", "silent: the next packet gets an RST",
     "docs.aws.amazon.com/elasticloadbalancing/latest/network/network-load-balancers.html#connection-idle-timeout"},
    {600, TimeoutKind::idle, "AWS API Gateway WebSocket idle timeout (10 min)", "",
     "docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"},
    {7200, TimeoutKind::lifetime, "AWS API Gateway WebSocket maximum connection duration (2 h)", "",
     "docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"},
}};

/// The known default closest to `seconds` within tolerance (max(1 s, 2%)), of the given kind; nullptr if none.
inline const KnownTimeout* match_known_timeout(double seconds, TimeoutKind kind) noexcept {
  const KnownTimeout* best = nullptr;
  for (const KnownTimeout& k : kKnownTimeouts) {
    const double off = std::abs(seconds - k.seconds);
    if (k.kind == kind && off <= std::max(1.0, k.seconds * 0.02) &&
        (best == nullptr || off < std::abs(seconds - best->seconds))) {
      best = &k;
    }
  }
  return best;
}

/// The products whose default of `kind` matches `seconds` (every one at the best match's figure),
/// joined with " or ": "nginx proxy_read_timeout ... (60 s ...) or AWS Application Load Balancer
/// idle timeout (60 s)". Empty when none matches.
inline std::string known_timeouts_text(double seconds, TimeoutKind kind) {
  const KnownTimeout* best = match_known_timeout(seconds, kind);
  std::string out;
  if (best == nullptr) return out;
  for (const KnownTimeout& k : kKnownTimeouts) {
    if (k.kind != kind || k.seconds != best->seconds) continue;
    if (!out.empty()) out += " or ";
    out += k.who;
  }
  return out;
}

}  // namespace wsdiag::diag
