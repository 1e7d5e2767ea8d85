#!/usr/bin/python3
"""wss:// peers for scripts/make-samples (issue #12): Debian's python3-websockets over Python's ssl
module, with the TLS secrets written by ssl.SSLContext.keylog_filename (NSS key log format).

  py_wss.py server --port P --cert C --key K [--tls 1.1|1.2|1.3] [--ciphers C] [--no-etm] [--mode echo|hold]
  py_wss.py client --port P [--mode basic|hold|bulk] [--keylog FILE] [--sni NAME] [--plain] [--ciphers C]
                   [--close-after FILE] [--tls 1.1]
(--ciphers: an OpenSSL cipher list for TLS 1.2, on either side; --no-etm: the server refuses RFC 7366
encrypt-then-MAC, so CBC suites use MAC-then-encrypt records.)
  py_wss.py raw-unmasked --port P [--keylog FILE]   # a client that breaks RFC 6455 §5.1 inside TLS

Every mode is bounded by --lifetime.
"""
import argparse
import asyncio
import base64
import os
import socket
import ssl
import sys

import websockets

# OpenSSL's SSL_OP_NO_ENCRYPT_THEN_MAC (1 << 19); Python's ssl module has no name for it.
SSL_OP_NO_ENCRYPT_THEN_MAC = 1 << 19


def log(*a):
    print("py_wss:", *a, file=sys.stderr, flush=True)


def legacy_tls11(ctx):
    """TLS 1.1 only. OpenSSL 3 refuses TLS 1.1 at its default security level: the cipher list given
    with --ciphers must end in ':@SECLEVEL=0'."""
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1


def server_context(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.tls == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if a.tls == "1.1":
        legacy_tls11(ctx)
    if a.ciphers:
        ctx.set_ciphers(a.ciphers)
    if a.no_etm:
        ctx.options |= SSL_OP_NO_ENCRYPT_THEN_MAC
    if a.keylog:
        ctx.keylog_filename = a.keylog
    return ctx


def client_context(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if a.verify:
        ctx.load_default_certs()  # the self-signed test certificate is not trusted: handshake fails
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # self-signed test certificate
    if a.tls == "1.1":
        legacy_tls11(ctx)
    if a.ciphers:  # Python's default client list leaves out the SHA-1 CBC suites
        ctx.set_ciphers(a.ciphers)
    if a.keylog:
        ctx.keylog_filename = a.keylog
    return ctx


async def serve(a):
    done = asyncio.Event()
    ended = 0

    async def handler(ws):
        log(f"connection {ws.remote_address} {ws.path}")
        try:
            async for msg in ws:
                await ws.send(msg)
        except websockets.ConnectionClosed as exc:
            log(f"closed: {exc}")
        finally:
            nonlocal ended
            ended += 1
            if ended >= a.conns:  # the server stops 0.5 s after its --conns-th connection ended
                asyncio.get_running_loop().call_later(0.5, done.set)

    ctx = None if a.plain else server_context(a)
    async with websockets.serve(handler, "127.0.0.1", a.port, ssl=ctx, compression=None, max_size=None):
        if a.pidfile:
            with open(a.pidfile, "w") as f:
                f.write(str(os.getpid()))
        log(f"listening on {a.port} tls={a.tls} websockets {websockets.__version__}")
        try:
            await asyncio.wait_for(done.wait(), a.lifetime)
        except asyncio.TimeoutError:
            log("lifetime over")


async def client(a):
    if a.plain:
        uri = f"ws://127.0.0.1:{a.port}/chat"
        ws = await websockets.connect(uri, compression=None, ping_interval=None, close_timeout=2, max_size=None)
    else:
        uri = f"wss://127.0.0.1:{a.port}/chat"
        try:
            ws = await websockets.connect(uri, ssl=client_context(a), server_hostname=a.sni, compression=None,
                                          ping_interval=None, close_timeout=2, max_size=None)
        except ssl.SSLError as exc:
            log(f"TLS handshake failed: {exc}")
            return
    log(f"connected {uri}")
    if a.mode == "basic":
        for i in range(a.count):
            await ws.send(f"hello {i}")
            log("echo:", await ws.recv())
        if a.close_after:  # tests: the connection stays open until that file exists
            log("exchanged")
            while not os.path.exists(a.close_after):
                await asyncio.sleep(0.05)
        await ws.close(1000, "bye")
    elif a.mode == "bulk":  # benchmark traffic: --count binary messages of --size bytes, echoed
        data = os.urandom(a.size)
        for _ in range(a.count):
            await ws.send(data)
            await ws.recv()
        await ws.close(1000, "bye")
    elif a.mode == "hold":
        await ws.send("hello")
        try:
            while True:
                log("got:", await ws.recv())
        except websockets.ConnectionClosed as exc:
            log(f"closed by peer: {exc}")


def raw_unmasked(a):
    """Upgrade by hand over TLS, then send an unmasked text frame (RFC 6455 §5.1 violation)."""
    ctx = client_context(a)
    with socket.create_connection(("127.0.0.1", a.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=a.sni) as s:
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall((f"GET /chat HTTP/1.1\r\nHost: {a.sni}:{a.port}\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    return
                head += chunk
            log("response:", head.split(b"\r\n")[0].decode())
            s.sendall(bytes([0x81, 5]) + b"hello")  # FIN text, no mask bit
            try:
                while True:
                    data = s.recv(4096)
                    if not data:
                        break
                    log(f"got {len(data)} bytes")
            except (OSError, ssl.SSLError) as exc:
                log(f"read ended: {exc!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client", "raw-unmasked"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", default="basic")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--verify", action="store_true", help="verify the server certificate (fails: self-signed)")
    ap.add_argument("--plain", action="store_true", help="ws:// instead of wss:// (benchmark baseline)")
    ap.add_argument("--tls", choices=["1.1", "1.2", "1.3"], default="1.3")
    ap.add_argument("--ciphers", default=None)
    ap.add_argument("--no-etm", action="store_true", help="server: no encrypt-then-MAC (RFC 7366) for CBC suites")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--keylog", default=None)
    ap.add_argument("--close-after", default=None, help="client, basic mode: close only once this file exists")
    ap.add_argument("--sni", default="ws.test")
    ap.add_argument("--pidfile", default=None)
    ap.add_argument("--conns", type=int, default=1, help="server: stop after this many connections ended")
    ap.add_argument("--lifetime", type=float, default=30)
    a = ap.parse_args()
    if a.role == "server":
        asyncio.run(serve(a))
    elif a.role == "client":
        asyncio.run(asyncio.wait_for(client(a), a.lifetime))
    else:
        raw_unmasked(a)


if __name__ == "__main__":
    main()
