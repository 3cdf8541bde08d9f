/**
 * Request→reply round trips through sente-lite on Deno, against two raw `Deno.serve` WebSocket
 * echoes in the same run with the same load shape.
 *
 * Load: `--connections` (10) WebSockets, each keeping `--in-flight` (50) requests outstanding
 * (every reply sends the next request) with a `--payload` (64) byte string, measured for
 * `--seconds` (5) after `--warmup` (1) seconds, `--rounds` (1) times, alternating the `--sides`
 * within each round.
 *
 * - raw (the baseline of issue 13): the server sends back each frame's `data` as it came, no
 *   JSON at all. Its client does the least a raw client must to match a reply to its request:
 *   the frame is the request number in decimal, a space and the payload (`"17 xxx…"`), and the
 *   reply is matched by `parseInt` of that prefix in a `Map` (no JSON either way).
 * - rawJson (a second, more generous reference): the server `JSON.parse`s each text frame and
 *   sends back `JSON.stringify` of it; the client sends `{"id": n, "payload": "…"}` and matches
 *   replies by `id` in a `Map`. Both sides do the JSON work sente-lite does, with no envelope,
 *   routing, callback ids or timers.
 * - senteLite: `createServer()` with `on("bench/echo", (msg) => msg.data)`; the client is
 *   `connect()` + `client.request("bench/echo", payload)` (default 10 s timeout per request).
 *   Everything is as a user configures it except two lifted limits: the per-connection message
 *   rate (default 2000 msg/s, below this load) and the per-IP one (20000 msg/s; every connection
 *   is on 127.0.0.1) are raised to 1e9/s; the limiters stay on, so their per-frame cost is
 *   measured. The byte rate, size limits and heartbeat keep their defaults.
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
 * server's event loop. CPU time per request of each thread (server, client) is read from
 * `/proc` (Linux), and is steadier than msg/s on a shared machine.
 *
 * Progress goes to stderr; stdout gets a table and, on the last line, one JSON object
 * `{"bench":"rpc","raw":{…},"rawJson":{…},"senteLite":{…},"senteServer":{…},"socketio":{…},
 * "ratio":…,"serverRatio":…,"socketioRatio":…,"ratios":{…},"config":{…}}`: each side is its
 * median round by msg/s; `ratio`, `serverRatio` and `socketioRatio` are senteLite, senteServer
 * and socketio msg/s ÷ raw (no-JSON) msg/s; `ratios.<side>.<baseline>` holds `msgPerSec` (side ÷
 * baseline) and `serverCpu`, `clientCpu` (baseline CPU µs per request ÷ the side's: higher is
 * better, 1.0 is as cheap as the baseline), each from the medians over rounds.
 *
 * Run: `deno run -A bench/rpc.ts [--seconds 5] [--rounds 1] [--sides raw,rawJson,senteLite]`
 * (default sides `raw,rawJson,senteLite,senteServer,socketio`)
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

type Mode = "raw" | "rawJson" | "senteLite" | "senteServer" | "socketio";
const MODES: readonly Mode[] = ["raw", "rawJson", "senteLite", "senteServer", "socketio"];
/** The sides every other side is compared with. */
const BASELINES = ["raw", "rawJson"] as const;

/** What the bench changes from a default server, said in its output. */
const LIFTED = [
  "rateLimit.messages and rateLimit.messagesPerIp: 1e9/s (default 2000/s per connection, 20000/s per IP); the limiters stay on",
];

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

  const raw = serveRawEcho((data) => data);
  const rawJson = serveRawEcho((data) => JSON.stringify(JSON.parse(data)));
  const sente = createServer({
    // The default per-connection limit (2000 msg/s) is below this load; lift the threshold but
    // keep the limiter on, so its per-frame cost is measured as in a default deployment.
    rateLimit: {
      messages: { perSecond: 1e9, burst: 1e9 },
      messagesPerIp: { perSecond: 1e9, burst: 1e9 },
    },
    onError: (e) => console.error("bench server error:", e),
  });
  sente.on("bench/echo", (msg) => msg.data);
  const senteHandle = await sente.serve({ port: 0 });
  const sio = sides.includes("socketio") ? await startServer("node", "sio") : null;
  const urls: Record<Mode, string> = {
    raw: raw.url,
    rawJson: rawJson.url,
    senteLite: senteHandle.url,
    senteServer: senteHandle.url,
    socketio: sio?.ready.url ?? "",
  };

  const worker = new Worker(import.meta.url, { type: "module" });
  const results: Record<Mode, Result[]> = {
    raw: [],
    rawJson: [],
    senteLite: [],
    senteServer: [],
    socketio: [],
  };
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
    await rawJson.close();
    await sio?.proc.stop();
  }

  const measured = MODES.filter((mode) => results[mode].length > 0);
  const ratios: RatioTable = {};
  for (const mode of measured) {
    if (mode === "raw") continue;
    for (const base of BASELINES) {
      if (base === mode || !measured.includes(base)) continue;
      (ratios[mode] ??= {})[base] = ratiosOf(results[mode], results[base]);
    }
  }
  const vsRaw = (mode: Mode) => ratios[mode]?.raw?.msgPerSec;
  const sioConfig = values.sides.split(",").includes("socketio")
    ? socketIoConfig()
    : { skipped: "not in --sides" };
  const summary = {
    bench: "rpc",
    ...Object.fromEntries(measured.map((mode) => [mode, median(results[mode])])),
    ratio: vsRaw("senteLite")!,
    ...(measured.includes("senteServer") ? { serverRatio: vsRaw("senteServer") } : {}),
    ...(measured.includes("socketio") ? { socketioRatio: vsRaw("socketio") } : {}),
    ratios,
    config: {
      ...config,
      rounds,
      runtime: `deno ${Deno.version.deno}`,
      clients: "worker",
      lifted: LIFTED,
      socketio: sioConfig,
    },
  };
  printTable(results, ratios);
  if (sioConfig.skipped) console.log(`Socket.IO side skipped: ${sioConfig.skipped}`);
  console.log(JSON.stringify(summary));
}

