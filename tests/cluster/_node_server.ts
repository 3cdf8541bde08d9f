/**
 * A cluster node in its own process (Deno or Bun) for the multi-process tests: a server on
 * 127.0.0.1 with a free port joined to the Redis at `argv[0]` (`cluster=<url>,<url>…`: a Redis
 * Cluster) with key prefix `argv[1]`
 * (heartbeats 100 ms, a node is dead after 600 ms), uid from `?user=`. Prints one JSON line
 * `{"port","url","nodeId","runtime"}` once its link is up, then serves until killed.
 *
 * `ctl/*` events let the test drive the node's server API from a client: `ctl/send`, `ctl/sendTo`,
 * `ctl/request`, `ctl/broadcast`, `ctl/publish`, `ctl/close`, `ctl/uids`, `ctl/cluster`,
 * `ctl/whoami`, `ctl/echo`, `ctl/stream` (numbered sends to uids and channels, and broadcasts),
 * `ctl/burst-n` (numbered sends or publishes in one turn), `c/n` and `c/k`
 * (client sends, counted on stdout; `c/k` with an effect made once by its key), and for
 * bench/backplane.ts `ctl/burst` and `ctl/pace` (stamped publishes at once or paced).
 */
import { createServer, localBackplane } from "../../server.ts";
import { redisBackplane } from "../../redis.ts";
import { ednPacker } from "../../edn.ts";
import { transitPacker } from "../../transit.ts";
import { jsonPacker } from "../../mod.ts";
import { TYPED_READ, typedValue } from "./_typed.ts";
import { closeSync, openSync } from "node:fs";

