#!/usr/bin/env python3
"""compare_tunnels: wsdiag against tshark on a capture whose TCP travels inside a tunnel.

    compare_tunnels.py WSDIAG_BIN CAPTURE [--tshark tshark]

tshark decodes the encapsulation itself (VXLAN on UDP 4789, IP-in-IP, ...); for the capture:
  1. frames: every WebSocket frame tshark shows (packet, direction, fin, opcode, mask, payload length)
     equals `wsdiag --frames`, in order, and nothing more;
  2. connections: the inner 5-tuple of every TCP SYN tshark shows is a connection wsdiag reports
     (client and server endpoints), and wsdiag reports no other;
  3. the tunnel fact: wsdiag's JSON `tunnel` names the outer layer tshark dissected (VXLAN and its
     VNI, Geneve and its VNI, GRE and its key, ERSPAN's type and session, or IPv4/IPv6 inside
     IPv4/IPv6) with tshark's outer addresses, for both directions.
Prints a line per check and `RESULT pass|fail`; exit 1 on a mismatch, 2 if a tool failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def tshark(args, cap, fields, display_filter):
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=tempfile.mkdtemp())
    cmd = [args.tshark, "-r", cap, "-n", "-Y", display_filter, "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        print(f"tshark failed: {out.stderr.strip()}")
        sys.exit(2)
    return [line.split("\t") for line in out.stdout.splitlines() if line.strip()]


def endpoint(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def last(field):
    return field.split(",")[-1] if field else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wsdiag")
    ap.add_argument("capture")
    ap.add_argument("--tshark", default="tshark")
    args = ap.parse_args()
    ok = True

    rep = subprocess.run([args.wsdiag, "--format", "json", "--all", args.capture], capture_output=True,
                         text=True, timeout=120)
    if rep.returncode not in (0, 1):
        print(f"wsdiag failed ({rep.returncode}): {rep.stderr.strip()}")
        sys.exit(2)
    conns = json.loads(rep.stdout)["connections"]

    # 2. connections by inner 5-tuple of the SYNs.
    syns = tshark(args, args.capture, ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport",
                                       "tcp.dstport", "frame.protocols"],
                  "tcp.flags.syn == 1 && tcp.flags.ack == 0")

    def inner(r):  # the innermost network header is the one just before tcp in frame.protocols
        v6 = [p for p in r[6].split(":") if p in ("ip", "ipv6")][-1] == "ipv6"
        return (endpoint(last(r[1]) if v6 else last(r[0]), r[4]),
                endpoint(last(r[3]) if v6 else last(r[2]), r[5]))
    theirs = sorted({inner(r) for r in syns})
    ours = sorted((c["client"], c["server"]) for c in conns)
    if theirs != ours or not ours:
        print(f"FAIL connections: tshark {theirs} wsdiag {ours}")
        ok = False
    else:
        print(f"ok   connections: {ours}")

    # 1. frames.
    fr = subprocess.run([args.wsdiag, "--frames", args.capture], capture_output=True, text=True, timeout=120)
    lines = [l.split("\t") for l in fr.stdout.splitlines() if l and not l.startswith("packet\t")]
    mine = [(int(l[0]), l[3], int(l[4]), int(l[6]), int(l[7]), int(l[8])) for l in lines]
    servers = {c["server"].rsplit(":", 1)[1] for c in conns}
    rows = tshark(args, args.capture, ["frame.number", "tcp.srcport", "websocket.fin", "websocket.opcode",
                                       "websocket.mask", "websocket.payload_length"], "websocket")
    ref = []
    for r in rows:
        d = "s2c" if r[1] in servers else "c2s"
        for fin, op, mask, ln in zip(*(x.split(",") for x in r[2:6])):
            truthy = lambda v: 1 if v in ("1", "True", "true") else 0
            ref.append((int(r[0]), d, truthy(fin), int(op, 0), truthy(mask), int(ln)))
    if mine != ref or not ref:
        print(f"FAIL frames: tshark {len(ref)}, wsdiag {len(mine)}")
        for a, b in zip(ref, mine):
            if a != b:
                print(f"     first difference: tshark {a} wsdiag {b}")
                break
        ok = False
    else:
        print(f"ok   frames: {len(ref)} frames agree")

    # 3. the tunnel fact, from the first packet of each direction.
    first = tshark(args, args.capture, ["frame.protocols", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
                                        "vxlan.vni", "tcp.srcport", "gre.key", "erspan.version",
                                        "erspan.spanid", "geneve.vni"], "tcp")
    for c in conns:
        t = c.get("tunnel")
        if t is None:
            print(f"FAIL tunnel: connection {c['id']} has no tunnel fact")
            ok = False
            continue
        for side, key in (("client", c["client"]), ("server", c["server"])):
            port = key.rsplit(":", 1)[1]
            row = next((r for r in first if r[6] == port), None)
            layer = t[side]["layers"][0] if t[side]["layers"] else None
            if row is None or layer is None:
                print(f"FAIL tunnel {side}: no packet or no layer")
                ok = False
                continue
            protos = row[0].split(":")
            v4 = [a for a in row[1].split(",") if a]
            v6 = [a for a in row[2].split(",") if a]
            d4 = [a for a in row[3].split(",") if a]
            d6 = [a for a in row[4].split(",") if a]
            # outer = the first network header tshark shows (frame.protocols order)
            outer_is_v6 = protos.index("ipv6") < protos.index("ip") if "ipv6" in protos and "ip" in protos \
                else "ipv6" in protos
            src, dst = (v6[0], d6[0]) if outer_is_v6 else (v4[0], d4[0])
            if "vxlan" in protos:
                want = {"kind": "vxlan", "vni": int(row[5]), "src": src, "dst": dst}
            elif "geneve" in protos:
                want = {"kind": "geneve", "vni": int(row[10], 0), "src": src, "dst": dst}
            elif "erspan" in protos:
                kind = {"1": "erspan-ii", "2": "erspan-iii"}[row[8]]
                want = {"kind": kind, "session": int(row[9], 0), "src": src, "dst": dst}
            elif "gre" in protos:
                want = {"kind": "gre", "key": int(row[7], 0) if row[7] else None, "src": src, "dst": dst}
            else:
                inner = protos[[i for i, p in enumerate(protos) if p in ("ip", "ipv6")][1]]
                want = {"kind": "ip-in-ip", "inner": "ipv6" if inner == "ipv6" else "ipv4", "src": src,
                        "dst": dst}
            got = {k: layer.get(k) for k in want}
            if got != want or t[side]["packets"] != t[side]["of"]:
                print(f"FAIL tunnel {side}: tshark {want} wsdiag {layer} ({t[side]['packets']} of {t[side]['of']})")
                ok = False
            else:
                print(f"ok   tunnel {side}: {want}, all {t[side]['of']} packets")
    print("RESULT", "pass" if ok else "fail")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
