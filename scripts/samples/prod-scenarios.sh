# scripts/samples/prod-scenarios.sh — sourced by scripts/make-samples (uses its bg, sig, wait_exit,
# log, die, WORK, OUT, PY, HELP, NODE_DIR). The "why connections die in production" captures of
# issue #11: real proxies (nginx, HAProxy), a router namespace with iptables, kills and restarts,
# a stalled reader, Socket.IO and graphql-ws. Every peer runs in its own network namespace joined
# by veth pairs, so a capture shows one hop of a real path (TTLs, a router that forges RSTs or
# drops). Timeouts are scaled to seconds (nginx proxy_read_timeout 3 s, HAProxy timeout tunnel 2 s)
# so the whole set runs in about two minutes; the software enforces them as it would 60 s.
# samples/README.md ("Production failures") says what each capture shows; tests/expected-causes.tsv
# the cause and the measured evidence (scripts/samples/causes.py).

# ---------------------------------------------------------------------------------------------
# Network namespaces: NSP-<name>, created per scenario and deleted at its end (and on exit).
# ---------------------------------------------------------------------------------------------
NSP="wsdps$$"
NETNS=()

ns_new() {          # ns_new NAME...: new namespaces with lo up
  local n
  for n in "$@"; do
    ip netns add "$NSP-$n" || die "ip netns add $NSP-$n failed"
    NETNS+=("$NSP-$n")
    ip -n "$NSP-$n" link set lo up
  done
}

# ns_link A ADDR_A B ADDR_B: a veth pair "to-B" in A and "to-A" in B, addresses /24, up. Offloads
# are turned off so that each captured packet is one real segment of at most the MTU.
ns_link() {
  local a=$1 aa=$2 b=$3 ba=$4
  ip link add "to-$b" netns "$NSP-$a" type veth peer name "to-$a" netns "$NSP-$b"
  ip -n "$NSP-$a" addr add "$aa/24" dev "to-$b"
  ip -n "$NSP-$b" addr add "$ba/24" dev "to-$a"
  ip -n "$NSP-$a" link set "to-$b" up
  ip -n "$NSP-$b" link set "to-$a" up
  if command -v ethtool >/dev/null 2>&1; then
    ip netns exec "$NSP-$a" ethtool -K "to-$b" tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$NSP-$b" ethtool -K "to-$a" tso off gso off gro off >/dev/null 2>&1 || true
  fi
}

nsx() { local n=$1; shift; ip netns exec "$NSP-$n" "$@"; }     # nsx NAME CMD...

ns_clear() {        # delete every namespace made here (their processes are ours and gone)
  local n
  for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  NETNS=()
}

# Router topology: client c (10.77.1.2) -- r (10.77.1.1 | 10.77.2.1) -- server s (10.77.2.2).
# r forwards (a router) or runs a proxy (nginx, HAProxy listen on 10.77.1.1).
ns_three() {
  ns_new c r s
  ns_link c 10.77.1.2 r 10.77.1.1
  ns_link r 10.77.2.1 s 10.77.2.2
  ip -n "$NSP-c" route add default via 10.77.1.1
  ip -n "$NSP-s" route add default via 10.77.2.1
  nsx r sysctl -qw net.ipv4.ip_forward="${1:-0}"
}

# ---------------------------------------------------------------------------------------------
# Captures inside namespaces: several at once (one per hop).
# ---------------------------------------------------------------------------------------------
NCAPS=()            # "pid file" pairs

ncap_start() {      # ncap_start FILE NS IFACE FILTER
  local file=$1 ns=$2 ifc=$3 filter=$4 log="$WORK/ncap-$1.log" i=0
  timeout -k 2 120 ip netns exec "$NSP-$ns" tcpdump -i "$ifc" -n -U --immediate-mode -B 4096 -Z root \
    -w "$WORK/$file" "$filter" >"$log" 2>&1 </dev/null &
  local pid=$!
  STARTED+=("$pid"); NCAPS+=("$pid $file")
  until grep -q -i "listening on" "$log" 2>/dev/null; do
    [ "$i" -ge 100 ] && die "capture $file did not start: $(cat "$log")"
    ours "$pid" || die "capture $file died: $(cat "$log")"
    sleep 0.1; i=$((i + 1))
  done
}

