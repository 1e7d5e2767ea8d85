#!/usr/bin/env python3
"""Differential test: permessage-deflate (RFC 7692) messages inflated by wsdiag against tshark.

Usage: compare_inflate.py WSDIAG_BIN SOURCE_DIR

Captures: every samples/*.pcap / *.pcapng whose `wsdiag --format json` shows a connection with
handshake.extensions containing permessage-deflate (samples/deflate-*.pcap must be among them), plus
zeek/websocket_compressed.pcap and suricata/websocket-compressed/example_websocket.pcap from
SOURCE_DIR/../shared/corpus when that exists.

For each capture, wsdiag's --frames TSV and tshark's PDML (-Y websocket) are both turned into a list of
compressed data messages (first frame RSV1 set, text or binary), each keyed by the packet of its last
frame and its direction. Per message: tshark's decompressed payload length in bytes (text: the bytes of
websocket.payload.text; binary: the data dissector's bytes) must equal wsdiag's message_len, and for
text tshark's text must start with wsdiag's text_preview, which must be min(80, length) characters.
A compressed message for which tshark shows no decompressed payload, flags "Decompression failed", or
(if fragmented) shows a payload that disagrees, is listed as "tshark could not decompress" and not
counted as a failure; wsdiag must still give it a message_len. (tshark 4.0 cannot inflate fragmented
compressed messages: it appends 00 00 ff ff to every fragment, or shows the reassembled payload still
compressed.)
Prints one line per capture, the number of messages compared and "N passed, M failed"; exit 1 on any
mismatch.
"""
import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

CORPUS_FILES = ("zeek/websocket_compressed.pcap", "suricata/websocket-compressed/example_websocket.pcap")
PREVIEW_CHARS = 80
RSV1 = 4


def run(cmd):
    res = subprocess.run(cmd, capture_output=True, timeout=600)
    return res.returncode, res.stdout, res.stderr.decode("utf-8", "replace").strip()


def deflate_conns(binary, capture):
    """Connection ids whose handshake negotiated permessage-deflate, per wsdiag's JSON report."""
    rc, out, err = run([binary, "--format", "json", "--no-progress", capture])
    if rc not in (0, 1):
        raise RuntimeError(f"wsdiag --format json exited {rc}: {err}")
    report = json.loads(out)
    ids = set()
    for c in report.get("connections", []):
        ext = (c.get("handshake") or {}).get("extensions") or ""
        if "permessage-deflate" in ext.lower():
            ids.add(str(c["id"]))
    return ids


def unescape_preview(s):
    """wsdiag escapes \\t \\n \\r \\\\ and \\xNN (other control bytes, invalid UTF-8); return raw bytes."""
    out, i = bytearray(), 0
    while i < len(s):
        if s[i:i + 1] == b"\\" and i + 1 < len(s):
            n = s[i + 1:i + 2]
            if n == b"x" and i + 4 <= len(s) and re.fullmatch(rb"[0-9a-fA-F]{2}", s[i + 2:i + 4]):
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            simple = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}.get(n)
            if simple is not None:
                out += simple
                i += 2
                continue
        out += s[i:i + 1]
        i += 1
    return bytes(out)


def wsdiag_messages(binary, capture, conns):
    """Compressed data messages of the deflate connections, from `wsdiag --frames`."""
    rc, out, err = run([binary, "--frames", "--payload", "--no-progress", capture])
    if rc not in (0, 1):
        raise RuntimeError(f"wsdiag --frames exited {rc}: {err}")
    lines = out.split(b"\n")
    header = lines[0].decode().split("\t")
    for col in ("packet", "conn", "dir", "fin", "rsv", "opcode", "message_len", "text_preview"):
        if col not in header:
            raise RuntimeError(f"wsdiag --frames has no column {col!r}")
    state = {}  # (conn, dir) -> (opcode, compressed) of the message being assembled
    msgs = []
    for line in lines[1:]:
        if not line:
            continue
        r = dict(zip(header, line.split(b"\t")))
        conn, d = r["conn"].decode(), r["dir"].decode()
        if conn not in conns:
            continue
        opcode, fin = int(r["opcode"]), r["fin"] == b"1"
        if opcode in (1, 2):
            state[(conn, d)] = (opcode, bool(int(r["rsv"]) & RSV1))
        elif opcode != 0:
            continue  # control frame: may sit between fragments, belongs to no data message
        if not fin or (conn, d) not in state:
            continue
        first_opcode, compressed = state.pop((conn, d))
        if compressed:
            msgs.append({"packet": int(r["packet"]), "dir": d, "opcode": first_opcode,
                         "message_len": r["message_len"].decode(),
                         "preview": unescape_preview(r.get("text_preview", b""))})
    return msgs


def fields(elem, name):
    return [f for f in elem.iter("field") if f.get("name") == name]


