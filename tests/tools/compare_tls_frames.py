#!/usr/bin/env python3
"""Differential test for wss:// (issue #12): `wsdiag --frames --tls-keylog K` against tshark's
decode with `-o tls.keylog_file:K`, frame by frame, on every samples/wss-*.pcap(ng).

A capture's key log is samples/NAME.keys; a pcapng without one carries its secrets in a
Decryption Secrets Block (both tools read it with no option). Compared per frame: packet,
direction, fin, rsv, opcode, mask, payload length, close code and reason. Also checks that
without keys wsdiag lists no frame and reports the connection as "TLS, not decrypted", and that a
key log for another session gives tls-decrypt-failed, never frames.
Usage: compare_tls_frames.py WSDIAG SAMPLES_DIR. Exit 1 on any mismatch, 77 when no wss sample.
"""
import glob
import json
import os
import subprocess
import sys


def tshark_rows(capture, keys):
    opt = ["-o", f"tls.keylog_file:{keys}"] if keys else []
    # The client of each TCP stream: the sender of its SYN.
    syn = subprocess.run(["tshark", "-r", capture, *opt, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0",
                          "-T", "fields", "-e", "tcp.stream", "-e", "tcp.srcport"],
                         capture_output=True, text=True, check=True).stdout
    client = {}
    for line in syn.splitlines():
        s, p = line.split("\t")
        client.setdefault(s, p)
    out = subprocess.run(["tshark", "-r", capture, *opt, "-Y", "websocket", "-T", "fields", "-E", "occurrence=a",
                          "-E", "aggregator=|", "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.srcport",
                          "-e", "websocket.fin", "-e", "websocket.rsv", "-e", "websocket.opcode", "-e",
                          "websocket.mask", "-e", "websocket.payload_length", "-e",
                          "websocket.payload.close.status_code", "-e", "websocket.payload.close.reason"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split("\t")
        frame, stream, sport = f[0], f[1], f[2]
        fins = f[3].split("|")
        for i in range(len(fins)):
            def col(k):
                parts = f[k].split("|") if f[k] else []
                return parts[i] if i < len(parts) else ""
            opcode = int(col(5), 0)
            rows.append({
                "packet": int(frame), "dir": "c2s" if client.get(stream) == sport else "s2c",
                "fin": int(col(3) in ("1", "True")), "rsv": int(col(4), 0) >> 4, "opcode": opcode,
                "masked": int(col(6) in ("1", "True")), "payload_len": int(col(7)),
                # tshark shows a Close's code only when its payload holds one
                "close_code": col(8) if opcode == 8 else "", "close_reason": col(9) if opcode == 8 else "",
            })
    return rows


def wsdiag_run(binary, capture, extra, fmt):
    res = subprocess.run([binary, "--no-progress", *fmt, *extra, capture], capture_output=True, text=True,
                         timeout=120, env={k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"})
    if res.returncode not in (0, 1):
        raise RuntimeError(f"wsdiag exited {res.returncode}: {res.stderr.strip()}")
    return res.stdout


def wsdiag_rows(binary, capture, keys):
    extra = ["--tls-keylog", keys] if keys else []
    lines = wsdiag_run(binary, capture, extra, ["--frames"]).splitlines()
    header = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        r = dict(zip(header, line.split("\t")))
        rows.append({"packet": int(r["packet"]), "dir": r["dir"], "fin": int(r["fin"]), "rsv": int(r["rsv"]),
                     "opcode": int(r["opcode"]), "masked": int(r["masked"]), "payload_len": int(r["payload_len"]),
                     "close_code": r["close_code"], "close_reason": r["close_reason"]})
    return rows


def main():
    binary, samples = sys.argv[1], sys.argv[2]
    captures = sorted(glob.glob(os.path.join(samples, "wss-*.pcap")) + glob.glob(os.path.join(samples, "wss-*.pcapng")))
    if not captures:
        print("SKIP: no wss-* samples")
        return 77
    failed = frames = 0
    other_keys = None
    for cap in captures:
        name = os.path.basename(cap)
        keys = os.path.splitext(cap)[0] + ".keys"
        keys = keys if os.path.exists(keys) else None
        problems = []
        want = tshark_rows(cap, keys)
        got = wsdiag_rows(binary, cap, keys)
        # A capture whose TLS handshake failed has no WebSocket frame in either tool.
        handshake_failed = "cert-rejected" in name
        if not want and not handshake_failed:
            problems.append("tshark decoded no WebSocket frame (keys not usable?)")
        for i in range(max(len(want), len(got))):
            w = want[i] if i < len(want) else None
            g = got[i] if i < len(got) else None
            if w != g:
                problems.append(f"frame {i + 1}: tshark={w} wsdiag={g}")
            if len(problems) >= 5:
                break
        frames += len(want)
        if keys:
            other_keys = other_keys or keys
            # Without keys: no frames, a TLS verdict, never a close code claimed.
            if wsdiag_rows(binary, cap, None):
                problems.append("frames listed without keys")
            doc = json.loads(wsdiag_run(binary, cap, [], ["--format", "json"]))
            for c in doc["connections"]:
                expected = "TLS handshake failed" if handshake_failed else "TLS, not decrypted"
                if c["verdict"]["name"] != expected or c["verdict"]["code"] is not None:
                    problems.append(f"without keys: verdict {c['verdict']['name']!r} code {c['verdict']['code']}")
            if doc["summary"]["tls_not_decrypted"]["connections"] != len(doc["connections"]):
                problems.append("without keys: summary.tls_not_decrypted does not count the connection")
        if problems:
            failed += 1
            print(f"FAIL {name}: {len(want)} frames in tshark, {len(got)} in wsdiag")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"ok   {name}: {len(want)} frames identical")
    # A key log from another session: a clear failure, never frames.
    for cap in captures:
        keys = os.path.splitext(cap)[0] + ".keys"
        if "cert-rejected" in cap:
            continue
        wrong = next((k for k in sorted(glob.glob(os.path.join(samples, "wss-*.keys"))) if k != keys), None)
        if not os.path.exists(keys) or wrong is None:
            continue
        doc = json.loads(wsdiag_run(binary, cap, ["--tls-keylog", wrong], ["--format", "json"]))
        bad = [c for c in doc["connections"] if c["tls"]["keys"] != "key-not-found" or c["frames"]["client"]]
        if bad:
            failed += 1
            print(f"FAIL {os.path.basename(cap)} with {os.path.basename(wrong)}: {bad[0]['tls']['keys']}")
        # The right client random with a damaged secret: tls-decrypt-failed, no frames.
        import tempfile
        with open(keys) as f, tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False) as t:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    sec = parts[2]
                    parts[2] = ("0" if sec[0] != "0" else "1") + sec[1:]
                    line = " ".join(parts) + "\n"
                t.write(line)
            damaged = t.name
        try:
            doc = json.loads(wsdiag_run(binary, cap, ["--tls-keylog", damaged], ["--format", "json"]))
        finally:
            os.unlink(damaged)
        for c in doc["connections"]:
            rules = [f["rule"] for f in c["findings"]]
            if c["tls"]["keys"] != "failed" or "tls-decrypt-failed" not in rules or c["frames"]["client"] \
                    or c["verdict"]["name"] != "TLS decryption failed":
                failed += 1
                print(f"FAIL {os.path.basename(cap)} with damaged secrets: keys={c['tls']['keys']} rules={rules} "
                      f"frames={c['frames']} verdict={c['verdict']['name']}")
            else:
                print(f"ok   {os.path.basename(cap)} with damaged secrets: tls-decrypt-failed, no frames")
        break
    print(f"{frames} frames compared")
    print(f"{len(captures) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
