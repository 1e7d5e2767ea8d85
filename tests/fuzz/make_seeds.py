#!/usr/bin/env python3
"""make_seeds.py: writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from samples/.

Every seed is cut from a real capture made by scripts/make-samples, in the input format its target
documents at the top of tests/fuzz/<target>_fuzz.cpp. Seeds are kept small (a few KB each) so the
committed corpus stays small; the corpus is replayed by CTest on every run (fuzz.replay.<target>).

    tests/fuzz/make_seeds.py [SAMPLES_DIR] [OUT_DIR]     (defaults: samples/ and tests/fuzz/corpus/)
    tests/fuzz/make_seeds.py --from-pcap FILE OUT_DIR     (regression inputs from a reproducer capture)

Standard library only; reads classic pcap through tests/tools/variants.py (pcapng files are
used by the pipeline target only).
"""

import hashlib
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import variants  # noqa: E402

MAX_SEED = 8192
SYN, FIN, RST, ACK = variants.SYN, variants.FIN, variants.RST, variants.ACK
LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]   # decode_fuzz.cpp's table


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    data = bytes(data)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def seed_bytes(name):
    return hashlib.sha256(name.encode()).digest()[:4]


def unmask(payload, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_messages(d):
    """(opcode, compressed, payload) of each complete data message of a direction, unmasked."""
    msgs, cur = [], None
    for (h0, h1, end, fin, op, masked) in d.frames:
        if end > len(d.stream):
            break
        raw = d.stream[h1:end]
        if masked:
            raw = unmask(raw, d.stream[h1 - 4:h1])
        if op >= 8:
            continue
        if op != 0:
            cur = [op, bool(d.stream[h0] & 0x40), bytearray()]
        if cur is None:
            continue
        cur[2] += raw
        if fin:
            msgs.append((cur[0], cur[1], bytes(cur[2])))
            cur = None
    return msgs


def conversation_script(c):
    """The conversation target's steps for one connection, from its segments in capture order."""
    syn = next((s for s in c.segs if s.flags & SYN and not s.flags & ACK), None)
    synack = next((s for s in c.segs if s.flags & SYN and s.flags & ACK), None)
    flags = 1 if syn is not None and synack is not None else 0
    isn_c = syn.seq if syn is not None else 0
    isn_s = synack.seq if synack is not None else 0
    out = bytearray([flags]) + struct.pack("<II", isn_c, isn_s)
    sent = {"c2s": 0, "s2c": 0}
    for s in c.segs:
        d = s.dir
        side = 0 if d.name == "c2s" else 1
        if s.flags & RST:
            out.append(side | (3 << 1))
            continue
        if s.plen > 0 and d.base is not None:
            rel = (s.seq - d.base) % variants.MOD
            if rel + s.plen <= sent[d.name]:
                out.append(side | (5 << 1))                  # retransmission
                continue
            data = d.stream[max(rel, sent[d.name]):rel + s.plen]
            gap = rel - sent[d.name]
            kind, param = 0, 15                              # one segment
            if 0 < gap <= 16:
                kind, param = 1, gap - 1
            elif s.flags & FIN:
                kind, param = 2, 0
            out.append(side | (kind << 1) | (param << 4))
            out += struct.pack("<H", len(data)) + data
            sent[d.name] = rel + s.plen
            if s.flags & FIN and kind != 2:
                out += bytes([side | (2 << 1)]) + b"\x00\x00"
        elif s.flags & FIN:
            out += bytes([side | (2 << 1)]) + b"\x00\x00"
        if len(out) > MAX_SEED:
            break
    return bytes(out)


def deflate_config(head, side):
    """inflate_fuzz.cpp's config byte for one side's messages, from the 101 response's extensions."""
    m = re.search(rb"(?im)^sec-websocket-extensions:(.*)$", head)
    ext = m.group(1) if m else b""
    who = b"server" if side == "s2c" else b"client"
    bits = re.search(who + rb"_max_window_bits=(\d+)", ext)
    cfg = (int(bits.group(1)) - 8) & 7 if bits else 7
    if who + b"_no_context_takeover" in ext:
        cfg |= 8
    return cfg


# tunnel_fuzz.cpp's carriers: (outer, value) -> index; outer "udp4", "ip4", "ip6" or "ether"
TUNNEL_CARRIERS = [("udp4", 4789), ("udp4", 8472), ("udp4", 6081), ("udp4", 2152), ("ip4", 47), ("ip4", 4),
                   ("ip4", 41), ("ip6", 47), ("ip6", 4), ("ip6", 41), ("ip4", 137), ("ether", 0x8847),
                   ("ether", 0x8864)]


def tunnel_body(frame):
    """(carrier index, the bytes after the outer headers tunnel_fuzz.cpp writes) of an Ethernet frame
    whose outer layer leads to a tunnel, else None."""
    if len(frame) < 14:
        return None
    etype = struct.unpack_from(">H", frame, 12)[0]
    if ("ether", etype) in TUNNEL_CARRIERS:
        return TUNNEL_CARRIERS.index(("ether", etype)), frame[14:]
    if etype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 15) * 4
        proto = frame[23]
        if proto == 17 and len(frame) >= 14 + ihl + 8:
            port = struct.unpack_from(">H", frame, 14 + ihl + 2)[0]
            if ("udp4", port) in TUNNEL_CARRIERS:
                return TUNNEL_CARRIERS.index(("udp4", port)), frame[14 + ihl + 8:]
        elif ("ip4", proto) in TUNNEL_CARRIERS:
            return TUNNEL_CARRIERS.index(("ip4", proto)), frame[14 + ihl:]
    if etype == 0x86DD and len(frame) >= 54 and ("ip6", frame[20]) in TUNNEL_CARRIERS:
        return TUNNEL_CARRIERS.index(("ip6", frame[20])), frame[54:]
    return None


