#!/usr/bin/python3
"""Raw-socket WebSocket client for scripts/make-samples.

Does a correct opening handshake against a REAL server (unless --version asks for a wrong
one), sends one valid masked text message and reads the echo, then sends the protocol
violation named by --violation and keeps reading until the server closes TCP, so the
server's genuine reaction (Close 1002/1007/..., FIN or RST) ends up in the capture.
If the server sends a Close first, it is answered with a Close of the same code (as a
well-behaved endpoint would) unless this client already sent its own Close.
"""
import argparse
import struct
import sys
import time

import wsraw
from wsraw import OP_CONT, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG, encode_frame, close_payload

# Each violation: list of (opcode, payload, kwargs) frames to send, and whether it sends a Close.
VIOLATIONS = {
    "none": ([(OP_CLOSE, close_payload(1000, b"bye"), {})], True),
    # Sends nothing wrong but never answers the server's Close (a frozen peer): the
    # "True" only stops this client from echoing.
    "ignore-close": ([], True),
    "unmasked-client": ([(OP_TEXT, b"unmasked hello", {"mask": False})], False),
    "rsv1-no-extension": ([(OP_TEXT, b"rsv1 set", {"rsv": 4})], False),
    "reserved-opcode": ([(0x3, b"opcode 3", {})], False),
    "fragmented-ping": ([(OP_PING, b"fragmented ping", {"fin": False})], False),
    "ping-126": ([(OP_PING, b"P" * 126, {})], False),
    "continuation-no-start": ([(OP_CONT, b"orphan continuation", {})], False),
    "expected-continuation": ([(OP_TEXT, b"first part ", {"fin": False}),
                               (OP_TEXT, b"new message", {})], False),
    "bad-utf8-text": ([(OP_TEXT, b"bad utf8: caf\xc3\x28 \xff", {})], False),
    "bad-utf8-close-reason": ([(OP_CLOSE, close_payload(1000, b"bye \xff\xfe"), {})], True),
    "close-1005": ([(OP_CLOSE, close_payload(1005, b"no status"), {})], True),
    "close-999": ([(OP_CLOSE, close_payload(999, b"too low"), {})], True),
    "close-5000": ([(OP_CLOSE, close_payload(5000, b"too high"), {})], True),
    "close-payload-1": ([(OP_CLOSE, b"\x03", {})], True),
    "non-minimal-length": ([(OP_TEXT, b"short text, 16-bit length", {"length_form": 16})], False),
    "length-msb": ([(OP_TEXT, b"x" * 8, {"length_form": 64, "_msb": True})], False),
    # The same impossible frame, but this client's Close logic is separate from its (broken)
    # encoder: it answers the server's Close, as an endpoint that sent a bad header by mistake would.
    "length-msb-echo": ([(OP_TEXT, b"x" * 8, {"length_form": 64, "_msb": True})], False),
    # A 64-bit length of 1 TiB (legal encoding, far beyond anything sent), then the Close echo.
    "length-huge-echo": ([(OP_TEXT, b"x" * 8, {"length_form": 64, "_len": 1 << 40})], False),
    "data-after-close": ([(OP_CLOSE, close_payload(1000, b"bye"), {}),
                          (OP_TEXT, b"data after my close", {})], True),
}


def build(opcode, payload, kw):
    kw = dict(kw)
    msb = kw.pop("_msb", False)
    forced_len = kw.pop("_len", None)
    frame = encode_frame(opcode, payload, **kw)
    if forced_len is not None:
        # Announce a length that is not the payload's (the 64-bit extended length field).
        frame = frame[:2] + struct.pack(">Q", forced_len) + frame[10:]
    if msb:
        # Set the most significant bit of the 64-bit extended length (RFC 6455 section 5.2 forbids it).
        frame = frame[:2] + bytes([frame[2] | 0x80]) + frame[3:]
    return frame


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--version", default="13", help="Sec-WebSocket-Version to send")
    ap.add_argument("--protocol", default=None, help="Sec-WebSocket-Protocol to offer")
    ap.add_argument("--violation", choices=sorted(VIOLATIONS), default="none")
    ap.add_argument("--read-timeout", type=float, default=5.0)
    ap.add_argument("--react-timeout", type=float, default=1.0)
    args = ap.parse_args()

    sock = wsraw.connect(args.host, args.port)
    extra = [f"Sec-WebSocket-Protocol: {args.protocol}"] if args.protocol else []
    status, headers, rest, key = wsraw.client_handshake(sock, args.host, args.port, args.path,
                                                        args.version, extra)
    print(f"raw_client: {status!r}", file=sys.stderr)
    if not status.startswith("HTTP/1.1 101"):
        # Handshake refused: read the body until the server closes, then close.
        deadline = time.monotonic() + args.read_timeout
        while time.monotonic() < deadline:
            sock.settimeout(deadline - time.monotonic())
            try:
                if not sock.recv(65536):
                    break
            except (TimeoutError, ConnectionResetError):
                break
        sock.close()
        return 0
    if headers.get("sec-websocket-accept") != wsraw.accept_for(key):
        print("raw_client: bad Sec-WebSocket-Accept from server", file=sys.stderr)
        sock.close()
        return 1

    reader = wsraw.FrameReader(sock, rest)
    sock.sendall(encode_frame(OP_TEXT, b"hello"))
    frame = reader.read_frame(args.read_timeout)
    print(f"raw_client: first reply {frame!r}", file=sys.stderr)

    frames, sent_close = VIOLATIONS[args.violation]
    for opcode, payload, kw in frames:
        sock.sendall(build(opcode, payload, kw))

    # Keep reading until the server ends TCP (or the bounded wait ends). A server that lets
    # the violation pass gets, after --react-timeout, a normal Close 1000 from this client.
    # After length-msb this client is, on the wire, inside a never-ending frame: it stays quiet.
    mid_frame = args.violation == "length-msb"
    deadline = time.monotonic() + args.read_timeout
    react_at = time.monotonic() + args.react_timeout
    while True:
        now = time.monotonic()
        if now >= deadline:
            print("raw_client: timed out waiting for the server to close", file=sys.stderr)
            break
        if not sent_close and not mid_frame and now >= react_at:
            print("raw_client: no reaction from the server: closing normally", file=sys.stderr)
            sock.sendall(encode_frame(OP_CLOSE, close_payload(1000, b"bye")))
            sent_close = True
        wake = deadline if (sent_close or mid_frame) else min(deadline, react_at)
        try:
            frame = reader.read_frame(max(wake - now, 0.01))
        except TimeoutError:
            continue
        except OSError as exc:
            print(f"raw_client: {exc!r}", file=sys.stderr)
            break
        if frame is None:
            print("raw_client: server closed TCP", file=sys.stderr)
            break
        fin, rsv, opcode, masked, payload = frame
        print(f"raw_client: got opcode={opcode} payload={payload[:60]!r}", file=sys.stderr)
        if opcode == OP_CLOSE and not sent_close and not mid_frame:
            try:
                sock.sendall(encode_frame(OP_CLOSE, payload[:2]))
            except OSError:
                break
            sent_close = True
        elif opcode == OP_PING and not sent_close and not mid_frame:
            try:
                sock.sendall(encode_frame(OP_PONG, payload))
            except OSError:
                break
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
