#!/usr/bin/python3
"""Measure, with tshark, the evidence of why each connection of the issue #11 production captures
ended, and write or check tests/expected-causes.tsv (a maintainer's tool, not part of wsdiag).

The cause of each connection is the scenario's design (scripts/samples/prod-scenarios.sh made the
capture so): CAUSES below maps each capture to the cause of its connections. Everything else in a
row is measured from the packets:

  end_by      client|server: who sent the first teardown packet, i.e. the first Close frame, FIN
              or RST of the connection, whichever came first (client = the side that sent the SYN);
              `-` when the connection was still open at the end of the capture
  end_kind    close:CODE (1005: a Close frame without a code) | fin | rst | refused (the SYN was
              answered by an RST) | open
  idle_c2s    seconds from the last packet carrying payload from the client (resp. the server) to
  idle_s2c    the teardown packet; `-` when that side sent no payload before it; open connections:
              to the last packet of the capture
  rst_ttl     IP TTL of the first RST, and the most common TTL of the packets its claimed sender
  peer_ttl    (same address and port) sent before it; `-` when no RST
  retrans     TCP retransmissions (tshark tcp.analysis.retransmission) sent by client/server
  zero_win    zero-window advertisements (tcp.analysis.zero_window) sent by client/server, and the
              window probes (tcp.analysis.keep_alive: sequence number one below the next byte,
              sent while the peer's window is zero) by client/server: `zw_c/zw_s probes_c/probes_s`
  pings       WebSocket Ping frames sent by client/server; Engine.IO heartbeats ("2" text frames,
              Socket.IO v4: the server pings) count for the server
  ping_iv     the median interval between consecutive pings of the side that sent more (seconds)
  unanswered  pings of that side with no Pong (Engine.IO: no "3") after them before the teardown
  group       connections of the same capture with the same cause, and the spread of their
  spread      teardown times (max - min, seconds, 3 decimals); `-` for the cause `-`
  refused     for a crash or restart group: SYNs answered by RST after the group's first teardown,
  back_after  and the seconds from that teardown to the next HTTP 101 (the server is back); `-`
              for other causes or when none

Usage: causes.py show FILE...                       the measured facts, one row per connection
       causes.py write TSV SAMPLES_DIR              (re)write TSV from CAUSES and the captures
       causes.py check TSV SAMPLES_DIR              compare TSV with the captures (exit 1 on a difference)
"""
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

FIELDS = ["frame.number", "frame.time_relative", "tcp.stream", "ip.src", "tcp.srcport", "ip.ttl",
          "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset", "tcp.len",
          "tcp.analysis.retransmission", "tcp.analysis.zero_window", "tcp.analysis.keep_alive",
          "websocket.opcode", "websocket.payload.close.status_code", "websocket.payload.text",
          "http.response.code"]

COLUMNS = ["sample", "cause", "end_by", "end_kind", "idle_c2s", "idle_s2c", "rst_ttl", "peer_ttl",
           "retrans", "zero_win", "pings", "ping_iv", "unanswered", "group", "spread", "refused",
           "back_after"]


