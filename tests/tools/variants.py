#!/usr/bin/env python3
"""Variants of a real capture: rewrite one sample and check what wsdiag makes of it.

usage: variants.py check WSDIAG SAMPLE VARIANT... [--keep DIR]
       variants.py run WSDIAG [--keep DIR] < PLAN         (PLAN lines: SAMPLE VARIANT...; # comments)
       variants.py rewrite IN.pcap OUT.pcap VARIANT        (writes one variant, says what it did)
       variants.py streams IN.pcap                         (lists connections, segments and frames)

VARIANT is one of
  drop        drop one data segment from the middle of a long frame's payload (not the frame's first
              or last segment, no frame header in it), keeping every ACK: the peer acknowledges past
              it, so wsdiag must report capture-gap for the sender's side, with the verdict (code,
              side), TCP end and the frame list unchanged (RFC-wise the gap is inside a payload of
              known length, so framing stays intact: ARCHITECTURE.md / STYLE.md §7.2 "Gaps").
  dup         every data segment twice in a row: verdict, findings and frames unchanged, no capture-gap
  swap        two adjacent data segments of one direction swap places (their timestamps stay put),
              chosen so no ACK of the first lies between them: unchanged, no capture-gap
  late        a data segment sent before its side's FIN is captured late: moved to just after the
              peer's first ACK of that FIN (taking that packet's timestamp), with another data
              segment of the side between it and the FIN (so bytes wait behind the hole when the ACK
              comes) and no ACK of its bytes before the FIN: reordering or a late retransmission
              (issue #10 §4). Verdict, findings and frames unchanged, no capture-gap
  snaplen:N   every record cut to N bytes (header snaplen N): snaplen-truncated; the verdict code is
              unchanged when every Close frame lies whole in the captured bytes, and also its side and
              the TCP end when, in addition, no frame header and no handshake byte was cut (the
              evidence then still has the frame boundaries)
  split       one data segment carrying a frame header split into two TCP segments at a byte inside
              that header (the Close frame's when there is one): IPv4 total length / IPv6 payload
              length and TCP seq fixed, checksums recomputed: verdict, findings and frames unchanged,
              and `wsdiag --frames` has as many lines

Reads classic pcap (either byte order, us or ns) with link types Ethernet (VLAN tags too), Linux SLL,
Linux SLL2, BSD NULL/LOOP and raw IP; IPv4 and IPv6 (no extension headers); pure python, struct only.
A VARIANT written NAME? is optional: when the capture has nothing it can rewrite, `check` prints
`n/a` instead of failing. `check` prints one line per variant, `ok   SAMPLE VARIANT: ...` or `FAIL SAMPLE VARIANT: ...` with the
reasons, and exits 1 if any failed. Comparisons of findings are of (rule, side, severity) multisets,
and of frames per connection and direction with the packet and time columns left out (a rewrite moves
packet numbers).
"""
import collections
import json
import os
import struct
import subprocess
import sys
import tempfile

MOD = 1 << 32
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


# ----------------------------------------------------------------------------------------------
# pcap I/O

class NotClassicPcap(ValueError):
    """A pcapng file: readable by wsdiag, not by this helper."""


class Record:
    __slots__ = ("ts_sec", "ts_frac", "orig_len", "data")

    def __init__(self, ts_sec, ts_frac, orig_len, data):
        self.ts_sec, self.ts_frac, self.orig_len, self.data = ts_sec, ts_frac, orig_len, data


class Pcap:
    def __init__(self, endian, magic, vmaj, vmin, thiszone, sigfigs, snaplen, linktype, records):
        self.endian, self.magic = endian, magic
        self.vmaj, self.vmin, self.thiszone, self.sigfigs = vmaj, vmin, thiszone, sigfigs
        self.snaplen, self.linktype, self.records = snaplen, linktype, records

    @classmethod
    def read(cls, path):
        with open(path, "rb") as f:
            buf = f.read()
        if len(buf) < 24:
            raise ValueError(f"{path}: too short for a pcap header")
        magic_le = struct.unpack_from("<I", buf, 0)[0]
        if magic_le in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        elif struct.unpack_from(">I", buf, 0)[0] in (0xA1B2C3D4, 0xA1B23C4D):
            endian = ">"
        elif magic_le == 0x0A0D0D0A:
            raise NotClassicPcap(f"{path}: pcapng; variants.py reads classic pcap only")
        else:
            raise ValueError(f"{path}: not a classic pcap file")
        magic, vmaj, vmin, zone, sig, snap, lt = struct.unpack_from(endian + "IHHiIII", buf, 0)
        records = []
        pos = 24
        while pos + 16 <= len(buf):
            ts, frac, incl, orig = struct.unpack_from(endian + "IIII", buf, pos)
            pos += 16
            if incl > len(buf) - pos:
                raise ValueError(f"{path}: record {len(records) + 1} runs past the end of the file")
            records.append(Record(ts, frac, orig, bytes(buf[pos:pos + incl])))
            pos += incl
        if pos != len(buf):
            raise ValueError(f"{path}: {len(buf) - pos} stray bytes after the last record")
        return cls(endian, magic, vmaj, vmin, zone, sig, snap, lt & 0x0FFFFFFF, records)

    def write(self, path, records=None, snaplen=None):
        e = self.endian
        out = [struct.pack(e + "IHHiIII", self.magic, self.vmaj, self.vmin, self.thiszone,
                           self.sigfigs, self.snaplen if snaplen is None else snaplen, self.linktype)]
        for r in self.records if records is None else records:
            out.append(struct.pack(e + "IIII", r.ts_sec, r.ts_frac, len(r.data), r.orig_len))
            out.append(r.data)
        with open(path, "wb") as f:
            f.write(b"".join(out))