def first_show(elem, name):
    found = fields(elem, name)
    return found[0].get("show") if found else None


def field_bytes(f):
    """The field's bytes from PDML's value (hex); None if PDML did not give all of them."""
    value, size = f.get("value") or "", int(f.get("size") or 0)
    try:
        data = bytes.fromhex(value)
    except ValueError:
        return None
    return data if len(data) == size else None


def tshark_messages(capture):
    """Data messages from tshark's PDML, with their decompressed payloads where tshark made them."""
    filt = "websocket or (tcp.flags.syn==1 and tcp.flags.ack==0) or http.request"
    cmd = ["tshark", "-n", "-r", capture, "-Y", filt, "-T", "pdml"]
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=os.environ.get("WSDIAG_TSHARK_CONFIG", "/nonexistent"))
    res = subprocess.run(cmd, capture_output=True, timeout=600, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"tshark exited {res.returncode}: {res.stderr.decode(errors='replace').strip()}")
    root = ET.fromstring(res.stdout)
    # The client is the sender of the SYN; without a SYN, the sender of the HTTP request; without
    # that, the side that masks its frames (as in the corpus truth files).
    syn_client, req_client, mask_client = {}, {}, {}
    frames = []  # (packet, stream, endpoint, websocket proto, protos after it up to the next websocket)
    for pkt in root.iter("packet"):
        protos = list(pkt.findall("proto"))
        number = int(first_show(pkt, "frame.number"))
        stream = first_show(pkt, "tcp.stream")
        src = first_show(pkt, "ip.src") or first_show(pkt, "ipv6.src")
        endpoint = (src, first_show(pkt, "tcp.srcport"))
        flags_syn, flags_ack = first_show(pkt, "tcp.flags.syn"), first_show(pkt, "tcp.flags.ack")
        if flags_syn in ("1", "True") and flags_ack in ("0", "False"):
            syn_client.setdefault(stream, endpoint)
        if fields(pkt, "http.request"):
            req_client.setdefault(stream, endpoint)
        for i, p in enumerate(protos):
            if p.get("name") != "websocket":
                continue
            after = []
            for q in protos[i + 1:]:
                if q.get("name") == "websocket":
                    break
                after.append(q)
            if first_show(p, "websocket.mask") == "1":
                mask_client.setdefault(stream, endpoint)
            frames.append((number, stream, endpoint, p, after))

    def direction(stream, endpoint):
        client = syn_client.get(stream) or req_client.get(stream) or mask_client.get(stream)
        if client is None:
            return "?"
        return "c2s" if endpoint == client else "s2c"

    state, msgs = {}, []
    for number, stream, endpoint, ws, after in frames:
        d = direction(stream, endpoint)
        opcode = int(first_show(ws, "websocket.opcode"), 0)
        fin = first_show(ws, "websocket.fin") == "1"
        rsv = int(first_show(ws, "websocket.rsv") or "0", 0)
        failed = any("decompression.failed" in (f.get("name") or "") for f in ws.iter("field"))
        if opcode in (1, 2):
            state[(stream, d)] = {"opcode": opcode, "compressed": bool(rsv & RSV1), "failed": failed,
                                  "frames": 1}
        elif opcode == 0 and (stream, d) in state:
            state[(stream, d)]["failed"] |= failed
            state[(stream, d)]["frames"] += 1
        else:
            continue
        if not fin:
            continue
        msg = state.pop((stream, d))
        payload = None
        if msg["opcode"] == 1:
            text = fields(ws, "websocket.payload.text")
            if text:
                payload = field_bytes(text[-1])
                if payload is None:
                    raise RuntimeError(f"packet {number}: PDML gave only part of the text's bytes")
        else:
            # The data dissector's tree sits in a proto after this websocket proto (PDML wraps it as
            # "fake-field-wrapper"); its data.data field holds the inflated bytes.
            data = [f for q in after for f in fields(q, "data.data")]
            if data:
                payload = field_bytes(data[-1])
                if payload is None:
                    raise RuntimeError(f"packet {number}: PDML gave only part of the binary payload")
        msg.update({"packet": number, "dir": d, "payload": payload})
        msgs.append(msg)
    return msgs


def normalise_lines(b):
    # Line breaks are made single spaces on both sides before the prefix test: tshark shows CR/LF in
    # a text as spaces in its display strings (PDML show), and as-is in the raw bytes we read here;
    # wsdiag escapes them (\r \n), which unescape_preview turns back into raw bytes. Normalising both
    # sides the same way keeps the test independent of which of tshark's forms is used.
    return re.sub(rb"\r\n|\r|\n", b" ", b)


