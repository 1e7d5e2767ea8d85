#!/usr/bin/env python3
"""compare_streams: check `wsdiag --streams DIR` against tshark's `follow,tcp,raw` for one capture.

    compare_streams.py CAPTURE --dir DIR [--truth TRUTH.json] [--tshark tshark] [--label NAME]
    compare_streams.py CAPTURE --wsdiag BIN [...]     (runs BIN --streams into a temporary DIR first)

Exit status: 0 all connections agree, 1 a mismatch, 2 the comparison could not run (tshark or wsdiag
failed, DIR/index.tsv missing or malformed). The last line of output is
`RESULT <label> pass|fail conns=N dirs=N gaps_wsdiag=N/B gaps_tshark=N/B`, for the calling script.

How tshark is read (tshark 4.0.17)
----------------------------------
One tshark run lists the streams and follows up to 64 (`-z follow,tcp,raw,N` repeated); each block starts with
"Filter: tcp.stream eq N", then "Node 0: ip:port" and "Node 1: ip:port" (IPv6 as "[addr]:port"), then
one hex line per chunk; a line starting with a TAB is data sent by node 1. Node 0 is the source of the
stream's first packet, so it is matched to wsdiag's index by endpoint, never by the client/server label
(wsdiag guesses the client when there is no SYN). Connections are paired by their endpoint pair, in order
of first packet, so a reused 5-tuple (a second connection after FIN) pairs with tshark's second stream.

Out-of-order segments: the follow tap gets every raw TCP segment and orders them itself (segments ahead of
the expected sequence number wait in a list until the hole is filled; old or duplicate bytes are cut).
`tcp.reassemble_out_of_order` only changes how segments are handed to subdissectors (HTTP, WebSocket), not
the follow tap: on all 23 corpus captures and on 150 randomly reordered / duplicated / overlapped /
dropped generated captures the follow output is byte-identical with the option TRUE and FALSE, and equals
the generator's true stream. We therefore keep tshark's default (FALSE, the setting the corpus truth/ was
made with) and run with an empty WIRESHARK_CONFIG_DIR so personal preferences cannot change anything.
One known tshark limit: it anchors a stream at the first segment captured, so in a capture that starts
mid-connection with its first two segments out of order, the earlier one is dropped as "old" data.

Gaps: when the other side ACKs past bytes that never appear in the capture, the follow tap emits a
chunk holding the text "[N bytes missing in capture file]" plus a NUL instead of the bytes (it does so
only when data after the hole was captured: a hole at the very end of a direction is not reported).
We take those marker chunks out of tshark's stream and count them (number and N) separately. wsdiag's
files leave gap bytes out, so with the markers removed both sides hold only the captured bytes and must
be identical byte for byte; the gap counts and bytes of both are printed. A gap count differs only when
wsdiag reports more gap bytes than tshark in a direction (a trailing hole tshark cannot report); it is a
failure when wsdiag reports fewer. With --truth (pcapgen's JSON), wsdiag must also equal the generator's
stream exactly, gap bytes included (a trailing hole too), and tshark must agree with the truth apart from
trailing holes; if it does not, the harness (generator or this reading of tshark) is wrong, and the
failure says HARNESS.

When tshark declares a gap: a packet's ACK is checked against the other side's waiting segments; if it
ACKs past the lowest one, the bytes before it are declared missing. An ACK past the next expected byte
with nothing waiting beyond it declares nothing, so a retransmission (or a segment captured just after
its own ACK) still fills the hole. pcapgen's truth follows the same rules.
"""

import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

INDEX_COLUMNS = ("conn", "client", "server", "c2s_file", "s2c_file", "c2s_bytes", "s2c_bytes", "gaps")
GAP_BYTE_COLUMNS = ("c2s_gap_bytes", "s2c_gap_bytes")
MISSING = re.compile(rb"^\[(\d+) bytes missing in capture file\]\x00?$")
STREAMS_PER_RUN = 64


class Unrunnable(Exception):
    pass


def norm_endpoint(text):
    """Canonical "ip:port" / "[v6]:port" so both tools' spellings compare equal."""
    text = text.strip()
    m = re.match(r"^\[(.+)\]:(\d+)$", text) or re.match(r"^([^:]+):(\d+)$", text)
    if not m:
        m = re.match(r"^(.+):(\d+)$", text)   # tolerate an unbracketed IPv6 address
    if not m:
        return text
    try:
        ip = ipaddress.ip_address(m.group(1).split("%")[0])
    except ValueError:
        return text
    return ("[%s]:%d" if ip.version == 6 else "%s:%d") % (ip.compressed, int(m.group(2)))


