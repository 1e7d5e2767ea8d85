#!/usr/bin/env node
// Node `ws` server for scripts/make-samples. Usage: node server.js --port P --mode M [...]
// Every mode ends on its own: after --conns connections ended, or --lifetime seconds.
'use strict';
const fs = require('fs');
const { WebSocketServer, version } = require('ws');

function args() {
  const a = { host: '127.0.0.1', mode: 'echo', conns: 1, lifetime: 30, maxPayload: 100 * 1024 * 1024,
              deflate: 'off', pidfile: null, heartbeat: 1000 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    a[k] = v[i + 1];
  }
  for (const k of ['port', 'conns', 'lifetime', 'maxPayload', 'heartbeat']) a[k] = Number(a[k]);
  return a;
}

const a = args();
const log = (...m) => console.error('node_server:', ...m);
let finished = 0;

const opts = { host: a.host, port: a.port, maxPayload: a.maxPayload, clientTracking: true };
if (a.deflate === 'on') opts.perMessageDeflate = { threshold: 0 };
else if (a.deflate === 'nct') opts.perMessageDeflate = { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true };
else opts.perMessageDeflate = false;
if (a.mode === 'reject-403') {
  opts.verifyClient = (info, cb) => cb(false, 403, 'Forbidden');
}

const wss = new WebSocketServer(opts);
wss.on('listening', () => {
  if (a.pidfile) fs.writeFileSync(a.pidfile, String(process.pid));
  log(`listening on ${a.host}:${a.port} mode=${a.mode} ws ${require('ws/package.json').version}`);
});

function done() {
  finished += 1;
  if (finished >= a.conns) {
    setTimeout(() => { wss.close(); process.exit(0); }, 500);
  }
}

wss.on('connection', (ws, req) => {
  log(`connection from ${req.socket.remoteAddress}:${req.socket.remotePort} ${req.url}`);
  ws.on('close', (code, reason) => { log(`closed ${code} ${reason}`); done(); });
  ws.on('error', (e) => log(`error: ${e.message}`));
  let first = true;
  switch (a.mode) {
    case 'echo':
    case 'hold':
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      break;
    case 'close-1000':
      ws.on('message', (data, isBinary) => {
        ws.send(data, { binary: isBinary });
        if (first) { first = false; ws.close(1000, 'done'); }
      });
      break;
    case 'policy-1008':
      ws.on('message', (data, isBinary) => {
        if (data.toString().includes('forbidden')) ws.close(1008, 'forbidden word in message');
        else ws.send(data, { binary: isBinary });
      });
      break;
    case 'heartbeat-terminate': {
      // The heartbeat pattern from the ws README: ping every interval, terminate() the
      // connection (no Close frame, TCP FIN) when the previous ping got no pong.
      ws.isAlive = true;
      ws.on('pong', () => { ws.isAlive = true; });
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      const timer = setInterval(() => {
        if (!ws.isAlive) { log('no pong since the last ping: terminate()'); clearInterval(timer); ws.terminate(); return; }
        ws.isAlive = false;
        ws.ping();
      }, a.heartbeat);
      ws.on('close', () => clearInterval(timer));
      break;
    }
    default:
      log(`unknown mode ${a.mode}`);
      process.exit(2);
  }
});

setTimeout(() => { log('lifetime over'); process.exit(0); }, a.lifetime * 1000).unref();
