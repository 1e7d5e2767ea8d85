#!/usr/bin/python3
"""Derive the facts of every connection in a capture from tshark, to write and check
tests/expected-verdicts.tsv (not part of wsdiag; a maintainer's cross-check).

TCP facts (who sent SYN, FIN, RST, in which packet) come from `tshark -T fields`; the two
byte streams of each connection come from `tshark -z follow,tcp,raw` and are parsed here
frame by frame (RFC 6455 section 5.2, permessage-deflate per RFC 7692) to find the first
Close, its code, and the rule ids of /work/shared/design/RULES.md that the bytes break.
WebSocket frames are also counted with tshark's own dissector as a cross-check.

Usage: facts.py [--ws-port P] [--tsv NAME] FILE...
         facts.py --check tests/expected-verdicts.tsv samples
  default output: a readable report; --tsv NAME prints rows `NAME[#N] code side tcp_end rules`;
  --check compares the TSV with the captures (exit status 1 on a mismatch).
"""
import argparse
import base64
import hashlib
import re
import subprocess
import sys
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
INVALID_CODES = lambda c: c < 1000 or c in (1004, 1005, 1006, 1015) or 1016 <= c <= 2999 or c >= 5000


def tshark(args):
    r = subprocess.run(["tshark", "-n", *args], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit(f"tshark failed: {r.stderr}")
    return r.stdout


def utf8_ok(b):
    try:
        b.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False


class Utf8Stream:
    """Incremental UTF-8 validation across fragments."""

    def __init__(self):
        self.dec = __import__("codecs").getincrementaldecoder("utf-8")("strict")
        self.bad = False

    def feed(self, b, final):
        if self.bad:
            return
        try:
            self.dec.decode(b, final)
        except UnicodeDecodeError:
            self.bad = True


def parse_http(data):
    i = data.find(b"\r\n\r\n")
    if i < 0:
        return None, data
    head = data[:i].decode("latin-1").split("\r\n")
    hdrs = {}
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs.setdefault(k.strip().lower(), v.strip())
    return (head[0], hdrs, i + 4), data


def parse_pmd(ext):
    """Negotiated permessage-deflate parameters from the response's extension header."""
    if not ext or "permessage-deflate" not in ext.lower():
        return None
    p = {"server_nct": "server_no_context_takeover" in ext, "client_nct": "client_no_context_takeover" in ext}
    m = re.search(r"server_max_window_bits\s*=\s*\"?(\d+)", ext)
    p["server_bits"] = int(m.group(1)) if m else 15
    m = re.search(r"client_max_window_bits\s*=\s*\"?(\d+)", ext)
    p["client_bits"] = int(m.group(1)) if m else 15
    return p


def parse_frames(data, sender, pmd, rules):
    """Parse the frames of one direction; returns a list of frame dicts."""
    frames = []
    pos = 0
    in_msg = None           # opcode of the fragmented message in progress
    msg_compressed = False
    msg_buf = []
    utf = None
    nct = pmd and pmd["server_nct" if sender == "server" else "client_nct"]
    bits = pmd and pmd["server_bits" if sender == "server" else "client_bits"]
    inflater = zlib.decompressobj(-max(9, bits)) if pmd else None
    closed = False
    while pos < len(data):
        if len(data) - pos < 2:
            break
        b0, b1 = data[pos], data[pos + 1]
        fin, rsv, op, masked, n = b0 >> 7, (b0 >> 4) & 7, b0 & 15, b1 >> 7, b1 & 127
        hl = 2
        if n == 126:
            if len(data) - pos < 4:
                break
            n = int.from_bytes(data[pos + 2:pos + 4], "big")
            hl = 4
            if n < 126:
                rules.add((sender, "length-not-minimal"))
        elif n == 127:
            if len(data) - pos < 10:
                break
            n = int.from_bytes(data[pos + 2:pos + 10], "big")
            hl = 10
            if n >> 63:
                rules.add((sender, "length-msb"))
                frames.append(dict(op=op, fin=fin, rsv=rsv, masked=masked, len=n, broken=True))
                break
            if n < 65536:
                rules.add((sender, "length-not-minimal"))
        key = b""
        if masked:
            key = data[pos + hl:pos + hl + 4]
            hl += 4
        if len(data) - pos - hl < n:
            frames.append(dict(op=op, fin=fin, rsv=rsv, masked=masked, len=n, incomplete=True))
            break
        payload = data[pos + hl:pos + hl + n]
        if masked:
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        pos += hl + n
        f = dict(op=op, fin=fin, rsv=rsv, masked=masked, len=n)
        frames.append(f)
        if sender == "client" and not masked:
            rules.add((sender, "client-unmasked"))
        if sender == "server" and masked:
            rules.add((sender, "server-masked"))
        if op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
            rules.add((sender, "reserved-opcode"))
            continue
        if closed and op in (0, 1, 2):
            rules.add((sender, "data-after-close"))
        # RSV: only RSV1, only with permessage-deflate, only on the first frame of a data message.
        if rsv:
            if not pmd or rsv != 4 or op not in (1, 2):
                rules.add((sender, "rsv-bits"))
        if op >= 8:
            if n > 125:
                rules.add((sender, "control-too-long"))
            if not fin:
                rules.add((sender, "control-fragmented"))
            if op == 8:
                f["close"] = True
                if n == 1:
                    rules.add((sender, "close-payload-1"))
                if n >= 2:
                    code = int.from_bytes(payload[:2], "big")
                    f["code"] = code
                    f["reason"] = payload[2:]
                    if INVALID_CODES(code):
                        rules.add((sender, "close-code-invalid"))
                    if not utf8_ok(payload[2:]):
                        rules.add((sender, "close-reason-utf8"))
                closed = True
            if op == 9:
                f["ping"] = payload
            if op == 10:
                f["pong"] = payload
            continue
        # data frames
        if op == 0:
            if in_msg is None:
                rules.add((sender, "unexpected-continuation"))
                continue
        else:
            if in_msg is not None:
                rules.add((sender, "expected-continuation"))
            in_msg = op
            msg_compressed = bool(rsv & 4) and bool(pmd)
            msg_buf = []
            utf = Utf8Stream() if op == 1 else None
        if msg_compressed:
            msg_buf.append(payload)
        elif utf:
            utf.feed(payload, bool(fin))
        if fin:
            if msg_compressed:
                try:
                    if nct:
                        inflater = zlib.decompressobj(-max(9, bits))
                    plain = inflater.decompress(b"".join(msg_buf) + b"\x00\x00\xff\xff")
                    f["inflated"] = len(plain)
                    if utf:
                        utf.feed(plain, True)
                except zlib.error:
                    rules.add((sender, "inflate-error"))
            if utf and utf.bad:
                rules.add((sender, "invalid-utf8"))
            in_msg = None
    return frames


def follow(path, streams, decode_as):
    if not streams:
        return {}
    args = ["-r", path, "-q"] + decode_as
    for s in streams:
        args += ["-z", f"follow,tcp,raw,{s}"]
    out = tshark(args)
    result = {}
    for block in out.split("===================================================================\n"):
        m = re.search(r"Filter: tcp.stream eq (\d+)", block)
        if not m:
            continue
        sid = int(m.group(1))
        nodes = re.findall(r"Node (\d): (.*)", block)
        node0 = nodes[0][1] if nodes else ""
        d0, d1 = [], []
        for line in block.split("\n"):
            if not line or line.startswith(("Follow", "Filter", "Node")):
                continue
            if line.startswith("\t"):
                d1.append(bytes.fromhex(line.strip()))
            elif re.fullmatch(r"[0-9a-f]+", line):
                d0.append(bytes.fromhex(line))
        result[sid] = (node0, b"".join(d0), b"".join(d1))
    return result


def analyse(path, ws_port=None):
    decode_as = ["-d", f"tcp.port=={ws_port},websocket"] if ws_port else []
    fields = ["tcp.stream", "frame.number", "ip.src", "ipv6.src", "tcp.srcport", "tcp.dstport",
              "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset", "tcp.len",
              "frame.cap_len", "frame.len", "websocket.opcode"]
    out = tshark(["-r", path, "-Y", "tcp"] + decode_as + ["-T", "fields", "-E", "separator=\t",
                                                          "-E", "occurrence=a", "-E", "aggregator=,"]
                 + sum([["-e", f] for f in fields], []))
    conns = {}
    truncated = False
    for line in out.splitlines():
        v = line.split("\t")
        sid, num = int(v[0]), int(v[1])
        src = (v[2] or v[3]) + ":" + v[4]
        sport, dport = int(v[4]), int(v[5])
        syn, ack, fin, rst = (x == "1" or x == "True" for x in v[6:10])
        if int(v[11]) < int(v[12]):
            truncated = True
        c = conns.setdefault(sid, dict(sid=sid, first=num, pkts=0, client=None, fins=[], rsts=[],
                                       ports=(sport, dport), ws_tshark=0, syn=False))
        c["pkts"] += 1
        if syn and not ack:
            c["client"] = src
            c["syn"] = True
        if fin:
            c["fins"].append((num, src))
        if rst:
            c["rsts"].append((num, src))
        if v[13]:
            c["ws_tshark"] += len(v[13].split(","))
        c.setdefault("srcs", [])
        if src not in c["srcs"]:
            c["srcs"].append(src)
    for c in conns.values():
        if c["client"] is None:
            # No SYN captured: the client is the side not using the WebSocket port.
            c["client"] = next((s for s in c["srcs"] if not s.endswith(f":{ws_port}")), c["srcs"][0])
    streams = follow(path, sorted(conns), decode_as) if not truncated else {}
    results = []
    for sid in sorted(conns, key=lambda s: conns[s]["first"]):
        c = conns[sid]
        res = dict(sid=sid, client=c["client"], rules=set(), frames={}, truncated=truncated)
        side_of = lambda src: "client" if src == c["client"] else "server"
        ends = sorted([(n, side_of(s), "fin") for n, s in c["fins"]] +
                      [(n, side_of(s), "rst") for n, s in c["rsts"]])
        res["tcp_end"] = "rst" if c["rsts"] else ("fin" if c["fins"] else "open")
        res["tcp_first"] = ends[0][1] if ends else "-"
        res["ends"] = ends
        res["ws_tshark"] = c["ws_tshark"]
        if not c["syn"]:
            res["rules"].add(("-", "capture-started-midstream"))
        if truncated:
            res["rules"].add(("-", "snaplen-truncated"))
        cdata = sdata = b""
        if sid in streams:
            node0, d0, d1 = streams[sid]
            cport = c["client"].rsplit(":", 1)[1]
            if node0.rsplit(":", 1)[1] == cport:
                cdata, sdata = d0, d1
            else:
                cdata, sdata = d1, d0
        res["bytes"] = (len(cdata), len(sdata))
        status = None
        pmd = None
        cstart = sstart = 0
        if c["syn"] and not truncated:
            req, _ = parse_http(cdata)
            resp, _ = parse_http(sdata)
            if req:
                cstart = req[2]
                res["request"] = req[0]
                ver = req[1].get("sec-websocket-version")
                if ver != "13":
                    res["rules"].add(("client", "handshake-version"))
                res["key"] = req[1].get("sec-websocket-key")
                res["offer"] = req[1].get("sec-websocket-extensions")
            if resp:
                sstart = resp[2]
                res["response"] = resp[0]
                try:
                    status = int(resp[0].split()[1])
                except (IndexError, ValueError):
                    status = None
                res["status"] = status
                ext = resp[1].get("sec-websocket-extensions")
                res["extensions"] = ext
                if status == 101:
                    pmd = parse_pmd(ext)
                    acc = resp[1].get("sec-websocket-accept")
                    want = base64.b64encode(hashlib.sha1(res.get("key", "").encode() + GUID).digest()).decode()
                    if acc != want:
                        res["rules"].add(("server", "handshake-accept"))
                        status = "bad-accept"
                elif status is not None:
                    res["rules"].add(("server", "handshake-rejected"))
            elif req:
                res["rules"].add(("server", "no-response"))
        established = status == 101 or (not c["syn"] and not truncated)
        res["established"] = established
        if established:
            cf = parse_frames(cdata[cstart:], "client", pmd, res["rules"])
            sf = parse_frames(sdata[sstart:], "server", pmd, res["rules"])
            res["frames"] = {"client": cf, "server": sf}
        # The verdict (RULES.md "Verdict per connection").
        if truncated:
            res["code"] = "?"
            res["side"] = "?"
        elif not established:
            res["code"] = "handshake-failed"
            res["side"] = res["tcp_first"]
        else:
            closes = []
            # Order of Close frames in time is not in the follow output: use the packet order
            # from tshark's dissector (first Close frame number per side).
            for side in ("client", "server"):
                fl = [f for f in res["frames"][side] if f.get("close")]
                if fl:
                    closes.append((side, fl[0]))
            first = first_close(path, decode_as, c, closes)
            if first:
                side, f = first
                res["code"] = f.get("code", 1005)
                res["side"] = side
                other = "server" if side == "client" else "client"
                if not any(x.get("close") for x in res["frames"][other]) and res["tcp_end"] != "open":
                    res["rules"].add((other, "close-not-echoed"))
                elif any(x.get("close") for x in res["frames"][other]) and ends and ends[0][1] == "client" and ends[0][2] == "fin":
                    res["rules"].add(("client", "client-closed-tcp-first"))
            elif res["tcp_end"] == "open":
                res["code"] = "open"
                res["side"] = "-"
            else:
                res["code"] = 1006
                res["side"] = res["tcp_first"]
                res["rules"].add((res["side"], "fin-without-close" if ends[0][2] == "fin" else "rst"))
        if res["tcp_end"] == "rst":
            res["rules"].add((next(s for n, s, k in ends if k == "rst"), "rst"))
        if res["tcp_end"] == "open":
            res["rules"].add(("-", "open-at-end"))
        # Pong payload check.
        if established and not truncated:
            for side, other in (("client", "server"), ("server", "client")):
                pings = [f["ping"] for f in res["frames"][side] if "ping" in f]
                pongs = [f["pong"] for f in res["frames"][other] if "pong" in f]
                for p, q in zip(pings, pongs):
                    if p != q:
                        res["rules"].add((other, "pong-mismatch"))
        results.append(res)
    return results


def first_close(path, decode_as, c, closes):
    if not closes:
        return None
    if len(closes) == 1:
        return closes[0]
    out = tshark(["-r", path, "-Y", f"tcp.stream=={c['sid']} && websocket.opcode==8"] + decode_as +
                 ["-T", "fields", "-e", "frame.number", "-e", "tcp.srcport"])
    cport = c["client"].rsplit(":", 1)[1]
    for line in out.splitlines():
        num, sport = line.split("\t")[:2]
        side = "client" if sport.split(",")[0] == cport else "server"
        return next(x for x in closes if x[0] == side)
    return closes[0]


def describe_frames(frames):
    out = []
    for f in frames:
        s = {0: "cont", 1: "text", 2: "bin", 8: "close", 9: "ping", 10: "pong"}.get(f["op"], f"op{f['op']}")
        if not f["fin"]:
            s += "(fin=0)"
        if f["rsv"]:
            s += f"(rsv={f['rsv']})"
        if f["masked"]:
            s += "(m)"
        if "code" in f:
            s += f"[{f['code']} {f['reason'][:30]!r}]"
        if f["op"] in (0, 1, 2) or f["len"] > 125:
            s += f"/{f['len']}"
        out.append(s)
    if len(out) > 14:
        out = out[:6] + [f"...{len(out) - 12} more..."] + out[-6:]
    return " ".join(out)


def has_gap(path):
    out = tshark(["-r", path, "-Y", "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment",
                  "-T", "fields", "-e", "frame.number"])
    return bool(out.strip())


def analyse_any(path, ws_port=None):
    res = analyse(path, ws_port)
    if ws_port is None and res and all("capture-started-midstream" in {r for _, r in x["rules"]} for x in res):
        # No handshake at all: take the lower port of the first connection as the WebSocket port.
        out = tshark(["-r", path, "-Y", "tcp", "-c", "1", "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport"])
        res = analyse(path, min(int(x) for x in out.split()))
    return res


def check(tsv, directory):
    """Compare tests/expected-verdicts.tsv with the facts of the captures; returns an exit status."""
    import os
    cache, bad, n, hand = {}, 0, 0, 0
    with open(tsv, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    for row in rows[1:]:
        sample, code, side, tcp_end, rules = row[:5]
        name, _, idx = sample.partition("#")
        path = os.path.join(directory, name)
        if path not in cache:
            gap = has_gap(path)
            cache[path] = (analyse_any(path), gap)
        res, gap = cache[path]
        i = int(idx) - 1 if idx else 0
        n += 1
        if not idx and len(res) != 1:
            print(f"MISMATCH {sample}: {len(res)} connections in the capture, expected 1")
            bad += 1
            continue
        r = res[i]
        if r["code"] == "?" or gap:
            print(f"hand-verified {sample}: {'capture gap' if gap else 'snaplen-truncated'}; "
                  f"tshark sees tcp_end={r['tcp_end']} first FIN/RST by {r['tcp_first']}")
            hand += 1
            continue
        got_rules = {rid for _, rid in r["rules"]}
        want_rules = set() if rules == "-" else set(rules.split(","))
        problems = []
        if str(r["code"]) != code:
            problems.append(f"code {r['code']} != {code}")
        if r["side"] != side:
            problems.append(f"side {r['side']} != {side}")
        if r["tcp_end"] != tcp_end:
            problems.append(f"tcp_end {r['tcp_end']} != {tcp_end}")
        if not want_rules <= got_rules:
            problems.append(f"rules {sorted(want_rules - got_rules)} not found (found {sorted(got_rules)})")
        if problems:
            bad += 1
            print(f"MISMATCH {sample}: " + "; ".join(problems))
    files = {os.path.join(directory, r[0].partition("#")[0]) for r in rows[1:]}
    for fn in sorted(os.listdir(directory)):
        if fn.endswith((".pcap", ".pcapng")) and os.path.join(directory, fn) not in files:
            print(f"MISSING ROW for {fn}")
            bad += 1
    print(f"{n} rows: {n - bad - hand} match, {hand} hand-verified, {bad} problems")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--ws-port", type=int)
    ap.add_argument("--tsv", default=None)
    ap.add_argument("--check", metavar="TSV", default=None,
                    help="compare TSV with the captures in the directory given as the only FILE")
    a = ap.parse_args()
    if a.check:
        sys.exit(check(a.check, a.files[0] if a.files else "samples"))
    for path in a.files:
        res = analyse_any(path, a.ws_port)
        if a.tsv:
            for i, r in enumerate(res, 1):
                name = a.tsv if len(res) == 1 else f"{a.tsv}#{i}"
                rules = sorted({rid for _, rid in r["rules"]})
                print("\t".join([name, str(r["code"]), r["side"], r["tcp_end"], ",".join(rules) or "-"]))
            continue
        print(f"== {path}: {len(res)} connection(s)")
        for i, r in enumerate(res, 1):
            print(f"  #{i} stream {r['sid']} client {r['client']} bytes c2s/s2c={r.get('bytes')} "
                  f"tshark-ws-frames={r['ws_tshark']}")
            if "request" in r:
                print(f"     request: {r['request']}  offer={r.get('offer')}")
            if "response" in r:
                print(f"     response: {r['response']}  extensions={r.get('extensions')}")
            for side in ("client", "server"):
                if r["frames"].get(side):
                    print(f"     {side}: {describe_frames(r['frames'][side])}")
            print(f"     tcp ends: {r['ends']}")
            print(f"     VERDICT code={r['code']} side={r['side']} tcp_end={r['tcp_end']} "
                  f"rules={sorted(r['rules'])}")


if __name__ == "__main__":
    main()
