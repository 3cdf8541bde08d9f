// Socket.IO's measured server for bench/fanout.ts, bench/memory.ts, bench/connrate.ts and
// bench/rpc.ts: run with Node (`node --expose-gc bench/_socketio_server.mjs`), socket.io 4 from
// the repo's node_modules (or NODE_PATH). The same control protocol as bench/_bench_server.ts:
// JSON lines on stdin (`{"op":"stats"|"gc"|"burst"|"exit", …}`), one JSON line answer each on
// stdout, the first stdout line `{"ready":true,"url":…,"pid":…,"runtime":"node"}`.
//
// The configuration a user deploys for WebSocket-only clients: `new Server(httpServer,
// { transports: ["websocket"] })` and every other option at Socket.IO 4's defaults
// (perMessageDeflate off, pingInterval 25 s, pingTimeout 20 s, maxHttpBufferSize 1 MB, no
// connection state recovery, the in-memory adapter). Nothing is lifted: Socket.IO has no
// per-IP or rate limits to lift.
//
// - every connection on the main namespace is counted (`connection` / `disconnect`); one whose
//   handshake query has `ch` joins room "bench" in the connection handler;
// - `echo` events are acknowledged with their data (the probe and bench/rpc.ts);
// - a burst is `count` × `io.emit("m", payload)` (broadcast) or `io.to("bench").emit("m",
//   payload)` (publish), a 64 B string payload as the other sides send.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import process from "node:process";

const require = createRequire(import.meta.url);
const { Server } = require("socket.io");

const now = () => performance.timeOrigin + performance.now();

/** CPU ms of this whole process (all threads) from /proc (10 ms ticks), as the other sides. */
function cpuMs() {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

function openFileLimit() {
  const limits = readFileSync("/proc/self/limits", "utf8");
  const line = limits.split("\n").find((l) => l.startsWith("Max open files"));
  return Number(line?.split(/\s+/)[3]);
}

let connections = 0;
const http = createServer();
const io = new Server(http, { transports: ["websocket"] });
io.on("connection", (socket) => {
  connections++;
  if (socket.handshake.query.ch !== undefined) socket.join("bench");
  socket.on("echo", (data, ack) => ack?.(data));
  socket.on("disconnect", () => connections--);
});
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));

const stats = () => ({
  rss: process.memoryUsage().rss,
  heapUsed: process.memoryUsage().heapUsed,
  nofile: openFileLimit(),
  cpuMs: cpuMs(),
  connections,
});
const reply = (m) => console.log(JSON.stringify(m));
const gc = () => {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
};
reply({
  ready: true,
  url: `ws://127.0.0.1:${http.address().port}/`,
  pid: process.pid,
  runtime: "node",
  versions: { node: process.version, socketio: require("socket.io/package.json").version },
});
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  if (cmd.op === "stats") reply({ re: "stats", ...stats() });
  else if (cmd.op === "gc") {
    gc();
    await new Promise((r) => setTimeout(r, 200));
    gc();
    reply({ re: "gc", ...stats() });
  } else if (cmd.op === "burst") {
    const payload = "x".repeat(cmd.bytes);
    const t0 = now();
    if (cmd.kind === "broadcast") { for (let i = 0; i < cmd.count; i++) io.emit("m", payload); }
    else for (let i = 0; i < cmd.count; i++) io.to("bench").emit("m", payload);
    reply({ re: "burst", t0, loopEnd: now() });
  } else if (cmd.op === "exit") {
    reply({ re: "exit" });
    process.exit(0);
  }
}
process.exit(0); // stdin closed: the orchestrator is gone