ncap_stop() {       # stop every capture started with ncap_start, check and move them to samples/
  sleep 0.5
  local e pid file n
  for e in "${NCAPS[@]}"; do sig INT "${e%% *}"; done
  for e in "${NCAPS[@]}"; do
    pid=${e%% *}; file=${e#* }
    wait_exit "$pid" 10
    [ -s "$WORK/$file" ] || die "$file: capture file is empty"
    n=$(capinfos -M -c -T "$WORK/$file" 2>/dev/null | awk -F'\t' 'NR==2 {print $2}')
    [ "${n:-0}" -gt 0 ] || die "$file: no packets captured"
    mv -f "$WORK/$file" "$OUT/$file"; chmod 644 "$OUT/$file"
    log "wrote samples/$file ($n packets, $(stat -c %s "$OUT/$file") bytes)"
  done
  NCAPS=()
}

# sig_pid SIGNAL PARENT PIDFILE: signal the process whose PID a helper wrote to PIDFILE, once
# checked that it is the child of PARENT (one of our `timeout` wrappers); the file stays.
sig_pid() {
  local pid; pid=$(cat "$3")
  ours "$2" || die "PID $2 is not one of ours"
  [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$2" ] || die "PID $pid is not the child of $2"
  kill "-$1" "$pid"
}

# Shorthands: a prod_peer.py (python websockets) or node helper inside namespace NS.
ppeer() { local ns=$1 name=$2 secs=$3; shift 3; bg "$name" "$secs" ip netns exec "$NSP-$ns" "$PY" "$HELP/py/prod_peer.py" "$@"; }
pnode() { local ns=$1 name=$2 secs=$3; shift 3; bg "$name" "$secs" ip netns exec "$NSP-$ns" node "$@"; }

# wait_listen_ns NS PORT
wait_listen_ns() {
  local i=0
  until nsx "$1" ss -Hltn "sport = :$2" | grep -q .; do
    [ "$i" -ge 100 ] && die "nothing listens on port $2 in $1 after 10s"
    sleep 0.1; i=$((i + 1))
  done
}

scenario_end() { ncap_stop; ns_clear; }

# ---------------------------------------------------------------------------------------------
# 1. nginx reverse proxy (Debian nginx-light) with proxy_read_timeout 3 s in r; backend: python
#    websockets echo server in s; client: python websockets in c. Both hops captured in r.
# ---------------------------------------------------------------------------------------------
NGINX_TIMEOUT=3
nginx_start() {     # nginx_start: nginx in r, listening 10.77.1.1:8080 -> 10.77.2.2:8765
  local d="$WORK/nginx"
  mkdir -p "$d/tmp"
  cat >"$d/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 256; }
http {
  access_log $d/access.log;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  server {
    listen 10.77.1.1:8080;
    location / {
      proxy_pass http://10.77.2.2:8765;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout ${NGINX_TIMEOUT}s;
      proxy_send_timeout ${NGINX_TIMEOUT}s;
    }
  }
}
CONF
  bg nginx 60 ip netns exec "$NSP-r" nginx -p "$d" -c "$d/nginx.conf"; NGINX=$BG_PID
  wait_listen_ns r 8080
}
nginx_stop() { sig TERM "$NGINX"; wait_exit "$NGINX" 5; }

# nginx_case NAME CLIENT-ARGS...: one client connection through nginx, both hops captured.
nginx_case() {
  local name=$1 c; shift
  ns_three 0
  ppeer s backend 40 server --port 8765 --conns 1 --lifetime 30; local srv=$BG_PID
  wait_listen_ns s 8765
  nginx_start
  ncap_start "$name-client-hop.pcap" r to-c "tcp port 8080"
  ncap_start "$name-backend-hop.pcap" r to-s "tcp port 8765"
  ppeer c client 30 client --url ws://10.77.1.1:8080/ "$@"; c=$BG_PID
  wait_exit "$c" 25; wait_exit "$srv" 5
  scenario_end_nginx
}
scenario_end_nginx() { ncap_stop; nginx_stop; ns_clear; }

s_nginx_idle_timeout() {        # idle after one echo: nginx ends both hops after 3 s
  nginx_case nginx-idle-timeout --messages 1
}
s_nginx_ping_keepalive() {      # Pings every 1.5 s (T/2) keep it alive; the client closes 1000 at 8 s
  nginx_case nginx-ping-keepalive --messages 1 --ping-interval 1.5 --ping-timeout 3 --close-after 8
}
s_nginx_ping_too_slow() {       # Pings every 4 s, messages every 1 s for 8 s, then idle: cut at 3 s
  nginx_case nginx-ping-too-slow --messages 9 --msg-interval 1 --ping-interval 4 --ping-timeout 4
}

# ---------------------------------------------------------------------------------------------
# 2. HAProxy (Debian haproxy) in r with `timeout tunnel 2s`; 6 clients opened 0.4 s apart, each
#    exchanges one message and goes idle: HAProxy cuts each tunnel after the same 2 s of silence.
# ---------------------------------------------------------------------------------------------
HAPROXY_TUNNEL=2
s_haproxy_tunnel_timeout() {
  local c d="$WORK/haproxy"
  mkdir -p "$d"
  cat >"$d/haproxy.cfg" <<CONF
global
  maxconn 256
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout tunnel ${HAPROXY_TUNNEL}s
frontend fe
  bind 10.77.1.1:8080
  default_backend be
backend be
  server s1 10.77.2.2:8765
CONF
  ns_three 0
  ppeer s backend 40 server --port 8765 --conns 6 --lifetime 30; local srv=$BG_PID
  wait_listen_ns s 8765
  bg haproxy 60 ip netns exec "$NSP-r" haproxy -db -f "$d/haproxy.cfg"; local hap=$BG_PID
  wait_listen_ns r 8080
  ncap_start haproxy-tunnel-timeout-client-hop.pcap r to-c "tcp port 8080"
  ncap_start haproxy-tunnel-timeout-backend-hop.pcap r to-s "tcp port 8765"
  ppeer c clients 30 client --url ws://10.77.1.1:8080/ --conns 6 --stagger 0.4 --messages 1; c=$BG_PID
  wait_exit "$c" 25; wait_exit "$srv" 5
  ncap_stop
  sig TERM "$hap"; wait_exit "$hap" 5
  ns_clear
}

# ---------------------------------------------------------------------------------------------
# 3. A router r between client c and server s (Linux forwarding: the peers' packets arrive with
#    TTL 63, r's own with 64). An iptables rule inserted in r's FORWARD chain mid-connection:
#    REJECT --reject-with tcp-reset (r forges an RST in the name of the other end, to whoever
#    sends next) or DROP (a blackhole: retransmissions nobody acknowledges). Captured on each
#    endpoint (c's and s's interface).
# ---------------------------------------------------------------------------------------------
router_case() {     # router_case NAME IPTABLES-TARGET... -- SERVER-ARGS -- CLIENT-ARGS
  local name=$1 c srv; shift
  local target=() sargs=() cargs=()
  while [ "$1" != -- ]; do target+=("$1"); shift; done; shift
  while [ "$1" != -- ]; do sargs+=("$1"); shift; done; shift
  cargs=("$@")
  ns_three 1
  ppeer s server 40 server --port 8765 --conns 1 --lifetime 14 "${sargs[@]}"; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start "$name-client-side.pcap" c to-r "tcp port 8765"
  ncap_start "$name-server-side.pcap" s to-r "tcp port 8765"
  ppeer c client 30 client --url ws://10.77.2.2:8765/ --lifetime 12 "${cargs[@]}"; c=$BG_PID
  sleep 2.2
  log "router: iptables -I FORWARD -p tcp -j ${target[*]}"
  nsx r iptables -I FORWARD -p tcp -j "${target[@]}"
  wait_exit "$c" 14; wait_exit "$srv" 5
  sleep "${ROUTER_HOLD:-0}"         # the kernels go on retransmitting after the processes gave up
  scenario_end
}

s_router_reject() {             # middlebox RST both ways: client chats every 0.5 s, server Pings every 1 s
  router_case router-reject-rst REJECT --reject-with tcp-reset -- --ping-interval 1 --ping-timeout 5 \
    -- --messages 20 --msg-interval 0.5
}
s_router_drop() {               # blackhole: both sides Ping every 1 s (timeout 2 s), idle otherwise
  ROUTER_HOLD=4 router_case router-drop-blackhole DROP -- --ping-interval 1 --ping-timeout 2 \
    -- --messages 1 --ping-interval 1 --ping-timeout 2
}

s_router_peer_rst() {           # legal neighbour: the real server resets (SO_LINGER 0) through r
  local c srv
  ns_three 1
  ppeer s server 20 server --port 8765 --conns 1 --mode rst --rst-after 1 --lifetime 10; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start router-peer-rst-client-side.pcap c to-r "tcp port 8765"
  ppeer c client 20 client --url ws://10.77.2.2:8765/ --messages 1 --lifetime 8; c=$BG_PID
  wait_exit "$c" 10; wait_exit "$srv" 5
  scenario_end
}

# Legal neighbour of the blackhole: the router DROPs for 1.2 s and then forwards again; the
# client's retransmissions (it chats every 0.5 s) are acknowledged once the rule is gone, and it
# closes with 1000 at 8 s. Captured on the client's side.
s_router_drop_recovers() {
  local c srv
  ns_three 1
  ppeer s server 30 server --port 8765 --conns 1 --lifetime 14; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start router-drop-recovers-client-side.pcap c to-r "tcp port 8765"
  ppeer c client 30 client --url ws://10.77.2.2:8765/ --messages 14 --msg-interval 0.5 --close-after 8 \
    --lifetime 12; c=$BG_PID
  sleep 2.2
  log "router: iptables -I FORWARD -p tcp -j DROP (for 1.2 s)"
  nsx r iptables -I FORWARD -p tcp -j DROP
  sleep 1.2
  nsx r iptables -D FORWARD -p tcp -j DROP
  log "router: DROP rule removed"
  wait_exit "$c" 14; wait_exit "$srv" 5
  scenario_end
}

# ---------------------------------------------------------------------------------------------
# 4. A server with 22 clients killed (SIGKILL: its kernel FINs every socket at once), the clients
#    reconnecting every second and refused (RST to their SYN) until the server is started again
#    about 3.3 s later (3 refused tries each); they then hold 1 s and close 1000. And a graceful restart: a node ws server whose
#    SIGTERM handler closes every connection with 1012 "service restart". Captured on the server's
#    side of the router (s's interface).
# ---------------------------------------------------------------------------------------------
s_server_kill_restart() {
  local c srv srv2
  ns_three 1
  ppeer s server 30 server --port 8765 --conns 22 --lifetime 25 --pidfile "$WORK/kill.pid"; srv=$BG_PID
  wait_listen_ns s 8765; wait_file "$WORK/kill.pid" 5
  ncap_start server-kill-restart.pcap s to-r "tcp port 8765"
  ppeer c clients 30 client --url ws://10.77.2.2:8765/ --conns 22 --stagger 0.05 --messages 1 \
    --reconnect --reconnect-delay 1 --reconnect-hold 1 --lifetime 20; c=$BG_PID
  sleep 2.5
  log "SIGKILL to the server with 22 connections"
  sig_pid KILL "$srv" "$WORK/kill.pid"; wait_exit "$srv" 2; rm -f "$WORK/kill.pid"
  sleep 2.9                         # ready ~3.3 s after the kill: the tries at 1, 2, 3 s are refused
  log "server started again"
  ppeer s server2 30 server --port 8765 --conns 22 --lifetime 15; srv2=$BG_PID
  wait_exit "$c" 20; wait_exit "$srv2" 5
  scenario_end
}

s_graceful_restart_1012() {     # node ws: SIGTERM handler closes all 20 with 1012; they reconnect 3 s later
  local c srv srv2
  ns_three 1
  pnode s server 30 "$NODE_DIR/prod_server.js" --mode restart --port 8765 --conns 40 --lifetime 25; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start graceful-restart-1012.pcap s to-r "tcp port 8765"
  pnode c clients 30 "$NODE_DIR/prod_client.js" --mode ws-hold --url ws://10.77.2.2:8765/ --conns 20 \
    --reconnect-delay 3000 --lifetime 20; c=$BG_PID
  sleep 2.5
  log "SIGTERM to the server with 20 connections (it closes them with 1012)"
  sig TERM "$srv"; wait_exit "$srv" 5
  pnode s server2 30 "$NODE_DIR/prod_server.js" --mode restart --port 8765 --conns 20 --lifetime 15; srv2=$BG_PID
  wait_exit "$c" 20; wait_exit "$srv2" 5
  scenario_end
}

# ---------------------------------------------------------------------------------------------
# 5. A stalled reader: python websockets server in s streams a 1 KB text message every 10 ms
#    (100 KB/s) with keepalive Pings every 1 s (timeout 2 s, close_timeout 1 s, write_limit 16 KiB);
#    the python client in c reads everything for 0.7 s and is then SIGSTOPped. Its receive buffer is
#    small (c: tcp_rmem 4096 8192 16384), so the window closes at once: zero windows, the server's
#    window probes. websockets 10.4 never gives up by itself: its keepalive Ping waits behind the
#    full write buffer, so its ping_timeout never starts. The server process ends at its 6 s
#    lifetime (a restart); 1 s later the client is continued (SIGCONT): it reads what the kernels
#    still held, then the server's FIN, with no Close frame. Captured on the server's side.
#    stalled-reader-ws-1008: the same reader under a node ws server with a slow-consumer guard:
#    close(1008) once bufferedAmount > 32 KiB; the Close frame reaches the client when it reads
#    again (SIGCONT 2 s later), the close handshake completes.
# ---------------------------------------------------------------------------------------------
s_stalled_reader() {
  local c srv
  ns_three 1
  nsx c sysctl -qw net.ipv4.tcp_rmem="4096 8192 16384"
  nsx s sysctl -qw net.ipv4.tcp_wmem="4096 16384 32768"
  ppeer s server 30 server --port 8765 --conns 1 --mode stream --chunk 1000 --period 0.01 \
    --ping-interval 1 --ping-timeout 2 --close-timeout 1 --write-limit 16384 --lifetime 6; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start stalled-reader-server-side.pcap s to-r "tcp port 8765"
  ppeer c client 30 client --url ws://10.77.2.2:8765/ --messages 0 --drain --lifetime 20 \
    --pidfile "$WORK/stall.pid"; c=$BG_PID
  wait_file "$WORK/stall.pid" 5
  sleep 0.7
  log "SIGSTOP to the reading client"
  sig_pid STOP "$c" "$WORK/stall.pid"
  wait_exit "$srv" 14
  sleep 1
  log "SIGCONT to the client"
  sig_pid CONT "$c" "$WORK/stall.pid"
  wait_exit "$c" 5; rm -f "$WORK/stall.pid"
  scenario_end
}

s_stalled_reader_ws() {
  local c srv
  ns_three 1
  nsx c sysctl -qw net.ipv4.tcp_rmem="4096 8192 16384"
  nsx s sysctl -qw net.ipv4.tcp_wmem="4096 16384 32768"
  pnode s server 30 "$NODE_DIR/prod_server.js" --mode stream --port 8765 --high-water 32768 \
    --conns 1 --lifetime 15; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start stalled-reader-ws-1008.pcap s to-r "tcp port 8765"
  ppeer c client 30 client --url ws://10.77.2.2:8765/ --messages 0 --drain --lifetime 20 \
    --pidfile "$WORK/stall.pid"; c=$BG_PID
  wait_file "$WORK/stall.pid" 5
  sleep 0.7
  log "SIGSTOP to the reading client"
  sig_pid STOP "$c" "$WORK/stall.pid"
  sleep 3
  log "SIGCONT to the client"
  sig_pid CONT "$c" "$WORK/stall.pid"
  wait_exit "$c" 5; wait_exit "$srv" 5; rm -f "$WORK/stall.pid"
  scenario_end
}

# Legal neighbour of the slow consumer: the same stalled reader, continued after 1 s; it catches up
# (the zero windows end, the server's probes are answered) and the server, which streams for 4 s,
# closes with 1000.
s_stalled_reader_resumes() {
  local c srv
  ns_three 1
  nsx c sysctl -qw net.ipv4.tcp_rmem="4096 8192 16384"
  nsx s sysctl -qw net.ipv4.tcp_wmem="4096 16384 32768"
  ppeer s server 30 server --port 8765 --conns 1 --mode stream --chunk 1000 --period 0.01 \
    --ping-interval 1 --ping-timeout 5 --close-timeout 1 --write-limit 16384 --stream-for 4 --lifetime 10; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start stalled-reader-resumes-server-side.pcap s to-r "tcp port 8765"
  ppeer c client 30 client --url ws://10.77.2.2:8765/ --messages 0 --drain --lifetime 12 \
    --pidfile "$WORK/stall.pid"; c=$BG_PID
  wait_file "$WORK/stall.pid" 5
  sleep 0.7
  log "SIGSTOP to the reading client (for 1 s)"
  sig_pid STOP "$c" "$WORK/stall.pid"
  sleep 1
  log "SIGCONT to the client"
  sig_pid CONT "$c" "$WORK/stall.pid"
  wait_exit "$c" 12; wait_exit "$srv" 5; rm -f "$WORK/stall.pid"
  scenario_end
}

# ---------------------------------------------------------------------------------------------
# 6. Socket.IO heartbeat timeout (pingInterval 1000 ms, pingTimeout 1000 ms; websocket transport):
#    the client is SIGSTOPped after its first exchange and never answers the server's "2" pings.
#    graphql-ws (useServer over ws, connectionInitWaitTimeout 2 s): the server's 44xx closes, one
#    connection each, and a normal subscription closed with 1000.
# ---------------------------------------------------------------------------------------------
s_socketio_ping_timeout() {
  local c srv
  ns_three 1
  pnode s server 30 "$NODE_DIR/prod_server.js" --mode socketio --port 8765 --ping-interval 1000 \
    --ping-timeout 1000 --conns 1 --lifetime 15; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start socketio-ping-timeout.pcap s to-r "tcp port 8765"
  pnode c client 30 "$NODE_DIR/prod_client.js" --mode socketio --url http://10.77.2.2:8765 \
    --pidfile "$WORK/sio.pid" --lifetime 20; c=$BG_PID
  wait_file "$WORK/sio.pid" 5
  sleep 2.5
  log "SIGSTOP to the Socket.IO client"
  sig_pid STOP "$c" "$WORK/sio.pid"
  wait_exit "$srv" 10
  ncap_stop
  sig_pid KILL "$c" "$WORK/sio.pid"; wait_exit "$c" 3; rm -f "$WORK/sio.pid"
  ns_clear
}

s_graphql_ws_closes() {
  local c srv
  ns_three 1
  pnode s server 30 "$NODE_DIR/prod_server.js" --mode graphql --port 8765 --init-timeout 2000 \
    --conns 6 --lifetime 20; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start graphql-ws-closes.pcap s to-r "tcp port 8765"
  pnode c client 30 "$NODE_DIR/prod_client.js" --mode graphql --url ws://10.77.2.2:8765/ --lifetime 20; c=$BG_PID
  wait_exit "$c" 20; wait_exit "$srv" 5
  scenario_end
}

# ---------------------------------------------------------------------------------------------
# 7. Maximum connection lifetime. No proxy installable here (Debian packages) has a hard lifetime
#    for WebSocket tunnels: nginx proxy_read_timeout and HAProxy timeout tunnel are idle timeouts,
#    Caddy's reverse_proxy stream_timeout needs Caddy 2.7 (Debian has 2.6). So the lifetime is a
#    real server's timer: a node ws server in s that terminate()s every connection at a fixed age
#    (setTimeout, TCP FIN without a Close, as a load balancer's max connection duration does).
#    5 node ws clients in c, opened 0.7 s apart, each sends a message every 250 ms (busy to the
#    end). max-lifetime: all cut at 4.0 s. busy-varied-ages (the legal neighbour): the same busy
#    clients cut at 2.0, 3.3, 4.7, 6.1 and 7.6 s. Captured on the server's side of the router.
# ---------------------------------------------------------------------------------------------
lifetime_case() {   # lifetime_case NAME AGES-MS
  local c srv
  ns_three 1
  pnode s server 30 "$NODE_DIR/prod_server.js" --mode max-age --port 8765 --max-age "$2" --conns 5 \
    --lifetime 20; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start "$1.pcap" s to-r "tcp port 8765"
  pnode c clients 30 "$NODE_DIR/prod_client.js" --mode chat --url ws://10.77.2.2:8765/ --conns 5 \
    --stagger 700 --every 250 --lifetime 20; c=$BG_PID
  wait_exit "$c" 20; wait_exit "$srv" 5
  scenario_end
}
s_max_lifetime() { lifetime_case max-lifetime 4000; }
s_busy_varied_ages() { lifetime_case busy-varied-ages 2000,3300,4700,6100,7600; }

# ---------------------------------------------------------------------------------------------
# 8. Legal neighbours (no cause must fire): idle 3 s (as long as the HAProxy/nginx timeouts) and
#    then a normal Close 1000 by the client; router-peer-rst (above): a real RST whose TTL matches
#    the peer's; nginx-ping-keepalive (above): a heartbeat that keeps a proxied connection alive.
# ---------------------------------------------------------------------------------------------
s_idle_then_close() {
  local c srv
  ns_three 1
  ppeer s server 20 server --port 8765 --conns 1 --lifetime 12; srv=$BG_PID
  wait_listen_ns s 8765
  ncap_start idle-then-close-1000.pcap s to-r "tcp port 8765"
  ppeer c client 20 client --url ws://10.77.2.2:8765/ --messages 1 --close-after 3.05 --lifetime 10; c=$BG_PID
  wait_exit "$c" 10; wait_exit "$srv" 5
  scenario_end
}

PROD_SCENARIOS=(nginx_idle_timeout nginx_ping_keepalive nginx_ping_too_slow haproxy_tunnel_timeout
  router_reject router_drop router_peer_rst server_kill_restart graceful_restart_1012 stalled_reader
  stalled_reader_ws   socketio_ping_timeout graphql_ws_closes idle_then_close max_lifetime
  busy_varied_ages router_drop_recovers stalled_reader_resumes)
