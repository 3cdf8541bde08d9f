// Socket.IO's side of bench/backplane.ts (the baseline issue 12 names): run with Node, with
// socket.io 4, @socket.io/redis-adapter 8.3, socket.io-client 4 and redis 4 from the repo's
// node_modules (devDependencies) or NODE_PATH (see bench/_socketio_env.ts).
//
//   node bench/_socketio.mjs server <redisUrl> <port>      a node with the redis adapter
//   node bench/_socketio.mjs clients <clients> <publishes> <port,port,…>
//   node bench/_socketio.mjs paced <clients> <rate,rate,…> <seconds> <port,port,…> <pid,pid,…>
//
// The clients process joins every client to room "bench" (through the node it is connected to),
// asks the first node to emit `publishes` messages of 64 B to the room at once, and prints one
// JSON line: deliveries/s and publish → delivery p50/p99 (ms), measured as bench/backplane.ts
// measures sente-lite. `paced` instead asks for `rate` emits per second for `seconds` (after one
// second of warm-up) at each rate in turn, and prints one JSON line per rate: publish → delivery
// p50/p99/max over every delivery, and by node (the publishing one, `local`, and the other).
import { createRequire } from "node:module";
import process from "node:process";

const require = createRequire(import.meta.url);
const [role, ...args] = process.argv.slice(2);

if (role === "server") {
  const { Server } = require("socket.io");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const { createClient } = require("redis");
  const [url, port] = args;
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const io = new Server(Number(port), {
    adapter: createAdapter(pub, sub),
    transports: ["websocket"],
  });
  io.on("connection", (socket) => {
    socket.join("bench");
    socket.on("burst", ({ count, bytes }, ack) => {
      const pad = "x".repeat(bytes);
      for (let i = 0; i < count; i++) {
        io.to("bench").emit("m", { i, t: performance.timeOrigin + performance.now(), pad });
      }
      ack?.(true);
    });
    // As `ctl/pace` of tests/cluster/_node_server.ts: `count` emits at `rate`/s on a schedule.
    socket.on("pace", ({ count, rate, bytes, warm }, ack) => {
      const pad = "x".repeat(bytes);
      const gap = 1000 / rate;
      const start = performance.now();
      let i = 0;
      let lagMs = 0;
      const tick = () => {
        const now = performance.now();
        for (; i < count && start + i * gap <= now; i++) {
          lagMs = Math.max(lagMs, performance.now() - (start + i * gap));
          const t = performance.timeOrigin + performance.now();
          io.to("bench").emit("m", { i, t, w: warm, pad });
        }
        if (i < count) setTimeout(tick, Math.max(0, start + i * gap - performance.now()));
        else ack?.({ sent: i, lagMs: +lagMs.toFixed(2) });
      };
      tick();
    });
  });
  console.log("ready");
} else if (role === "paced") {
  await paced(...args);
} else if (role === "clients") {
  const { io } = require("socket.io-client");
  const [clientsArg, publishesArg, portsArg] = args;
  const CLIENTS = Number(clientsArg);
  const PUBLISHES = Number(publishesArg);
  const ports = portsArg.split(",");
  const total = CLIENTS * PUBLISHES;
  const latencies = [];
  let got = 0;
  let done;
  const all = new Promise((r) => done = r);
  const sockets = [];
  for (let i = 0; i < CLIENTS; i++) {
    const s = io(`ws://127.0.0.1:${ports[i % ports.length]}`, { transports: ["websocket"] });
    s.on("m", (d) => {
      if (got % 10 === 0) latencies.push(performance.timeOrigin + performance.now() - d.t);
      if (++got === total) done();
    });
    sockets.push(s);
  }
  await Promise.all(
    sockets.map((s) => new Promise((r) => s.connected ? r() : s.once("connect", r))),
  );
  // Joins happen in the servers' connection handlers; give the adapters a moment to settle.
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  sockets[0].emit("burst", { count: PUBLISHES, bytes: 64 });
  const timer = setTimeout(() => done(false), 300_000);
  const finished = await all;
  clearTimeout(timer);
  const ms = performance.now() - t0;
  const pct = (p) => {
    const s = [...latencies].sort((a, b) => a - b);
    return +s[Math.min(s.length - 1, Math.floor(s.length * p))]?.toFixed(2);
  };
  console.log(JSON.stringify(
    finished === false
      ? { name: "socketio_redis", stalled: true, delivered: got, deliveries: total }
      : {
        name: "socketio_redis",
        deliveries: total,
        deliveries_per_s: Math.round(total / ms * 1000),
        ms: Math.round(ms),
        latency_ms_p50: pct(0.5),
        latency_ms_p99: pct(0.99),
      },
  ));
  for (const s of sockets) s.close();
  process.exit(0);
}

