#!/usr/bin/python3
"""Raw-socket WebSocket server for scripts/make-samples, to face REAL clients with what no
library server sends:
  --mode masked-frame  correct handshake, then a MASKED text frame (RFC 6455 section 5.1 forbids it)
  --mode bad-accept    101 response whose Sec-WebSocket-Accept is wrong (section 4.2.2)
  --mode idle-close    correct handshake; after 0.3 s a text frame, Close 1001 "idle timeout" and
                       FIN, each in its own segment, back to back (a server's idle timeout)
It serves --conns connections one after the other, keeps reading until the client ends TCP
(answering a client Close with a Close, then closing TCP first as a server should), and exits.
"""
import argparse
import base64
import os
import socket
import sys
import time

import wsraw
from wsraw import OP_TEXT, OP_CLOSE, OP_PING, OP_PONG, encode_frame


def log(*a):
    print("raw_server:", *a, file=sys.stderr, flush=True)


def serve_one(conn, mode, timeout):
    head, rest = wsraw.read_http_head(conn)
    request, headers = wsraw.parse_headers(head)
    log(request)
    key = headers.get("sec-websocket-key", "")
    accept = wsraw.accept_for(key)
    if mode == "bad-accept":
        accept = base64.b64encode(os.urandom(20)).decode()   # 28 chars, like a real one, but wrong
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
    if mode == "idle-close":
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        time.sleep(0.3)
        conn.send(encode_frame(OP_TEXT, b"closing: idle for too long", mask=False))
        conn.send(encode_frame(OP_CLOSE, wsraw.close_payload(1001, b"idle timeout"), mask=False))
        conn.shutdown(socket.SHUT_WR)
        reader = wsraw.FrameReader(conn, rest)
        try:
            while reader.read_frame(timeout) is not None:
                pass
        except (OSError, TimeoutError) as exc:
            log(f"{exc!r}")
        conn.close()
        return
    if mode == "masked-frame":
        time.sleep(0.1)
        conn.sendall(encode_frame(OP_TEXT, b"this server frame is masked", mask=True))
    reader = wsraw.FrameReader(conn, rest)
    sent_close = False
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            log("timed out waiting for the client")
            break
        try:
            frame = reader.read_frame(left)
        except TimeoutError:
            log("timed out waiting for the client")
            break
        except OSError as exc:
            log(f"{exc!r}")
            break
        if frame is None:
            log("client closed TCP")
            break
        fin, rsv, opcode, masked, payload = frame
        log(f"got opcode={opcode} masked={masked} payload={payload[:60]!r}")
        if opcode == OP_CLOSE and not sent_close:
            conn.sendall(encode_frame(OP_CLOSE, payload[:2], mask=False))
            sent_close = True
            break                      # the server closes TCP first after the close handshake
        if opcode == OP_PING:
            conn.sendall(encode_frame(OP_PONG, payload, mask=False))
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["masked-frame", "bad-accept", "idle-close"], required=True)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--lifetime", type=float, default=30)
    a = ap.parse_args()
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(8)
    end = time.monotonic() + a.lifetime
    log(f"listening on {a.host}:{a.port} mode={a.mode}")
    for _ in range(a.conns):
        left = end - time.monotonic()
        if left <= 0:
            break
        ls.settimeout(left)
        try:
            conn, peer = ls.accept()
        except TimeoutError:
            log("lifetime over")
            break
        log(f"connection from {peer}")
        try:
            serve_one(conn, a.mode, a.timeout)
        except OSError as exc:
            log(f"{exc!r}")
            conn.close()
    ls.close()


if __name__ == "__main__":
    main()