const args = typeof Deno !== "undefined"
  ? Deno.args
  : (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const [url, prefix, mode = ""] = args;
// The mode's comma-separated settings: `no-delivery`, `fx=<dir>`, `stall=<n>` (see `c/k`).
const settings = new Map(
  mode.split(",").filter(Boolean).map((s) => {
    const eq = s.indexOf("=");
    return eq < 0 ? [s, ""] : [s.slice(0, eq), s.slice(eq + 1)];
  }),
);
// "alone": the same server without a backplane (the single-node baseline of bench/backplane.ts).
const alone = url === "alone";
// "cluster=<url>,<url>…": a Redis Cluster given by its masters (tests/_redis_cluster.ts).
const roots = url.startsWith("cluster=") ? url.slice("cluster=".length).split(",") : null;
const backplane = alone ? localBackplane() : redisBackplane({
  ...(roots ? { cluster: { rootNodes: roots.map((u) => ({ url: u })) } } : { url }),
  prefix,
  heartbeatMs: 100,
  heartbeatTtlMs: 600,
  reconnectInitialMs: 50,
  reconnectMaxMs: 300,
});
const server = createServer({
  backplane: alone ? undefined : backplane,
  delivery: settings.has("no-delivery") ? false : undefined,
  authenticate: (req) => new URL(req.url).searchParams.get("user"),
  onError: (e, ctx) => console.error(`onError ${ctx.where}:`, e),
  rateLimit: false,
  presence: ["room"],
  // Clients pick one per connection; the Clojure-data ones read values with their types.
  packers: [jsonPacker, ednPacker(TYPED_READ), transitPacker(TYPED_READ)],
});

type D = Record<string, unknown>;
server.on("ctl/whoami", (m) => ({ connId: m.connId, nodeId: backplane.nodeId }));
server.on("ctl/echo", (m) => m.data ?? null);
server.on("ctl/send", (m) => {
  const d = m.data as D;
  return server.send(d.uid as string, d.id as string, d.data);
});
server.on("ctl/sendTo", (m) => {
  const d = m.data as D;
  return server.sendTo(d.connId as string, d.id as string, d.data);
});
server.on("ctl/request", async (m) => {
  const d = m.data as D;
  try {
    return { value: await server.request(d.connId as string, d.id as string, d.data) };
  } catch (e) {
    return { error: (e as Error).name };
  }
});
server.on("ctl/broadcast", (m) => {
  const d = m.data as D;
  return server.broadcast(d.id as string, d.data);
});
server.on("ctl/publish", (m) => {
  const d = m.data as D;
  return server.publish(d.channel as string, d.data);
});
server.on("ctl/close", (m) => server.closeConnection((m.data as D).connId as string, 1012, "ctl"));
server.on("ctl/uids", () => [...server.connectedUids.current()].sort());
server.on("ctl/cluster", () => server.cluster());
// Every link transition so far (`from>to`, `+gap` when it carried one): shown when a test fails.
const links: string[] = [];
backplane.link.watch((c) => void links.push(`${c.from}>${c.to}${c.gap ? "+gap" : ""}`));
server.on("ctl/links", () => links);
// The uids whose `chsk/uidport-close` this node fired, in order.
const uidportCloses: string[] = [];
server.on("chsk/uidport-close", (m) => void uidportCloses.push(m.uid));
server.on("ctl/uidport-closes", () => uidportCloses);
server.on(
  "ctl/presence",
  (m) => server.presence((m.data as D).channel as string)?.map((p) => p.uid).sort() ?? null,
);
// `count` publishes of `bytes` bytes on `channel` in one go, each stamped with the wall clock.
server.on("ctl/burst", (m) => {
  const d = m.data as { channel: string; count: number; bytes: number };
  const pad = "x".repeat(d.bytes);
  for (let i = 0; i < d.count; i++) {
    server.publish(d.channel, { i, t: performance.timeOrigin + performance.now(), pad });
  }
  return true;
});
// Client sends to count: one stdout line per handling, written synchronously (so a SIGKILL
// never loses a line of a handling that ran).
server.on("c/n", (m) => console.log(`handled ${m.uid} ${JSON.stringify(m.data)}`));
// Client sends whose effect is made once by their idempotency key (`msg.delivery.key`): one
// stdout line per handling with the key, then the effect: the file `<fx dir>/<key>`, created
// only if absent (O_EXCL: the "SET NX" of a store shared by the processes; atomic, and
// synchronous, so it is made before anything else happens). With `stall=<n>` the node blocks for
// good right after handling n: the events it handled in that turn have their effects, but their
// handled records never reach Redis (its client writes at the end of the turn), so the next node
// handles them again and must find them by the same keys. With `async=<ms>` the handler is
// async: it makes the effect that long after it returned its promise.
const fxDir = settings.get("fx");
const stallAt = settings.has("stall") ? Number(settings.get("stall")) : null;
const asyncMs = settings.has("async") ? Number(settings.get("async")) : null;
const effect = (key: string | undefined) => {
  if (fxDir === undefined || key === undefined) return;
  try {
    closeSync(openSync(`${fxDir}/${key}`, "wx"));
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
  }
};
server.on("c/k", (m) => {
  const key = m.delivery?.key;
  console.log(`handled ${m.uid} ${JSON.stringify(m.data)} ${key ?? "-"}`);
  if (asyncMs !== null) return new Promise((r) => setTimeout(r, asyncMs)).then(() => effect(key));
  effect(key);
  if (m.data === stallAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
});
// Values JSON cannot carry (tests/cluster/_typed.ts), to a uid or a channel.
server.on("ctl/typed", (m) => {
  const d = m.data as { uid?: string; channel?: string; n: number };
  if (d.uid) return server.send(d.uid, "t/typed", typedValue(d.n));
  return server.publish(d.channel!, typedValue(d.n));
});
// `count` publishes of `bytes` bytes on `channel`, `rate` per second on a schedule (a late timer
// catches up at once), each stamped with the wall clock when made; `warm` is passed along so the
// clients can leave warm-up messages out. Replies once the last one is out, with how late the
// publisher ran behind its schedule at worst.
server.on("ctl/pace", (m) => {
  const d = m.data as {
    channel: string;
    count: number;
    rate: number;
    bytes: number;
    warm: boolean;
  };
  const pad = "x".repeat(d.bytes);
  const gap = 1000 / d.rate;
  const start = performance.now();
  let i = 0;
  let lagMs = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (; i < d.count && start + i * gap <= now; i++) {
        lagMs = Math.max(lagMs, performance.now() - (start + i * gap));
        const t = performance.timeOrigin + performance.now();
        server.publish(d.channel, { i, t, w: d.warm, pad });
      }
      if (i < d.count) setTimeout(tick, Math.max(0, start + i * gap - performance.now()));
      else resolve({ sent: i, lagMs: +lagMs.toFixed(2) });
    };
    tick();
  });
});
// `count` sends numbered 1…count (event `s/n`) to `uid`, or publishes to `channel`, all in one
// turn: the first calls of the store's scripts are all in flight at once.
server.on("ctl/burst-n", (m) => {
  const d = m.data as { uid?: string; channel?: string; count: number };
  for (let n = 1; n <= d.count; n++) {
    if (d.uid) server.send(d.uid, "s/n", n);
    else server.publish(d.channel!, n);
  }
  return true;
});
server.on("ctl/stats", () => {
  const s = server.stats();
  return { resumed: s.resumed, resumeFailed: s.resumeFailed, connections: s.connections };
});
// `count` sends numbered 1…count to each uid (event `s/n`) and channel, `everyMs` apart.
server.on("ctl/stream", (m) => {
  const d = m.data as {
    uids: string[];
    channels: string[];
    count: number;
    everyMs: number;
    broadcast?: boolean;
  };
  let n = 0;
  const tick = () => {
    n++;
    try {
      for (const uid of d.uids) server.send(uid, "s/n", n);
      for (const channel of d.channels) server.publish(channel, n);
      if (d.broadcast) server.broadcast("s/b", n);
    } catch (e) {
      console.error(`stream ${n}:`, e); // the test shows the node's stderr when it fails
    }
    if (n < d.count) setTimeout(tick, d.everyMs);
  };
  tick();
  return true;
});

await new Promise<void>((resolve) => {
  if (backplane.link.state === "up") resolve();
  backplane.link.watch((c) => c.to === "up" && resolve());
});
const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
console.log(JSON.stringify({
  port: handle.port,
  url: handle.url,
  nodeId: backplane.nodeId,
  runtime: "Bun" in globalThis ? "bun" : "deno",
}));
