#!/usr/bin/env node
// Clients for the issue #11 production captures of scripts/make-samples.
// Usage: node prod_client.js --mode M --url U [--conns N] [--lifetime S] [--pidfile F]
//   ws-hold   N ws connections (one process), each sends one message and stays open; when the
//             server closes one, it reconnects once after --reconnect-delay ms, holds 1 s, closes 1000
//   chat      N ws connections opened --stagger ms apart, each sending a message every --every ms
//             until the server ends it (no reconnection)
//   socketio  one socket.io-client connection (websocket transport, no reconnection): a "chat"
//             event with an acknowledgement, then it waits (make-samples SIGSTOPs it)
//   graphql   graphql-ws cases over one connection each, in this fixed order on one server:
//             no-init (4408), bad-message (4400), subscribe-before-ack (4401), double-init
//             (4429), forbidden (4403), then the real graphql-ws client running a subscription
//             to completion and closing normally (1000, the legal neighbour)
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

function args() {
  const a = { mode: 'ws-hold', conns: 1, lifetime: 30, pidfile: null, reconnectDelay: 1500, stagger: 700, every: 250 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    a[k] = v[i + 1];
  }
  for (const k of ['conns', 'lifetime', 'reconnectDelay', 'stagger', 'every']) a[k] = Number(a[k]);
  return a;
}
const a = args();
const t0 = Date.now();
const log = (...m) => console.error(`prod_client ${((Date.now() - t0) / 1000).toFixed(3)}:`, ...m);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
if (a.pidfile) fs.writeFileSync(a.pidfile, String(process.pid));

function wsHold() {
  let done = 0;
  const finish = () => { done += 1; if (done >= a.conns) process.exit(0); };
  for (let i = 0; i < a.conns; i++) {
    setTimeout(() => {
      const ws = new WebSocket(a.url, { perMessageDeflate: false });
      ws.on('open', () => ws.send(`hello from ${i}`));
      ws.on('error', (e) => log(`#${i} error ${e.message}`));
      ws.on('close', (code) => {
        log(`#${i} closed by the server: ${code}`);
        setTimeout(() => {
          const again = new WebSocket(a.url, { perMessageDeflate: false });
          again.on('open', () => { log(`#${i} reconnected`); setTimeout(() => again.close(1000, 'bye'), 1000); });
          again.on('error', (e) => log(`#${i} reconnect error ${e.message}`));
          again.on('close', finish);
        }, a.reconnectDelay);
      });
    }, i * 50);
  }
}

function chat() {
  let done = 0;
  for (let i = 0; i < a.conns; i++) {
    setTimeout(() => {
      const ws = new WebSocket(a.url, { perMessageDeflate: false });
      let tick = null;
      let k = 0;
      ws.on('open', () => { tick = setInterval(() => ws.send(`#${i} message ${k++}`), a.every); });
      ws.on('error', (e) => log(`#${i} error ${e.message}`));
      ws.on('close', (code) => {
        clearInterval(tick);
        log(`#${i} ended (${code}) after ${k} messages`);
        done += 1;
        if (done >= a.conns) setTimeout(() => process.exit(0), 300);
      });
    }, i * a.stagger);
  }
}

function socketio() {
  const { io } = require('socket.io-client');
  const socket = io(a.url, { transports: ['websocket'], reconnection: false });
  socket.on('connect', () => {
    log(`connected ${socket.id}`);
    socket.emit('chat', 'hello', (reply) => log(`ack: ${reply}`));
  });
  socket.on('disconnect', (reason) => { log(`disconnect: ${reason}`); setTimeout(() => process.exit(0), 200); });
}

// One raw graphql-transport-ws connection: send `msgs` (JSON or raw strings) with 100 ms between,
// resolve with the close code the server sent.
function rawCase(name, msgs) {
  return new Promise((resolve) => {
    const ws = new WebSocket(a.url, 'graphql-transport-ws', { perMessageDeflate: false });
    ws.on('open', async () => {
      for (const m of msgs) { ws.send(typeof m === 'string' ? m : JSON.stringify(m)); await sleep(100); }
    });
    ws.on('message', (d) => log(`${name}: got ${d}`));
    ws.on('close', (code, reason) => { log(`${name}: closed ${code} ${reason}`); resolve(code); });
    ws.on('error', (e) => log(`${name}: error ${e.message}`));
  });
}

async function graphql() {
  const init = { type: 'connection_init' };
  const sub = { id: '1', type: 'subscribe', payload: { query: 'subscription { count }' } };
  await rawCase('no-init', []);
  await sleep(300);
  await rawCase('bad-message', [init, '{"type":"subscribe","id":"1"}']);
  await sleep(300);
  await rawCase('subscribe-before-ack', [sub]);
  await sleep(300);
  await rawCase('double-init', [init, init]);
  await sleep(300);
  await rawCase('forbidden', [{ type: 'connection_init', payload: { token: 'forbidden' } }]);
  await sleep(300);
  const { createClient } = require('graphql-ws');
  const client = createClient({ url: a.url, webSocketImpl: WebSocket, lazy: true, lazyCloseTimeout: 0, retryAttempts: 0 });
  await new Promise((resolve, reject) => {
    client.subscribe({ query: 'subscription { count }' }, {
      next: (v) => log(`client: next ${JSON.stringify(v)}`), error: reject, complete: resolve,
    });
  });
  await sleep(500);
  await client.dispose();
  log('graphql cases done');
  await sleep(300);
  process.exit(0);
}

if (a.mode === 'ws-hold') wsHold();
else if (a.mode === 'chat') chat();
else if (a.mode === 'socketio') socketio();
else if (a.mode === 'graphql') graphql().catch((e) => { log(`error ${e}`); process.exit(1); });
else { log(`unknown mode ${a.mode}`); process.exit(2); }
setTimeout(() => { log('lifetime over'); process.exit(0); }, a.lifetime * 1000).unref();
