# scripts/samples/tunnels.sh — tunnel scenarios for scripts/make-samples (sourced by it; uses its
# bg/fg/wait_exit/cap_stop helpers and variables).
#
# Two network namespaces joined by a veth pair (the underlay, 10.200.0.0/24 or fd00:200::/64);
# a tunnel between them made by a real tool (the kernel's vxlan driver, or socat moving a TUN
# device's packets through a raw IP socket for IP-in-IP); python-websockets server and client
# talk over the tunnel's inner addresses; tcpdump records the underlay veth, so every packet in
# the capture is encapsulated. Only namespaces named wsd-tun-* are created and deleted here.
#
# The kernel on the machine these captures were made on has no gre/ipip/sit/ip6tnl/geneve/erspan
# drivers (`ip link add` says "Unknown device type"), hence socat for IP-in-IP and Open vSwitch's
# userspace datapath (datapath_type=netdev: tunnels built in ovs-vswitchd, no kernel module) for
# GRE, ERSPAN and Geneve, one ovsdb-server + ovs-vswitchd per namespace. GTP-U (OVS carries it
# only as an L3 tunnel, without ARP), MPLS and PPPoE are covered by unit tests over hand-built
# packets.

TUN_A=wsd-tun-a
TUN_B=wsd-tun-b
TUN_PORT=18900

tun_ns_down() { ip netns del "$TUN_A" 2>/dev/null || true; ip netns del "$TUN_B" 2>/dev/null || true; }

# tun_ns_up FAMILY: namespaces, veth underlay (IPv4 or IPv6), loopback up, IPv6 off unless needed.
tun_ns_up() {
  tun_ns_down
  ip netns add "$TUN_A"; ip netns add "$TUN_B"
  ip link add ua netns "$TUN_A" type veth peer name ub netns "$TUN_B"
  local ns
  for ns in "$TUN_A" "$TUN_B"; do
    ip -n "$ns" link set lo up
    # No router solicitations or MLD reports wandering into the tunnel.
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0
  done
  if [ "$1" = 6 ]; then
    ip -n "$TUN_A" addr add fd00:200::1/64 dev ua nodad
    ip -n "$TUN_B" addr add fd00:200::2/64 dev ub nodad
  else
    ip -n "$TUN_A" addr add 10.200.0.1/24 dev ua
    ip -n "$TUN_B" addr add 10.200.0.2/24 dev ub
  fi
  ip -n "$TUN_A" link set ua up; ip -n "$TUN_B" link set ub up
}

# tun_wait_listen PORT: until the server in namespace B listens on PORT.
tun_wait_listen() {
  local i=0
  until ip netns exec "$TUN_B" ss -Hltn "sport = :$1" | grep -q .; do
    [ "$i" -ge 100 ] && die "nothing listens on port $1 in $TUN_B after 10s"
    sleep 0.1; i=$((i + 1))
  done
}

# tun_cap_start FILE FILTER: tcpdump on the underlay veth in namespace A.
tun_cap_start() {
  CAP_FILE=$1
  timeout -k 2 120 ip netns exec "$TUN_A" tcpdump -i ua -n -U --immediate-mode -Z root -w "$WORK/$1" "$2" \
    >"$WORK/cap.log" 2>&1 </dev/null &
  CAP_PID=$!
  STARTED+=("$CAP_PID")
  local i=0
  until grep -q -i "listening on" "$WORK/cap.log" 2>/dev/null; do
    [ "$i" -ge 100 ] && die "capture did not start: $(cat "$WORK/cap.log")"
    ours "$CAP_PID" || die "capture died: $(cat "$WORK/cap.log")"
    sleep 0.1; i=$((i + 1))
  done
  sleep 0.2
}

# tun_ws FILE FILTER HOST: python-websockets echo server in B on HOST, client in A sends 3
# messages and closes 1000; captured on the underlay.
tun_ws() {
  local file=$1 filter=$2 host=$3
  bg pyserver 60 ip netns exec "$TUN_B" "$PY" "$HELP/py/py_server.py" --host "$host" --port "$TUN_PORT" \
    --mode echo --compression none
  SRV=$BG_PID
  tun_wait_listen "$TUN_PORT"
  tun_cap_start "$file" "$filter"
  fg 40 ip netns exec "$TUN_A" "$PY" "$HELP/py/py_client.py" --host "$host" --port "$TUN_PORT" \
    --mode basic --count 3 --compression none
  wait_exit "$SRV" 10
  cap_stop
}

