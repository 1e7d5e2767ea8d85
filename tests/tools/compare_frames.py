#!/usr/bin/env python3
"""Differential test: `wsdiag --frames` against tshark's decode of every corpus capture.

For each capture under CORPUS with a truth/<capture>.frames.tsv (made by tshark 4.0.17, see
truth/README.md), every WebSocket frame tshark decoded must appear in wsdiag's --frames output,
in the same order, with the same packet, direction, fin, rsv, opcode, mask, payload length, close
code and close reason; and wsdiag must list no frame tshark did not. Captures that tshark decoded
only with a Decode As (SUMMARY.tsv tshark_extra_args "-d tcp.port==N,websocket") are run with
--ws-port N. Prints one line per capture and "N passed, M failed"; exit 1 on any mismatch.
"""
import csv
import os
import re
import subprocess
import sys

csv.field_size_limit(1 << 30)


def unescape(s):
    # truth/README.md: tab, newline, CR and backslash are escaped as \t \n \r \\
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(n, "\\" + n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def wsdiag_unescape(s):
    # wsdiag escapes like the truth files, plus \xNN for other control bytes and invalid UTF-8.
    b, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and i + 3 < len(s) + 1:
                b.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            b.extend({"t": b"\t", "n": b"\n", "r": b"\r", "\\": b"\\"}.get(n, ("\\" + n).encode()))
            i += 2
            continue
        b.extend(c.encode())
        i += 1
    return b.decode("utf-8", "replace")


def preview_matches(tshark, ours):
    # tshark's preview is the text with each CRLF (or lone CR/LF) shown as one space, cut at 80
    # characters; wsdiag's is the raw first 80 characters. Normalise ours the same way, then the
    # shorter must be a prefix of the longer.
    norm = re.sub(r"\r\n|\r|\n", " ", ours)
    return tshark.startswith(norm) or norm.startswith(tshark)


def truth_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    out = []
    for r in rows:
        out.append({
            "packet": int(r["frame"]), "dir": r["dir"], "fin": int(r["fin"]), "rsv": int(r["rsv"]),
            "opcode": int(r["opcode"]), "masked": int(r["mask"]), "payload_len": int(r["payload_len"]),
            "close_code": r["close_code"], "close_reason": unescape(r["close_reason"]),
            "_ws_idx": int(r["ws_idx"] or 0),
            "text_len": r["text_len"], "text_preview": unescape(r["text_preview"]),
        })
    # tshark lists frames in packet order, then position within the packet
    out.sort(key=lambda r: (r["packet"], r["_ws_idx"]))
    return out


def wsdiag_rows(binary, capture, extra):
    res = subprocess.run([binary, "--frames", "--payload", "--no-progress", *extra, capture], capture_output=True, timeout=300)
    if res.returncode not in (0, 1):
        raise RuntimeError(f"wsdiag exited {res.returncode}: {res.stderr.decode(errors='replace').strip()}")
    lines = res.stdout.decode("utf-8", "replace").splitlines()
    header = lines[0].split("\t")
    out = []
    for line in lines[1:]:
        r = dict(zip(header, line.split("\t")))
        out.append({
            "packet": int(r["packet"]), "dir": r["dir"], "fin": int(r["fin"]), "rsv": int(r["rsv"]),
            "opcode": int(r["opcode"]), "masked": int(r["masked"]), "payload_len": int(r["payload_len"]),
            "close_code": r["close_code"], "close_reason": wsdiag_unescape(r["close_reason"]),
            "message_len": r.get("message_len", ""), "text_preview": wsdiag_unescape(r.get("text_preview", "")),
        })
    return out


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    truth_dir = os.path.join(corpus, "truth")
    extra_args = {}
    with open(os.path.join(truth_dir, "SUMMARY.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            m = re.search(r"tcp\.port==(\d+),websocket", r.get("tshark_extra_args", ""))
            if m:
                extra_args[r["file"]] = ["--ws-port", m.group(1)]
    passed = failed = frames = 0
    for root, _, files in sorted(os.walk(truth_dir)):
        for name in sorted(files):
            if not name.endswith(".frames.tsv"):
                continue
            rel = os.path.relpath(os.path.join(root, name[: -len(".frames.tsv")]), truth_dir)
            capture = os.path.join(corpus, rel)
            if not os.path.exists(capture):
                continue
            want = truth_rows(os.path.join(root, name))
            try:
                got = wsdiag_rows(binary, capture, extra_args.get(rel, []))
            except Exception as e:  # noqa: BLE001 - report and count
                print(f"FAIL {rel}: {e}")
                failed += 1
                continue
            problems = []
            for i in range(max(len(want), len(got))):
                w = want[i] if i < len(want) else None
                g = got[i] if i < len(got) else None
                if w is None:
                    problems.append(f"extra frame from wsdiag: {g}")
                elif g is None:
                    problems.append(f"frame missing from wsdiag: {w}")
                else:
                    diffs = [k for k in ("packet", "dir", "fin", "rsv", "opcode", "masked", "payload_len",
                                         "close_code", "close_reason") if w[k] != g[k]]
                    # Text messages: tshark shows the whole (reassembled, inflated) message's length
                    # and first 80 characters on its last frame; so does wsdiag.
                    if w["text_len"]:
                        if g["message_len"] != w["text_len"]:
                            diffs.append("text_len")
                            w["text_len"], g["text_len"] = w["text_len"], g["message_len"]
                        elif not preview_matches(w["text_preview"], g["text_preview"]):
                            diffs.append("text_preview")
                    if diffs:
                        problems.append(f"frame {i + 1} (tshark packet {w['packet']}): "
                                        + ", ".join(f"{k}: tshark={w[k]!r} wsdiag={g[k]!r}" for k in diffs))
                if len(problems) >= 5:
                    break
            frames += len(want)
            if problems:
                failed += 1
                print(f"FAIL {rel}: {len(want)} frames in tshark, {len(got)} in wsdiag")
                for p in problems:
                    print(f"     {p}")
            else:
                passed += 1
                print(f"ok   {rel}: {len(want)} frames identical")
    print(f"{frames} frames compared")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
