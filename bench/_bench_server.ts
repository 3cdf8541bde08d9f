/**
 * The measured server process of bench/fanout.ts, bench/memory.ts and bench/connrate.ts; runs
 * under Deno (`deno run -A --v8-flags=--expose-gc`) or Bun (`bun`), as
 * `_bench_server.ts <raw|sente>`.
 *
 * - raw, Deno: `Deno.serve` + `Deno.upgradeWebSocket`; receivers are kept in Sets (all, and a
 *   "channel" Set for `?ch=1` connections) and a burst is a plain loop over the Set.
 * - raw, Bun: `Bun.serve` with native topics (`ws.subscribe`); a burst is `server.publish`.
 * - sente: `createServer()` with the limits that a 1000-client load from one IP would trip lifted
 *   (listed in {@linkcode LIFTED}); a burst is `server.broadcast` / `server.publish`.
 *
 * Every connection but a probe gets one small frame on open (raw: `"hello"`; sente-lite: its
 * handshake), so "connected" means the same on both sides. Path `/probe` (raw) echoes text frames;
 * sente-lite answers `bench/echo` requests.
 *
 * Control (bench/_control.mjs, shared with Socket.IO's server bench/_socketio_server.mjs): JSON
 * lines on stdin (`{"op":"stats"|"gc"|"burst"|"exit", …}`), one JSON line answer on stdout each;
 * the first stdout line is `{"ready":true,"url":…}`. Times are absolute ms
 * (`performance.timeOrigin + performance.now()`), comparable across processes on one machine.
 */
import process from "node:process";
import { createServer } from "../server.ts";
import { skipUpgradeAbort } from "../lib/adapters/deno_upgrade_abort.ts";
import { control } from "./_control.mjs";

/** The sente-lite limits lifted for the benchmarks, as reported in their output. */
export const LIFTED =
  "rateLimit: false (the probe exceeds 2000 msg/s); maxConnectionsPerIp and maxConnections: 1e6 (every client is on 127.0.0.1); handshakeTimeoutMs: 60000; backpressure and everything else at defaults";

type Side = "raw" | "sente";
type Burst = (kind: "broadcast" | "publish", frame: string) => void;

interface BunLike {
  serve(options: unknown): { port: number; publish(topic: string, data: string): number };
  gc(force: boolean): void;
}
interface BunSocket {
  data: { probe: boolean; ch: boolean };
  send(data: string): number;
  subscribe(topic: string): void;
}

const bun = (globalThis as { Bun?: BunLike }).Bun;

/**
 * V8's full GC that also gives back what the heap grew for allocation bursts: a plain `gc()`
 * leaves the young generation at whatever size the handshakes' garbage grew it to (7 to 50 MB on
 * Deno after 10,000 handshakes, differing run to run), which swung the RSS per connection by
 * up to 1.5 KB; the memory-reducing one shrinks it back to its minimum, before and after alike.
 */
const LAST_RESORT = { type: "major", execution: "sync", flavor: "last-resort" };

function collectGarbage(): void {
  const gc = (globalThis as { gc?: (options?: typeof LAST_RESORT) => void }).gc;
  for (let i = 0; i < 3; i++) {
    if (bun) bun.gc(true);
    else if (gc) gc(LAST_RESORT);
  }
}

let connections = 0;
/**
 * `BENCH_RAW_SKIP_ABORT=1`: the raw Deno server skips the DOMException Deno makes per upgrade, as
 * sente-lite's adapter does (lib/adapters/deno_upgrade_abort.ts): a raw server tuned alike.
 */
const RAW_SKIP_ABORT = process.env.BENCH_RAW_SKIP_ABORT === "1";