def from_pcap(path, out):
    """Regression inputs in this harness's formats from a reproducer capture: the conversation
    script of each connection (OUT/conversation/NAME-N) and its compressed messages
    (OUT/inflate/NAME-N-DIR)."""
    base = os.path.basename(path).rsplit(".", 1)[0]
    cap = variants.Capture(path)
    for c in cap.conns:
        tag = f"{base}-{c.id}"
        write(out, "conversation", tag, conversation_script(c))
        sd = c.dirs["s2c"]
        resp = sd.stream[:max(0, sd.stream.find(b"\r\n\r\n"))]
        for d in (c.dirs["c2s"], sd):
            zmsgs = [p for (op, z, p) in ws_messages(d) if z]
            if zmsgs:
                body = b"".join(struct.pack("<H", len(p)) + p for p in zmsgs)
                write(out, "inflate", f"{tag}-{d.name}", bytes([deflate_config(resp, d.name)]) + b"\0\0\0\0" + body)
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--from-pcap":
        return from_pcap(argv[2], argv[3])
    samples = argv[1] if len(argv) > 1 else os.path.join(ROOT, "samples")
    out = argv[2] if len(argv) > 2 else os.path.join(HERE, "corpus")
    names = sorted(f for f in os.listdir(samples) if f.endswith((".pcap", ".pcapng")))
    counts = {}

    seen = set()

    def put(target, name, data):
        key = (target, hashlib.sha256(bytes(data)).digest())
        if key in seen:
            return
        seen.add(key)
        write(out, target, name, data)
        counts[target] = counts.get(target, 0) + 1

    for name in names:
        path = os.path.join(samples, name)
        base = name.rsplit(".", 1)[0]
        with open(path, "rb") as f:
            raw = f.read()
        if len(raw) <= 64 * 1024:
            put("pipeline", name, raw)
        try:
            cap = variants.Capture(path)
        except variants.NotClassicPcap:
            continue
        except ValueError as e:
            print(f"make_seeds: {name}: {e}", file=sys.stderr)
            continue
        if len(raw) > 64 * 1024:
            # a big capture: its first records, up to 24 KB
            recs, total = [], 0
            for r in cap.pcap.records:
                total += len(r.data) + 16
                if total > 24 * 1024:
                    break
                recs.append(r)
            tmp = os.path.join(out, "pipeline", name)
            os.makedirs(os.path.dirname(tmp), exist_ok=True)
            cap.pcap.write(tmp, recs)
            counts["pipeline"] = counts.get("pipeline", 0) + 1

        # tunnel: each record's bytes after the outer headers the harness writes itself
        if cap.pcap.linktype == 1:
            recs, carrier = bytearray(), None
            for r in cap.pcap.records[:16]:
                tb = tunnel_body(r.data)
                if tb is None or (carrier is not None and tb[0] != carrier):
                    continue
                carrier = tb[0]
                recs += struct.pack("<HB", len(tb[1]), max(0, min(255, r.orig_len - len(r.data)))) + tb[1]
            if carrier is not None:
                put("tunnel", base, bytes([carrier, 3]) + recs)

        # tls: each direction's stream of a TLS connection, from its first record header
        for c in cap.conns[:2]:
            for d in (c.dirs["c2s"], c.dirs["s2c"]):
                if len(d.stream) >= 5 and d.stream[0] in (0x14, 0x15, 0x16, 0x17) and d.stream[1] == 3:
                    flags = 0x40 if d.name == "s2c" else 0x00
                    tag = f"{base}-{c.id}-{d.name}"
                    put("tls", tag, bytes([flags]) + seed_bytes(tag) + d.stream[:MAX_SEED])
                    put("tls", tag + "-gap", bytes([flags | 5]) + seed_bytes(tag) + b"\x20" + d.stream[:MAX_SEED])

        # decode: the first records, raw, with the capture's link type
        lt = cap.pcap.linktype
        if lt in LINKTYPES:
            rec = bytearray([LINKTYPES.index(lt), 0])
            for r in cap.pcap.records[:12]:
                rec += struct.pack("<HBB", len(r.data), max(0, min(255, r.orig_len - len(r.data))), 1) + r.data
            put("decode", base, rec)

        for c in cap.conns[:2]:
            tag = f"{base}-{c.id}"
            put("conversation", tag, conversation_script(c)[:MAX_SEED])
            cd, sd = c.dirs["c2s"], c.dirs["s2c"]
            # http_head: the request head, then the response head
            heads = b""
            for d in (cd, sd):
                end = d.stream.find(b"\r\n\r\n")
                if d.stream.startswith((b"GET ", b"HTTP/")) and end >= 0:
                    heads += d.stream[:end + 4]
            if heads:
                put("http_head", tag, b"\x00" + seed_bytes(tag) + heads)
            resp = sd.stream[:max(0, sd.stream.find(b"\r\n\r\n"))]
            for d in (cd, sd):
                if d.ws_start is None or not d.frames:
                    continue
                frames = d.stream[d.ws_start:d.ws_start + 4096]
                put("frame_parser", f"{tag}-{d.name}", b"\x00" + seed_bytes(tag + d.name) + frames)
                put("frame_parser", f"{tag}-{d.name}-gaps", b"\x03" + seed_bytes(tag) + frames)
                msgs = ws_messages(d)
                texts = [p for (op, z, p) in msgs if op == 1 and not z]
                if texts:
                    put("utf8", f"{tag}-{d.name}", seed_bytes(tag) + b"".join(texts)[:4096])
                zmsgs = [p for (op, z, p) in msgs if z][:16]
                if zmsgs:
                    body = b"".join(struct.pack("<H", len(p)) + p for p in zmsgs if len(p) < 65536)
                    put("inflate", f"{tag}-{d.name}", bytes([deflate_config(resp, d.name)]) + seed_bytes(tag) + body)

    # keylog: the key logs written by the TLS samples' clients, and the head of a pcapng file with
    # Decryption Secrets Blocks (its blocks up to the first packet)
    for name in sorted(f for f in os.listdir(samples) if f.endswith(".keys")):
        with open(os.path.join(samples, name), "rb") as f:
            text = f.read()[:MAX_SEED]
        put("keylog", name.rsplit(".", 1)[0], b"\x00" + seed_bytes(name) + text)
    for name in sorted(f for f in os.listdir(samples) if f.endswith(".pcapng")):
        with open(os.path.join(samples, name), "rb") as f:
            raw = f.read()
        head, at = bytearray(), 0
        while at + 12 <= len(raw) and len(head) < 4 * MAX_SEED:
            btype, blen = struct.unpack_from("<II", raw, at)
            if blen < 12 or btype in (2, 3, 6):
                break
            head += raw[at:at + blen]
            at += blen
        if any(struct.unpack_from("<I", head, i)[0] == 0x544C534B for i in range(0, max(0, len(head) - 3), 4)):
            put("keylog", name.rsplit(".", 1)[0], b"\x01" + seed_bytes(name) + bytes(head))

    # decode: IPv4 fragments cut from a real TCP segment (first fragment, a middle one, the last).
    frag_src = os.path.join(samples, "close-1000-by-client.pcap")
    if os.path.exists(frag_src):
        cap = variants.Capture(frag_src)
        seg = next(s for s in cap.segs if s.plen > 40)
        pkt = cap.pcap.records[seg.idx].data
        l3, ihl = seg.l3, seg.ip_hlen
        body = pkt[l3 + ihl:l3 + struct.unpack_from(">H", pkt, l3 + 2)[0]]
        recs = bytearray([1, 0])
        for off, chunk_len, more in ((0, 16, 1), (16, 24, 1), (40, len(body) - 40, 0)):
            ip = bytearray(pkt[l3:l3 + ihl])
            struct.pack_into(">H", ip, 2, ihl + chunk_len)
            struct.pack_into(">H", ip, 6, (more << 13) | (off // 8))
            frame = pkt[:l3] + bytes(ip) + body[off:off + chunk_len]
            recs += struct.pack("<HBB", len(frame), 0, 1) + frame
        put("decode", "ipv4-fragments", recs)
    for t in sorted(counts):
        print(f"make_seeds: {counts[t]:4} seeds for {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