type Baseline = typeof BASELINES[number];

/** A side against a baseline; CPU ratios are baseline ÷ side (1.0: as cheap as the baseline). */
interface Ratios {
  msgPerSec: number;
  serverCpu?: number;
  clientCpu?: number;
}

/** The ratios of every measured side against every measured baseline. */
type RatioTable = Partial<Record<Mode, Partial<Record<Baseline, Ratios>>>>;

function ratiosOf(side: Result[], base: Result[]): Ratios {
  const of = (key: "msgPerSec" | "serverCpuUs" | "clientCpuUs", inverse: boolean) => {
    const a = medianOf(side.map((r) => r[key])), b = medianOf(base.map((r) => r[key]));
    if (a === undefined || b === undefined) return undefined;
    return round(inverse ? b / a : a / b, 3);
  };
  const serverCpu = of("serverCpuUs", true), clientCpu = of("clientCpuUs", true);
  return {
    msgPerSec: of("msgPerSec", false)!,
    ...(serverCpu !== undefined ? { serverCpu } : {}),
    ...(clientCpu !== undefined ? { clientCpu } : {}),
  };
}

/** A raw baseline server: sends back `reply(data)` for every text frame, nothing else. */
function serveRawEcho(reply: (data: string) => string): { url: string; close(): Promise<void> } {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    socket.onmessage = (e) => socket.send(reply(e.data as string));
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

/** The median of the defined values (the mean of the middle two for an even count). */
function medianOf(values: (number | undefined)[]): number | undefined {
  const xs = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function printTable(results: Record<Mode, Result[]>, ratios: RatioTable): void {
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
        r.serverCpuUs?.toFixed(2) ?? "-",
        r.clientCpuUs?.toFixed(2) ?? "-",
      ])
    );
  }
  printRows(rows);
  console.log("");
  const ratioRows = [["side ÷ baseline (medians)", "msg/s", "server CPU", "client CPU"]];
  for (const [mode, byBase] of Object.entries(ratios)) {
    for (const [base, r] of Object.entries(byBase!)) {
      ratioRows.push([
        `${mode} ÷ ${base}`,
        r.msgPerSec.toFixed(3),
        r.serverCpu?.toFixed(3) ?? "-",
        r.clientCpu?.toFixed(3) ?? "-",
      ]);
    }
  }
  printRows(ratioRows);
  console.log(
    "(CPU ratios are baseline µs/req ÷ side µs/req; goal: senteLite ÷ raw >= 0.85; socketio and " +
      "senteServer use minimal clients)",
  );
}

function printRows(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join("  "));
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

/** Opens a plain WebSocket to a raw echo. */
async function openRaw(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await settle(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    }),
    `raw connection to ${url}`,
  );
  return ws;
}

/**
 * The raw client of the no-JSON echo: a frame is the request number, a space and the payload;
 * the echoed reply is matched by `parseInt` of that prefix (it stops at the space).
 */
async function rawDriver(url: string, payload: string): Promise<Driver> {
  const tail = ` ${payload}`;
  return matchingDriver(
    await openRaw(url),
    "raw connection",
    (n) => n,
    (id) => id + tail,
    (frame) => parseInt(frame, 10),
  );
}

/** The raw client of the JSON echo: `{id, payload}` JSON frames, replies matched by `id`. */
async function rawJsonDriver(url: string, payload: string): Promise<Driver> {
  return matchingDriver(
    await openRaw(url),
    "raw JSON connection",
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
  rawJson: rawJsonDriver,
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