# ----------------------------------------------------------------------------------------------
# decoding (just enough to find TCP segments)

LT_NULL, LT_EN10MB, LT_RAW, LT_LOOP, LT_SLL, LT_SLL2, LT_RAW_OLD = 0, 1, 101, 108, 113, 276, 12


class Seg:
    """One TCP segment in a record. Offsets are into the record's data."""
    __slots__ = ("idx", "ipv", "l3", "ip_hlen", "tcp", "tcp_hlen", "src", "dst", "sport", "dport",
                 "seq", "ack", "flags", "plen", "poff", "conn", "dir", "rel")

    @property
    def payload_end(self):
        return self.poff + self.plen


def l3_offset(linktype, d):
    """(offset of the IP header, IP version) or None."""
    if linktype == LT_EN10MB:
        off, etype = 14, (struct.unpack_from(">H", d, 12)[0] if len(d) >= 14 else None)
        while etype in (0x8100, 0x88A8) and len(d) >= off + 4:
            etype = struct.unpack_from(">H", d, off + 2)[0]
            off += 4
    elif linktype == LT_SLL:
        off, etype = 16, (struct.unpack_from(">H", d, 14)[0] if len(d) >= 16 else None)
    elif linktype == LT_SLL2:
        off, etype = 20, (struct.unpack_from(">H", d, 0)[0] if len(d) >= 20 else None)
    elif linktype in (LT_NULL, LT_LOOP):
        if len(d) < 4:
            return None
        fam = struct.unpack_from(">I" if linktype == LT_LOOP else "<I", d, 0)[0]
        if linktype == LT_NULL and fam > 0xFFFF:
            fam = struct.unpack_from(">I", d, 0)[0]
        off, etype = 4, {2: 0x0800, 24: 0x86DD, 28: 0x86DD, 30: 0x86DD}.get(fam)
    elif linktype in (LT_RAW, LT_RAW_OLD):
        if not d:
            return None
        off, etype = 0, {4: 0x0800, 6: 0x86DD}.get(d[0] >> 4)
    else:
        raise ValueError(f"link type {linktype} is not supported by variants.py")
    return {0x0800: (off, 4), 0x86DD: (off, 6)}.get(etype, (None, None)) if etype else None


def decode(idx, linktype, d):
    r = l3_offset(linktype, d)
    if not r or r[0] is None:
        return None
    l3, ipv = r
    s = Seg()
    s.idx, s.ipv, s.l3 = idx, ipv, l3
    if ipv == 4:
        if len(d) < l3 + 20 or d[l3] >> 4 != 4:
            return None
        ihl = (d[l3] & 0x0F) * 4
        total = struct.unpack_from(">H", d, l3 + 2)[0]
        if d[l3 + 9] != 6 or struct.unpack_from(">H", d, l3 + 6)[0] & 0x3FFF:
            return None                             # not TCP, or a fragment
        s.ip_hlen, ip_end = ihl, l3 + total
        s.src, s.dst = d[l3 + 12:l3 + 16], d[l3 + 16:l3 + 20]
    else:
        if len(d) < l3 + 40 or d[l3] >> 4 != 6 or d[l3 + 6] != 6:
            return None                             # not TCP right after the fixed header
        s.ip_hlen, ip_end = 40, l3 + 40 + struct.unpack_from(">H", d, l3 + 4)[0]
        s.src, s.dst = d[l3 + 8:l3 + 24], d[l3 + 24:l3 + 40]
    s.tcp = l3 + s.ip_hlen
    if len(d) < s.tcp + 20:
        return None
    s.sport, s.dport, s.seq, s.ack, off_flags = struct.unpack_from(">HHIIH", d, s.tcp)
    s.tcp_hlen, s.flags = (off_flags >> 12) * 4, off_flags & 0x1FF
    s.poff = s.tcp + s.tcp_hlen
    s.plen = max(0, ip_end - s.poff)
    return s


