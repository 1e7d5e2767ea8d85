// wsdiag — names of the encapsulation kinds (encap.h).
#include "wsdiag/common/encap.h"

namespace wsdiag {

const char* to_string(EncapKind k) noexcept {
  switch (k) {
    case EncapKind::none: return "none";
    case EncapKind::vxlan: return "vxlan";
    case EncapKind::geneve: return "geneve";
    case EncapKind::gre: return "gre";
    case EncapKind::erspan2: return "erspan-ii";
    case EncapKind::erspan3: return "erspan-iii";
    case EncapKind::ip_in_ip: return "ip-in-ip";
    case EncapKind::gtpu: return "gtp-u";
    case EncapKind::mpls: return "mpls";
    case EncapKind::pppoe: return "pppoe";
  }
  return "?";
}

}  // namespace wsdiag