class Direction:
    def __init__(self):
        self.data = bytearray()
        self.gaps = []          # (offset in data, missing bytes)

    @property
    def gap_bytes(self):
        return sum(n for _, n in self.gaps)


class TsharkStream:
    def __init__(self, index):
        self.index = index
        self.nodes = [None, None]
        self.dirs = [Direction(), Direction()]


def tshark_env(conf_dir):
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = conf_dir     # empty: no personal preferences
    env.setdefault("LC_ALL", "C")
    return env


def tshark_streams(tshark, capture, extra_opts=(), guess=0):
    with tempfile.TemporaryDirectory(prefix="wsdiag-tshark-conf-") as conf:
        return _tshark_streams(tshark, capture, extra_opts, guess, tshark_env(conf))


def _tshark_streams(tshark, capture, extra_opts, guess, env):
    """All TCP streams of the capture as TsharkStream objects, in tcp.stream order.

    tshark starts slowly (about a second), so the first run both lists the tcp.stream values of every
    packet (-T fields) and follows streams 0..guess-1 (guess = wsdiag's connection count + a margin);
    only streams beyond the guess need another run."""
    first = list(range(max(1, guess)))[:STREAMS_PER_RUN]
    args = [tshark, "-n", "-r", capture] + list(extra_opts) + ["-T", "fields", "-e", "tcp.stream"]
    for i in first:
        args += ["-z", "follow,tcp,raw,%d" % i]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if r.returncode != 0:
        raise Unrunnable("tshark cannot read %s: %s" % (capture, last_line(r.stderr)))
    text = r.stdout.decode("ascii", "replace")
    cut = text.find("\n====")
    fields, follow = (text, "") if cut < 0 else (text[:cut], text[cut:])
    ids = set()
    for line in fields.split():
        for part in line.split(","):       # a TCP header inside ICMP can add a second value
            if part.isdigit():
                ids.add(int(part))
    ids = sorted(ids)
    streams = {}
    parse_follow(follow, streams)
    todo = [i for i in ids if i not in first]
    for k in range(0, len(todo), STREAMS_PER_RUN):
        args = [tshark, "-n", "-r", capture, "-q"] + list(extra_opts)
        for i in todo[k:k + STREAMS_PER_RUN]:
            args += ["-z", "follow,tcp,raw,%d" % i]
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if r.returncode != 0:
            raise Unrunnable("tshark follow failed on %s: %s" % (capture, last_line(r.stderr)))
        parse_follow(r.stdout.decode("ascii", "replace"), streams)
    missing = [i for i in ids if i not in streams]
    if missing:
        raise Unrunnable("tshark printed no follow block for stream(s) %s" % missing[:5])
    return [streams[i] for i in ids]


def parse_follow(text, streams):
    cur = None
    for line in text.splitlines():
        m = re.match(r"^Filter: tcp\.stream eq (\d+)\s*$", line)
        if m:
            cur = TsharkStream(int(m.group(1)))
            streams[cur.index] = cur
            continue
        if cur is None or line.startswith("===") or line.startswith("Follow:"):
            continue
        m = re.match(r"^Node ([01]): (.*)$", line)
        if m:
            cur.nodes[int(m.group(1))] = norm_endpoint(m.group(2))
            continue
        hexpart = line.strip()
        if not hexpart:
            continue
        node = 1 if line.startswith("\t") else 0
        try:
            chunk = bytes.fromhex(hexpart)
        except ValueError:
            raise Unrunnable("unexpected line in tshark follow output: %r" % line[:80])
        d = cur.dirs[node]
        mm = MISSING.match(chunk)
        if mm:
            d.gaps.append((len(d.data), int(mm.group(1))))
        else:
            d.data += chunk


class WsdiagConn:
    def __init__(self, row, directory):
        self.row = row
        self.id = row["conn"]
        self.client = norm_endpoint(row["client"])
        self.server = norm_endpoint(row["server"])
        self.data = {}
        self.gap_bytes = {}
        for d in ("c2s", "s2c"):
            name = row[d + "_file"]
            path = os.path.join(directory, name)
            if os.path.isabs(name) or ".." in name.split("/"):
                raise Unrunnable("conn %s: %s_file %r is not relative to DIR" % (self.id, d, name))
            try:
                with open(path, "rb") as f:
                    self.data[d] = f.read()
            except OSError as e:
                raise Unrunnable("conn %s: cannot read %s: %s" % (self.id, path, e.strerror))
            g = row.get(d + "_gap_bytes")
            self.gap_bytes[d] = int(g) if g not in (None, "") else None
        self.gaps = int(row["gaps"]) if row.get("gaps", "") != "" else None

    def key(self):
        return frozenset((self.client, self.server))