function startRawDeno(): { url: string; burst: Burst } {
  const all = new Set<WebSocket>();
  const channel = new Set<WebSocket>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    if (RAW_SKIP_ABORT) skipUpgradeAbort(req);
    if (url.pathname === "/probe") {
      socket.onmessage = (e) => socket.send(e.data as string);
      return response;
    }
    const ch = url.searchParams.has("ch");
    socket.onopen = () => {
      connections++;
      all.add(socket);
      if (ch) channel.add(socket);
      socket.send("hello");
    };
    socket.onclose = () => {
      if (all.delete(socket)) connections--;
      channel.delete(socket);
    };
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/`,
    burst: (kind, frame) => {
      for (const s of kind === "broadcast" ? all : channel) s.send(frame);
    },
  };
}

/**
 * `--native-turn-ms` of bench/fanout.ts (env `BENCH_NATIVE_TURN_MS`): sente-lite's `nativeTurnMs`,
 * and the raw Bun side takes turns alike (publishes past that many ms in one turn wait for the next).
 */
const NATIVE_TURN_MS = Number(process.env.BENCH_NATIVE_TURN_MS) || undefined;

/** `publish` as it is, or taking turns of `turnMs` as sente-lite's `nativeTurnMs` does. */
function inTurns(
  publish: (topic: string, frame: string) => void,
  turnMs: number | undefined,
): (topic: string, frame: string) => void {
  if (turnMs === undefined) return publish;
  const waiting: [string, string][] = [];
  let turnStart = -1;
  const next = () => {
    const start = performance.now();
    let i = 0;
    while (i < waiting.length && performance.now() - start < turnMs) {
      publish(...waiting[i++]);
    }
    waiting.splice(0, i);
    if (waiting.length > 0) setTimeout(next, 0);
  };
  return (topic, frame) => {
    const now = performance.now();
    if (turnStart < 0) {
      turnStart = now;
      queueMicrotask(() => turnStart = -1);
    }
    if (waiting.length === 0 && now - turnStart < turnMs) return publish(topic, frame);
    if (waiting.push([topic, frame]) === 1) setTimeout(next, 0);
  };
}

function startRawBun(b: BunLike): { url: string; burst: Burst } {
  const server = b.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req: Request, srv: { upgrade(r: Request, o: unknown): boolean }) {
      const url = new URL(req.url);
      const data = { probe: url.pathname === "/probe", ch: url.searchParams.has("ch") };
      return srv.upgrade(req, { data }) ? undefined : new Response("no", { status: 400 });
    },
    websocket: {
      idleTimeout: 0,
      open(ws: BunSocket) {
        if (ws.data.probe) return;
        connections++;
        ws.subscribe("all");
        if (ws.data.ch) ws.subscribe("channel");
        ws.send("hello");
      },
      message(ws: BunSocket, message: string) {
        if (ws.data.probe) ws.send(message);
      },
      close(ws: BunSocket) {
        if (!ws.data.probe) connections--;
      },
    },
  });
  const publish = inTurns((topic, frame) => void server.publish(topic, frame), NATIVE_TURN_MS);
  return {
    url: `ws://127.0.0.1:${server.port}/`,
    burst: (kind, frame) => publish(kind === "broadcast" ? "all" : "channel", frame),
  };
}

async function startSente(): Promise<{ url: string; burst: Burst }> {
  const server = createServer({
    rateLimit: false,
    maxConnectionsPerIp: 1e6,
    maxConnections: 1e6,
    handshakeTimeoutMs: 60_000,
    nativeTurnMs: NATIVE_TURN_MS,
    onOpen: () => connections++,
    onClose: () => connections--,
    onError: (e) => console.error("bench server error:", e),
  });
  server.on("bench/echo", (msg) => msg.data);
  const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
  return {
    url: handle.url,
    burst: (kind, payload) => {
      if (kind === "broadcast") server.broadcast("bench/m", payload);
      else server.publish("bench", payload);
    },
  };
}

async function main(): Promise<void> {
  const side = process.argv.at(-1) as Side;
  if (side !== "raw" && side !== "sente") throw new Error(`usage: _bench_server.ts <raw|sente>`);
  const { url, burst } = side === "sente"
    ? await startSente()
    : bun
    ? startRawBun(bun)
    : startRawDeno();
  await control({
    ready: { ready: true, url, pid: process.pid, runtime: bun ? "bun" : "deno" },
    connections: () => connections,
    gc: collectGarbage,
    burst,
  });
}

if (import.meta.main) await main();
