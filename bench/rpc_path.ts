/**
 * The request→reply path of `bench/rpc.ts` without sockets: what one request costs each side of
 * sente-lite in CPU, next to what a raw echo costs, so the difference can be split into its parts.
 *
 * - server: a frame `[["bench/echo", payload], cbId]` handed to a connection of a
 *   `createServer()` (as `bench/rpc.ts` configures it: message rate limit lifted, the limiter
 *   on) over a fake socket whose `send` keeps the last frame; the handler is
 *   `(msg) => msg.data`. Next to it: the raw echo's work (none), the JSON echo's
 *   (`JSON.stringify(JSON.parse(frame))`), and the parts of the path alone (UTF-8 length, a
 *   clock read, unpack, decode).
 *
 * Each case runs `--iterations` (100000) calls per round, `--rounds` (15) rounds, the cases
 * interleaved within each round; printed are the minimum and the median CPU ns per call over
 * rounds (process CPU time, and the minimum, are the least disturbed by other work on a shared
 * machine), and a JSON line.
 *
 * Run: `deno run -A bench/rpc_path.ts [--rounds 15] [--iterations 100000] [--only sente-lite]`
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { do_not_optimize } from "mitata";
import { connect } from "../client.ts";
import type { WebSocketConstructor } from "../lib/client/options.ts";
import { createServer } from "../server.ts";
import type { Frame } from "../lib/packers/packer.ts";
import type { PendingUpgrade, ServerSocket } from "../lib/server/socket.ts";
import { jsonPacker } from "../lib/packers/json.ts";
import { decodeClientEnvelope } from "../lib/protocol/envelope.ts";
import { utf8ByteLength } from "../lib/util/utf8.ts";

const payload = "x".repeat(64);
const frame = JSON.stringify([["bench/echo", payload], "1a2b"]);
const rawFrame = JSON.stringify({ id: 123456, payload });

/** A socket that keeps the last frame sent (the reply). */
class FakeSocket implements ServerSocket {
  last: Frame = "";
  first: Frame | null = null;
  sent = 0;
  readonly bufferedAmount = 0;
  send(frame: Frame): void {
    this.last = frame;
    this.first ??= frame;
    this.sent++;
  }
  close(): void {}
}

const server = createServer({
  // As bench/rpc.ts, and the byte rate too: this loop sends far more than 16 MB/s through one
  // connection, which a real socket at this load does not (10 connections × ~10k × 84 B/s).
  rateLimit: {
    messages: { perSecond: 1e9, burst: 1e9 },
    bytes: { perSecond: 1e12, burst: 1e12 },
  },
  onError: (e) => console.error("bench server error:", e),
});
server.on("bench/echo", (msg) => msg.data);
const pending = await server.prepare(
  new Request("http://127.0.0.1/chsk?client-id=bench&packer=json", {
    headers: { upgrade: "websocket" },
  }),
);
if (pending instanceof Response) throw new Error(`upgrade refused: ${pending.status}`);
const socket = new FakeSocket();
/** Where the raw echoes send. */
const echo = new FakeSocket();
const sink = server.open(pending as PendingUpgrade, socket);

// The path must answer: check once before timing it.
sink.received(frame);
if (socket.last !== JSON.stringify([payload, "1a2b"])) {
  throw new Error(`unexpected reply ${String(socket.last)}`);
}

const serverCase = (): void => sink.received(frame);

// ------------------------------------------------------------------ client side

/**
 * A WebSocket for the client that opens at once and answers with the server's handshake; what
 * the client sends is counted, and replies are handed to `onmessage` by the bench.
 */
class FakeClientSocket {
  readyState = 0;
  binaryType = "blob";
  bufferedAmount = 0;
  sent = 0;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: unknown) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    clientSocket = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.();
      this.onmessage?.({ data: socket.first });
    });
  }
  send(_frame: string): void {
    this.sent++;
  }
  close(): void {
    this.readyState = 3;
  }
}

let clientSocket: FakeClientSocket | null = null;

/** One side's client: makes its reply frames, sends one request, takes one reply. */
interface ClientCase {
  name: string;
  replies(first: number, n: number): string[];
  fire(): void;
  receive(e: { data: unknown }): void;
  /** The number of its next request. */
  next(): number;
}

/**
 * One request per call, replies handed back in batches of 100 (then the promise reactions run),
 * for the library client and for the two raw clients of bench/rpc.ts (same matching code).
 * Reply frames are made before each timed round.
 */
