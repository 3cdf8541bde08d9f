// One load generator for both protocols (bench/backplane.ts, the `*_raw` scenarios), so the
// comparison measures the servers, not two client libraries: minimal protocol clients on Node's
// `ws` (from NODE_PATH), frames counted and their stamp read with one JSON.parse each.
//
//   node bench/_raw_fanout_clients.mjs <sente|sio> <clients> <publishes> <url,url,…>
//
// sente: `?packer=json`, subscribes to channel "bench", triggers `ctl/burst` on the first node.
// sio: Engine.IO 4 over WebSocket (the server's connection handler joins room "bench"), triggers
// `burst`. Prints one JSON line: deliveries/s and publish → delivery p50/p99 (ms).
import { createRequire } from "node:module";
import process from "node:process";
import { randomUUID } from "node:crypto";

const require = createRequire(import.meta.url);
const WebSocket = require("ws");
const [side, clientsArg, publishesArg, urlsArg] = process.argv.slice(2);
const CLIENTS = Number(clientsArg);
const PUBLISHES = Number(publishesArg);
const urls = urlsArg.split(",");
const total = CLIENTS * PUBLISHES;
const now = () => performance.timeOrigin + performance.now();
const latencies = [];
let got = 0;
let done;
const all = new Promise((r) => done = r);

function onMessage(text) {
  const at = text.indexOf('"t":');
  if (at < 0) return false;
  if (got % 10 === 0) latencies.push(now() - parseFloat(text.slice(at + 4)));
  if (++got === total) done(true);
  return true;
}

function openSente(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}?client-id=${randomUUID()}&packer=json`);
    let ready = false;
    ws.on(
      "open",
      () => ws.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "bench" }], "s"])),
    );
    ws.on("message", (data) => {
      const text = data.toString();
      if (!ready) {
        if (text.includes('"success":true')) {
          ready = true;
          resolve(ws);
        }
        return;
      }
      onMessage(text);
    });
    ws.on("error", reject);
  });
}

function openSio(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/socket.io/?EIO=4&transport=websocket`);
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") return ws.send("3"); // Engine.IO ping
      if (text.startsWith("0")) return ws.send("40"); // open → connect the main namespace
      if (text.startsWith("40")) return resolve(ws);
      if (text.startsWith("42")) onMessage(text);
    });
    ws.on("error", reject);
  });
}

const sockets = [];
for (let i = 0; i < CLIENTS; i += 100) {
  const batch = [];
  for (let k = i; k < Math.min(CLIENTS, i + 100); k++) {
    const url = urls[k % urls.length];
    batch.push(side === "sente" ? openSente(url) : openSio(url));
  }
  sockets.push(...await Promise.all(batch));
}
await new Promise((r) => setTimeout(r, 500)); // joins and topic subscriptions settle
const t0 = performance.now();
const burst = { channel: "bench", count: PUBLISHES, bytes: 64 };
if (side === "sente") sockets[0].send(JSON.stringify([["ctl/burst", burst], "b"]));
else sockets[0].send(`42${JSON.stringify(["burst", burst])}`);
const timer = setTimeout(() => done(false), 300_000);
const finished = await all;
clearTimeout(timer);
const ms = performance.now() - t0;
const s = [...latencies].sort((a, b) => a - b);
const pct = (p) => +(s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0).toFixed(2);
console.log(JSON.stringify(
  finished
    ? {
      deliveries: total,
      deliveries_per_s: Math.round(total / ms * 1000),
      ms: Math.round(ms),
      latency_ms_p50: pct(0.5),
      latency_ms_p99: pct(0.99),
    }
    : { stalled: true, delivered: got, deliveries: total },
));
for (const ws of sockets) ws.terminate();
process.exit(0);