def fmt_ep(ip, port):
    if len(ip) == 4:
        return ".".join(str(b) for b in ip) + f":{port}"
    return "[" + ":".join(f"{ip[i] << 8 | ip[i + 1]:x}" for i in range(0, 16, 2)) + f"]:{port}"


class Direction:
    def __init__(self, name):
        self.name = name            # "c2s" or "s2c"
        self.side = "client" if name == "c2s" else "server"
        self.base = None            # sequence number of stream offset 0
        self.segs = []              # data segments, capture order
        self.stream = b""
        self.complete = True        # every byte in [0, len) captured at least once
        self.ws_start = None        # stream offset where WebSocket frames begin
        self.frames = []            # (hdr_start, hdr_end, payload_end, fin, opcode, masked)


class Conn:
    def __init__(self, cid, client, server):
        self.id, self.client, self.server = cid, client, server
        self.dirs = {"c2s": Direction("c2s"), "s2c": Direction("s2c")}
        self.segs = []              # every segment, capture order

    def label(self):
        return f"#{self.id} {fmt_ep(*self.client)} -> {fmt_ep(*self.server)}"


def frame_at(buf, pos):
    """Parse a WebSocket frame header at pos: (hdr_len, payload_len, fin, opcode, masked) or None."""
    if len(buf) - pos < 2:
        return None
    b0, b1 = buf[pos], buf[pos + 1]
    n, hl = b1 & 0x7F, 2
    if n == 126:
        if len(buf) - pos < 4:
            return None
        n, hl = struct.unpack_from(">H", buf, pos + 2)[0], 4
    elif n == 127:
        if len(buf) - pos < 10:
            return None
        n, hl = struct.unpack_from(">Q", buf, pos + 2)[0], 10
    if b1 & 0x80:
        hl += 4
    if len(buf) - pos < hl:
        return None
    return hl, n, b0 >> 7, b0 & 0x0F, b1 >> 7


class Capture:
    """A pcap with its TCP connections, per-direction streams and WebSocket frame maps."""

    def __init__(self, path):
        self.path = path
        self.pcap = Pcap.read(path)
        self.conns = []
        self.segs = []
        keys = {}
        for i, rec in enumerate(self.pcap.records):
            s = decode(i, self.pcap.linktype, rec.data)
            if s is None:
                continue
            a, b = (s.src, s.sport), (s.dst, s.dport)
            key = frozenset((a, b))
            c = keys.get(key)
            if c is None:
                # the SYN's sender is the client; failing that, the first sender
                client, server = (b, a) if (s.flags & SYN and s.flags & ACK) else (a, b)
                c = keys[key] = Conn(len(self.conns) + 1, client, server)
                self.conns.append(c)
            s.conn = c
            s.dir = c.dirs["c2s" if a == c.client else "s2c"]
            c.segs.append(s)
            self.segs.append(s)
        self.seg_by_idx = {s.idx: s for s in self.segs}
        for c in self.conns:
            for d in c.dirs.values():
                self._assemble(c, d)

    def _assemble(self, c, d):
        syn = next((s for s in c.segs if s.dir is d and s.flags & SYN), None)
        data = [s for s in c.segs if s.dir is d and s.plen > 0]
        if syn is not None:
            d.base = (syn.seq + 1) % MOD
        elif data:
            d.base = data[0].seq
        else:
            return
        total = 0
        for s in data:
            s.rel = (s.seq - d.base) % MOD
            total = max(total, s.rel + s.plen)
        buf = bytearray(total)
        have = bytearray(total)
        for s in data:
            rec = self.pcap.records[s.idx].data
            got = rec[s.poff:min(len(rec), s.payload_end)]
            buf[s.rel:s.rel + len(got)] = got
            have[s.rel:s.rel + len(got)] = b"\x01" * len(got)
        d.segs, d.stream, d.complete = data, bytes(buf), all(have)
        # WebSocket frames start after the HTTP head, if the stream opens with one
        pos = 0
        if d.stream.startswith((b"GET ", b"HTTP/")):
            end = d.stream.find(b"\r\n\r\n")
            if end < 0:
                return
            pos = end + 4
        d.ws_start = pos
        while True:
            h = frame_at(d.stream, pos)
            if h is None:
                break
            hl, n, fin, op, masked = h
            d.frames.append((pos, pos + hl, pos + hl + n, fin, op, masked))
            pos += hl + n

    def seqlt(self, a, b):
        return (a - b) % MOD > MOD // 2

    def acked_beyond(self, seg_list, d, rel_end):
        """Segments of the other direction among seg_list acknowledging at least rel_end of d."""
        want = (d.base + rel_end) % MOD
        return [s for s in seg_list if s.dir is not d and s.flags & ACK and not self.seqlt(s.ack, want)]


# ----------------------------------------------------------------------------------------------
# rewriting

