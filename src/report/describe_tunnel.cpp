// wsdiag — the encapsulation of a connection in words (describe.h), for text and Markdown.
#include <fmt/format.h>

#include "wsdiag/report/describe.h"

namespace wsdiag::report {

namespace {

const char* family_name(std::uint8_t f) { return f == 6 ? "IPv6" : "IPv4"; }

/// The same tunnel seen from the other side: equal but for swapped addresses.
bool mirrors(const Encap& a, const Encap& b) {
  if (a.depth != b.depth) return false;
  for (std::size_t i = 0; i < a.depth && i < Encap::kMaxLayers; ++i) {
    const auto& x = a.layers[i];
    const auto& y = b.layers[i];
    if (x.kind != y.kind || x.has_id != y.has_id || x.id != y.id || x.aux != y.aux ||
        x.inner_family != y.inner_family || x.src != y.dst || x.dst != y.src) {
      return false;
    }
  }
  return true;
}

std::string layers_text(const Encap& e, const char* arrow) {
  std::string out;
  for (std::size_t i = 0; i < e.depth && i < Encap::kMaxLayers; ++i) {
    const auto& l = e.layers[i];
    if (!out.empty()) out += " / ";
    out += encap_layer_text(l);
    if (l.src.family != 0) {
      out += fmt::format(" {} {} {}", l.src.to_string(), arrow, l.dst.to_string());
    }
  }
  return out;
}

std::string share(const diag::TunnelSide& s) {
  if (s.packets == s.of) return {};
  return fmt::format(" ({} of {} packets)", s.packets, s.of);
}

}  // namespace

std::string encap_layer_text(const EncapLayer& l) {
  switch (l.kind) {
    case EncapKind::none:
      return "none";
    case EncapKind::vxlan:
      return fmt::format("VXLAN VNI {}", l.id);
    case EncapKind::geneve:
      return l.aux == 0 ? fmt::format("Geneve VNI {}", l.id)
                        : fmt::format("Geneve VNI {} ({} B of options)", l.id, l.aux);
    case EncapKind::gre: {
      std::string s = "GRE";
      if (l.has_id) s += fmt::format(" key {}", l.id);
      if (l.aux == 0x6558) s += " (Ethernet)";
      if (l.aux == 0x8847 || l.aux == 0x8848) s += " (MPLS)";
      return s;
    }
    case EncapKind::erspan2:
    case EncapKind::erspan3:
      if (!l.has_id) return "ERSPAN type I";
      return fmt::format("ERSPAN type {} session {}", l.kind == EncapKind::erspan3 ? "III" : "II",
                         l.id);
    case EncapKind::ip_in_ip:
      return fmt::format("{} in {}", family_name(l.inner_family), family_name(l.src.family));
    case EncapKind::gtpu:
      return fmt::format("GTP-U TEID {:#010x}", l.id);
    case EncapKind::mpls:
      return l.aux > 1 ? fmt::format("MPLS label {} (stack of {})", l.id, l.aux)
                       : fmt::format("MPLS label {}", l.id);
    case EncapKind::pppoe:
      return fmt::format("PPPoE session {:#06x}", l.id);
  }
  return "?";
}

std::vector<std::string> describe_tunnel(const diag::TunnelSummary& t) {
  std::vector<std::string> lines;
  if (!t.any()) return lines;
  const auto& c = t.client;
  const auto& s = t.server;
  if (c.packets != 0 && s.packets != 0 && mirrors(c.encap, s.encap)) {
    std::string line = layers_text(c.encap, "<->");
    if (c.packets != c.of || s.packets != s.of) {
      line += fmt::format(" ({} of {} packets)", c.packets + s.packets, c.of + s.of);
    }
    lines.push_back(std::move(line));
    return lines;
  }
  for (const auto* side : {&c, &s}) {
    const char* who = side == &c ? "client->server" : "server->client";
    if (side->packets == 0) {
      lines.push_back(fmt::format("{}: not encapsulated", who));
    } else {
      lines.push_back(fmt::format("{}: {}{}", who, layers_text(side->encap, "->"), share(*side)));
    }
  }
  return lines;
}

}  // namespace wsdiag::report