def read_index(directory):
    path = os.path.join(directory, "index.tsv")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise Unrunnable("cannot read %s: %s" % (path, e.strerror))
    if not lines:
        raise Unrunnable("%s is empty (no header line)" % path)
    header = lines[0].split("\t")
    miss = [c for c in INDEX_COLUMNS if c not in header]
    if miss:
        raise Unrunnable("%s: header lacks column(s) %s" % (path, ", ".join(miss)))
    conns, problems = [], []
    for n, line in enumerate(lines[1:], 2):
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise Unrunnable("%s line %d: %d cells, header has %d" % (path, n, len(cells), len(header)))
        c = WsdiagConn(dict(zip(header, cells)), directory)
        for d in ("c2s", "s2c"):
            if int(c.row[d + "_bytes"]) != len(c.data[d]):
                problems.append("conn %s %s: index says %s bytes, file %s holds %d" % (
                    c.id, d, c.row[d + "_bytes"], c.row[d + "_file"], len(c.data[d])))
        conns.append(c)
    ids = [c.id for c in conns]
    if ids != [str(i) for i in range(1, len(conns) + 1)]:
        problems.append("conn ids are not 1..%d in order: %s" % (len(conns), " ".join(ids[:10])))
    return conns, problems


def first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n if len(a) != len(b) else None


def describe_diff(a, b, at, what_a="wsdiag", what_b="tshark"):
    def ctx(x):
        lo = max(0, at - 8)
        return x[lo:at].hex() + "|" + x[at:at + 8].hex()
    ba = "0x%02x" % a[at] if at < len(a) else "end"
    bb = "0x%02x" % b[at] if at < len(b) else "end"
    return ("first differing offset %d (%s %s, %s %s); lengths %s %d, %s %d; context %s [%s] %s [%s]"
            % (at, what_a, ba, what_b, bb, what_a, len(a), what_b, len(b), what_a, ctx(a), what_b,
               ctx(b)))


def pair_up(wconns, tstreams):
    """Pair wsdiag connections with tshark streams by endpoint pair, in order of first packet."""
    pending = {}
    for t in tstreams:
        pending.setdefault(frozenset(n for n in t.nodes if n), []).append(t)
    pairs, extra_w = [], []
    for c in wconns:
        q = pending.get(c.key())
        if q:
            pairs.append((c, q.pop(0)))
        else:
            extra_w.append(c)
    extra_t = [t for q in pending.values() for t in q]
    return pairs, extra_w, extra_t


def load_truth(path):
    with open(path) as f:
        conns = json.load(f)["connections"]
    out = {}
    for c in conns:
        key = frozenset((norm_endpoint(c["client"]), norm_endpoint(c["server"])))
        out.setdefault(key, []).append(c)
    return out


