#!/usr/bin/env python3
"""WebSocket peers on 127.0.0.1 for tests/e2e/live.sh (python3-websockets, asyncio API).

  live_peer.py server PORT          echo server; the message "shutdown-1001" makes it close that
                                    connection with 1001 (going away). Prints "ready" when listening.
  live_peer.py client PORT MODE     MODE: normal  (send, receive, close 1000)
                                          ask1001 (ask the server to close with 1001, wait for it)
                                          hold    (stay open until the peer goes away or 120 s)
                                    Prints "port N" (its local port) as soon as it is connected.
  live_peer.py soak PORT SECONDS RATE
                                    opens RATE short connections a second (each closes with 1000)
                                    for SECONDS; prints how many completed.
Every wait is bounded.
"""
import asyncio
import sys

import websockets


async def serve(port):
    async def handler(ws, *_):
        try:
            async for msg in ws:
                if msg == "shutdown-1001":
                    await ws.close(1001, "going away")
                    return
                await ws.send(msg)
        except websockets.ConnectionClosed:
            pass

    async with websockets.serve(handler, "127.0.0.1", port, ping_interval=None, close_timeout=2):
        print("ready", flush=True)
        await asyncio.sleep(3600)


async def client(port, mode):
    uri = f"ws://127.0.0.1:{port}/live"
    async with websockets.connect(uri, ping_interval=None, close_timeout=2, open_timeout=10) as ws:
        print("port", ws.transport.get_extra_info("sockname")[1], flush=True)
        if mode == "normal":
            await ws.send("hello")
            await asyncio.wait_for(ws.recv(), 10)
            await ws.close(1000, "done")
        elif mode == "ask1001":
            await ws.send("shutdown-1001")
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed:
                pass
        elif mode == "hold":
            await ws.send("hello")
            await asyncio.wait_for(ws.recv(), 10)
            print("open", flush=True)
            try:
                await asyncio.wait_for(ws.wait_closed(), 120)
            except asyncio.TimeoutError:
                pass
        else:
            raise SystemExit(f"unknown mode {mode}")


async def soak(port, seconds, rate):
    uri = f"ws://127.0.0.1:{port}/soak"
    done = 0
    failed = 0

    async def one():
        nonlocal done, failed
        try:
            async with websockets.connect(uri, ping_interval=None, close_timeout=2, open_timeout=10) as ws:
                await ws.send("x" * 64)
                await asyncio.wait_for(ws.recv(), 10)
            done += 1
        except Exception:  # noqa: BLE001 - a soak counts failures, it does not stop on them
            failed += 1

    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    tasks = set()
    while loop.time() < end:
        for _ in range(rate // 10):
            t = asyncio.ensure_future(one())
            tasks.add(t)
            t.add_done_callback(tasks.discard)
        await asyncio.sleep(0.1)
    if tasks:
        await asyncio.wait(tasks, timeout=20)
    print(f"soak: {done} connections completed, {failed} failed", flush=True)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "server":
        asyncio.run(serve(port))
    elif cmd == "client":
        asyncio.run(client(port, sys.argv[3]))
    elif cmd == "soak":
        asyncio.run(soak(port, float(sys.argv[3]), int(sys.argv[4])))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
