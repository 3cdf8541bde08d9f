/**
 * Request→reply round trips through sente-lite on Deno, against a raw `Deno.serve` WebSocket
 * echo in the same run with the same load shape.
 *
 * Load: `--connections` (10) WebSockets, each keeping `--in-flight` (50) requests outstanding
 * (every reply sends the next request) with a `--payload` (64) byte string, measured for
 * `--seconds` (5) after `--warmup` (1) seconds, `--rounds` (1) times, alternating the `--sides`
 * (default `raw,senteLite,senteServer`) within each round.
 *
 * - raw: the server `JSON.parse`s each text frame and sends back `JSON.stringify` of it; the
 *   client sends `{"id": n, "payload": "…"}` and matches replies by `id` in a `Map`. So both sides
 *   do the JSON work sente-lite does, with no envelope, routing, callback ids or timers.
 * - senteLite: `createServer()` (message rate limit lifted) with
 *   `on("bench/echo", (msg) => msg.data)`; the client is
 *   `connect()` + `client.request("bench/echo", payload)` (default 10 s timeout per request).
 * - senteServer (diagnostic): the same sente-lite server driven by a minimal hand-written
 *   protocol client (`[["bench/echo", payload], cbId]` frames, counter cb-ids, replies matched
 *   in a `Map`, no timers), so `serverRatio` shows the server's share of the cost alone.
 * - socketio: Socket.IO 4 on Node (bench/_socketio_server.mjs: `transports: ["websocket"]`,
 *   every other option default, perMessageDeflate off), `socket.on("echo", (data, ack) =>
 *   ack(data))`, driven by the same kind of minimal client as senteServer, speaking Engine.IO 4 /
 *   Socket.IO 5 framing (`42<id>["echo",payload]` emits with an ack id, `43<id>[payload]` acks
 *   parsed with `JSON.parse`, pings answered), not socket.io-client: `socketioRatio` is to be read
 *   beside `serverRatio`. Its server CPU is the Node process's main thread (as the Deno servers'
 *   is Deno's main thread). Its server is a process of its own while the Deno servers share theirs
 *   with the load generator's thread, so on a loaded machine the scheduler may serve the sides
 *   differently: the server CPU per request is the steadier comparison. Skipped, with the reason in the output and `config.socketio`, without
 *   Node or socket.io.
 *
 * The servers run on the main thread and the load generator in a Worker (its own isolate, event
 * loop and thread): on 2 cores each side gets one, and the client's cost is not charged to the
 * server's event loop. Progress goes to stderr; stdout gets a table and, on the last line, one
 * JSON object `{"bench":"rpc","raw":{…},"senteLite":{…},"ratio":…,"senteServer":{…},
 * "serverRatio":…,"socketio":{…},"socketioRatio":…}` (ratio = sente-lite msg/s ÷ raw msg/s, the
 * median round of each side).
 *
 * Run: `deno run -A bench/rpc.ts [--seconds 5] [--rounds 1] [--sides raw,senteLite]` (default
 * sides `raw,senteLite,senteServer,socketio`)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connect } from "../client.ts";
import { createServer } from "../server.ts";
import { SIO_PATH } from "./_bench_clients.ts";
import { type Proc, startServer } from "./_proc.ts";
import { findSocketIo, socketIoConfig } from "./_socketio_env.ts";

/** The load shape, the same for both sides. */
interface Config {
  connections: number;
  inFlight: number;
  payloadBytes: number;
  seconds: number;
  warmupSeconds: number;
}

type Mode = "raw" | "senteLite" | "senteServer" | "socketio";
const MODES: readonly Mode[] = ["raw", "senteLite", "senteServer", "socketio"];

/** What one measured run gives. */
interface Result {
  msgPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  seconds: number;
  /** CPU time of the server thread per request, in µs (Linux only, else absent); Socket.IO: the
   * Node process's main thread. */
  serverCpuUs?: number;
  /** CPU time of the load-generator worker thread per request, in µs (Linux only). */
  clientCpuUs?: number;
}

type ToWorker = { mode: Mode; url: string; config: Config };
type FromWorker =
  | { type: "progress"; mode: Mode; phase: "warmup" | "measure"; elapsed: number; count: number }
  | { type: "phase"; phase: "measure" | "stop" }
  | { type: "result"; mode: Mode; latencies: Float64Array; requests: number; seconds: number }
  | { type: "error"; message: string };