s_tunnel_vxlan() {              # kernel VXLAN, VNI 42, UDP 4789 (flannel, Calico)
  tun_ns_up 4
  ip -n "$TUN_A" link add vx0 type vxlan id 42 remote 10.200.0.2 local 10.200.0.1 dstport 4789 dev ua
  ip -n "$TUN_B" link add vx0 type vxlan id 42 remote 10.200.0.1 local 10.200.0.2 dstport 4789 dev ub
  ip -n "$TUN_A" addr add 10.201.0.1/24 dev vx0; ip -n "$TUN_B" addr add 10.201.0.2/24 dev vx0
  ip -n "$TUN_A" link set vx0 up; ip -n "$TUN_B" link set vx0 up
  tun_ws tunnel-vxlan.pcap "udp port 4789" 10.201.0.2
  tun_ns_down
}

# tun_socat OUTER INNER: an IP-in-IP tunnel made by socat in each namespace: a TUN device with the
# inner address, its packets sent through a raw socket of protocol 4 (IPv4 inside) or 41 (IPv6
# inside) to the other end's underlay address (RFC 2003, RFC 4213, RFC 2473 framing).
tun_socat() {
  local outer=$1 inner=$2 proto ua ub ia ib addr ns
  [ "$inner" = 6 ] && proto=41 || proto=4
  if [ "$outer" = 6 ]; then ua="[fd00:200::1]"; ub="[fd00:200::2]"; addr=IP6-DATAGRAM
  else ua=10.200.0.1; ub=10.200.0.2; addr=IP4-DATAGRAM; fi
  tun_ns_up "$outer"
  if [ "$inner" = 6 ]; then
    for ns in "$TUN_A" "$TUN_B"; do ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.disable_ipv6=0; done
    ia=fd00:201::1; ib=fd00:201::2
  else
    for ns in "$TUN_A" "$TUN_B"; do ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.disable_ipv6=1; done
    ia=10.201.0.1; ib=10.201.0.2
  fi
  # socat brings the TUN device up with an IPv4 address; the IPv6 one is added once it exists.
  bg socat-a 90 ip netns exec "$TUN_A" socat "TUN:10.202.0.1/30,tun-type=tun,iff-no-pi,tun-name=tn0,up" \
    "$addr:$ub:$proto"
  local socat_a=$BG_PID
  bg socat-b 90 ip netns exec "$TUN_B" socat "TUN:10.202.0.2/30,tun-type=tun,iff-no-pi,tun-name=tn0,up" \
    "$addr:$ua:$proto"
  local socat_b=$BG_PID i=0
  until ip -n "$TUN_A" link show tn0 >/dev/null 2>&1 && ip -n "$TUN_B" link show tn0 >/dev/null 2>&1; do
    [ "$i" -ge 100 ] && die "socat made no TUN device"
    sleep 0.1; i=$((i + 1))
  done
  if [ "$inner" = 6 ]; then
    ip -n "$TUN_A" addr add "$ia/64" dev tn0 nodad; ip -n "$TUN_B" addr add "$ib/64" dev tn0 nodad
  else
    ip -n "$TUN_A" addr add "$ia/24" dev tn0; ip -n "$TUN_B" addr add "$ib/24" dev tn0
  fi
  local name
  case "$outer$inner" in 44) name=ipip;; 46) name=6in4;; 64) name=4in6;; 66) name=6in6;; esac
  tun_ws "tunnel-$name.pcap" "ip proto $proto or ip6 proto $proto" "$ib"
  sig TERM "$socat_a"; wait_exit "$socat_a" 5
  sig TERM "$socat_b"; wait_exit "$socat_b" 5
  tun_ns_down
}

s_tunnel_ipip() { tun_socat 4 4; }   # IPv4 in IPv4 (protocol 4), socat TUN <-> raw IPv4
s_tunnel_6in4() { tun_socat 4 6; }   # IPv6 in IPv4 (protocol 41, "sit"/6in4)
s_tunnel_4in6() { tun_socat 6 4; }   # IPv4 in IPv6 (next header 4, ip6tnl)
s_tunnel_6in6() { tun_socat 6 6; }   # IPv6 in IPv6 (next header 41, ip6tnl)