def tshark(path):
    cmd = ["tshark", "-n", "-r", str(path), "-Y", "tcp", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise SystemExit(f"tshark failed on {path}: {r.stderr}")
    for line in r.stdout.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        yield v


def flag(v, k):
    return v.get(k, "") in ("1", "True")


def connections(path):
    """Per TCP connection (ordered by first packet, as wsdiag numbers them): its measured facts."""
    conns = {}
    for v in tshark(path):
        sid = int(v["tcp.stream"])
        c = conns.setdefault(sid, dict(pkts=[], client=None, first=int(v["frame.number"])))
        src = f'{v["ip.src"]}:{v["tcp.srcport"]}'
        if flag(v, "tcp.flags.syn") and not flag(v, "tcp.flags.ack") and c["client"] is None:
            c["client"] = src
        c["pkts"].append((float(v["frame.time_relative"]), src, v))
    out = []
    for sid in sorted(conns, key=lambda s: conns[s]["first"]):
        c = conns[sid]
        if c["client"] is None:
            c["client"] = c["pkts"][0][1]
        out.append(measure(c))
    return out


def side_of(c, src):
    return "client" if src == c["client"] else "server"


def measure(c):
    m = dict(end_by="-", end_kind="open", idle_c2s="-", idle_s2c="-", rst_ttl="-", peer_ttl="-")
    pkts = c["pkts"]
    teardown = None
    end_i = len(pkts)
    established = False
    for i, (t, src, v) in enumerate(pkts):
        ops = v["websocket.opcode"].split("|") if v["websocket.opcode"] else []
        if v["http.response.code"] == "101":
            established = True
        kind = None
        if "8" in ops:
            code = v["websocket.payload.close.status_code"].split("|")[0] or "1005"
            kind = f"close:{code}"
        elif flag(v, "tcp.flags.fin"):
            kind = "fin"
        elif flag(v, "tcp.flags.reset"):
            kind = "rst"
        if kind:
            teardown = (t, src, v, kind)
            end_i = i
            break
    syn_only = not any(flag(v, "tcp.flags.syn") and flag(v, "tcp.flags.ack") for _, _, v in pkts)
    if teardown:
        t_end, src, v, kind = teardown
        if kind == "rst" and syn_only:
            kind = "refused"
        m["end_by"] = side_of(c, src)
        m["end_kind"] = kind
    else:
        t_end = pkts[-1][0]
    m["t_end"] = t_end
    m["established"] = established
    # Silence per direction before the teardown packet.
    for side, key in (("client", "idle_c2s"), ("server", "idle_s2c")):
        last = None
        for t, src, v in pkts[:end_i]:
            if side_of(c, src) == side and int(v["tcp.len"] or 0) > 0:
                last = t
        if last is not None and m["end_kind"] != "refused":
            m[key] = f"{t_end - last:.2f}"
    # The first RST and its claimed sender's usual TTL.
    for i, (t, src, v) in enumerate(pkts):
        if flag(v, "tcp.flags.reset"):
            m["rst_ttl"] = v["ip.ttl"]
            earlier = Counter(w["ip.ttl"] for _, s2, w in pkts[:i] if s2 == src)
            m["peer_ttl"] = earlier.most_common(1)[0][0] if earlier else "-"
            break
    cnt = Counter()
    for t, src, v in pkts:
        s = side_of(c, src)[0]
        cnt["rt" + s] += flag(v, "tcp.analysis.retransmission")
        cnt["zw" + s] += flag(v, "tcp.analysis.zero_window")
        cnt["pr" + s] += flag(v, "tcp.analysis.keep_alive")
    m["retrans"] = f'{cnt["rtc"]}/{cnt["rts"]}'
    m["zero_win"] = f'{cnt["zwc"]}/{cnt["zws"]} {cnt["prc"]}/{cnt["prs"]}'
    # Heartbeats: Ping/Pong control frames; Engine.IO "2"/"3" text frames (server pings, v4).
    pings = {"client": [], "server": []}
    answers = {"client": [], "server": []}
    for t, src, v in pkts[:end_i + 1]:
        s = side_of(c, src)
        ops = v["websocket.opcode"].split("|") if v["websocket.opcode"] else []
        texts = v["websocket.payload.text"].split("|") if v["websocket.payload.text"] else []
        for op in ops:
            if op == "9":
                pings[s].append(t)
            elif op == "10":
                answers["server" if s == "client" else "client"].append(t)
        for x in texts:
            if x == "2" and s == "server":
                pings["server"].append(t)
            elif x == "3" and s == "client":
                answers["server"].append(t)
    m["pings"] = f'{len(pings["client"])}/{len(pings["server"])}'
    side = "client" if len(pings["client"]) >= len(pings["server"]) else "server"
    p = pings[side]
    m["ping_iv"] = f"{statistics.median(b - a for a, b in zip(p, p[1:])):.2f}" if len(p) >= 2 else "-"
    if p:
        un = 0
        for i, t in enumerate(p):
            nxt = p[i + 1] if i + 1 < len(p) else float("inf")
            if not any(t <= a < nxt for a in answers[side]):
                un += 1
        m["unanswered"] = str(un)
    else:
        m["unanswered"] = "-"
    return m


# The cause of each connection, from the scenario's design. A value is either one cause for every
# connection of the capture, or a function of the connection's measured facts (index from 1) that
# tells the roles of the scenario apart.
def kill_restart(i, m):
    # 22 clients killed (server FIN), 66 refused reconnects, 22 reconnected ones closed with 1000.
    return "correlated-teardown-crash" if i <= 22 else "-"


def graceful(i, m):
    return "graceful-restart" if i <= 20 else "-"


def graphql(i, m):
    return "-" if i == 6 else "app-close-code"


RESTARTS = ("correlated-teardown-crash", "graceful-restart")   # causes with refused / back_after

CAUSES = {
    "nginx-idle-timeout-client-hop.pcap": "idle-timeout",
    "nginx-idle-timeout-backend-hop.pcap": "idle-timeout",
    "nginx-ping-keepalive-client-hop.pcap": "-",
    "nginx-ping-keepalive-backend-hop.pcap": "-",
    "nginx-ping-too-slow-client-hop.pcap": "heartbeat-too-slow",
    "nginx-ping-too-slow-backend-hop.pcap": "heartbeat-too-slow",
    "haproxy-tunnel-timeout-client-hop.pcap": "idle-timeout",
    "haproxy-tunnel-timeout-backend-hop.pcap": "idle-timeout",
    "router-reject-rst-client-side.pcap": "middlebox-rst",
    "router-reject-rst-server-side.pcap": "middlebox-rst",
    "router-drop-blackhole-client-side.pcap": "blackhole",
    "router-drop-blackhole-server-side.pcap": "blackhole",
    "router-peer-rst-client-side.pcap": "-",
    "router-drop-recovers-client-side.pcap": "-",   # retransmissions acknowledged after 1.2 s: not a blackhole
    "server-kill-restart.pcap": kill_restart,
    "graceful-restart-1012.pcap": graceful,
    "stalled-reader-server-side.pcap": "slow-consumer",
    "stalled-reader-ws-1008.pcap": "slow-consumer",
    "stalled-reader-resumes-server-side.pcap": "-",  # zero windows, then the reader caught up: closed 1000
    "socketio-ping-timeout.pcap": "heartbeat-unanswered",
    "graphql-ws-closes.pcap": graphql,
    "idle-then-close-1000.pcap": "-",
    "max-lifetime.pcap": "max-lifetime",
    "busy-varied-ages.pcap": "-",
    # Older samples (scripts/make-samples' own scenarios, loopback) that are causes or neighbours too.
    "close-1000-by-server.pcap": "-",
    "close-1000-by-client.pcap": "-",
    "rst-linger0-by-server.pcap": "-",          # a real RST: its TTL matches the peer's
    "rst-linger0-by-client.pcap": "-",
    "ping-timeout-1011.pcap": "heartbeat-unanswered",      # py: 1011 "keepalive ping timeout"
    "ping-timeout-terminate.pcap": "heartbeat-unanswered",  # ws README pattern: terminate()
    "server-shutdown-1001.pcap": "graceful-restart",        # py server.close(): 1001 x 3
}


def rows_for(path):
    name = Path(path).name
    ms = connections(path)
    rule = CAUSES.get(name)
    if rule is None:
        raise SystemExit(f"{name}: no entry in CAUSES")
    for i, m in enumerate(ms, 1):
        m["cause"] = rule(i, m) if callable(rule) else rule
    # Groups: connections with the same cause in this capture.
    by_cause = {}
    for m in ms:
        by_cause.setdefault(m["cause"], []).append(m)
    for cause, members in by_cause.items():
        ends = [x["t_end"] for x in members]
        first = min(ends)
        refused = sum(1 for x in ms if x["end_kind"] == "refused" and x["t_end"] >= first)
        restart = cause in RESTARTS
        for m in members:
            if cause == "-":
                m.update(group="-", spread="-", refused="-", back_after="-")
            else:
                m.update(group=str(len(members)), spread=f"{max(ends) - first:.3f}",
                         refused=str(refused) if restart else "-", back_after="-")
        m_back = back_after(path, first) if restart else None
        if m_back is not None:
            for m in members:
                m["back_after"] = f"{m_back:.2f}"
    out = []
    for i, m in enumerate(ms, 1):
        label = name if len(ms) == 1 else f"{name}#{i}"
        out.append([label] + [m[k] for k in COLUMNS[1:]])
    return out


def back_after(path, t0):
    """Seconds from t0 to the first HTTP 101 after it in the capture (a restarted server), or None."""
    r = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", f"http.response.code == 101 && frame.time_relative > {t0}",
                        "-T", "fields", "-e", "frame.time_relative"],
                       capture_output=True, text=True, timeout=120)
    s = r.stdout.strip().splitlines()
    return float(s[0]) - t0 if s else None