/** The `paced` role (bench/backplane.ts `paced_socketio`). */
async function paced(clientsArg, ratesArg, secondsArg, portsArg, pidsArg) {
  const { readFileSync } = await import("node:fs");
  const pids = pidsArg.split(",").map(Number);
  const cpuMs = (pid) => { // utime + stime from /proc, 10 ms ticks
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  const { io } = require("socket.io-client");
  const CLIENTS = Number(clientsArg);
  const SECONDS = Number(secondsArg);
  const ports = portsArg.split(",");
  let lat = new Float64Array(0);
  let node = new Uint8Array(0);
  let got = 0;
  let wake = () => {};
  const sockets = [];
  for (let k = 0; k < CLIENTS; k++) {
    const s = io(`ws://127.0.0.1:${ports[k % ports.length]}`, { transports: ["websocket"] });
    const on = k % ports.length;
    s.on("m", (d) => {
      if (d.w) return;
      if (got < lat.length) {
        lat[got] = performance.timeOrigin + performance.now() - d.t;
        node[got] = on;
      }
      if (++got === lat.length) wake();
    });
    sockets.push(s);
  }
  await Promise.all(
    sockets.map((s) => new Promise((r) => s.connected ? r() : s.once("connect", r))),
  );
  await new Promise((r) => setTimeout(r, 500)); // joins settle
  const pace = (count, rate, warm) =>
    new Promise((r) => sockets[0].emit("pace", { count, rate, bytes: 64, warm }, r));
  for (const rate of ratesArg.split(",").map(Number)) {
    await pace(rate, rate, true); // one second of warm-up, left out
    const count = Math.round(rate * SECONDS);
    lat = new Float64Array(count * CLIENTS);
    node = new Uint8Array(count * CLIENTS);
    got = 0;
    const all = new Promise((r) => wake = r);
    const cpu0 = [cpuMs("self"), ...pids.map(cpuMs)];
    const t0 = performance.now();
    const { lagMs } = await pace(count, rate, false);
    const timer = setTimeout(() => wake(), SECONDS * 1000 + 60_000);
    await all;
    clearTimeout(timer);
    const wall = performance.now() - t0;
    const [client, ...servers] = [cpuMs("self"), ...pids.map(cpuMs)].map((c, i) =>
      Math.round((c - cpu0[i]) / wall * 100)
    );
    console.log(JSON.stringify(pacedResult("socketio_redis", rate, count, lat, node, got, {
      ms: Math.round(wall),
      publish_lag_ms_max: lagMs,
      client_cpu_pct: client,
      server_cpu_pct: servers,
    })));
  }
  for (const s of sockets) s.close();
  process.exit(0);
}

/** p50/p99/max over the first `got` latencies, overall and by node (0 publishes). */
function pacedResult(name, rate, count, lat, node, got, extra) {
  const n = Math.min(got, lat.length);
  const stats = (pick) => {
    const s = [];
    for (let i = 0; i < n; i++) if (pick(node[i])) s.push(lat[i]);
    s.sort((a, b) => a - b);
    const at = (p) => +(s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0).toFixed(2);
    return { n: s.length, p50: at(0.5), p99: at(0.99), max: +(s.at(-1) ?? 0).toFixed(2) };
  };
  return {
    name,
    rate,
    publishes: count,
    deliveries: lat.length,
    delivered: n,
    ...extra,
    all: stats(() => true),
    local: stats((k) => k === 0),
    remote: stats((k) => k !== 0),
  };
}
