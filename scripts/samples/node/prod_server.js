#!/usr/bin/env node
// Servers for the issue #11 production captures of scripts/make-samples (real libraries only).
// Usage: node prod_server.js --mode M --port P [--host H] [--conns N] [--lifetime S] [--pidfile F]
//   restart   ws echo server whose SIGTERM handler closes every connection with 1012
//             "service restart" (the graceful-restart pattern), then exits
//   stream    ws server sending a 1 KB text message every 10 ms; close(1008) when bufferedAmount
//             exceeds --high-water bytes (a slow-consumer guard)
//   socketio  Socket.IO server (websocket transport), --ping-interval / --ping-timeout in ms
//   graphql   graphql-ws server (useServer over ws), --init-timeout ms; a connection_init whose
//             payload has token "forbidden" is refused by onConnect (4403)
//   max-age   ws echo server that cuts every connection at a fixed age (--max-age ms; a list
//             "2000,3300,..." gives the n-th connection the n-th age, cycling), whatever its
//             traffic: setTimeout + terminate() (TCP closed, no Close frame), as a load balancer
//             with a maximum connection duration does
// Every mode ends after --conns connections ended, or --lifetime seconds.
'use strict';
const fs = require('fs');
const http = require('http');

function args() {
  const a = { host: '0.0.0.0', mode: 'restart', conns: 1, lifetime: 30, pidfile: null,
              pingInterval: 1000, pingTimeout: 1000, initTimeout: 2000, highWater: 32768 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    a[k] = v[i + 1];
  }
  for (const k of ['port', 'conns', 'lifetime', 'pingInterval', 'pingTimeout', 'initTimeout', 'highWater']) a[k] = Number(a[k]);
  return a;
}
const a = args();
const t0 = Date.now();
const log = (...m) => console.error(`prod_server ${((Date.now() - t0) / 1000).toFixed(3)}:`, ...m);
let ended = 0;
function oneEnded() {
  ended += 1;
  if (ended >= a.conns) setTimeout(() => process.exit(0), 300);
}
function listening() {
  if (a.pidfile) fs.writeFileSync(a.pidfile, String(process.pid));
  log(`listening on ${a.host}:${a.port} mode=${a.mode}`);
}

if (a.mode === 'restart') {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ host: a.host, port: a.port, perMessageDeflate: false });
  wss.on('listening', listening);
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code) => { log(`closed ${code}`); oneEnded(); });
  });
  process.on('SIGTERM', () => {
    log(`SIGTERM: closing ${wss.clients.size} connections with 1012`);
    for (const ws of wss.clients) ws.close(1012, 'service restart');
    wss.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000);
  });
} else if (a.mode === 'stream') {
  // The slow-consumer guard many ws servers have: stream, and close with 1008 once the socket's
  // send buffer (bufferedAmount) holds more than --high-water bytes the client has not taken.
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ host: a.host, port: a.port, perMessageDeflate: false });
  wss.on('listening', listening);
  wss.on('connection', (ws) => {
    let n = 0;
    const chunk = 'x'.repeat(1000);
    const timer = setInterval(() => {
      if (ws.readyState !== 1) return;
      if (ws.bufferedAmount > a.highWater) {
        log(`bufferedAmount ${ws.bufferedAmount} > ${a.highWater}: close(1008)`);
        clearInterval(timer);
        ws.close(1008, 'slow consumer');
        return;
      }
      ws.send(`${String(n++).padStart(8, '0')} ${chunk}`);
    }, 10);
    ws.on('close', (code) => { clearInterval(timer); log(`closed ${code}`); oneEnded(); });
  });
} else if (a.mode === 'socketio') {
  const { Server } = require('socket.io');
  const srv = http.createServer();
  const io = new Server(srv, { transports: ['websocket'], pingInterval: a.pingInterval,
                               pingTimeout: a.pingTimeout, serveClient: false });
  io.on('connection', (socket) => {
    log(`socket.io connection ${socket.id}`);
    socket.on('chat', (msg, ack) => { if (typeof ack === 'function') ack(`echo: ${msg}`); });
    socket.on('disconnect', (reason) => { log(`disconnect: ${reason}`); oneEnded(); });
  });
  srv.listen(a.port, a.host, listening);
} else if (a.mode === 'graphql') {
  const { WebSocketServer } = require('ws');
  const { useServer } = require('graphql-ws/use/ws');
  const { buildSchema } = require('graphql');
  const schema = buildSchema('type Query { hello: String } type Subscription { count: Int }');
  const roots = {
    query: { hello: () => 'world' },
    subscription: { count: async function* count() { for (let i = 1; i <= 3; i++) yield { count: i }; } },
  };
  const wss = new WebSocketServer({ host: a.host, port: a.port, perMessageDeflate: false });
  wss.on('listening', listening);
  wss.on('connection', (ws) => ws.on('close', (code, reason) => { log(`closed ${code} ${reason}`); oneEnded(); }));
  useServer({
    schema, roots, connectionInitWaitTimeout: a.initTimeout,
    onConnect: (ctx) => {
      const p = ctx.connectionParams || {};
      if (p.token === 'forbidden') { log('onConnect: forbidden'); return false; }
      return true;
    },
  }, wss);
} else if (a.mode === 'max-age') {
  const { WebSocketServer } = require('ws');
  const ages = String(a.maxAge || '4000').split(',').map(Number);
  let n = 0;
  const wss = new WebSocketServer({ host: a.host, port: a.port, perMessageDeflate: false });
  wss.on('listening', listening);
  wss.on('connection', (ws) => {
    const age = ages[n % ages.length];
    n += 1;
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    const cut = setTimeout(() => { log(`cut at ${age} ms`); ws.terminate(); }, age);
    ws.on('close', (code) => { clearTimeout(cut); log(`closed ${code}`); oneEnded(); });
  });
} else {
  log(`unknown mode ${a.mode}`);
  process.exit(2);
}

setTimeout(() => { log('lifetime over'); process.exit(0); }, a.lifetime * 1000).unref();
