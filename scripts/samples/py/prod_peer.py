#!/usr/bin/python3
"""Python `websockets` (Debian python3-websockets 10.4, legacy asyncio API) peers for the
"why connections die in production" captures of scripts/make-samples (issue #11).

  prod_peer.py client --url ws://H:P/ [--conns N --stagger S] [--messages K --msg-interval S]
                      [--ping-interval S --ping-timeout S] [--close-after S] [--reconnect ...]
      N connections (opened --stagger seconds apart, each by its own task); each sends K text
      messages --msg-interval apart (reading the echoes), keeps the library's keepalive Pings
      (--ping-interval) and then waits: until the peer or the path ends it, or --close-after
      seconds after it opened, when it closes with 1000 (--drain: reading all it is sent). --reconnect: when a connection ends
      without our own close, try again every --reconnect-delay seconds (a refused SYN counts as a
      try) until one succeeds, then that one closes with 1000 after --reconnect-hold seconds.
  prod_peer.py server --port P [--mode echo|stream|rst] [--ping-interval S --ping-timeout S]
      echo: echo every message; stream: send a --chunk-byte text message every --period seconds
      until the connection ends (the library's write limit --write-limit applies); rst: echo the
      first message, then reset the connection (SO_LINGER 0).

Every run is bounded by --lifetime seconds. Logs go to stderr, one line per event.
"""
import argparse
import asyncio
import os
import socket
import struct
import sys
import time

import websockets

T0 = time.monotonic()


def log(*a):
    print(f"prod_peer {time.monotonic() - T0:7.3f}:", *a, file=sys.stderr, flush=True)


def linger_abort(ws):
    """Reset the TCP connection: SO_LINGER with a zero timeout, then close (RFC 793 abort)."""
    sock = ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()


def keepalive_kw(a):
    return dict(ping_interval=a.ping_interval, ping_timeout=a.ping_timeout,
                close_timeout=a.close_timeout, compression=None, write_limit=a.write_limit)


async def one_client(a, i):
    """Connection i: returns True when we closed it ourselves, False when something else did."""
    await asyncio.sleep(i * a.stagger)
    opened = time.monotonic()
    ws = await websockets.connect(a.url, **keepalive_kw(a), open_timeout=5)
    log(f"#{i} open {ws.local_address}")
    ours = False
    try:
        for k in range(a.messages):
            if k:
                await asyncio.sleep(a.msg_interval)
            await ws.send(f"message {k} from connection {i}")
            await ws.recv()
        if a.drain:
            async for _ in ws:            # read everything until the connection ends
                pass
        if a.close_after is not None:
            left = a.close_after - (time.monotonic() - opened)
            try:
                await asyncio.wait_for(ws.wait_closed(), max(0.0, left))
            except asyncio.TimeoutError:
                ours = True
                log(f"#{i} closing with 1000")
                await ws.close(1000, "bye")
                return True
        else:
            await ws.wait_closed()
        await ws.wait_closed()
    except websockets.ConnectionClosed:
        pass
    if not ours:
        log(f"#{i} ended: code={ws.close_code} reason={ws.close_reason!r}")
    return ours


async def reconnect(a, i):
    """Reconnect with a fixed delay until the server answers again; hold, then close 1000."""
    tries = 0
    while True:
        await asyncio.sleep(a.reconnect_delay)
        tries += 1
        try:
            ws = await websockets.connect(a.url, **keepalive_kw(a), open_timeout=3)
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake) as exc:
            log(f"#{i} reconnect try {tries} failed: {exc!r}")
            if tries >= a.reconnect_tries:
                return
            continue
        log(f"#{i} reconnected after {tries} tries")
        await asyncio.sleep(a.reconnect_hold)
        await ws.close(1000, "bye")
        return


async def client(a):
    async def run(i):
        try:
            ours = await one_client(a, i)
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake) as exc:
            log(f"#{i} failed: {exc!r}")
            return
        if not ours and a.reconnect:
            await reconnect(a, i)
    await asyncio.gather(*(run(i) for i in range(a.conns)))