/** Bound on connecting and on draining outstanding requests at the end of a run. */
const SETTLE_MS = 10_000;

if ("WorkerGlobalScope" in globalThis) workerMain();
else if (import.meta.main) await main();

// ------------------------------------------------------------------ main thread: servers

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      rounds: { type: "string", default: "1" },
      connections: { type: "string", default: "10" },
      "in-flight": { type: "string", default: "50" },
      payload: { type: "string", default: "64" },
      sides: { type: "string", default: MODES.join(",") },
    },
    strict: true,
  });
  const num = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) {
      throw new RangeError(`--${name} must be >= ${min}, got ${raw}`);
    }
    return n;
  };
  const config: Config = {
    connections: num("connections", values.connections, 1),
    inFlight: num("in-flight", values["in-flight"], 1),
    payloadBytes: num("payload", values.payload, 0),
    seconds: num("seconds", values.seconds, 0.1),
    warmupSeconds: num("warmup", values.warmup, 0),
  };
  const rounds = num("rounds", values.rounds, 1);
  let sides = values.sides.split(",").map((side) => {
    if (!MODES.includes(side as Mode)) {
      throw new RangeError(`--sides takes ${MODES.join(", ")}; got ${JSON.stringify(side)}`);
    }
    return side as Mode;
  });
  for (const needed of ["raw", "senteLite"] as const) {
    if (!sides.includes(needed)) throw new RangeError(`--sides must include ${needed}`);
  }
  // Benchmarks are not tests: without Node or socket.io that side is left out, and said so.
  if (sides.includes("socketio") && "skipped" in findSocketIo()) {
    sides = sides.filter((side) => side !== "socketio");
  }

  const raw = serveRawEcho();
  const sente = createServer({
    // The default per-connection limit (2000 msg/s) is below this load; lift the threshold but
    // keep the limiter on, so its per-frame cost is measured as in a default deployment.
    rateLimit: { messages: { perSecond: 1e9, burst: 1e9 } },
    onError: (e) => console.error("bench server error:", e),
  });
  sente.on("bench/echo", (msg) => msg.data);
  const senteHandle = await sente.serve({ port: 0 });
  const sio = sides.includes("socketio") ? await startServer("node", "sio") : null;
  const urls: Record<Mode, string> = {
    raw: raw.url,
    senteLite: senteHandle.url,
    senteServer: senteHandle.url,
    socketio: sio?.ready.url ?? "",
  };

  const worker = new Worker(import.meta.url, { type: "module" });
  const results: Record<Mode, Result[]> = { raw: [], senteLite: [], senteServer: [], socketio: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of sides) {
        results[mode].push(await runInWorker(worker, { mode, url: urls[mode], config }, sio));
      }
    }
  } finally {
    worker.terminate();
    await senteHandle.close();
    await raw.close();
    await sio?.proc.stop();
  }

  const pick = (mode: Mode) => median(results[mode]);
  const ratioOf = (mode: Mode) => round(pick(mode).msgPerSec / pick("raw").msgPerSec, 3);
  const server = sides.includes("senteServer")
    ? { senteServer: pick("senteServer"), serverRatio: ratioOf("senteServer") }
    : {};
  const socketio = sides.includes("socketio")
    ? { socketio: pick("socketio"), socketioRatio: ratioOf("socketio") }
    : {};
  const sioConfig = values.sides.split(",").includes("socketio")
    ? socketIoConfig()
    : { skipped: "not in --sides" };
  const summary = {
    bench: "rpc",
    raw: pick("raw"),
    senteLite: pick("senteLite"),
    ratio: ratioOf("senteLite"),
    ...server,
    ...socketio,
    config: {
      ...config,
      rounds,
      runtime: `deno ${Deno.version.deno}`,
      clients: "worker",
      socketio: sioConfig,
    },
  };
  printTable(results, summary.ratio, server.serverRatio, socketio.socketioRatio);
  if (sioConfig.skipped) console.log(`Socket.IO side skipped: ${sioConfig.skipped}`);
  console.log(JSON.stringify(summary));
}

