#!/usr/bin/python3
"""Python `websockets` (Debian python3-websockets 10.4, legacy asyncio API) client for
scripts/make-samples. Every mode is bounded by --lifetime.
"""
import argparse
import asyncio
import os
import socket
import struct
import sys

import websockets


def log(*a):
    print("py_client:", *a, file=sys.stderr, flush=True)


async def wait_file(path, timeout):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not os.path.exists(path):
        if loop.time() > end:
            raise TimeoutError(f"{path} never appeared")
        await asyncio.sleep(0.05)


def touch(path):
    with open(path, "w") as f:
        f.write("1")


def linger_abort(ws):
    sock = ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()


async def run(a):
    uri = f"ws://{'[' + a.host + ']' if ':' in a.host else a.host}:{a.port}{a.path}"
    kw = dict(ping_interval=None, close_timeout=2, max_size=a.max_size)
    if a.subprotocol:
        kw["subprotocols"] = a.subprotocol.split(",")
    if a.header:
        kw["extra_headers"] = [tuple(h.split(":", 1)) for h in a.header]
    if a.compression == "none":
        kw["compression"] = None
    mode = a.mode

    if mode == "mixed":
        await mixed(a, uri, kw)
        return
    if mode == "reject":
        try:
            async with websockets.connect(uri, **kw) as ws:
                log("unexpectedly connected")
        except websockets.InvalidHandshake as exc:
            log(f"handshake failed as expected: {exc!r}")
        return

    try:
        ws = await websockets.connect(uri, **kw)
    except websockets.InvalidHandshake as exc:
        log(f"handshake failed: {exc!r}")
        return
    log(f"connected {uri} extensions={[e.name for e in ws.extensions]}")
    try:
        if mode == "secret":
            # --message carries a known secret (scripts/make-samples s_secrets)
            await ws.send(a.message)
            log("echo:", await ws.recv())
            await ws.close(1000, "bye")
        elif mode == "basic":
            for i in range(a.count):
                await ws.send(f"hello {i}")
                log("echo:", await ws.recv())
            await ws.close(1000, "bye")
        elif mode == "deflate":
            # Repetitive messages: with context takeover later ones compress to a few bytes.
            for i in range(a.count):
                await ws.send(f'{{"type":"update","seq":{i},"status":"ok","payload":"'
                              + "the quick brown fox jumps over the lazy dog " * 3 + '"}')
                await ws.recv()
            await ws.close(1000, "bye")
        elif mode == "big":
            data = bytes((i * 7 + 3) & 0xFF for i in range(a.size))
            await ws.send(data)
            reply = await ws.recv()
            log(f"reply of {len(reply)} bytes, equal={reply == data}")
            await ws.close(1000, "bye")
        elif mode in ("wait-close", "hold"):
            await ws.send("hello")
            try:
                while True:
                    log("got:", str(await ws.recv())[:60])
            except websockets.ConnectionClosed as exc:
                log(f"closed by peer: {exc}")
        elif mode == "policy":
            await ws.send("hello")
            log("echo:", await ws.recv())
            await ws.send("this message contains a forbidden word")
            try:
                while True:
                    log("got:", str(await ws.recv())[:60])
            except websockets.ConnectionClosed as exc:
                log(f"closed by peer: {exc}")
        elif mode == "too-big":
            await ws.send("hello")
            log("echo:", await ws.recv())
            await ws.send("".join(chr(0x61 + i % 26) for i in range(a.size)))
            try:
                while True:
                    log("got:", str(await ws.recv())[:60])
            except websockets.ConnectionClosed as exc:
                log(f"closed by peer: {exc}")
        elif mode == "send-and-wait":
            await ws.send(a.message)
            try:
                while True:
                    log("got:", str(await ws.recv())[:60])
            except websockets.ConnectionClosed as exc:
                log(f"closed: {exc}")
        elif mode == "midstream":
            await ws.send("before the capture started")
            await ws.recv()
            touch(a.marker)
            await wait_file(a.go, 20)
            for i in range(3):
                await ws.send(f"after the capture started {i}")
                await ws.recv()
            await ws.close(1000, "bye")
        else:
            raise SystemExit(f"unknown mode {mode}")
    except websockets.ConnectionClosed as exc:
        log(f"closed: {exc}")
    finally:
        if mode not in ("hold",):
            await ws.close()
    log(f"close code={ws.close_code} reason={ws.close_reason!r}")


MIXED_ROLES = ["client-1000", "server-1000", "server-1001", "server-1008", "server-1011",
               "server-rst", "client-rst", "client-fin", "server-fin", "client-1001",
               "server-4000", "open"]


async def mixed(a, base, kw):
    """Open the connections one after the other (so their order in the capture is fixed),
    then let them all end concurrently, each in its own way."""
    conns = []
    for role in MIXED_ROLES:
        ws = await websockets.connect(base.rstrip("/") + "/" + role, **kw)
        await ws.send(f"hello from {role}")
        await ws.recv()
        conns.append((role, ws))
    log("all connections open")

    async def end(role, ws):
        await asyncio.sleep(0.5)
        try:
            if role == "client-1000":
                await ws.close(1000, "bye")
            elif role == "client-1001":
                await ws.close(1001, "client going away")
            elif role == "client-fin":
                ws.transport.close()
            elif role == "client-rst":
                linger_abort(ws)
            elif role == "open":
                return
            else:
                await ws.wait_closed()
        except websockets.ConnectionClosed:
            pass
        await asyncio.sleep(0.3)
    await asyncio.gather(*(end(r, w) for r, w in conns))
    await asyncio.sleep(1.0)
    log("all but the last connection ended")
    touch(a.marker)
    await wait_file(a.go, 20)
    role, ws = conns[-1]
    await ws.close(1000, "bye (after the capture stopped)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--mode", default="basic")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--max-size", type=int, default=2 ** 23)
    ap.add_argument("--message", default="hello")
    ap.add_argument("--subprotocol", default=None, help="comma-separated list to offer")
    ap.add_argument("--header", action="append", default=[], help="NAME:VALUE, repeatable")
    ap.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    ap.add_argument("--marker", default=None)
    ap.add_argument("--go", default=None)
    ap.add_argument("--lifetime", type=float, default=30)
    a = ap.parse_args()

    async def bounded():
        await asyncio.wait_for(run(a), a.lifetime)
    asyncio.run(bounded())


if __name__ == "__main__":
    main()