def checksum16(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def rebuild(cap, s, payload, seq, flags):
    """A copy of segment s's record carrying `payload` at `seq` with `flags`: IP length fixed,
    IPv4 header checksum and TCP checksum recomputed, any link-layer trailer dropped."""
    d = cap.pcap.records[s.idx].data
    head = bytearray(d[:s.poff])
    tcp_len = s.tcp_hlen + len(payload)
    if s.ipv == 4:
        struct.pack_into(">H", head, s.l3 + 2, s.ip_hlen + tcp_len)
        struct.pack_into(">H", head, s.l3 + 10, 0)
        struct.pack_into(">H", head, s.l3 + 10, checksum16(bytes(head[s.l3:s.l3 + s.ip_hlen])))
        pseudo = bytes(head[s.l3 + 12:s.l3 + 20]) + struct.pack(">BBH", 0, 6, tcp_len)
    else:
        struct.pack_into(">H", head, s.l3 + 4, tcp_len)
        pseudo = bytes(head[s.l3 + 8:s.l3 + 40]) + struct.pack(">IxxxB", tcp_len, 6)
    struct.pack_into(">I", head, s.tcp + 4, seq % MOD)
    off_flags = struct.unpack_from(">H", head, s.tcp + 12)[0]
    struct.pack_into(">H", head, s.tcp + 12, (off_flags & ~0x1FF) | flags)
    struct.pack_into(">H", head, s.tcp + 16, 0)
    struct.pack_into(">H", head, s.tcp + 16,
                     checksum16(pseudo + bytes(head[s.tcp:s.poff]) + bytes(payload)))
    out = bytes(head) + bytes(payload)
    return out


class VariantError(Exception):
    """The capture has nothing this variant can rewrite (e.g. no frame spans three segments)."""


def ws_conns(cap):
    return [c for c in cap.conns if c.dirs["c2s"].ws_start is not None and
            c.dirs["c2s"].frames + c.dirs["s2c"].frames]


def frame_of(d, rel):
    """The frame whose bytes include stream offset rel."""
    for f in d.frames:
        if f[0] <= rel < f[2]:
            return f
    return None


def headers_in(d, lo, hi):
    return [f for f in d.frames if f[0] < hi and lo < f[1]]


def variant_drop(cap):
    best = None
    for c in ws_conns(cap):
        for d in c.dirs.values():
            if not d.complete:
                continue
            for k, s in enumerate(d.segs):
                if s.flags & (SYN | FIN | RST) or s.rel < d.ws_start:
                    continue
                lo, hi = s.rel, s.rel + s.plen
                f = frame_of(d, lo)
                # entirely inside one payload, with payload bytes of the same frame before and after
                if f is None or not (f[1] < lo and hi < f[2]):
                    continue
                if f[2] > len(d.stream) or f[2] - f[1] >= 1 << 63:
                    continue                         # an impossible length: no payload to lose (issue #10 §3)
                if any(o is not s and o.rel < hi and lo < o.rel + o.plen for o in d.segs):
                    continue                         # retransmitted elsewhere: nothing would be missing
                later = [o for o in c.segs if o.idx > s.idx]
                if not cap.acked_beyond(later, d, hi):
                    continue                         # nobody acknowledges it: not provably lost
                if best is None or s.plen > best[2].plen:
                    best = (c, d, s, f)
    if best is None:
        raise VariantError("no data segment lies inside a frame payload with payload before and after "
                           "it and an ACK past it")
    c, d, s, f = best
    recs = [r for i, r in enumerate(cap.pcap.records) if i != s.idx]
    info = dict(conn=c.id, side=d.side, dir=d.name, gap_bytes=s.plen,
                what=f"dropped packet {s.idx + 1} ({d.name}, {s.plen} payload bytes at stream offset "
                     f"{s.rel}, inside the {f[2] - f[1]}-byte payload of the frame at offset {f[0]})")
    return recs, info


def variant_dup(cap):
    recs, n = [], 0
    for i, r in enumerate(cap.pcap.records):
        recs.append(r)
        s = cap.seg_by_idx.get(i)
        if s is not None and s.plen > 0:
            recs.append(Record(r.ts_sec, r.ts_frac, r.orig_len, r.data))
            n += 1
    if n == 0:
        raise VariantError("no data segments")
    return recs, dict(what=f"duplicated all {n} data segments (each copy right after the original)")


def variant_swap(cap):
    candidates = []
    for c in ws_conns(cap):
        for d in c.dirs.values():
            for a, b in zip(d.segs, d.segs[1:]):
                if (a.flags | b.flags) & (SYN | FIN | RST) or a.rel < d.ws_start:
                    continue
                between = [o for o in c.segs if a.idx < o.idx < b.idx]
                if cap.acked_beyond(between, d, a.rel + 1):
                    continue                         # the peer ACKs a's bytes before b: would be loss
                if b.rel != a.rel + a.plen:
                    continue                         # not contiguous (retransmission etc.)
                hdrs = len(headers_in(d, a.rel, a.rel + a.plen)) + len(headers_in(d, b.rel, b.rel + b.plen))
                # prefer truly adjacent records, then segments that carry frame headers
                candidates.append(((b.idx - a.idx == 1), min(hdrs, 4), -a.idx, c, d, a, b))
    if not candidates:
        raise VariantError("no two contiguous data segments of one direction without an ACK between them")
    *_, c, d, a, b = max(candidates, key=lambda t: t[:3])
    recs = list(cap.pcap.records)
    ra, rb = recs[a.idx], recs[b.idx]
    recs[a.idx] = Record(ra.ts_sec, ra.ts_frac, rb.orig_len, rb.data)
    recs[b.idx] = Record(rb.ts_sec, rb.ts_frac, ra.orig_len, ra.data)
    n_hdr = len(headers_in(d, a.rel, b.rel + b.plen))
    return recs, dict(conn=c.id, what=f"swapped packets {a.idx + 1} and {b.idx + 1} ({d.name}, "
                                     f"{a.plen}+{b.plen} bytes at stream offset {a.rel}, "
                                     f"{n_hdr} frame header(s) in them)")


def variant_late(cap):
    candidates = []
    for c in ws_conns(cap):
        for d in c.dirs.values():
            fin = next((o for o in c.segs if o.dir is d and o.flags & FIN), None)
            if fin is None or d.base is None:
                continue
            fin_rel = (fin.seq - d.base) % MOD + fin.plen
            ack_of_fin = next((o for o in cap.acked_beyond(c.segs, d, fin_rel + 1) if o.idx > fin.idx), None)
            if ack_of_fin is None:
                continue
            for a in d.segs:
                if a.idx >= fin.idx or a.rel < d.ws_start or a.flags & (SYN | FIN | RST):
                    continue
                behind = [o for o in d.segs if a.idx < o.idx <= fin.idx and o.rel > a.rel]
                if not behind:
                    continue                     # nothing waits behind the hole: not the case at stake
                between = [o for o in c.segs if a.idx < o.idx < fin.idx]
                if cap.acked_beyond(between, d, a.rel + 1):
                    continue                     # acknowledged before the FIN: that is capture loss
                candidates.append((a.idx, c, d, a, fin, ack_of_fin))
    if not candidates:
        raise VariantError("no data segment before a FIN with data behind it and the FIN acknowledged")
    _, c, d, a, fin, p = max(candidates, key=lambda t: t[0])
    recs = list(cap.pcap.records)
    moved = recs[a.idx]
    tp = recs[p.idx]
    late = Record(tp.ts_sec, tp.ts_frac, moved.orig_len, moved.data)
    out = [r for i, r in enumerate(recs) if i != a.idx]
    out.insert(p.idx, late)                      # p.idx is now p's index + 1 after the removal: just after p
    return out, dict(conn=c.id, what=f"moved packet {a.idx + 1} ({d.name}, {a.plen} bytes at stream offset "
                                     f"{a.rel}) after packet {p.idx + 1}, the peer's ACK of the FIN "
                                     f"(packet {fin.idx + 1})")


def variant_snaplen(cap, n):
    recs = [Record(r.ts_sec, r.ts_frac, r.orig_len, r.data[:n]) for r in cap.pcap.records]
    cut = sum(1 for r in cap.pcap.records if len(r.data) > n)
    if cut == 0:
        raise VariantError(f"no record is longer than {n} bytes")
    # What the evidence still holds, per WebSocket connection.
    closes_fit, sync_kept, lost_close = True, True, []
    for c in ws_conns(cap):
        for d in c.dirs.values():
            have = bytearray(len(d.stream))
            for s in d.segs:
                kept = max(0, min(n, len(cap.pcap.records[s.idx].data)) - s.poff)
                have[s.rel:s.rel + min(kept, s.plen)] = b"\x01" * min(kept, s.plen)
            if not all(have[:d.ws_start]):
                sync_kept = False                    # part of the HTTP head is cut
            for f in d.frames:
                if not all(have[f[0]:f[1]]):
                    sync_kept = False                # a frame header is cut
                if f[4] == 8 and not all(have[f[0]:f[2]]):
                    closes_fit = False
                    lost_close.append(f"#{c.id} {d.name} Close at stream offset {f[0]}")
    tcp_headers_fit = all(s.poff <= n for s in cap.segs)
    info = dict(snaplen=n, closes_fit=closes_fit, sync_kept=sync_kept, tcp_headers_fit=tcp_headers_fit,
                what=f"cut every record to {n} bytes ({cut} of {len(recs)} were longer); Close frames "
                     f"{'all whole' if closes_fit else 'cut: ' + ', '.join(lost_close)}; frame headers "
                     f"and handshake {'all whole' if sync_kept else 'partly cut'}")
    return recs, info


def variant_split(cap):
    choice = None
    for c in ws_conns(cap):
        for d in c.dirs.values():
            for s in d.segs:
                rec = cap.pcap.records[s.idx]
                if s.flags & (SYN | RST) or len(rec.data) < s.payload_end or rec.orig_len != len(rec.data):
                    continue
                for f in headers_in(d, s.rel, s.rel + s.plen):
                    if not (s.rel <= f[0] and f[1] <= s.rel + s.plen):
                        continue                     # header not wholly in this segment
                    # prefer a Close frame's header, then the longest header
                    score = (f[4] == 8, f[1] - f[0])
                    if choice is None or score > choice[0]:
                        choice = (score, c, d, s, f)
    if choice is None:
        raise VariantError("no data segment holds a whole frame header")
    _, c, d, s, f = choice
    hl = f[1] - f[0]
    k = f[0] - s.rel + max(1, hl // 2)               # a byte inside the header
    rec = cap.pcap.records[s.idx]
    payload = rec.data[s.poff:s.payload_end]
    first = rebuild(cap, s, payload[:k], s.seq, s.flags & ~(FIN | PSH))
    second = rebuild(cap, s, payload[k:], s.seq + k, s.flags)
    recs = list(cap.pcap.records)
    recs[s.idx:s.idx + 1] = [Record(rec.ts_sec, rec.ts_frac, len(first), first),
                             Record(rec.ts_sec, rec.ts_frac, len(second), second)]
    kind = {8: "Close", 9: "Ping", 10: "Pong", 1: "text", 2: "binary", 0: "continuation"}.get(f[4], f"opcode {f[4]}")
    return recs, dict(conn=c.id, what=f"split packet {s.idx + 1} ({d.name}, {s.plen} bytes) after payload "
                                      f"byte {k}: byte {k - (f[0] - s.rel)} of the {hl}-byte header of a "
                                      f"{kind} frame")


def make_variant(cap, name):
    """(records, snaplen for the file header, info dict)."""
    if name == "drop":
        recs, info = variant_drop(cap)
    elif name == "dup":
        recs, info = variant_dup(cap)
    elif name == "swap":
        recs, info = variant_swap(cap)
    elif name == "late":
        recs, info = variant_late(cap)
    elif name == "split":
        recs, info = variant_split(cap)
    elif name.startswith("snaplen:") and name[8:].isdigit() and int(name[8:]) > 0:
        recs, info = variant_snaplen(cap, int(name[8:]))
        return recs, int(name[8:]), info
    else:
        raise ValueError(f"unknown variant {name!r}")
    return recs, None, info


# ----------------------------------------------------------------------------------------------
# checking

def run_wsdiag(binary, path):
    """(JSON report, --frames header columns, --frames rows) or raises RuntimeError."""
    r = subprocess.run([binary, "--format", "json", "--no-progress", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError(f"wsdiag exited {r.returncode}: {r.stderr.decode('utf-8', 'replace').strip()}")
    report = json.loads(r.stdout)
    r = subprocess.run([binary, "--frames", "--no-progress", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError(f"wsdiag --frames exited {r.returncode}: "
                           f"{r.stderr.decode('utf-8', 'replace').strip()}")
    lines = r.stdout.decode("utf-8", "replace").splitlines()
    header = lines[0].split("\t") if lines else []
    rows = [ln.split("\t") for ln in lines[1:]]
    return report, header, rows


def frames_by_dir(header, rows, drop_cols=("packet", "time")):
    keep = [i for i, h in enumerate(header) if h not in drop_cols]
    ci, di = header.index("conn"), header.index("dir")
    out = collections.defaultdict(list)
    for r in rows:
        out[(r[ci], r[di])].append(tuple(r[i] if i < len(r) else "" for i in keep))
    return dict(out)


def findings(conn):
    return collections.Counter((f.get("rule"), f.get("side"), f.get("severity")) for f in conn.get("findings") or [])


def fmt_findings(counter):
    return ", ".join(f"{r}/{s}" + (f" x{n}" if n > 1 else "") for (r, s, _), n in sorted(counter.items(), key=str)) or "none"


def conn_key(c):
    return (c.get("client"), c.get("server"))


def verdict_str(c):
    v = c.get("verdict") or {}
    return f"{v.get('code') if v.get('code') is not None else v.get('name')} {v.get('side')}, tcp {(c.get('tcp_end') or {}).get('how')}"


def compare(variant, info, base, new):
    """Every problem with the variant's result (empty list: as expected)."""
    (brep, bhdr, brows), (nrep, nhdr, nrows) = base, new
    problems = []
    bconns = {conn_key(c): c for c in brep["connections"]}
    nconns = {conn_key(c): c for c in nrep["connections"]}
    if set(nconns) - set(bconns):
        problems.append(f"new connections: {sorted(set(nconns) - set(bconns), key=str)}")
    missing = sorted(set(bconns) - set(nconns), key=str)
    if missing and variant.startswith("snaplen:") and not info["closes_fit"]:
        # the cut leaves too little to recognise WebSocket (e.g. "GET / HTTP" of the request): the
        # connection may leave the report, but the truncation must still be counted
        truncated = (nrep.get("stats") or {}).get("payload_truncated")
        if truncated is not None and truncated == 0:
            problems.append("stats.payload_truncated is 0")
        info["what"] += f"; {len(missing)} connection(s) no longer recognised as WebSocket"
    elif missing:
        problems.append(f"connections missing from the report: {missing}")
    strict = variant in ("dup", "swap", "split", "late")
    bframes, nframes = frames_by_dir(bhdr, brows), frames_by_dir(nhdr, nrows)
    for key, b in bconns.items():
        n = nconns.get(key)
        if n is None:
            continue
        tag = f"#{b.get('id')}: " if len(bconns) > 1 else ""
        bv, nv = b.get("verdict") or {}, n.get("verdict") or {}
        bt, nt = b.get("tcp_end") or {}, n.get("tcp_end") or {}
        bf, nf = findings(b), findings(n)
        gap_rules = [k for k in nf if k[0] == "capture-gap"]

        def same(fields, what, bd, nd):
            for fld in fields:
                if bd.get(fld) != nd.get(fld):
                    problems.append(f"{tag}{what}.{fld} is {json.dumps(nd.get(fld))}, was "
                                    f"{json.dumps(bd.get(fld))}")

        if strict:
            same(("code", "name", "side", "severity"), "verdict", bv, nv)
            same(("how", "by"), "tcp_end", bt, nt)
            if bf != nf:
                problems.append(f"{tag}findings are [{fmt_findings(nf)}], were [{fmt_findings(bf)}]")
            elif gap_rules:
                problems.append(f"{tag}capture-gap reported (also on the original)")
            if b.get("frames") != n.get("frames"):
                problems.append(f"{tag}frames {n.get('frames')}, were {b.get('frames')}")
        elif variant == "drop" and b.get("id") == info["conn"]:
            same(("code", "name", "side"), "verdict", bv, nv)
            same(("how", "by"), "tcp_end", bt, nt)
            if ("capture-gap", info["side"]) not in {(r, s) for r, s, _ in nf}:
                problems.append(f"{tag}no capture-gap finding for the {info['side']} "
                                f"(findings: {fmt_findings(nf)})")
            gap = (((n.get("traffic") or {}).get(info["side"]) or {}).get("gap_bytes"))
            if gap is not None and gap != info["gap_bytes"]:
                problems.append(f"{tag}traffic.{info['side']}.gap_bytes is {gap}, expected {info['gap_bytes']}")
            if b.get("frames") != n.get("frames"):
                problems.append(f"{tag}frames {n.get('frames')}, were {b.get('frames')} (the gap lies "
                                "inside one payload of known length: framing should stay intact)")
            lost = bf - nf
            if lost:
                problems.append(f"{tag}findings lost: {fmt_findings(lost)}")
        elif variant == "drop":
            same(("code", "name", "side", "severity"), "verdict", bv, nv)
            if bf != nf:
                problems.append(f"{tag}(untouched connection) findings [{fmt_findings(nf)}], were [{fmt_findings(bf)}]")
        elif variant.startswith("snaplen:"):
            if "snaplen-truncated" not in {r for r, _, _ in nf}:
                problems.append(f"{tag}no snaplen-truncated finding (findings: {fmt_findings(nf)})")
            if info["tcp_headers_fit"]:
                same(("how", "by"), "tcp_end", bt, nt)
            if info["closes_fit"]:
                same(("code", "side"), "verdict", bv, nv)
            if info["closes_fit"] and info["sync_kept"]:
                same(("name",), "verdict", bv, nv)
                if b.get("frames") != n.get("frames"):
                    problems.append(f"{tag}frames {n.get('frames')}, were {b.get('frames')}")
            if gap_rules and not [k for k in bf if k[0] == "capture-gap"]:
                problems.append(f"{tag}capture-gap reported, but truncation is not capture loss "
                                f"(findings: {fmt_findings(nf)})")
    # frame lists: per connection and direction, packet/time left out
    if strict or variant == "drop" or (variant.startswith("snaplen:") and info["closes_fit"] and info["sync_kept"]):
        if variant == "split" and len(brows) != len(nrows):
            problems.append(f"`wsdiag --frames` lists {len(nrows)} frames, was {len(brows)}")
        # message_len and text_preview are left empty by design when a message has a gap
        drop_cols = ("packet", "time") if strict else ("packet", "time", "message_len", "text_preview")
        bfr, nfr = frames_by_dir(bhdr, brows, drop_cols), frames_by_dir(nhdr, nrows, drop_cols)
        for key in sorted(set(bfr) | set(nfr)):
            bl, nl = bfr.get(key, []), nfr.get(key, [])
            if bl != nl:
                first = next((i for i in range(min(len(bl), len(nl))) if bl[i] != nl[i]), min(len(bl), len(nl)))
                problems.append(f"--frames conn {key[0]} {key[1]}: {len(nl)} frames, was {len(bl)}; first "
                                f"difference at frame {first + 1}: "
                                f"{nl[first] if first < len(nl) else '(none)'} vs "
                                f"{bl[first] if first < len(bl) else '(none)'}")
    return problems


def summary_of(rep):
    return "; ".join(f"#{c.get('id')} {verdict_str(c)} [{fmt_findings(findings(c))}]"
                     for c in rep["connections"]) or "(no WebSocket connection in the report)"


def cmd_check(binary, sample, variants, keep):
    binary = os.path.abspath(binary)
    name = os.path.basename(sample)
    ok = bad = 0
    try:
        cap = Capture(sample)
        base = run_wsdiag(binary, sample)
    except (ValueError, RuntimeError, OSError) as e:
        for v in variants:
            if isinstance(e, NotClassicPcap) and v.endswith("?"):
                print(f"n/a  {name} {v.rstrip('?')}: {e}")
            else:
                bad += 1
                print(f"FAIL {name} {v.rstrip('?')}: cannot use the sample: {e}")
        return ok, bad
    with tempfile.TemporaryDirectory(prefix="wsdiag-variants.") as tmp:
        outdir = keep or tmp
        os.makedirs(outdir, exist_ok=True)
        for v in variants:
            optional = v.endswith("?")
            v = v.rstrip("?")
            tag = f"{name} {v}"
            try:
                recs, snaplen, info = make_variant(cap, v)
            except VariantError as e:
                if optional:
                    print(f"n/a  {tag}: {e}")
                    continue
                bad += 1
                print(f"FAIL {tag}: could not build the variant: {e}")
                continue
            out = os.path.join(outdir, f"{os.path.splitext(name)[0]}.{v.replace(':', '')}.pcap")
            cap.pcap.write(out, recs, snaplen)
            try:
                Pcap.read(out)
                new = run_wsdiag(binary, out)
            except (ValueError, RuntimeError) as e:
                bad += 1
                print(f"FAIL {tag}: {info['what']}\n       - {e}")
                continue
            problems = compare(v, info, base, new)
            if problems:
                bad += 1
                print(f"FAIL {tag}: {info['what']}")
                for p in problems:
                    print(f"       - {p}")
                print(f"       original: {summary_of(base[0])}")
                print(f"       variant:  {summary_of(new[0])}")
                print(f"       (variants.py rewrite {sample} X.pcap {v} recreates it)")
            else:
                ok += 1
                print(f"ok   {tag}: {info['what']} -> {summary_of(new[0])}")
    return ok, bad


def cmd_streams(path):
    cap = Capture(path)
    print(f"{path}: link type {cap.pcap.linktype}, {len(cap.pcap.records)} records, snaplen {cap.pcap.snaplen}")
    for c in cap.conns:
        print(c.label())
        for d in c.dirs.values():
            print(f"  {d.name}: {len(d.stream)} bytes, {len(d.segs)} data segments, complete={d.complete}, "
                  f"ws_start={d.ws_start}, {len(d.frames)} frames")
            for s in d.segs:
                hs = headers_in(d, s.rel, s.rel + s.plen)
                print(f"    pkt {s.idx + 1:5} rel {s.rel:9} len {s.plen:6} flags {s.flags:03x} "
                      f"headers {[(f[0], f[4]) for f in hs][:6]}")


def main(argv):
    if len(argv) >= 4 and argv[0] == "check":
        keep = None
        args = argv[1:]
        if "--keep" in args:
            i = args.index("--keep")
            keep = args[i + 1]
            del args[i:i + 2]
        ok, bad = cmd_check(args[0], args[1], args[2:], keep)
        return 1 if bad else 0
    if len(argv) >= 2 and argv[0] == "run":
        keep = None
        args = argv[1:]
        if "--keep" in args:
            i = args.index("--keep")
            keep = args[i + 1]
            del args[i:i + 2]
        total_bad = 0
        for line in sys.stdin:
            if line.startswith("#"):
                print(line.rstrip())
            words = line.split("#", 1)[0].split()
            if len(words) >= 2:
                _, bad = cmd_check(args[0], words[0], words[1:], keep)
                total_bad += bad
                sys.stdout.flush()
        return 1 if total_bad else 0
    if len(argv) == 4 and argv[0] == "rewrite":
        cap = Capture(argv[1])
        recs, snaplen, info = make_variant(cap, argv[3])
        cap.pcap.write(argv[2], recs, snaplen)
        print(info["what"])
        return 0
    if len(argv) == 2 and argv[0] == "streams":
        cmd_streams(argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
