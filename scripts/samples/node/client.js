#!/usr/bin/env node
// Node `ws` client for scripts/make-samples. Usage: node client.js --url ws://... --mode M [...]
// Every mode is bounded by --lifetime seconds.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

function args() {
  const a = { mode: 'basic', count: 3, size: 4096, lifetime: 30, deflate: 'off', pongs: 2, pidfile: null };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    a[k] = v[i + 1];
  }
  for (const k of ['count', 'size', 'lifetime', 'pongs']) a[k] = Number(a[k]);
  return a;
}

const a = args();
const log = (...m) => console.error('node_client:', ...m);
const opts = { autoPong: a.mode !== 'no-pong', handshakeTimeout: 5000 };
if (a.deflate === 'on') opts.perMessageDeflate = { threshold: 0 };
else if (a.deflate === 'default') opts.perMessageDeflate = true;
else opts.perMessageDeflate = false;

const ws = new WebSocket(a.url, opts);
if (a.pidfile) fs.writeFileSync(a.pidfile, String(process.pid));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const replies = [];
let waiter = null;
ws.on('message', (data, isBinary) => {
  if (waiter) { const w = waiter; waiter = null; w(data); } else replies.push(data);
});
const next = () => new Promise((r) => { if (replies.length) r(replies.shift()); else waiter = r; });

ws.on('close', (code, reason) => { log(`closed code=${code} reason=${reason}`); process.exit(0); });
ws.on('error', (e) => log(`error: ${e.message}`));
ws.on('unexpected-response', (req, res) => {
  log(`handshake refused: HTTP ${res.statusCode} ${res.statusMessage}`);
  res.resume();
  res.on('end', () => { req.destroy(); process.exit(0); });
});

ws.on('open', async () => {
  log(`open ${a.url} extensions=${ws.extensions || '-'}`);
  switch (a.mode) {
    case 'basic':
      for (let i = 0; i < a.count; i++) { ws.send(`hello ${i}`); log('echo:', String(await next())); }
      ws.close(1000, 'bye');
      break;
    case 'hold':
    case 'wait-close':
      ws.send('hello');
      break;                       // stays open until the peer ends it (or we are killed)
    case 'policy':
      ws.send('hello'); await next();
      ws.send('this message contains a forbidden word');
      break;
    case 'big':
    case 'too-big': {
      const buf = Buffer.alloc(a.size);
      for (let i = 0; i < a.size; i++) buf[i] = 0x61 + (i % 26);
      ws.send(a.mode === 'big' ? buf : buf.toString());
      if (a.mode === 'big') { const r = await next(); log(`reply ${r.length} bytes`); ws.close(1000, 'bye'); }
      break;
    }
    case 'no-pong': {
      // Answers the first --pongs pings by hand, then stops answering (a frozen client).
      let seen = 0;
      ws.on('ping', (data) => {
        seen += 1;
        if (seen <= a.pongs) { ws.pong(data); log(`ping ${seen}: pong`); } else log(`ping ${seen}: ignored`);
      });
      ws.send('hello');
      break;
    }
    case 'fragments': {
      // One text message in 4 fragments with a Ping between each two; then a binary one in 3.
      ws.send('frag-1 ', { fin: false }); ws.ping('p1');
      ws.send('frag-2 ', { fin: false }); ws.ping('p2');
      ws.send('frag-3 ', { fin: false }); ws.ping('p3');
      ws.send('end', { fin: true });
      log('echo:', String(await next()));
      ws.send(Buffer.from([1, 2, 3]), { binary: true, fin: false }); ws.ping('p4');
      ws.send(Buffer.from([4, 5, 6]), { binary: true, fin: false });
      ws.send(Buffer.from([7, 8, 9]), { binary: true, fin: true });
      log('echo:', await next());
      ws.send('x'.repeat(30) + ' (this one the server echoes in fragments with pings between)');
      log('echo:', String(await next()));
      await sleep(200);
      ws.close(1000, 'bye');
      break;
    }
    case 'utf8': {
      // Multi-byte UTF-8: 2-, 3- and 4-byte sequences, one message split inside a code point.
      const s = Buffer.from('héllo wörld — ünïcödé ✓ 日本語テキスト 🎉🚀 emoji 👋🏽', 'utf8');
      ws.send(s.toString('utf8')); log('echo:', String(await next()));
      const cut = s.indexOf(Buffer.from('日')) + 1;   // inside the 3-byte sequence of 日
      const cut2 = s.indexOf(Buffer.from('🎉')) + 2;  // inside the 4-byte sequence of 🎉
      ws.send(s.subarray(0, cut), { binary: false, fin: false });
      ws.send(s.subarray(cut, cut2), { binary: false, fin: false });
      ws.send(s.subarray(cut2), { binary: false, fin: true });
      log('echo:', String(await next()));
      await sleep(100);
      ws.close(1000, 'até logo 👋');
      break;
    }
    case 'deflate':
      for (let i = 0; i < a.count; i++) {
        ws.send(JSON.stringify({ type: 'update', seq: i, status: 'ok', payload: 'the quick brown fox jumps over the lazy dog '.repeat(3) }));
        await next();
      }
      ws.close(1000, 'bye');
      break;
    case 'rst':
      ws.send('hello'); log('echo:', String(await next()));
      await sleep(200);
      log('resetAndDestroy(): SO_LINGER 0 + close, an RST');
      ws._socket.resetAndDestroy();
      setTimeout(() => process.exit(0), 300);
      break;
    default:
      log(`unknown mode ${a.mode}`);
      process.exit(2);
  }
});

setTimeout(() => { log('lifetime over'); process.exit(0); }, a.lifetime * 1000).unref();