class Server:
    def __init__(self, a):
        self.a = a
        self.finished = 0
        self.done = asyncio.Event()

    async def handler(self, ws):
        a = self.a
        log(f"connection {ws.remote_address} mode={a.mode}")
        try:
            if a.mode == "echo":
                async for msg in ws:
                    await ws.send(msg)
            elif a.mode == "rst":
                await ws.send(await ws.recv())
                await asyncio.sleep(a.rst_after)
                log("reset (SO_LINGER 0)")
                linger_abort(ws)
            elif a.mode == "stream":
                chunk = "x" * a.chunk
                n = 0
                began = time.monotonic()
                while True:
                    t = time.monotonic()
                    if a.stream_for is not None and t - began >= a.stream_for:
                        log("stream over: closing with 1000")
                        await ws.close(1000, "stream over")
                        break
                    await ws.send(f"{n:08d} " + chunk)     # waits while above the write limit
                    n += 1
                    waited = time.monotonic() - t
                    if waited > 0.5:
                        log(f"send {n} waited {waited:.2f}s for the write buffer to drain")
                    await asyncio.sleep(a.period)
        except websockets.ConnectionClosed as exc:
            log(f"closed: {exc!r}")
        finally:
            log(f"ended: code={ws.close_code} reason={ws.close_reason!r}")
            self.finished += 1
            if a.conns and self.finished >= a.conns:
                asyncio.get_running_loop().call_later(0.5, self.done.set)

    async def run(self):
        a = self.a
        async with websockets.serve(self.handler, a.host, a.port, **keepalive_kw(a)):
            if a.pidfile:
                with open(a.pidfile, "w") as f:
                    f.write(str(os.getpid()))
            log(f"listening on {a.host}:{a.port} mode={a.mode} websockets {websockets.__version__}")
            try:
                await asyncio.wait_for(self.done.wait(), a.lifetime)
            except asyncio.TimeoutError:
                log("lifetime over")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["client", "server"])
    ap.add_argument("--url")
    ap.add_argument("--host", default="0.0.0.0")
    ap.add_argument("--port", type=int)
    ap.add_argument("--mode", default="echo", choices=["echo", "stream", "rst"])
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--stagger", type=float, default=0.0)
    ap.add_argument("--messages", type=int, default=1)
    ap.add_argument("--msg-interval", type=float, default=1.0)
    ap.add_argument("--ping-interval", type=float, default=None)
    ap.add_argument("--ping-timeout", type=float, default=None)
    ap.add_argument("--close-timeout", type=float, default=1.0)
    ap.add_argument("--write-limit", type=int, default=65536)
    ap.add_argument("--close-after", type=float, default=None)
    ap.add_argument("--drain", action="store_true", help="read every message the server sends")
    ap.add_argument("--reconnect", action="store_true")
    ap.add_argument("--reconnect-delay", type=float, default=1.0)
    ap.add_argument("--reconnect-tries", type=int, default=10)
    ap.add_argument("--reconnect-hold", type=float, default=1.0)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--period", type=float, default=0.01)
    ap.add_argument("--stream-for", type=float, default=None,
                    help="stream mode: after this many seconds, close with 1000")
    ap.add_argument("--rst-after", type=float, default=0.5)
    ap.add_argument("--pidfile")
    ap.add_argument("--lifetime", type=float, default=30)
    a = ap.parse_args()

    async def bounded():
        if a.role == "client":
            if a.pidfile:
                with open(a.pidfile, "w") as f:
                    f.write(str(os.getpid()))
            try:
                await asyncio.wait_for(client(a), a.lifetime)
            except asyncio.TimeoutError:
                log("lifetime over")
        else:
            await Server(a).run()
    asyncio.run(bounded())


if __name__ == "__main__":
    main()
