#!/usr/bin/env python3
"""pcapgen: write small synthetic captures of TCP (WebSocket) conversations for wsdiag's tests.

Standard library only. Library use:

    from pcapgen import TcpConversation, write_capture, websocket_session
    conv = TcpConversation(("10.0.0.1", 40000), ("10.0.0.2", 80), seed=1)
    conv.handshake()
    conv.send("c2s", b"GET / HTTP/1.1\\r\\n\\r\\n", seg_size=8)
    conv.swap(*conv.data_indices("c2s")[1:3])      # capture order, not sequence order
    conv.close("c2s")
    write_capture("out.pcap", [conv])

Model: a conversation is a list of Segment records in wire order. Each data segment knows its stream
offset (relative to ISN+1), so transforms (swap, reverse, duplicate, overlap, drop, drop_before) only move,
copy or flag records; sequence numbers (mod 2^32), lengths and checksums are computed when the capture is
written. ACK numbers are recomputed from the wire order (fix_acks): a receiver ACKs what it has received
contiguously, so a reordered segment is not ACKed before it arrives, while a dropped segment (lost by the
capture, not the network) is ACKed past. capture_swap() then reorders the capture without touching the
ACKs (an ACK captured before the data it acknowledges). Timestamps follow capture order, 1 ms apart.

conv.truth() gives what a streaming reassembler must produce (see its docstring for the exact rules, which
are tshark's follow rules plus trailing gaps): per direction, the bytes in sequence order, each once, the
gaps (offset, length) and their byte count.

CLI:
    pcapgen.py scenario NAME OUT.pcap [--format pcapng] [--seed N] [--truth OUT.json] [--streams-dir DIR]
    pcapgen.py list
    pcapgen.py hostile DIR          (hostile inputs + DIR/EXPECT.tsv, for tests/e2e/hostile_input.sh)
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import random
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_USER0 = 147

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

MOD32 = 1 << 32
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# ---------------------------------------------------------------------------------------------------------
# File writers

class PcapWriter:
    """Classic pcap (little-endian, microsecond or nanosecond timestamps) or pcapng (SHB+IDB+EPBs)."""

    def __init__(self, f, linktype=LINKTYPE_ETHERNET, snaplen=262144, fmt="pcap", nanos=False):
        if fmt not in ("pcap", "pcapng"):
            raise ValueError("format must be pcap or pcapng")
        self.f, self.linktype, self.snaplen, self.fmt, self.nanos = f, linktype, snaplen, fmt, nanos
        if fmt == "pcap":
            magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
            f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        else:
            self._block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
            # if_tsresol option (9): 10^-9 when nanos, else default microseconds.
            opts = b""
            if nanos:
                opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
            self._block(0x00000001, struct.pack("<HHI", linktype, 0, snaplen) + opts)

    def _block(self, btype, body):
        body += b"\0" * (-len(body) % 4)
        total = len(body) + 12
        self.f.write(struct.pack("<II", btype, total) + body + struct.pack("<I", total))

    def write(self, ts_ns, data, orig_len=None):
        data = bytes(data)
        orig_len = len(data) if orig_len is None else orig_len
        data = data[: self.snaplen]
        if self.fmt == "pcap":
            sec, frac = divmod(ts_ns, 10**9)
            if not self.nanos:
                frac //= 1000
            self.f.write(struct.pack("<IIII", sec, frac, len(data), orig_len) + data)
        else:
            units = ts_ns if self.nanos else ts_ns // 1000
            body = struct.pack("<IIIII", 0, units >> 32, units & 0xFFFFFFFF, len(data), orig_len) + data
            self._block(0x00000006, body)


# ---------------------------------------------------------------------------------------------------------
# Packet builders

def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def ether_frame(payload, ethertype, src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02", vlans=()):
    """Ethernet II; `vlans` = VLAN ids, outermost first (first tag 802.1ad if more than one)."""
    hdr = mac_bytes(dst_mac) + mac_bytes(src_mac)
    for i, vid in enumerate(vlans):
        tpid = ETH_QINQ if (i == 0 and len(vlans) > 1) else ETH_VLAN
        hdr += struct.pack("!HH", tpid, vid & 0x0FFF)
    return hdr + struct.pack("!H", ethertype) + payload


def ipv4_packet(src, dst, proto, payload, ident=0, ttl=64):
    src_b, dst_b = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, ttl, proto, 0,
                      src_b, dst_b)
    hdr = hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6_packet(src, dst, next_header, payload, hop_limit=64):
    return (struct.pack("!IHBB", 6 << 28, len(payload), next_header, hop_limit) +
            ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload)


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b"", window=65535, options=b""):
    """A TCP segment with a correct checksum over the IPv4 or IPv6 pseudo-header."""
    options += b"\0" * (-len(options) % 4)
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq % MOD32, ack % MOD32, off << 4, flags, window, 0, 0)
    seg = hdr + options + payload
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", len(seg), 6)
    csum = inet_checksum(pseudo + seg)
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def ip_packet(src, dst, proto, payload, ident=0):
    if ipaddress.ip_address(src).version == 4:
        return ETH_IPV4, ipv4_packet(src, dst, proto, payload, ident)
    return ETH_IPV6, ipv6_packet(src, dst, proto, payload)


def endpoint_text(ep):
    ip, port = ep
    return ("[%s]:%d" if ipaddress.ip_address(ip).version == 6 else "%s:%d") % (ip, port)


# ---------------------------------------------------------------------------------------------------------
# TCP conversations

class Segment:
    __slots__ = ("dir", "flags", "off", "payload", "ack_off", "note", "dropped")

    def __init__(self, d, flags, off, payload=b"", ack_off=None, note=""):
        self.dir = d            # "c2s" or "s2c": who sends it
        self.flags = flags
        self.off = off          # stream offset relative to ISN+1 (SYN: -1)
        self.payload = payload
        self.ack_off = ack_off  # offset acknowledged in the peer's stream (relative to peer ISN+1), or None
        self.note = note
        self.dropped = False    # sent on the wire but not in the capture

    def copy(self, note=None):
        c = Segment(self.dir, self.flags, self.off, self.payload, self.ack_off,
                    self.note if note is None else note)
        c.dropped = self.dropped
        return c


def other(d):
    return "s2c" if d == "c2s" else "c2s"


class TcpConversation:
    """One TCP connection. self.packets is the wire order, including packets marked dropped (sent but
    not captured); only the others are written. Indices in the transforms are positions in self.packets."""

    def __init__(self, client, server, isn_c=None, isn_s=None, seed=0, vlans=(), window=65535):
        self.client, self.server = client, server
        self.rng = random.Random(seed)
        self.isn = {"c2s": self.rng.randrange(MOD32) if isn_c is None else isn_c % MOD32,
                    "s2c": self.rng.randrange(MOD32) if isn_s is None else isn_s % MOD32}
        self.vlans = tuple(vlans)
        self.window = window
        self.packets = []
        self.data = {"c2s": bytearray(), "s2c": bytearray()}   # everything each side ever sent
        self.fin_sent = {"c2s": False, "s2c": False}
        self.ident = {"c2s": self.rng.randrange(65536), "s2c": self.rng.randrange(65536)}
        self.capture_swaps = []   # pairs of Segments whose capture positions are exchanged

    # --- building -----------------------------------------------------------------------------------

    def _next_off(self, d):
        return len(self.data[d]) + (1 if self.fin_sent[d] else 0)

    def handshake(self):
        self.packets.append(Segment("c2s", SYN, -1, note="syn"))
        self.packets.append(Segment("s2c", SYN | ACK, -1, ack_off=0, note="synack"))
        self.packets.append(Segment("c2s", ACK, 0, ack_off=0, note="ack"))
        return self

    def send(self, d, data, seg_size=1460, ack_every=1, ack=True):
        """Append `data` from side d in segments of seg_size; the peer ACKs every `ack_every` segments."""
        data = bytes(data)
        pos, n = 0, 0
        while pos < len(data):
            chunk = data[pos:pos + seg_size]
            off = len(self.data[d])
            self.data[d] += chunk
            self.packets.append(Segment(d, PSH | ACK, off, chunk, ack_off=0, note="data"))
            pos += len(chunk)
            n += 1
            if ack and (n % ack_every == 0 or pos >= len(data)):
                self.pure_ack(other(d))
        return self

    def pure_ack(self, d):
        self.packets.append(Segment(d, ACK, self._next_off(d), ack_off=0, note="ack"))
        return self

    def fin(self, d):
        off = self._next_off(d)
        self.fin_sent[d] = True
        self.packets.append(Segment(d, FIN | ACK, off, ack_off=0, note="fin"))
        return self

    def close(self, first="c2s"):
        """FIN from `first`, FIN+ACK back, final ACK."""
        self.fin(first)
        self.fin(other(first))
        self.pure_ack(first)
        return self

    def rst(self, d):
        self.packets.append(Segment(d, RST | ACK, self._next_off(d), ack_off=0, note="rst"))
        return self

    def fix_acks(self):
        """Set every non-SYN ACK number to what the receiver has really received by then, in wire
        order: the contiguous prefix of the peer's stream (its FIN included). Dropped packets count as
        received (lost by the capture, not the network), so the receiver ACKs past them; a reordered
        segment is not ACKed before it arrives. Called by render(); idempotent."""
        got = {"c2s": bytearray(len(self.data["c2s"])), "s2c": bytearray(len(self.data["s2c"]))}
        prefix = {"c2s": 0, "s2c": 0}
        fin_in = {"c2s": False, "s2c": False}
        for p in self.packets:
            if not (p.flags & SYN) and p.ack_off is not None:
                peer = other(p.dir)
                p.ack_off = prefix[peer] + (1 if fin_in[peer] and prefix[peer] == len(self.data[peer]) else 0)
            d = p.dir
            if p.payload:
                got[d][p.off:p.off + len(p.payload)] = b"\1" * len(p.payload)
                while prefix[d] < len(got[d]) and got[d][prefix[d]]:
                    prefix[d] += 1
            if p.flags & FIN:
                fin_in[d] = True
        return self

    # --- transforms (indices are positions in self.packets) --------------------------------------------

    def data_indices(self, d=None):
        """Positions of the captured (not dropped) packets that carry payload, optionally of one side."""
        return [i for i, p in enumerate(self.packets)
                if p.payload and not p.dropped and (d is None or p.dir == d)]

    def swap(self, i, j):
        """Exchange two packets' positions (reordering)."""
        self.packets[i], self.packets[j] = self.packets[j], self.packets[i]
        return self

    def reverse(self, start, count):
        """Reverse the order of packets[start:start+count]."""
        self.packets[start:start + count] = self.packets[start:start + count][::-1]
        return self

    def reverse_data(self, d, first, count):
        """Reverse the order of `count` data segments of side d, starting at its first-th data segment,
        leaving the other packets where they are."""
        idx = self.data_indices(d)[first:first + count]
        segs = [self.packets[i] for i in idx][::-1]
        for i, s in zip(idx, segs):
            self.packets[i] = s
        return self

    def duplicate(self, i, at=None):
        """Exact retransmission of packets[i], inserted at `at` (default: right after it)."""
        at = i + 1 if at is None else at
        self.packets.insert(at, self.packets[i].copy(note="dup"))
        return self

    def overlap(self, d, first, at=None):
        """Consistent overlapping retransmission: a segment covering the second half of data segment
        `first` of side d and the first half of the next one (the same bytes as the originals)."""
        idx = self.data_indices(d)
        a, b = self.packets[idx[first]], self.packets[idx[first + 1]]
        lo = a.off + len(a.payload) // 2
        hi = b.off + max(1, len(b.payload) // 2)
        seg = Segment(d, PSH | ACK, lo, bytes(self.data[d][lo:hi]), ack_off=0, note="overlap")
        self.packets.insert(idx[first + 1] + 1 if at is None else at, seg)
        return self

    def drop(self, i):
        """Leave packets[i] out of the capture (capture loss: the receiver still ACKs past it)."""
        self.packets[i].dropped = True
        return self

    def drop_handshake(self):
        """Leave the SYN, SYN+ACK and the handshake's final ACK out of the capture."""
        for k, p in enumerate(self.packets):
            if p.note in ("syn", "synack"):
                p.dropped = True
                nxt = self.packets[k + 1] if k + 1 < len(self.packets) else None
                if p.note == "synack" and nxt is not None and nxt.note == "ack" and nxt.dir == "c2s":
                    nxt.dropped = True
        return self

    def drop_before(self, i):
        """Mid-stream start: leave every packet before position i out of the capture."""
        for p in self.packets[:i]:
            p.dropped = True
        return self

    def capture_swap(self, i, j):
        """Exchange the capture positions of packets[i] and packets[j] without changing the wire order
        the ACKs are computed from: e.g. an ACK timestamped before the data it acknowledges, as happens
        when a multi-queue NIC or a merge of two capture points reorders the capture."""
        self.capture_swaps.append((self.packets[i], self.packets[j]))
        return self

    def captured(self):
        """The packets in capture order."""
        cap = [p for p in self.packets if not p.dropped]
        for a, b in self.capture_swaps:
            ia = next(k for k, p in enumerate(cap) if p is a)
            ib = next(k for k, p in enumerate(cap) if p is b)
            cap[ia], cap[ib] = cap[ib], cap[ia]
        return cap

    # --- output ----------------------------------------------------------------------------------------

    def render(self, seg):
        """The Ethernet frame for one segment."""
        if seg.dir == "c2s":
            (sip, sport), (dip, dport) = self.client, self.server
            src_mac, dst_mac = "02:00:00:00:00:01", "02:00:00:00:00:02"
        else:
            (sip, sport), (dip, dport) = self.server, self.client
            src_mac, dst_mac = "02:00:00:00:00:02", "02:00:00:00:00:01"
        seq = (self.isn[seg.dir] + 1 + seg.off) % MOD32
        ack = 0 if seg.ack_off is None else (self.isn[other(seg.dir)] + 1 + seg.ack_off) % MOD32
        opts = struct.pack("!BBH", 2, 4, 1460) if seg.flags & SYN else b""   # MSS
        tcp = tcp_segment(sip, dip, sport, dport, seq, ack, seg.flags, seg.payload, self.window, opts)
        self.ident[seg.dir] = (self.ident[seg.dir] + 1) % 65536
        ethertype, ip = ip_packet(sip, dip, 6, tcp, self.ident[seg.dir])
        return ether_frame(ip, ethertype, src_mac, dst_mac, self.vlans)

    def truth(self):
        """What a streaming reassembler yields for this capture, packet by packet in capture order:
        - a side's stream starts at its first captured packet (offset 0 if that is its SYN); earlier
          bytes that turn up later are old, as are bytes already delivered;
        - a segment beyond the next expected byte waits; one that reaches it is delivered, then waiting
          segments that now fit;
        - a hole becomes a gap when a packet from the peer ACKs past the start of the waiting data
          (tshark's follow rule: capture loss is proven by the receiver's ACK and by later data);
        - at the end, bytes the peer ACKed beyond the last delivered byte are a trailing gap (tshark
          cannot report those: nothing follows them).
        Returns {dir: {"bytes", "start", "gaps": [[offset, len]...], "gap_bytes", "trailing_gap_bytes",
        "stranded_bytes"}}; stranded = bytes still waiting at the end (never ACKed past; a scenario
        should avoid them, tools may differ)."""
        self.fix_acks()
        cap = self.captured()
        st = {d: {"nxt": None, "start": None, "buf": [], "out": bytearray(), "gaps": [], "acked": 0}
              for d in ("c2s", "s2c")}

        def drain(s):
            moved = True
            while moved:
                moved = False
                for seg in list(s["buf"]):
                    off, data = seg
                    if off + len(data) <= s["nxt"]:
                        s["buf"].remove(seg)
                        moved = True
                    elif off <= s["nxt"]:
                        s["out"] += data[s["nxt"] - off:]
                        s["nxt"] = off + len(data)
                        s["buf"].remove(seg)
                        moved = True

        for p in cap:
            s, peer = st[p.dir], st[other(p.dir)]
            if p.ack_off is not None and not (p.flags & SYN and not p.flags & ACK):
                peer["acked"] = max(peer["acked"], p.ack_off)
                while peer["buf"] and peer["nxt"] is not None:
                    drain(peer)
                    if not peer["buf"]:
                        break
                    lowest = min(off for off, _ in peer["buf"])
                    if p.ack_off <= lowest:
                        break
                    peer["gaps"].append([peer["nxt"], lowest - peer["nxt"]])
                    peer["nxt"] = lowest
            if s["nxt"] is None:
                s["nxt"] = s["start"] = 0 if p.flags & SYN else p.off
            if p.payload:
                s["buf"].append((p.off, p.payload))
                drain(s)
        out = {}
        for d in ("c2s", "s2c"):
            s = st[d]
            trailing = 0
            if s["nxt"] is not None:
                end = min(s["acked"], len(self.data[d]))
                if end > s["nxt"] and not s["buf"]:
                    trailing = end - s["nxt"]
                    s["gaps"].append([s["nxt"], trailing])
            out[d] = {"bytes": bytes(s["out"]), "start": s["start"], "gaps": s["gaps"],
                      "gap_bytes": sum(n for _, n in s["gaps"]), "trailing_gap_bytes": trailing,
                      "stranded_bytes": sum(len(b) for _, b in s["buf"])}
        return out


def interleave(convs, seed=0, mode="round-robin"):
    """Finalise the ACK numbers, then merge the conversations' captured packets into one capture
    order, each conversation keeping its own. mode: "sequential" (one after another), "round-robin", or "random" (seeded)."""
    for c in convs:
        c.fix_acks()
    if mode == "sequential":
        return [(c, p) for c in convs for p in c.captured()]
    queues = [[(c, p) for p in c.captured()] for c in convs]
    pos = [0] * len(queues)
    rng = random.Random(seed)
    out = []
    while True:
        live = [k for k in range(len(queues)) if pos[k] < len(queues[k])]
        if not live:
            return out
        picks = live if mode == "round-robin" else [rng.choice(live)]
        for k in picks:
            out.append(queues[k][pos[k]])
            pos[k] += 1


def write_capture(path, convs_or_order, fmt="pcap", t0_ns=1_700_000_000 * 10**9, step_ns=1_000_000,
                  nanos=False):
    """Write conversations (a list of TcpConversation, sequential) or an interleaved order of
    (conversation, segment) pairs to `path`."""
    order = convs_or_order
    if order and isinstance(order[0], TcpConversation):
        order = interleave(order, mode="sequential")
    with open(path, "wb") as f:
        w = PcapWriter(f, LINKTYPE_ETHERNET, fmt=fmt, nanos=nanos)
        for k, (conv, seg) in enumerate(order):
            w.write(t0_ns + k * step_ns, conv.render(seg))


# ---------------------------------------------------------------------------------------------------------
# WebSocket content helpers

def ws_frame(opcode, payload, fin=True, mask_key=None, rsv=0):
    """One RFC 6455 frame; masked when mask_key (4 bytes) is given."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    mbit = 0x80 if mask_key is not None else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask_key is None:
        return hdr + payload
    return hdr + mask_key + bytes(b ^ mask_key[i % 4] for i, b in enumerate(payload))


def ws_upgrade(rng, host="example.test", path="/ws"):
    key = base64.b64encode(bytes(rng.randrange(256) for _ in range(16))).decode()
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, key)).encode()
    resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode()
    return req, resp


def text(rng, n):
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    s = ""
    while len(s) < n:
        s += rng.choice(words) + " "
    return s[:n].encode()


def websocket_session(conv, seg_size=1460, messages=3, msg_len=300, close_by="client", tcp_end="fin"):
    """Handshake (if not yet), HTTP upgrade, `messages` request/response text messages of about msg_len
    bytes, a close handshake started by close_by, then a TCP end ("fin", "rst" or "open")."""
    rng = conv.rng
    if not conv.packets:
        conv.handshake()
    req, resp = ws_upgrade(rng)
    conv.send("c2s", req, seg_size)
    conv.send("s2c", resp, seg_size)
    for k in range(messages):
        key = bytes(rng.randrange(256) for _ in range(4))
        conv.send("c2s", ws_frame(1, text(rng, msg_len + k), mask_key=key), seg_size)
        conv.send("s2c", ws_frame(1, text(rng, msg_len * 2 + k)), seg_size)
    closer = "c2s" if close_by == "client" else "s2c"
    body = struct.pack("!H", 1000) + b"bye"
    key = bytes(rng.randrange(256) for _ in range(4))
    for d in (closer, other(closer)):
        conv.send(d, ws_frame(8, body, mask_key=key if d == "c2s" else None), seg_size)
    if tcp_end == "fin":
        conv.close("s2c")
    elif tcp_end == "rst":
        conv.rst(closer)
    return conv


# ---------------------------------------------------------------------------------------------------------
# Named scenarios. Each returns (order, conversations); order is what write_capture takes.

def sc_basic(seed):
    c = TcpConversation(("10.0.0.1", 40001), ("10.0.0.2", 80), seed=seed)
    websocket_session(c, seg_size=200)
    return [c], [c]


def sc_reorder_dup_drop(seed):
    """Reordering, duplicates and a dropped segment (ACKed past by the receiver) in one connection."""
    c = TcpConversation(("10.0.0.1", 40002), ("10.0.0.2", 8080), seed=seed)
    websocket_session(c, seg_size=64, messages=4, msg_len=200)
    c2s, s2c = c.data_indices("c2s"), c.data_indices("s2c")
    c.swap(c2s[3], c2s[4])                     # client segments 3 and 4 swapped
    c.reverse_data("s2c", 4, 4)                # server segments 4..7 arrive in reverse
    c.duplicate(c.data_indices("c2s")[6])      # exact retransmission right after the original
    c.duplicate(c.data_indices("s2c")[2], at=c.data_indices("s2c")[9])   # late exact retransmission
    c.overlap("s2c", 12)                       # consistent overlapping retransmission
    c.overlap("c2s", 8, at=c.data_indices("c2s")[8])  # ...and one that arrives before what it overlaps
    c.drop(c.data_indices("s2c")[16])          # capture loss in the server's stream
    c.drop(c.data_indices("c2s")[10])          # ...and in the client's
    return [c], [c]


def sc_seq_wrap(seed):
    """Both ISNs just below 2^32: each direction's sequence numbers wrap through 0 mid-stream,
    with a reordering across the wrap."""
    c = TcpConversation(("10.0.0.1", 40003), ("10.0.0.2", 80), isn_c=MOD32 - 300, isn_s=MOD32 - 1,
                        seed=seed)
    websocket_session(c, seg_size=100, messages=3, msg_len=250)
    c2s = c.data_indices("c2s")
    c.swap(c2s[2], c2s[3])   # the client's wrap is at stream offset 299, inside its segment 2
    return [c], [c]


def sc_midstream(seed):
    """The capture starts inside an established connection: no SYN, no HTTP upgrade."""
    c = TcpConversation(("10.0.0.1", 40004), ("10.0.0.2", 80), seed=seed)
    websocket_session(c, seg_size=120, messages=4, msg_len=200)
    c.drop_before(c.data_indices("c2s")[2])   # after the upgrade request and response
    return [c], [c]


def sc_ipv6(seed):
    c = TcpConversation(("2001:db8::1", 40005), ("2001:db8::2", 443), seed=seed)
    websocket_session(c, seg_size=150)
    d = TcpConversation(("fe80::1", 40006), ("fe80::2", 80), seed=seed + 1)
    websocket_session(d, seg_size=90, close_by="server")
    d.swap(*d.data_indices("s2c")[1:3])
    return interleave([c, d], mode="round-robin"), [c, d]


def sc_vlan(seed):
    c = TcpConversation(("10.1.0.1", 40007), ("10.1.0.2", 80), seed=seed, vlans=(100,))
    websocket_session(c, seg_size=200)
    d = TcpConversation(("10.2.0.1", 40008), ("10.2.0.2", 80), seed=seed + 1, vlans=(10, 20))  # QinQ
    websocket_session(d, seg_size=200, close_by="server")
    return interleave([c, d], mode="round-robin"), [c, d]


def sc_multi(seed):
    """Several connections in one file: interleaved, one ended by RST, one left open, one plain HTTP
    exchange, and port reuse (the same 5-tuple again after the first one's FINs)."""
    a = TcpConversation(("10.0.0.1", 40010), ("10.0.0.2", 80), seed=seed)
    websocket_session(a, seg_size=100)
    b = TcpConversation(("10.0.0.3", 40011), ("10.0.0.2", 80), seed=seed + 1)
    websocket_session(b, seg_size=70, close_by="server", tcp_end="rst")
    h = TcpConversation(("10.0.0.4", 40012), ("10.0.0.2", 80), seed=seed + 2)
    h.handshake()
    h.send("c2s", b"GET /index.html HTTP/1.1\r\nHost: example.test\r\n\r\n", 1460)
    h.send("s2c", b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + text(h.rng, 500), 300)
    h.close("c2s")
    reuse = TcpConversation(("10.0.0.1", 40010), ("10.0.0.2", 80), seed=seed + 3)  # same 5-tuple as a
    websocket_session(reuse, seg_size=100, messages=2)
    o = TcpConversation(("10.0.0.5", 40013), ("10.0.0.2", 80), seed=seed + 4)
    websocket_session(o, seg_size=100, messages=2, tcp_end="open")
    order = interleave([a, b, h], mode="random", seed=seed) + interleave([reuse, o], mode="round-robin")
    return order, [a, b, h, reuse, o]


def sc_pcapng(seed):
    """Same shape as basic (with a reordering); meant to be written with --format pcapng."""
    c = TcpConversation(("10.0.0.1", 40020), ("10.0.0.2", 80), seed=seed)
    websocket_session(c, seg_size=120)
    c.swap(*c.data_indices("s2c")[2:4])
    return [c], [c]


def sc_ack_before_data(seed):
    """No loss at all, but twice the capture holds a client ACK before the server segment it
    acknowledges (multi-queue NIC or merged capture points). The bytes arrive right after; a reassembler
    must not give up on them when it sees the ACK."""
    c = TcpConversation(("10.0.0.1", 40030), ("10.0.0.2", 80), seed=seed)
    websocket_session(c, seg_size=100)
    for k in (3, 9):
        i = c.data_indices("s2c")[k]
        j = next(n for n in range(i + 1, len(c.packets)) if c.packets[n].dir == "c2s")   # its ACK
        c.capture_swap(i, j)
    return [c], [c]


def sc_late_retransmit(seed):
    """The capture misses a server segment; the client ACKs past it; the server's (spurious)
    retransmission is captured afterwards, before any later data is ACKed. The retransmitted bytes are in
    the capture, so the stream has no gap (tshark: no "missing" marker)."""
    c = TcpConversation(("10.0.0.1", 40031), ("10.0.0.2", 80), seed=seed)
    websocket_session(c, seg_size=100)
    i = c.data_indices("s2c")[4]
    c.drop(i)
    ack = next(n for n in range(i + 1, len(c.packets)) if c.packets[n].dir == "c2s")
    c.duplicate(i, at=ack + 1)          # the copy is captured just after the ACK that covers it
    c.packets[ack + 1].dropped = False
    c.packets[ack + 1].note = "retransmit"
    return [c], [c]


def sc_shuffle(seed):
    """Seeded random mix of swaps, reversals, duplicates, overlaps and drops in both directions, with
    ISNs near 2^32 now and then and segment sizes from 7 to 200 bytes. Run it with many --seed values."""
    r = random.Random(seed)
    c = TcpConversation(("10.0.0.1", 41000 + seed % 20000), ("10.0.0.2", 80), seed=seed,
                        isn_c=(MOD32 - r.randrange(2000)) if r.random() < 0.3 else None,
                        isn_s=(MOD32 - r.randrange(2000)) if r.random() < 0.3 else None)
    websocket_session(c, seg_size=r.choice([7, 30, 64, 200]), messages=3, msg_len=150)
    for _ in range(r.randrange(1, 6)):
        op = r.choice(["swap", "reverse", "duplicate", "overlap", "drop"])
        for d in ("c2s", "s2c"):
            idx = c.data_indices(d)
            if len(idx) < 6:
                continue
            k = r.randrange(1, len(idx) - 4)
            if op == "swap":
                c.swap(idx[k], idx[k + 1])
            elif op == "reverse":
                c.reverse_data(d, k, r.randrange(2, 5))
            elif op == "duplicate":
                c.duplicate(idx[k], at=idx[k + r.randrange(0, 3)] + 1)
            elif op == "overlap":
                c.overlap(d, k)
            elif r.random() < 0.5:
                c.drop(idx[k])
    return [c], [c]


SCENARIOS = {
    "basic": (sc_basic, "one clean WebSocket connection"),
    "reorder-dup-drop": (sc_reorder_dup_drop, "reordering, duplicates, overlaps and a dropped segment"),
    "seq-wrap": (sc_seq_wrap, "ISNs near 2^32: sequence numbers wrap mid-stream"),
    "midstream": (sc_midstream, "capture starts mid-connection (no handshake)"),
    "ipv6": (sc_ipv6, "two WebSocket connections over IPv6"),
    "vlan": (sc_vlan, "802.1Q and QinQ tagged connections"),
    "multi": (sc_multi, "interleaved connections, RST, open, plain HTTP, port reuse"),
    "pcapng": (sc_pcapng, "like basic with a reorder; use --format pcapng"),
    "ack-before-data": (sc_ack_before_data, "ACKs captured before the data they acknowledge; no loss"),
    "late-retransmit": (sc_late_retransmit, "a missed segment ACKed past, then its retransmission"),
    "shuffle": (sc_shuffle, "seeded random reorder/dup/overlap/drop mix; vary --seed"),
}


def truth_json(convs):
    """The truth for each connection, in order of first packet as a list of dicts."""
    out = []
    for c in convs:
        t = c.truth()
        out.append({
            "client": endpoint_text(c.client), "server": endpoint_text(c.server),
            "c2s_hex": t["c2s"]["bytes"].hex(), "s2c_hex": t["s2c"]["bytes"].hex(),
            "c2s_gaps": t["c2s"]["gaps"], "s2c_gaps": t["s2c"]["gaps"],
            "c2s_gap_bytes": t["c2s"]["gap_bytes"], "s2c_gap_bytes": t["s2c"]["gap_bytes"],
            "c2s_trailing_gap_bytes": t["c2s"]["trailing_gap_bytes"],
            "s2c_trailing_gap_bytes": t["s2c"]["trailing_gap_bytes"],
            "c2s_stranded_bytes": t["c2s"]["stranded_bytes"],
            "s2c_stranded_bytes": t["s2c"]["stranded_bytes"],
        })
    return out


INDEX_COLUMNS = ("conn", "client", "server", "c2s_file", "s2c_file", "c2s_bytes", "s2c_bytes", "gaps",
                 "c2s_gap_bytes", "s2c_gap_bytes")


def write_streams_dir(path, truth_conns):
    """Write the truth in the layout `wsdiag --streams DIR` promises (index.tsv + one file per
    direction), as a reference for the comparer's own tests."""
    import os
    os.makedirs(path, exist_ok=True)
    rows = ["\t".join(INDEX_COLUMNS)]
    for n, c in enumerate(truth_conns, 1):
        names = {}
        for d in ("c2s", "s2c"):
            names[d] = "%d.%s.bin" % (n, d)
            with open(os.path.join(path, names[d]), "wb") as f:
                f.write(bytes.fromhex(c[d + "_hex"]))
        rows.append("\t".join(str(x) for x in (
            n, c["client"], c["server"], names["c2s"], names["s2c"], len(c["c2s_hex"]) // 2,
            len(c["s2c_hex"]) // 2, len(c["c2s_gaps"]) + len(c["s2c_gaps"]), c["c2s_gap_bytes"],
            c["s2c_gap_bytes"])))
    with open(os.path.join(path, "index.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def build_scenario(name, out, fmt="pcap", seed=1, truth=None, streams_dir=None):
    """Write scenario `name` to `out`; optionally its truth as JSON and as a streams directory."""
    order, convs = SCENARIOS[name][0](seed)
    write_capture(out, order, fmt=fmt)
    if order and isinstance(order[0], TcpConversation):
        order = interleave(order, mode="sequential")
    first = []                      # connections in order of first captured packet
    for c, _ in order:
        if c not in first:
            first.append(c)
    conns = truth_json(first)
    if truth:
        with open(truth, "w") as f:
            json.dump({"scenario": name, "seed": seed, "connections": conns}, f, indent=1)
    if streams_dir:
        write_streams_dir(streams_dir, conns)


# ---------------------------------------------------------------------------------------------------------
# Hostile inputs for tests/e2e/hostile_input.sh: name -> (bytes or None for "make a directory"/"absent",
# expected outcome). Outcomes: "error" = exit 2 with one `wsdiag: FILE: ...` line; "warn" = exit 0, a
# `wsdiag: FILE: warning: ...` line and the report of what was read; "ok" = exit 0, a report.

def pcap_records(data):
    """(offset, total length) of each record of a little-endian classic pcap."""
    out, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        out.append((pos, 16 + caplen))
        pos += 16 + caplen
    return out


def pcapng_blocks(data):
    out, pos = [], 0
    while pos + 8 <= len(data):
        btype, total = struct.unpack_from("<II", data, pos)
        out.append((pos, btype, total))
        pos += total
    return out


def capture_bytes(scenario="basic", fmt="pcap", seed=1):
    import io
    order, _ = SCENARIOS[scenario][0](seed)
    if order and isinstance(order[0], TcpConversation):
        order = interleave(order, mode="sequential")
    buf = io.BytesIO()
    w = PcapWriter(buf, LINKTYPE_ETHERNET, fmt=fmt)
    for k, (conv, seg) in enumerate(order):
        w.write(1_700_000_000 * 10**9 + k * 1_000_000, conv.render(seg))
    return buf.getvalue()


def hostile_files(seed=7):
    rng = random.Random(seed)
    good = capture_bytes("basic")
    recs = pcap_records(good)
    mid_off, mid_len = recs[len(recs) // 2]
    ng = capture_bytes("basic", fmt="pcapng")
    epbs = [(o, t) for o, bt, t in pcapng_blocks(ng) if bt == 6]
    ng_off, ng_len = epbs[len(epbs) // 2]
    rand = bytes(rng.randrange(256) for _ in range(1024))
    if rand[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
                    b"\x0a\x0d\x0d\x0a"):
        rand = b"\0" + rand[1:]
    garbage = bytes(rng.randrange(256) for _ in range(512))
    # A garbage record header whose caplen is impossible (libpcap: "invalid packet capture length").
    garbage = struct.pack("<IIII", 1_700_000_100, 0, 0xF3F2F1F0, 0x0BADBEEF) + garbage
    huge_first = good[:24] + struct.pack("<IIII", 1_700_000_000, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"\0" * 64
    huge_later = good[:recs[3][0]] + struct.pack("<IIII", 1_700_000_000, 0, 0xFFFFFFF0, 0xFFFFFFF0) + \
        b"\0" * 64
    huge_len = bytearray(good)      # every record's wire length says 4 GB; caplen is honest
    for off, _ in recs:
        struct.pack_into("<I", huge_len, off + 12, 0xFFFFFFF0)
    user0 = good[:20] + struct.pack("<I", LINKTYPE_USER0) + good[24:]
    bigsnap = good[:16] + struct.pack("<I", 0xFFFFFFF0) + good[20:]
    ng_huge = ng[:ng_off] + struct.pack("<II", 6, 0xFFFFFFF0) + ng[ng_off + 8:ng_off + ng_len]
    return {
        "empty.pcap": (b"", "error", "an empty file"),
        "random-1k.pcap": (rand, "error", "1 KB of random bytes"),
        "truncated-mid-record.pcap": (good[:mid_off + 16 + (mid_len - 16) // 2], "warn",
                                      "valid pcap cut in the middle of a record's data"),
        "truncated-mid-header.pcap": (good[:mid_off + 9], "warn",
                                      "valid pcap cut in the middle of a record header"),
        "huge-caplen.pcap": (huge_first, "error", "first record claims caplen=len=0xFFFFFFF0"),
        "huge-caplen-later.pcap": (huge_later, "error",
                                   "three good records, then one claiming caplen=len=0xFFFFFFF0"),
        "huge-wire-len.pcap": (bytes(huge_len), "ok", "honest caplen, wire len 0xFFFFFFF0 in every record"),
        "linktype-user0.pcap": (user0, "error", "valid records, link type 147 (USER0)"),
        "snaplen-huge.pcap": (bigsnap, "ok", "file header snaplen 0xFFFFFFF0, valid records"),
        "header-only.pcap": (good[:24], "ok", "a pcap file header and no records"),
        "truncated-mid-block.pcapng": (ng[:ng_off + ng_len // 2], "warn",
                                       "valid pcapng cut in the middle of an Enhanced Packet Block"),
        "huge-block.pcapng": (ng_huge, "error", "an EPB whose block length claims 0xFFFFFFF0"),
        "garbage-appended.pcap": (good + garbage, "error",
                                  "valid pcap + 528 bytes of garbage (an impossible record length)"),
        "short-garbage-appended.pcap": (good + garbage[16:26], "warn",
                                        "valid pcap + 10 bytes of garbage (a cut record header)"),
        "a-directory": (None, "error", "a directory"),
        "does-not-exist.pcap": (None, "error", "a path that does not exist"),
    }


def write_hostile(directory, seed=7):
    """Write the hostile inputs into `directory` and an EXPECT.tsv (name, outcome, description)."""
    import os
    os.makedirs(directory, exist_ok=True)
    rows = []
    for name, (data, outcome, desc) in hostile_files(seed).items():
        path = os.path.join(directory, name)
        if name == "a-directory":
            os.makedirs(path, exist_ok=True)
        elif data is not None:
            with open(path, "wb") as f:
                f.write(data)
        rows.append("%s\t%s\t%s" % (name, outcome, desc))
    with open(os.path.join(directory, "EXPECT.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scenario", help="write a named scenario capture")
    s.add_argument("name", choices=sorted(SCENARIOS))
    s.add_argument("out")
    s.add_argument("--format", choices=("pcap", "pcapng"), default="pcap")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--truth", help="also write the expected streams as JSON here")
    s.add_argument("--streams-dir", help="also write the expected streams as `wsdiag --streams` would")
    sub.add_parser("list", help="list scenario names")
    h = sub.add_parser("hostile", help="write hostile inputs and EXPECT.tsv into DIR")
    h.add_argument("dir")
    h.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    if args.cmd == "list":
        for name in sorted(SCENARIOS):
            print("%s\t%s" % (name, SCENARIOS[name][1]))
        return 0
    if args.cmd == "hostile":
        write_hostile(args.dir, args.seed)
        return 0
    build_scenario(args.name, args.out, args.format, args.seed, args.truth, args.streams_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
