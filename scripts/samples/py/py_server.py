#!/usr/bin/python3
"""Python `websockets` (Debian python3-websockets 10.4, legacy asyncio API) server for
scripts/make-samples. --mode selects the behaviour; every mode ends on its own (after
--conns connections, or --lifetime seconds at most).
"""
import argparse
import asyncio
import http
import os
import socket
import struct
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


def log(*a):
    print("py_server:", *a, file=sys.stderr, flush=True)


def linger_abort(ws):
    """Reset the TCP connection: SO_LINGER with a zero timeout, then close (RFC 793 abort)."""
    sock = ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()


async def fragmented_send(ws, text, parts=3):
    """Send `text` as a fragmented message with a Ping between every two fragments."""
    n = max(1, len(text) // parts)
    chunks = [text[i:i + n] for i in range(0, len(text), n)]

    async def gen():
        for i, c in enumerate(chunks):
            if i:
                await ws.ping(f"between fragments {i}".encode())
            yield c
    await ws.send(gen())


class App:
    def __init__(self, args):
        self.args = args
        self.finished = 0
        self.ready = 0
        self.done = asyncio.Event()
        self.server = None
        self.shutdown_started = False

    def handler_finished(self):
        self.finished += 1
        if self.args.conns and self.finished >= self.args.conns:
            # Let the library finish its own closing of this last connection first.
            asyncio.get_running_loop().call_later(0.5, self.done.set)

    async def handler(self, ws):
        mode = self.args.mode
        path = ws.path
        log(f"connection {ws.remote_address} path={path} mode={mode}")
        try:
            if mode == "mixed":
                await self.mixed(ws, path.strip("/"))
            else:
                await self.single(ws, mode)
        except websockets.ConnectionClosed as exc:
            log(f"closed: {exc}")
        finally:
            self.handler_finished()

    async def single(self, ws, mode):
        if mode in ("echo", "maxsize", "keepalive", "deflate", "deflate-nct", "hold"):
            async for msg in ws:
                if mode != "hold":
                    await ws.send(msg)
        elif mode == "close-1000":
            msg = await ws.recv()
            await ws.send(msg)
            await ws.close(1000, "done")
        elif mode == "error":
            msg = await ws.recv()
            await ws.send(msg)
            raise RuntimeError("handler bug: simulated failure (websockets closes with 1011)")
        elif mode == "shutdown":
            msg = await ws.recv()
            await ws.send(msg)
            self.ready += 1
            if self.ready >= self.args.shutdown_after and not self.shutdown_started:
                self.shutdown_started = True
                await asyncio.sleep(0.2)
                log("shutting down the server: websockets closes every connection with 1001")
                self.server.close()
            await ws.wait_closed()
        elif mode == "fragment-echo":
            async for msg in ws:
                if isinstance(msg, str):
                    await fragmented_send(ws, msg)
                else:
                    await ws.send(msg)
        elif mode == "rst":
            msg = await ws.recv()
            await ws.send(msg)
            await asyncio.sleep(0.2)
            log("aborting with SO_LINGER 0 (RST)")
            linger_abort(ws)
        elif mode == "ack-size":
            async for msg in ws:
                await ws.send(f"received {len(msg)} bytes")
        else:
            raise SystemExit(f"unknown mode {mode}")

    async def mixed(self, ws, role):
        """Many-connections sample: each connection's path names how it must end."""
        if role in ("client-1000", "client-fin", "client-rst", "client-1001", "open"):
            async for msg in ws:          # the client decides how this one ends
                await ws.send(msg)
            return
        msg = await ws.recv()
        await ws.send(msg)
        await asyncio.sleep(self.args.mixed_delay)
        if role == "server-1000":
            await ws.close(1000, "done")
        elif role == "server-1001":
            await ws.close(1001, "going away")
        elif role == "server-1008":
            await ws.close(1008, "policy violation")
        elif role == "server-1011":
            raise RuntimeError("handler bug (1011)")
        elif role == "server-rst":
            linger_abort(ws)
        elif role == "server-fin":
            ws.transport.close()      # FIN with no Close frame (1006)
            await asyncio.sleep(0.5)
        elif role == "server-4000":
            await ws.close(4000, "application code")
        else:
            await ws.close(1000, f"unknown role {role}")

    async def process_request(self, path, headers):
        if self.args.reject_path and path.startswith(self.args.reject_path):
            log(f"rejecting {path} with 403")
            return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"403 Forbidden: no token\n"
        if self.args.answer_426:
            v = headers.get("Sec-WebSocket-Version")
            if v != "13":
                log(f"Sec-WebSocket-Version {v!r}: answering 426")
                return (http.HTTPStatus.UPGRADE_REQUIRED,
                        [("Sec-WebSocket-Version", "13"), ("Content-Type", "text/plain")],
                        b"426 Upgrade Required: this server speaks Sec-WebSocket-Version 13\n")
        return None

    async def run(self):
        a = self.args
        kw = dict(max_size=a.max_size, ping_interval=a.ping_interval, ping_timeout=a.ping_timeout,
                  close_timeout=a.close_timeout, process_request=self.process_request)
        if a.compression == "none":
            kw["compression"] = None
        elif a.compression == "deflate-nct":
            kw["compression"] = None
            kw["extensions"] = [ServerPerMessageDeflateFactory(
                server_no_context_takeover=True, client_no_context_takeover=True,
                server_max_window_bits=12)]
        # else: the library default, compression="deflate" (context takeover both ways)
        async with websockets.serve(self.handler, a.host, a.port, **kw) as server:
            self.server = server
            if a.pidfile:
                with open(a.pidfile, "w") as f:
                    f.write(str(os.getpid()))
            log(f"listening on {a.host}:{a.port} mode={a.mode} websockets {websockets.__version__}")
            try:
                await asyncio.wait_for(self.done.wait(), a.lifetime)
            except asyncio.TimeoutError:
                log("lifetime over")
            if self.shutdown_started:
                await server.wait_closed()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", default="echo")
    ap.add_argument("--conns", type=int, default=1, help="exit after this many connections ended")
    ap.add_argument("--lifetime", type=float, default=30)
    ap.add_argument("--max-size", type=int, default=2 ** 20)
    ap.add_argument("--ping-interval", type=float, default=None)
    ap.add_argument("--ping-timeout", type=float, default=None)
    ap.add_argument("--close-timeout", type=float, default=2)
    ap.add_argument("--compression", choices=["deflate", "deflate-nct", "none"], default="deflate")
    ap.add_argument("--shutdown-after", type=int, default=3)
    ap.add_argument("--mixed-delay", type=float, default=0.5)
    ap.add_argument("--reject-path", default=None)
    ap.add_argument("--answer-426", action="store_true")
    ap.add_argument("--pidfile", default=None)
    args = ap.parse_args()
    asyncio.run(App(args).run())


if __name__ == "__main__":
    main()
