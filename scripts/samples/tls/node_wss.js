#!/usr/bin/env node
// wss:// peers for scripts/make-samples (issue #12): node `ws` over `https`/`tls`, the TLS secrets
// written from the server's 'keylog' event (NSS key log lines, both directions' secrets).
//   node node_wss.js server --port P --cert C --key K --keylog F [--mode echo|close-1000] [--ciphers S]
//   node node_wss.js client --port P [--ciphers S] [--count N]
// Every mode ends on its own (after one connection, or --lifetime seconds).
'use strict';
const fs = require('fs');
const https = require('https');
const path = require('path');
const { WebSocket, WebSocketServer } = require(path.join(__dirname, '..', 'node', 'node_modules', 'ws'));

const a = { role: process.argv[2], mode: 'echo', lifetime: 30, count: 3, sni: 'ws.test' };
const v = process.argv.slice(3);
for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
a.port = Number(a.port);
a.count = Number(a.count);
const log = (...m) => console.error('node_wss:', ...m);
setTimeout(() => { log('lifetime over'); process.exit(0); }, Number(a.lifetime) * 1000).unref();

if (a.role === 'server') {
  const opts = { cert: fs.readFileSync(a.cert), key: fs.readFileSync(a.key) };
  if (a.ciphers) opts.ciphers = a.ciphers;
  const server = https.createServer(opts);
  server.on('keylog', (line) => fs.appendFileSync(a.keylog, line));
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    let first = true;
    ws.on('message', (data, isBinary) => {
      ws.send(data, { binary: isBinary });
      if (a.mode === 'close-1000' && first) { first = false; ws.close(1000, 'done'); }
    });
    ws.on('close', (code, reason) => {
      log(`closed ${code} ${reason}`);
      setTimeout(() => process.exit(0), 500);
    });
  });
  server.listen(a.port, '127.0.0.1', () => log(`listening on ${a.port}`));
} else {
  const opts = { rejectUnauthorized: false, servername: a.sni, perMessageDeflate: false };
  if (a.ciphers) opts.ciphers = a.ciphers;
  const ws = new WebSocket(`wss://127.0.0.1:${a.port}/chat`, opts);
  let got = 0;
  ws.on('open', () => { for (let i = 0; i < a.count; i++) ws.send(`hello ${i}`); });
  ws.on('message', () => { got += 1; if (got === a.count && a.mode !== 'wait-close') ws.close(1000, 'bye'); });
  ws.on('close', (code) => { log(`closed ${code}`); setTimeout(() => process.exit(0), 200); });
  ws.on('error', (e) => log(`error: ${e.message}`));
}