def compare(binary, capture, conns):
    """Returns (problems, compared, undecompressed listing)."""
    ours = wsdiag_messages(binary, capture, conns)
    theirs = tshark_messages(capture)
    by_key = {}
    for m in theirs:
        by_key.setdefault((m["packet"], m["dir"]), []).append(m)
    problems, undecompressed, compared = [], [], 0
    for g in ours:
        where = f"packet {g['packet']} {g['dir']}"
        queue = by_key.get((g["packet"], g["dir"]))
        if not queue:
            problems.append(f"{where}: wsdiag ends a compressed message here, tshark ends no message here")
            continue
        t = queue.pop(0)
        if not t["compressed"] or t["opcode"] != g["opcode"]:
            problems.append(f"{where}: tshark's message is opcode {t['opcode']} compressed={t['compressed']}, "
                            f"wsdiag's opcode {g['opcode']} compressed=True")
            continue
        if not re.fullmatch(r"\d+", g["message_len"]):
            problems.append(f"{where}: wsdiag gives no message_len ({g['message_len']!r})")
            continue
        if t["payload"] is None or t["failed"]:
            why = "decompression failed" if t["failed"] else "no decompressed payload shown"
            undecompressed.append(f"{where}: tshark could not decompress ({why}); wsdiag message_len="
                                  f"{g['message_len']}")
            continue
        want, got = len(t["payload"]), int(g["message_len"])
        if t["frames"] > 1 and (want != got or not normalise_lines(t["payload"]).startswith(
                normalise_lines(g["preview"]))):
            # tshark 4.0 does not inflate a fragmented compressed message correctly (it treats each
            # fragment on its own, or shows the reassembled payload still compressed), without saying
            # so. A fragmented message that agrees anyway is compared; one that does not is listed.
            undecompressed.append(f"{where}: tshark could not decompress (fragmented compressed message, "
                                  f"{t['frames']} frames; tshark shows {want} bytes); wsdiag message_len="
                                  f"{g['message_len']}")
            continue
        compared += 1
        if want != got:
            problems.append(f"{where}: inflated length tshark={want} wsdiag={got}")
            continue
        if g["opcode"] != 1:
            continue
        if not normalise_lines(t["payload"]).startswith(normalise_lines(g["preview"])):
            problems.append(f"{where}: tshark text {t['payload'][:120]!r} does not start with wsdiag preview "
                            f"{g['preview']!r}")
            continue
        try:
            chars = len(t["payload"].decode("utf-8"))
        except UnicodeDecodeError:
            continue  # invalid UTF-8: "characters" is not well defined; the prefix test above suffices
        try:
            got_chars = len(g["preview"].decode("utf-8"))
        except UnicodeDecodeError:
            got_chars = -1
        if got_chars != min(PREVIEW_CHARS, chars):
            problems.append(f"{where}: wsdiag preview has {got_chars} characters, expected "
                            f"{min(PREVIEW_CHARS, chars)} (text has {chars})")
    for key, queue in sorted(by_key.items()):
        for t in queue:
            if t["compressed"]:
                problems.append(f"packet {key[0]} {key[1]}: tshark ends a compressed message here, wsdiag "
                                "does not")
    return problems, compared, undecompressed


def main():
    binary, src = sys.argv[1], sys.argv[2]
    captures = sorted(glob.glob(os.path.join(src, "samples", "*.pcap")) +
                      glob.glob(os.path.join(src, "samples", "*.pcapng")))
    corpus = os.path.join(src, "..", "shared", "corpus")
    if os.path.isdir(corpus):
        captures += [os.path.join(corpus, f) for f in CORPUS_FILES]
    else:
        print(f"note: {os.path.normpath(corpus)} not found; samples only")
    passed = failed = total = 0
    for capture in captures:
        rel = os.path.relpath(capture, src)
        must = os.path.basename(capture).startswith("deflate-") or os.path.dirname(rel) != "samples"
        try:
            if not os.path.exists(capture):
                raise RuntimeError("capture missing")
            conns = deflate_conns(binary, capture)
            if not conns:
                if must:
                    raise RuntimeError("wsdiag reports no connection that negotiated permessage-deflate")
                continue
            problems, compared, undecompressed = compare(binary, capture, conns)
        except Exception as e:  # noqa: BLE001 - report and count
            print(f"FAIL {rel}: {e}")
            failed += 1
            continue
        if compared == 0 and not undecompressed:
            problems.append("no compressed message found")
        total += compared
        note = f" ({len(undecompressed)} that tshark could not decompress)" if undecompressed else ""
        if problems:
            failed += 1
            print(f"FAIL {rel}: {len(problems)} problem(s), {compared} compressed messages compared{note}")
            for p in problems[:10]:
                print(f"     {p}")
        else:
            passed += 1
            print(f"ok   {rel}: {compared} compressed messages inflate identically{note}")
        for u in undecompressed:
            print(f"     {u}")
    print(f"{total} compressed messages compared")
    print(f"{passed} passed, {failed} failed")
    if passed + failed == 0:
        print("FAIL: no capture negotiated permessage-deflate")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
