// Socket.IO's measured server for bench/fanout.ts, bench/memory.ts, bench/connrate.ts and
// bench/rpc.ts: run with Node (`node --expose-gc bench/_socketio_server.mjs`), socket.io 4 from
// the repo's node_modules (or NODE_PATH). The same control protocol as bench/_bench_server.ts:
// JSON lines on stdin (`{"op":"stats"|"gc"|"burst"|"exit", …}`), one JSON line answer each on
// stdout (bench/_control.mjs), the first `{"ready":true,"url":…,"pid":…,"runtime":"node"}`.
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
import process from "node:process";
import { control } from "./_control.mjs";

const require = createRequire(import.meta.url);
const { Server } = require("socket.io");

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

await control({
  ready: {
    ready: true,
    url: `ws://127.0.0.1:${http.address().port}/`,
    pid: process.pid,
    runtime: "node",
    versions: { node: process.version, socketio: require("socket.io/package.json").version },
  },
  connections: () => connections,
  gc: () => {
    // The same memory-reducing full GC as bench/_bench_server.ts asks V8 for (Node 20's V8
    // ignores `flavor` and keeps its young generation as grown).
    const options = { type: "major", execution: "sync", flavor: "last-resort" };
    for (let i = 0; i < 3; i++) globalThis.gc?.(options);
  },
  burst: (kind, payload) => {
    if (kind === "broadcast") io.emit("m", payload);
    else io.to("bench").emit("m", payload);
  },
});
