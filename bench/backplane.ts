/**
 * Cross-node fan-out (docs/scaling.md): `clients` sente-lite clients subscribed to one channel,
 * `publishes` server publishes of 64 B made at once on one node; deliveries/s and publish →
 * delivery latency (p50/p99), for
 *
 * - `single`: one node without a backplane (every client on it: the baseline, same run);
 * - `cluster`: two nodes on one private redis-server, clients split over them, publishing on the
 *   first (half the deliveries cross Redis);
 * - `cluster_durable`: the same with resuming clients (store-first delivery: every publish is
 *   numbered into every session in Redis).
 *
 *   deno run -A bench/backplane.ts [clients=1000] [publishes=1000]
 *
 * - `socketio_redis`: Socket.IO 4 with `@socket.io/redis-adapter` 8.3, two Node processes on the
 *   same Redis, the same load (bench/_socketio.mjs; its clients in one Node process), when
 *   `SOCKETIO_NODE_PATH` names a node_modules holding socket.io@4, @socket.io/redis-adapter@8.3,
 *   socket.io-client@4 and redis@4 (e.g. `npm install --prefix /tmp/sio …`); skipped otherwise.
 *
 * - `sente_raw_single`, `sente_raw_cluster`, `socketio_raw`: the single node, the 2-node cluster
 *   and Socket.IO again, all loaded by one minimal protocol client on Node's `ws`
 *   (bench/_raw_fanout_clients.mjs), so the servers are compared, not two client libraries (also
 *   needs `SOCKETIO_NODE_PATH`, which has `ws`).
 *
 * Server nodes are separate processes (tests/cluster/_node_server.ts); the library clients run in
 * this process. Prints one JSON object.
 */
import { type Client, connect } from "../client.ts";
import { startRedis } from "../tests/_redis.ts";
import { startNode } from "../tests/cluster/_cluster.ts";
import { Child } from "../tests/runtime/_child.ts";

const CLIENTS = Number(Deno.args[0] ?? 1000);
const PUBLISHES = Number(Deno.args[1] ?? 1000);
const BYTES = 64;
/** Optional third argument: run only these scenarios (comma-separated names). */
const ONLY = Deno.args[2]?.split(",");
const wanted = (name: string): boolean => !ONLY || ONLY.includes(name);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(2);
}

async function run(
  name: string,
  urls: string[],
  resume: boolean,
): Promise<Record<string, unknown>> {
  const clients: Client[] = [];
  const latencies: number[] = [];
  let got = 0;
  const total = CLIENTS * PUBLISHES;
  let done = () => {};
  const all = new Promise<void>((r) => done = r);
  for (let i = 0; i < CLIENTS; i++) {
    const c = connect(`${urls[i % urls.length]}?user=b${i}`, {
      onError: () => {},
      resume: resume ? undefined : false,
    });
    clients.push(c);
  }
  await Promise.all(clients.map((c) => c.ready));
  await Promise.all(clients.map((c) =>
    c.subscribe("bench", (d) => {
      const t = (d as { t: number }).t;
      if (got % 10 === 0) latencies.push(performance.timeOrigin + performance.now() - t);
      if (++got === total) done();
    })
  ));
  const driver = clients[0];
  const t0 = performance.now();
  // Not awaited first: the reply queues behind the burst's own deliveries to the driver.
  const burst = driver.request("ctl/burst", { channel: "bench", count: PUBLISHES, bytes: BYTES }, {
    timeoutMs: 600_000,
  }).catch(() => {});
  // Bounded: a stall is reported (with how many arrived), never waited on forever.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finished = await Promise.race([
    all.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), 120_000)),
  ]);
  clearTimeout(timer);
  const ms = performance.now() - t0;
  await burst;
  if (!finished) {
    for (const c of clients) c.close();
    return { name, stalled: true, delivered: got, deliveries: total, ms: Math.round(ms) };
  }
  for (const c of clients) c.close();
  return {
    name,
    deliveries: total,
    deliveries_per_s: Math.round(total / ms * 1000),
    ms: Math.round(ms),
    latency_ms_p50: pct(latencies, 0.5),
    latency_ms_p99: pct(latencies, 0.99),
  };
}