/** The raw baseline server: JSON round trip of every text frame, nothing else. */
function serveRawEcho(): { url: string; close(): Promise<void> } {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    socket.onmessage = (e) => socket.send(JSON.stringify(JSON.parse(e.data as string)));
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/`,
    close: () => server.shutdown(),
  };
}

function runInWorker(
  worker: Worker,
  job: ToWorker,
  sio: { proc: Proc } | null,
): Promise<Result> {
  // Socket.IO's server is another process: its main thread's CPU is read instead of ours.
  const serverPid = job.mode === "socketio" ? sio!.proc.pid : Deno.pid;
  return new Promise((resolve, reject) => {
    let cpuStart: ThreadCpu | null = null;
    let cpuEnd: ThreadCpu | null = null;
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "phase") {
        if (m.phase === "measure") cpuStart = threadCpuMs(serverPid);
        else cpuEnd = threadCpuMs(serverPid);
      } else if (m.type === "progress") {
        const rate = m.elapsed > 0 ? Math.round(m.count / m.elapsed) : 0;
        console.error(`${m.mode} ${m.phase} ${m.elapsed.toFixed(1)} s: ${rate} msg/s`);
      } else if (m.type === "result") {
        const sorted = m.latencies.sort();
        resolve({
          msgPerSec: Math.round(m.requests / m.seconds),
          p50Ms: round(quantile(sorted, 0.5), 3),
          p99Ms: round(quantile(sorted, 0.99), 3),
          requests: m.requests,
          seconds: round(m.seconds, 3),
          ...(cpuStart && cpuEnd
            ? {
              serverCpuUs: round(1000 * (cpuEnd.server - cpuStart.server) / m.requests, 2),
              clientCpuUs: round(1000 * (cpuEnd.client - cpuStart.client) / m.requests, 2),
            }
            : {}),
        });
      } else reject(new Error(`${job.mode} run failed in the worker: ${m.message}`));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`${job.mode} worker crashed: ${e.message}`));
    };
    worker.postMessage(job);
  });
}

interface ThreadCpu {
  server: number;
  client: number;
}

/**
 * CPU ms used so far by the server's main thread (this process's: servers, and Deno's I/O for
 * them; or `serverPid`'s, Socket.IO's Node process) and by the worker thread (load generator),
 * from `/proc/<pid>/task/<tid>/stat` (utime + stime at 100 ticks/s, so 10 ms resolution); `null`
 * where that is not available. This splits the cost per side even when other processes compete
 * for the cores and make msg/s noisy.
 */
function threadCpuMs(serverPid: number): ThreadCpu | null {
  try {
    const dir = `/proc/${Deno.pid}/task`;
    const cpu = { server: 0, client: 0 };
    for (const task of Deno.readDirSync(dir)) {
      const { name, ms } = taskCpu(`${dir}/${task.name}/stat`);
      if (task.name === String(Deno.pid) && serverPid === Deno.pid) cpu.server += ms;
      else if (name.startsWith("worker")) cpu.client += ms;
    }
    if (serverPid !== Deno.pid) {
      cpu.server = taskCpu(`/proc/${serverPid}/task/${serverPid}/stat`).ms;
    }
    return cpu;
  } catch {
    return null;
  }
}

/** A thread's name and utime + stime in ms from its `stat` file. */
function taskCpu(path: string): { name: string; ms: number } {
  const stat = Deno.readTextFileSync(path);
  const end = stat.lastIndexOf(")");
  const fields = stat.slice(end + 2).split(" "); // fields[0] is stat field 3 (state)
  return {
    name: stat.slice(stat.indexOf("(") + 1, end),
    ms: (Number(fields[11]) + Number(fields[12])) * 10,
  };
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function median(results: Result[]): Result {
  return [...results].sort((a, b) => a.msgPerSec - b.msgPerSec)[(results.length - 1) >> 1];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function printTable(
  results: Record<Mode, Result[]>,
  ratio: number,
  serverRatio?: number,
  socketioRatio?: number,
): void {
  const rows = [[
    "side",
    "round",
    "msg/s",
    "p50 ms",
    "p99 ms",
    "requests",
    "seconds",
    "server CPU µs/req",
    "client CPU µs/req",
  ]];
  for (const mode of MODES) {
    results[mode].forEach((r, i) =>
      rows.push([
        mode,
        String(i + 1),
        String(r.msgPerSec),
        r.p50Ms.toFixed(3),
        r.p99Ms.toFixed(3),
        String(r.requests),
        r.seconds.toFixed(2),
        r.serverCpuUs?.toFixed(1) ?? "-",
        r.clientCpuUs?.toFixed(1) ?? "-",
      ])
    );
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join("  "));
  console.log(`sente-lite / raw msg/s (median rounds): ${ratio.toFixed(3)} (goal >= 0.85)`);
  if (serverRatio !== undefined) {
    console.log(`sente-lite server alone (minimal client) / raw: ${serverRatio.toFixed(3)}`);
  }
  if (socketioRatio !== undefined) {
    console.log(`Socket.IO on Node (minimal client) / raw: ${socketioRatio.toFixed(3)}`);
  }
}

// ------------------------------------------------------------------ worker: load generator

/** One connection's way of keeping requests in flight; `fire` sends one and calls `done` on reply. */
interface Driver {
  fire(done: (latencyMs: number) => void): void;
  close(): Promise<void>;
}

function workerMain(): void {
  // Inside a worker `self` is the worker scope; Deno's main-thread types do not know it.
  const scope = self as unknown as Worker;
  const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
  scope.onmessage = async (e: MessageEvent<ToWorker>) => {
    try {
      const { mode, url, config } = e.data;
      const payload = "x".repeat(config.payloadBytes);
      const drivers = await Promise.all(
        Array.from(
          { length: config.connections },
          () => DRIVERS[mode](url, payload),
        ),
      );
      post(await drive(mode, drivers, config, post));
      await Promise.all(drivers.map((d) => d.close()));
    } catch (err) {
      post({
        type: "error",
        message: err instanceof Error ? err.stack ?? err.message : String(err),
      });
    }
  };
}

/** Keeps `inFlight` requests outstanding per driver through warmup and measurement. */
function drive(
  mode: Mode,
  drivers: Driver[],
  config: Config,
  post: (m: FromWorker) => void,
): Promise<FromWorker> {
  let latencies = new Float64Array(1 << 16);
  let requests = 0;
  let outstanding = 0;
  let phase: "warmup" | "measure" | "stop" = config.warmupSeconds > 0 ? "warmup" : "measure";
  let phaseStart = performance.now();
  let count = 0;
  let drained = () => {};
  const onReply = (driver: Driver) => (latencyMs: number) => {
    outstanding--;
    count++;
    if (phase === "measure") {
      if (requests === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[requests++] = latencyMs;
    }
    if (phase === "stop") {
      if (outstanding === 0) drained();
      return;
    }
    outstanding++;
    driver.fire(onReplies.get(driver)!);
  };
  const onReplies = new Map(drivers.map((d) => [d, onReply(d)]));

  return new Promise((resolve, reject) => {
    const progress = setInterval(() => {
      if (phase === "stop") return;
      post({
        type: "progress",
        mode,
        phase,
        elapsed: (performance.now() - phaseStart) / 1000,
        count,
      });
    }, 1000);
    const startMeasure = () => {
      post({ type: "phase", phase: "measure" });
      phase = "measure";
      phaseStart = performance.now();
      count = 0;
      setTimeout(stop, config.seconds * 1000);
    };
    const stop = () => {
      const seconds = (performance.now() - phaseStart) / 1000;
      post({ type: "phase", phase: "stop" });
      phase = "stop";
      clearInterval(progress);
      const timer = setTimeout(
        () => reject(new Error(`${outstanding} requests still outstanding after ${SETTLE_MS} ms`)),
        SETTLE_MS,
      );
      drained = () => {
        clearTimeout(timer);
        const result = latencies.slice(0, requests);
        resolve({ type: "result", mode, latencies: result, requests, seconds });
      };
      if (outstanding === 0) drained();
    };
    if (phase === "warmup") setTimeout(startMeasure, config.warmupSeconds * 1000);
    else startMeasure();
    for (const driver of drivers) {
      for (let i = 0; i < config.inFlight; i++) {
        outstanding++;
        driver.fire(onReplies.get(driver)!);
      }
    }
  });
}

/**
 * A driver over a connected socket, one request per `fire`: `request(key)` is the frame of a
 * request, `replyTo(frame)` the key of the request a frame answers (undefined: not a reply);
 * requests are keyed by `key(n)` of a counter and matched in a `Map`, no timers.
 */
function matchingDriver<K>(
  ws: WebSocket,
  what: string,
  key: (n: number) => K,
  request: (key: K) => string,
  replyTo: (frame: string) => K | undefined,
): Driver {
  const pending = new Map<K, { t0: number; done: (ms: number) => void }>();
  let nextId = 0;
  ws.onmessage = (e) => {
    const k = replyTo(e.data as string);
    if (k === undefined) return;
    const p = pending.get(k)!;
    pending.delete(k);
    p.done(performance.now() - p.t0);
  };
  const closed = new Promise<void>((r) => ws.onclose = () => r());
  return {
    fire(done) {
      const k = key(nextId++);
      pending.set(k, { t0: performance.now(), done });
      ws.send(request(k));
    },
    close() {
      ws.close();
      return settle(closed, `${what} to close`);
    },
  };
}

/** A raw WebSocket client: `{id, payload}` JSON frames, replies matched by `id`. */
async function rawDriver(url: string, payload: string): Promise<Driver> {
  const ws = new WebSocket(url);
  await settle(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    }),
    `raw connection to ${url}`,
  );
  return matchingDriver(
    ws,
    "raw connection",
    (n) => n,
    (id) => JSON.stringify({ id, payload }),
    (frame) => (JSON.parse(frame) as { id: number; payload: string }).id,
  );
}

/** A minimal sente-lite protocol client: envelope frames, counter cb-ids, no timers. */
async function protocolDriver(url: string, payload: string): Promise<Driver> {
  const ws = new WebSocket(`${url}?client-id=${crypto.randomUUID()}&packer=json`);
  await settle(
    new Promise<void>((resolve, reject) => {
      ws.onmessage = () => resolve(); // the handshake
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    }),
    `sente-lite handshake with ${url}`,
  );
  return matchingDriver(
    ws,
    "protocol connection",
    (n) => n.toString(36),
    (cb) => JSON.stringify([["bench/echo", payload], cb]),
    (frame) => (JSON.parse(frame) as [unknown, string])[1],
  );
}

/**
 * A minimal Socket.IO client (Engine.IO 4 / Socket.IO 5 framing): emits with counter ack ids
 * (`42<id>["echo",payload]`), acks `43<id>[payload]` parsed and matched in a `Map`, Engine.IO
 * pings answered, no timers.
 */
async function socketIoDriver(url: string, payload: string): Promise<Driver> {
  const ws = new WebSocket(`${url}${SIO_PATH}`);
  await settle(
    new Promise<void>((resolve, reject) => {
      ws.onmessage = (e) => {
        const data = e.data as string;
        if (data[0] === "0") ws.send("40"); // Engine.IO open → connect the main namespace
        else if (data.startsWith("40")) resolve();
      };
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    }),
    `Socket.IO connect to ${url}`,
  );
  return matchingDriver(
    ws,
    "Socket.IO connection",
    (n) => n,
    (id) => `42${id}${JSON.stringify(["echo", payload])}`,
    (frame) => {
      if (frame === "2") return void ws.send("3"); // Engine.IO ping
      const open = frame.indexOf("[");
      JSON.parse(frame.slice(open));
      return Number(frame.slice(2, open));
    },
  );
}

/** Surfaces a failed request as an uncaught error in the worker: the run is invalid. */
function fail(e: unknown): never {
  throw e;
}

/** A sente-lite client: `client.request("bench/echo", payload)`, one closure per request. */
async function senteDriver(url: string, payload: string): Promise<Driver> {
  const client = connect(url);
  await settle(client.ready, `sente-lite handshake with ${url}`);
  return {
    fire(done) {
      const t0 = performance.now();
      client.request("bench/echo", payload).then(() => done(performance.now() - t0), fail);
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}

const DRIVERS: Record<Mode, (url: string, payload: string) => Promise<Driver>> = {
  raw: rawDriver,
  senteLite: senteDriver,
  senteServer: protocolDriver,
  socketio: socketIoDriver,
};

function settle<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), SETTLE_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}
