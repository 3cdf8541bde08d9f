// Socket.IO's side of bench/backplane.ts (the baseline issue 12 names): run with Node, with
// socket.io 4, @socket.io/redis-adapter 8.3, socket.io-client 4 and redis 4 reachable through
// NODE_PATH (bench/backplane.ts installs nothing; see its header).
//
//   node bench/_socketio.mjs server <redisUrl> <port>      a node with the redis adapter
//   node bench/_socketio.mjs clients <clients> <publishes> <port,port,…>
//
// The clients process joins every client to room "bench" (through the node it is connected to),
// asks the first node to emit `publishes` messages of 64 B to the room at once, and prints one
// JSON line: deliveries/s and publish → delivery p50/p99 (ms), measured as bench/backplane.ts
// measures sente-lite.
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
  });
  console.log("ready");
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