HEADER = """# tests/expected-causes.tsv: why each connection of the production captures (issue #11) ended.
# `cause` is the scenario's design (scripts/samples/prod-scenarios.sh made the capture so; the ids
# are those of issue #11: idle-timeout, max-lifetime, heartbeat-too-slow, heartbeat-unanswered,
# correlated-teardown-crash, graceful-restart, middlebox-rst, blackhole, slow-consumer,
# app-close-code, or `-` for a legal neighbour on which no cause may fire). Every other column is
# measured from the capture with tshark by scripts/samples/causes.py (its docstring defines each
# column); regenerate with `scripts/samples/causes.py write tests/expected-causes.tsv samples`,
# verify with `... check ...`. Times are seconds, 2 decimals; `a/b` = client/server.
"""


def write(tsv, directory):
    rows = []
    for name in CAUSES:
        rows += rows_for(Path(directory) / name)
    with open(tsv, "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"wrote {len(rows)} rows to {tsv}")


def check(tsv, directory):
    want = {}
    with open(tsv, encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    header, body = lines[0], lines[1:]
    if header != COLUMNS:
        print(f"header {header} != {COLUMNS}")
        return 1
    for r in body:
        want[r[0]] = r
    got = {}
    for name in CAUSES:
        for r in rows_for(Path(directory) / name):
            got[r[0]] = r
    bad = 0
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            bad += 1
            print(f"DIFF {k}:\n  tsv:     {want.get(k)}\n  capture: {got.get(k)}")
    print(f"{len(got)} connections: {len(got) - bad} match, {bad} differ")
    return 1 if bad else 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "show":
        for p in sys.argv[2:]:
            for r in rows_for(p):
                print("\t".join(r))
    elif len(sys.argv) == 4 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