async function clientCases(rounds: number, perRound: number, only: string): Promise<Row[]> {
  const BATCH = 100;
  let answered = 0;
  const done = (): void => void answered++;
  const fail = (e: unknown): never => {
    throw e;
  };
  const client = connect("ws://127.0.0.1:1/chsk", {
    WebSocket: FakeClientSocket as unknown as WebSocketConstructor,
  });
  await client.ready;
  const ws = clientSocket!;
  let senteNext = 0;

  // The raw clients of bench/rpc.ts: a `Map` by request number, a shared callback.
  const rawPending = new Map<number, () => void>();
  let rawNext = 0;
  let rawSent = 0;
  const rawSend = (frame: string): void => void (rawSent += frame.length);
  const tail = ` ${payload}`;
  const settle = (id: number): void => {
    const p = rawPending.get(id)!;
    rawPending.delete(id);
    p();
  };
  const all: ClientCase[] = [
    {
      name: "raw client (no JSON): send, match reply",
      replies: (first, n) => Array.from({ length: n }, (_, i) => `${first + i}${tail}`),
      fire: () => {
        const id = rawNext++;
        rawPending.set(id, done);
        rawSend(id + tail);
      },
      receive: (e) => settle(parseInt(e.data as string, 10)),
      next: () => rawNext,
    },
    {
      name: "raw JSON client: send, match reply",
      replies: (first, n) =>
        Array.from({ length: n }, (_, i) => JSON.stringify({ id: first + i, payload })),
      fire: () => {
        const id = rawNext++;
        rawPending.set(id, done);
        rawSend(JSON.stringify({ id, payload }));
      },
      receive: (e) => settle((JSON.parse(e.data as string) as { id: number }).id),
      next: () => rawNext,
    },
    {
      // The floor for a client keeping the API's promise: the raw JSON client, plus a promise
      // per request resolved by its reply (and the caller's `then`, as the bench's driver does).
      name: "raw JSON client + a promise per request",
      replies: (first, n) =>
        Array.from({ length: n }, (_, i) => JSON.stringify({ id: first + i, payload })),
      fire: () => {
        const id = rawNext++;
        new Promise<void>((resolve) => rawPending.set(id, resolve)).then(done, fail);
        rawSend(JSON.stringify({ id, payload }));
      },
      receive: (e) => settle((JSON.parse(e.data as string) as { id: number }).id),
      next: () => rawNext,
    },
    {
      name: "sente-lite: client.request(), reply",
      replies: (first, n) =>
        Array.from({ length: n }, (_, i) => JSON.stringify([payload, (first + i).toString(36)])),
      fire: () => {
        senteNext++;
        client.request("bench/echo", payload).then(done, fail);
      },
      receive: (e) => ws.onmessage!(e),
      next: () => senteNext,
    },
  ];
  const cases = all.filter((c) => c.name.includes(only));
  const samples: number[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of cases.entries()) {
      const replies = c.replies(c.next(), perRound).map((data) => ({ data }));
      const before = answered;
      const t0 = cpuMicros();
      for (let k = 0; k < perRound; k += BATCH) {
        for (let j = 0; j < BATCH; j++) c.fire();
        for (let j = k; j < k + BATCH; j++) c.receive(replies[j]);
        await null; // the promise reactions run
      }
      samples[i].push((cpuMicros() - t0) * 1e3 / perRound);
      if (answered - before !== perRound) {
        throw new Error(`${c.name}: ${answered - before} of ${perRound} answered`);
      }
    }
  }
  client.close();
  if (ws.sent < senteNext) throw new Error("the library client did not send every request");
  return cases.map((c, i) => row(c.name, samples[i]));
}

// ------------------------------------------------------------------ the run

/** One case: a name and one call of the work. */
type Case = [name: string, fn: () => void];

const allCases: Case[] = [
  ["raw echo: send(data)", () => echo.send(frame)],
  [
    "JSON echo: send(stringify(parse(data)))",
    () => echo.send(JSON.stringify(JSON.parse(rawFrame))),
  ],
  ["sente-lite: connection.received(frame)", serverCase],
  ["  utf8ByteLength(frame)", () => do_not_optimize(utf8ByteLength(frame))],
  ["  Date.now()", () => do_not_optimize(Date.now())],
  ["  jsonPacker.unpack(frame)", () => do_not_optimize(jsonPacker.unpack(frame))],
  ["  decodeClientEnvelope(value)", () => do_not_optimize(decodeClientEnvelope(value))],
  ["  jsonPacker.pack([data, cbId])", () => do_not_optimize(jsonPacker.pack([payload, "1a2b"]))],
];
const value = JSON.parse(frame);

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "15" },
    iterations: { type: "string", default: "100000" },
    only: { type: "string", default: "" },
  },
  strict: true,
});
const rounds = Number(values.rounds), iterations = Number(values.iterations);
// `--only sente` runs just the cases whose name contains it (to profile one with --cpu-prof).
const cases = allCases.filter(([name]) => name.includes(values.only));
const samples: number[][] = cases.map(() => []);
for (let r = 0; r < rounds; r++) {
  // Interleaved: every case once per round, so machine noise spreads over all of them.
  cases.forEach(([, fn], i) => {
    const t0 = cpuMicros();
    for (let n = 0; n < iterations; n++) fn();
    samples[i].push((cpuMicros() - t0) * 1e3 / iterations);
  });
}
const clientRows = await clientCases(
  rounds,
  Math.max(1000, Math.round(iterations / 5)),
  values.only,
);

const senteCalls = 1 + (cases.some(([, fn]) => fn === serverCase) ? rounds * iterations : 0);
if (socket.sent < senteCalls) {
  throw new Error(
    `only ${socket.sent} of ${senteCalls} requests were answered: the run is invalid`,
  );
}
server.closeAll();

const rows = [...cases.map(([name], i) => row(name.trim(), samples[i])), ...clientRows];
const width = Math.max(...rows.map((r) => r.name.length));
console.log(`${"case (CPU per call)".padEnd(width)}  min ns  median ns`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(width)}  ${String(r.minNs).padStart(6)}  ${String(r.medianNs).padStart(9)}`,
  );
}
console.log(JSON.stringify({ bench: "rpc_path", rounds, iterations, rows }));

interface Row {
  name: string;
  minNs: number;
  medianNs: number;
}

function row(name: string, samples: number[]): Row {
  const xs = [...samples].sort((a, b) => a - b);
  return { name, minNs: round1(xs[0]), medianNs: round1(xs[xs.length >> 1]) };
}

/** CPU time of this process in µs (user + system): steadier than wall time on a shared machine. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