const out: Record<string, unknown> = {
  runtime: `deno ${Deno.version.deno}`,
  clients: CLIENTS,
  publishes: PUBLISHES,
  bytes: BYTES,
};
const results: Record<string, unknown>[] = [];
if (wanted("single")) {
  const node = await startNode("deno", "alone", "x");
  try {
    results.push(await run("single", [node.url], false));
  } finally {
    await node.child.stop("SIGKILL");
  }
}
{
  await using redis = await startRedis();
  for (const [name, resume] of [["cluster", false], ["cluster_durable", true]] as const) {
    if (!wanted(name)) continue;
    const nodes = await Promise.all([
      startNode("deno", redis.url, name),
      startNode("deno", redis.url, name),
    ]);
    try {
      results.push(await run(name, nodes.map((n) => n.url), resume));
    } finally {
      await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
    }
  }
}
const SIO = Deno.env.get("SOCKETIO_NODE_PATH");

/** Runs the raw Node load generator against `urls`. */
async function runRaw(name: string, side: "sente" | "sio", urls: string[]) {
  const script = new URL("./_raw_fanout_clients.mjs", import.meta.url).pathname;
  const clients = new Child(`${name} clients`, "env", [
    `NODE_PATH=${SIO}`,
    "node",
    script,
    side,
    String(CLIENTS),
    String(PUBLISHES),
    urls.join(","),
  ]);
  await clients.exited(400_000);
  const line = await clients.line("result", (l) => l.startsWith("{"), 1000);
  return { name, ...JSON.parse(line) };
}

function freePorts(n: number): number[] {
  return Array.from({ length: n }, () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    return port;
  });
}

if (SIO && wanted("sente_raw_single")) {
  const node = await startNode("deno", "alone", "x");
  try {
    results.push(await runRaw("sente_raw_single", "sente", [node.url]));
  } finally {
    await node.child.stop("SIGKILL");
  }
}
if (SIO && wanted("sente_raw_cluster")) {
  await using redis = await startRedis();
  const nodes = await Promise.all([0, 1].map(() => startNode("deno", redis.url, "raw")));
  try {
    results.push(await runRaw("sente_raw_cluster", "sente", nodes.map((n) => n.url)));
  } finally {
    await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
  }
}
if (SIO && wanted("socketio_raw")) {
  await using redis = await startRedis();
  const script = new URL("./_socketio.mjs", import.meta.url).pathname;
  const ports = freePorts(2);
  const servers = ports.map((port) =>
    new Child("socket.io node", "env", [
      `NODE_PATH=${SIO}`,
      "node",
      script,
      "server",
      redis.url,
      String(port),
    ])
  );
  try {
    await Promise.all(servers.map((c) => c.line("ready", (l) => l === "ready", 30_000)));
    results.push(
      await runRaw("socketio_raw", "sio", ports.map((p) => `ws://127.0.0.1:${p}`)),
    );
  } finally {
    await Promise.all(servers.map((c) => c.stop("SIGKILL")));
  }
}
if (SIO && wanted("socketio_redis")) {
  await using redis = await startRedis();
  const script = new URL("./_socketio.mjs", import.meta.url).pathname;
  const ports = [0, 0].map(() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    return port;
  });
  const servers = ports.map((port) =>
    new Child("socket.io node", "env", [
      `NODE_PATH=${SIO}`,
      "node",
      script,
      "server",
      redis.url,
      String(port),
    ])
  );
  try {
    await Promise.all(servers.map((c) => c.line("ready", (l) => l === "ready", 30_000)));
    const clients = new Child("socket.io clients", "env", [
      `NODE_PATH=${SIO}`,
      "node",
      script,
      "clients",
      String(CLIENTS),
      String(PUBLISHES),
      ports.join(","),
    ]);
    await clients.exited(400_000);
    results.push(JSON.parse(await clients.line("result", (l) => l.startsWith("{"), 1000)));
  } finally {
    await Promise.all(servers.map((c) => c.stop("SIGKILL")));
  }
}
out.results = results;
const rate = (name: string) => results.find((r) => r.name === name)?.deliveries_per_s as number;
if (rate("single") && rate("cluster")) {
  out.cluster_vs_single = +(rate("cluster") / rate("single")).toFixed(2);
}
if (rate("sente_raw_cluster") && rate("socketio_raw")) {
  out.raw_cluster_vs_socketio = +(rate("sente_raw_cluster") / rate("socketio_raw")).toFixed(2);
}
if (rate("sente_raw_single") && rate("sente_raw_cluster")) {
  out.raw_cluster_vs_single = +(rate("sente_raw_cluster") / rate("sente_raw_single")).toFixed(2);
}
if (rate("cluster") && rate("socketio_redis")) {
  out.cluster_vs_socketio = +(rate("cluster") / rate("socketio_redis")).toFixed(2);
}
if (rate("single") && rate("cluster_durable")) {
  out.cluster_durable_vs_single = +(rate("cluster_durable") / rate("single")).toFixed(2);
}
console.log(JSON.stringify(out, null, 2));
