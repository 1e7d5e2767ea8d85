#!/usr/bin/python3
"""Make a capture start mid-stream: delete packets with editcap, as if tcpdump had been started late.

  cut.py other IN OUT   every TCP connection loses its SYN/SYN-ACK and its first k payload
                        packets, k = (tcp.stream % 4): the capture picks each connection up at its
                        first byte (k = 0) or a few segments in.
  cut.py ws IN OUT      WebSocket captures: every connection loses its SYNs and every packet up
                        to its last HTTP message (the Upgrade request and the 101), so only frames
                        remain. Prints, per connection, the number of WebSocket frames left after
                        the cut (tshark's count): "STREAM<TAB>FRAMES".

Packets are chosen from tshark's dissection (tcp.stream, flags, payload length, http); editcap
deletes them, so every remaining packet is byte-for-byte the one captured.
"""
import collections
import subprocess
import sys


def fields(path, *names, display_filter=None):
    cmd = ["tshark", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
    if display_filter:
        cmd += ["-Y", display_filter]
    for n in names:
        cmd += ["-e", n]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def editcap(src, dst, frames):
    if not frames:
        subprocess.run(["cp", src, dst], check=True)
        return
    frames = sorted(frames)
    # editcap takes the frame numbers to delete; keep command lines short.
    tmp_in = src
    step = 500
    for i in range(0, len(frames), step):
        part = frames[i:i + step]
        tmp_out = dst + f".part{i}"
        subprocess.run(["editcap", tmp_in, tmp_out] + [str(f) for f in part], check=True,
                       capture_output=True)
        if tmp_in != src:
            subprocess.run(["rm", "-f", tmp_in], check=True)
        # frames after the deleted ones are renumbered: shift the rest
        frames[i + step:] = [f - len(part) for f in frames[i + step:]]
        tmp_in = tmp_out
    subprocess.run(["mv", tmp_in, dst], check=True)


def cut_other(src, dst):
    rows = fields(src, "frame.number", "tcp.stream", "tcp.flags.syn", "tcp.len")
    seen_payload = collections.Counter()
    delete = []
    for num, stream, syn, tlen in rows:
        if not stream:
            continue
        s = int(stream)
        if syn in ("1", "True"):
            delete.append(int(num))
            continue
        if tlen and int(tlen) > 0 and seen_payload[s] < s % 4:
            seen_payload[s] += 1
            delete.append(int(num))
    editcap(src, dst, delete)


def cut_ws(src, dst):
    rows = fields(src, "frame.number", "tcp.stream", "tcp.flags.syn", "http.request", "http.response",
                  "websocket.opcode")
    last_http = {}
    for num, stream, syn, req, resp, _ in rows:
        if stream and (req or resp):
            last_http[int(stream)] = int(num)
    delete = []
    frames_left = collections.Counter()
    for num, stream, syn, req, resp, ops in rows:
        if not stream:
            continue
        s, n = int(stream), int(num)
        if syn in ("1", "True") or n <= last_http.get(s, 0):
            delete.append(n)
        elif ops:
            frames_left[s] += len(ops.split(","))
    editcap(src, dst, delete)
    for s in sorted(set(last_http) | set(frames_left)):
        print(f"{s}\t{frames_left[s]}")


if __name__ == "__main__":
    mode, src, dst = sys.argv[1:4]
    {"other": cut_other, "ws": cut_ws}[mode](src, dst)