# ovs_up TYPE OPTIONS...: Open vSwitch in both namespaces: bridge br-phy (the veth; the underlay
# address moves onto br-phy) and bridge br-int (a tunnel port t0 of TYPE to the other side; the
# inner address on br-int's internal port). Sets OVS_PIDS.
OVS_PIDS=()
ovs_up() {
  local type=$1 n ns d me peer inner; shift
  OVS_PIDS=()
  for n in a b; do
    [ $n = a ] && ns=$TUN_A || ns=$TUN_B
    d=$WORK/ovs-$n; rm -rf "$d"; mkdir -p "$d"
    ip -n "$ns" addr flush dev "u$n"
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    bg "ovsdb-$n" 120 env OVS_RUNDIR="$d" ip netns exec "$ns" ovsdb-server "$d/conf.db" \
      --remote="punix:$d/db.sock" --unixctl="$d/db.ctl" --log-file="$d/db.log"
    OVS_PIDS+=("$BG_PID")
    local i=0; until [ -S "$d/db.sock" ]; do [ $i -ge 100 ] && die "ovsdb-server did not start"; sleep 0.1; i=$((i + 1)); done
    ip netns exec "$ns" ovs-vsctl --db="unix:$d/db.sock" --no-wait init
    bg "ovs-vswitchd-$n" 120 env OVS_RUNDIR="$d" ip netns exec "$ns" ovs-vswitchd "unix:$d/db.sock" \
      --unixctl="$d/vs.ctl" --log-file="$d/vs.log"
    OVS_PIDS+=("$BG_PID")
  done
  for n in a b; do
    if [ $n = a ]; then ns=$TUN_A me=10.200.0.1 peer=10.200.0.2 inner=10.201.0.1
    else ns=$TUN_B me=10.200.0.2 peer=10.200.0.1 inner=10.201.0.2; fi
    d=$WORK/ovs-$n
    ip netns exec "$ns" ovs-vsctl --db="unix:$d/db.sock" --timeout=20 \
      add-br br-phy -- set bridge br-phy datapath_type=netdev -- add-port br-phy "u$n" -- \
      add-br br-int -- set bridge br-int datapath_type=netdev -- \
      add-port br-int t0 -- set interface t0 type="$type" options:remote_ip="$peer" "$@"
    local i=0; until ip -n "$ns" link show br-int >/dev/null 2>&1; do
      [ $i -ge 100 ] && die "ovs-vswitchd made no br-int"; sleep 0.1; i=$((i + 1)); done
    ip -n "$ns" addr add "$me/24" dev br-phy; ip -n "$ns" link set br-phy up
    ip -n "$ns" addr add "$inner/24" dev br-int; ip -n "$ns" link set br-int up
  done
  sleep 1                           # ovs-vswitchd learns the new routes
}

ovs_down() {
  local p
  for p in "${OVS_PIDS[@]}"; do sig TERM "$p"; wait_exit "$p" 5; done
  OVS_PIDS=()
}

s_tunnel_gretap() {             # Ethernet over GRE (0x6558) with key 7: Open vSwitch "gre" port
  tun_ns_up 4; ovs_up gre options:key=7
  tun_ws tunnel-gretap.pcap "ip proto 47" 10.201.0.2
  ovs_down; tun_ns_down
}

s_tunnel_erspan2() {            # ERSPAN type II (version 1), session 5, index 3: Open vSwitch
  tun_ns_up 4; ovs_up erspan options:key=5 options:erspan_ver=1 options:erspan_idx=3
  tun_ws tunnel-erspan2.pcap "ip proto 47" 10.201.0.2
  ovs_down; tun_ns_down
}

s_tunnel_erspan3() {            # ERSPAN type III (version 2), session 6, direction 1, hw id 4
  tun_ns_up 4; ovs_up erspan options:key=6 options:erspan_ver=2 options:erspan_dir=1 options:erspan_hwid=4
  tun_ws tunnel-erspan3.pcap "ip proto 47" 10.201.0.2
  ovs_down; tun_ns_down
}

s_tunnel_geneve() {             # Geneve VNI 1000, UDP 6081, one 4-byte option: Open vSwitch
  tun_ns_up 4; ovs_up geneve options:key=1000
  local n ns
  for n in a b; do              # every packet sent gets option class 0x0102 type 0x80 = 0xabcd
    [ $n = a ] && ns=$TUN_A || ns=$TUN_B
    env OVS_RUNDIR="$WORK/ovs-$n" ip netns exec "$ns" ovs-ofctl add-tlv-map br-int \
      "{class=0x0102,type=0x80,len=4}->tun_metadata0"
    env OVS_RUNDIR="$WORK/ovs-$n" ip netns exec "$ns" ovs-ofctl add-flow br-int \
      "priority=10,in_port=LOCAL,actions=set_field:0xabcd->tun_metadata0,output:t0"
  done
  tun_ws tunnel-geneve.pcap "udp port 6081" 10.201.0.2
  ovs_down; tun_ns_down
}

TUNNEL_SCENARIOS=(tunnel_vxlan tunnel_ipip tunnel_6in4 tunnel_4in6 tunnel_6in6 tunnel_gretap tunnel_erspan2
  tunnel_erspan3 tunnel_geneve)