def compare(capture, directory, tshark, truth_path=None, label=None, extra_opts=()):
    label = label or capture
    fails, notes = [], []
    wconns, problems = read_index(directory)
    fails += problems
    tstreams = tshark_streams(tshark, capture, extra_opts, guess=len(wconns) + 4)
    pairs, extra_w, extra_t = pair_up(wconns, tstreams)
    for c in extra_w:
        fails.append("conn %s %s <-> %s: no tshark stream with these endpoints" % (c.id, c.client,
                                                                                     c.server))
    for t in extra_t:
        fails.append("tshark stream %d %s <-> %s: not in wsdiag's index" % (t.index, t.nodes[0],
                                                                          t.nodes[1]))
    truth = load_truth(truth_path) if truth_path else None
    totals = {"w_gaps": 0, "w_bytes": 0, "t_gaps": 0, "t_bytes": 0, "dirs": 0}
    for c, t in pairs:
        if t.nodes[0] == c.client:
            tdir = {"c2s": t.dirs[0], "s2c": t.dirs[1]}
        elif t.nodes[1] == c.client:
            tdir = {"c2s": t.dirs[1], "s2c": t.dirs[0]}
        else:   # same key but neither node is the client: cannot happen unless client == server
            fails.append("conn %s: client %s is neither tshark node" % (c.id, c.client))
            continue
        tr = None
        if truth is not None:
            q = truth.get(c.key())
            tr = q.pop(0) if q else None
            if tr is None:
                fails.append("conn %s: not in the truth file" % c.id)
        conn_gaps = 0
        for d in ("c2s", "s2c"):
            totals["dirs"] += 1
            where = "conn %s (%s -> %s) %s" % (c.id, c.client, c.server, d)
            w, td = c.data[d], tdir[d]
            t_bytes = bytes(td.data)
            at = first_diff(w, t_bytes)
            if at is not None:
                fails.append("%s: %s; tshark gaps at stream offsets %s" % (
                    where, describe_diff(w, t_bytes, at), [g[0] for g in td.gaps] or "none"))
            wg = c.gap_bytes[d]
            totals["t_gaps"] += len(td.gaps)
            totals["t_bytes"] += td.gap_bytes
            if wg is not None:
                totals["w_bytes"] += wg
                if wg < td.gap_bytes:
                    fails.append("%s: wsdiag reports %d gap bytes, tshark marks %d missing" % (
                        where, wg, td.gap_bytes))
            if td.gaps or wg:
                notes.append("%s: gaps: wsdiag %s bytes; tshark %d gap(s), %d bytes, at stream offsets %s%s"
                             % (where, "?" if wg is None else wg, len(td.gaps), td.gap_bytes,
                                [g[0] for g in td.gaps],
                                " (wsdiag counts more with the same bytes: tshark marks no hole at the "
                                "end of a direction, nor bytes cut off by the snaplen)"
                                if wg is not None and wg > td.gap_bytes and at is None else ""))
            conn_gaps += len(td.gaps)
            if tr is not None:
                exp = bytes.fromhex(tr[d + "_hex"])
                at = first_diff(w, exp)
                if at is not None:
                    fails.append("%s: vs generator truth: %s" % (where, describe_diff(w, exp, at,
                                                                                    "wsdiag", "truth")))
                if wg is not None and wg != tr[d + "_gap_bytes"]:
                    fails.append("%s: wsdiag reports %d gap bytes, the generator dropped %d" % (
                        where, wg, tr[d + "_gap_bytes"]))
                # tshark cannot mark a trailing hole, so its gap bytes are the truth's without it.
                t_exp = tr[d + "_gap_bytes"] - tr.get(d + "_trailing_gap_bytes", 0)
                at = first_diff(t_bytes, exp)
                if at is not None or td.gap_bytes != t_exp:
                    fails.append("%s: HARNESS: tshark disagrees with the generator truth (%s; gap bytes "
                                 "tshark %d, truth %d)" % (where, "bytes equal" if at is None else
                                                           describe_diff(t_bytes, exp, at, "tshark",
                                                                         "truth"),
                                                           td.gap_bytes, t_exp))
                if tr.get(d + "_stranded_bytes"):
                    notes.append("%s: the scenario leaves %d bytes waiting behind a hole nobody ACKed "
                                 "past; tools may differ there" % (where, tr[d + "_stranded_bytes"]))
        if c.gaps is not None:
            totals["w_gaps"] += c.gaps
            if c.gaps < conn_gaps:
                fails.append("conn %s: index reports %d gaps, tshark shows %d" % (c.id, c.gaps, conn_gaps))
    ok = not fails
    for f in fails:
        print("  FAIL %s: %s" % (label, f))
    for n in notes:
        print("  note %s: %s" % (label, n))
    print("RESULT %s %s conns=%d dirs=%d gaps_wsdiag=%d/%d gaps_tshark=%d/%d" % (
        label, "pass" if ok else "fail", len(pairs), totals["dirs"], totals["w_gaps"], totals["w_bytes"],
        totals["t_gaps"], totals["t_bytes"]))
    return 0 if ok else 1


def last_line(b):
    lines = [l for l in b.decode("utf-8", "replace").splitlines()
             if l.strip() and not l.startswith("Running as user")]
    return lines[-1] if lines else "(no message)"


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compare wsdiag --streams output with tshark follow.")
    ap.add_argument("capture")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--dir", help="an existing `wsdiag --streams` directory for CAPTURE")
    src.add_argument("--wsdiag", help="wsdiag binary: run `BIN --streams TMPDIR CAPTURE` first")
    ap.add_argument("--truth", help="pcapgen truth JSON for CAPTURE (stricter checks)")
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--tshark-opt", action="append", default=[], metavar="PREF:VALUE",
                    help="extra tshark -o preference (repeatable)")
    ap.add_argument("--label")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args(argv)
    label = args.label or args.capture
    extra = []
    for o in args.tshark_opt:
        extra += ["-o", o]
    try:
        if args.wsdiag:
            with tempfile.TemporaryDirectory(prefix="wsdiag-streams-") as tmp:
                out = os.path.join(tmp, "streams")
                try:
                    r = subprocess.run([args.wsdiag, "--streams", out, args.capture],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    raise Unrunnable("wsdiag --streams timed out after %gs" % args.timeout)
                if r.returncode != 0:
                    raise Unrunnable("wsdiag --streams exited %d: %s" % (r.returncode, last_line(r.stderr)))
                return compare(args.capture, out, args.tshark, args.truth, label, extra)
        return compare(args.capture, args.dir, args.tshark, args.truth, label, extra)
    except Unrunnable as e:
        print("  FAIL %s: %s" % (label, e))
        print("RESULT %s error" % label)
        return 2


if __name__ == "__main__":
    sys.exit(main())
