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
 *   same Redis, the same load (bench/_socketio.mjs; its clients in one Node process, on
 *   socket.io-client 4). socket.io, socket.io-client, @socket.io/redis-adapter and redis 4 are
 *   devDependencies (`npm install`); `SOCKETIO_NODE_PATH` may name another node_modules holding
 *   them. Skipped, with the reason printed and in `socketio_skipped`, without Node or them
 *   (bench/_socketio_env.ts).
 *
 * - `sente_raw_single`, `sente_raw_cluster`, `socketio_raw`: the single node, the 2-node cluster
 *   and Socket.IO again, all loaded by one minimal protocol client on Node's `ws`
 *   (bench/_raw_fanout_clients.mjs), so the servers are compared, not two client libraries (also
 *   needs Node).
 *
 * Paced latency (the p99 goal is for one message, not for a burst's queue):
 * `paced_single`, `paced_cluster` (clients split over two nodes on Redis, publishing on the first)
 * and `paced_socketio` (Socket.IO as `socketio_redis`, needs Node and socket.io): after one
 * second of warm-up, `rate` publishes of 64 B per second for `seconds`, made on one node on a
 * schedule, each stamped; publish → delivery p50/p99/max over every delivery, overall and by node
 * (`local`: clients of the publishing node, `remote`: the other's, through Redis).
 *
 *   deno run -A bench/backplane.ts 1000 0 paced_single,paced_cluster,paced_socketio 100,200 10
 *
 * Server nodes are separate processes (tests/cluster/_node_server.ts); the library clients run in
 * this process. Prints a table, then one JSON object (ratios included).
 */
import { type Client, connect } from "../client.ts";
import { startRedis } from "../tests/_redis.ts";
import { startNode } from "../tests/cluster/_cluster.ts";
import { Child } from "../tests/runtime/_child.ts";
import { type Latency, runPaced } from "./_paced.ts";
import { printTable } from "./_proc.ts";
import { findSocketIo } from "./_socketio_env.ts";

const CLIENTS = Number(Deno.args[0] ?? 1000);
const PUBLISHES = Number(Deno.args[1] ?? 1000);
const BYTES = 64;
/** Optional third argument: run only these scenarios (comma-separated names). */
const ONLY = Deno.args[2]?.split(",");
const wanted = (name: string): boolean => !ONLY || ONLY.includes(name);
/** Optional fourth and fifth: the paced scenarios' publishes per second (each in turn) and seconds. */
const RATES = (Deno.args[3] ?? "100").split(",").map(Number);
const SECONDS = Number(Deno.args[4] ?? 10);
const PACED = { clients: CLIENTS, rates: RATES, seconds: SECONDS, bytes: BYTES, pids: [] };

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
const sioEnv = findSocketIo();
/** `NODE_PATH` of the Node processes; undefined when the Socket.IO scenarios are skipped. */
const SIO = "skipped" in sioEnv ? undefined : sioEnv.nodePath;
if ("skipped" in sioEnv) out.socketio_skipped = sioEnv.skipped;

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
if (wanted("paced_single")) {
  const node = await startNode("deno", "alone", "x");
  try {
    results.push(
      ...await runPaced("paced_single", [node.url], { ...PACED, pids: [node.child.process.pid] }),
    );
  } finally {
    await node.child.stop("SIGKILL");
  }
}
if (wanted("paced_cluster")) {
  await using redis = await startRedis();
  const nodes = await Promise.all([0, 1].map(() => startNode("deno", redis.url, "paced")));
  try {
    results.push(
      ...await runPaced("paced_cluster", nodes.map((n) => n.url), {
        ...PACED,
        pids: nodes.map((n) => n.child.process.pid),
      }),
    );
  } finally {
    await Promise.all(nodes.map((n) => n.child.stop("SIGKILL")));
  }
}
if (SIO && wanted("paced_socketio")) {
  await using redis = await startRedis();
  const script = new URL("./_socketio.mjs", import.meta.url).pathname;
  const ports = freePorts(2);
  const node = (args: string[]): [string, string[]] => [
    "env",
    [`NODE_PATH=${SIO}`, "node", script, ...args],
  ];
  const servers = ports.map((port) =>
    new Child("socket.io node", ...node(["server", redis.url, String(port)]))
  );
  try {
    await Promise.all(servers.map((c) => c.line("ready", (l) => l === "ready", 30_000)));
    const clients = new Child(
      "socket.io paced clients",
      ...node([
        "paced",
        String(CLIENTS),
        RATES.join(","),
        String(SECONDS),
        ports.join(","),
        servers.map((c) => c.process.pid).join(","),
      ]),
    );
    await clients.exited(RATES.length * (SECONDS * 1000 + 90_000));
    for (const line of clients.stdout.split("\n").filter((l) => l.startsWith("{"))) {
      results.push({ ...JSON.parse(line), name: "paced_socketio" });
    }
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
type Lat = Latency;
const paced = (name: string, rate: number) =>
  results.find((r) => r.name === name && r.rate === rate) as
    | { all: Lat; local: Lat; remote: Lat }
    | undefined;
const ratios: Record<string, unknown>[] = [];
for (const rate of RATES) {
  const [single, cluster, sio] = ["paced_single", "paced_cluster", "paced_socketio"].map((n) =>
    paced(n, rate)
  );
  const p99 = (a?: { all: Lat }, b?: { all: Lat }) =>
    a && b && b.all.p99 > 0 ? +(a.all.p99 / b.all.p99).toFixed(2) : undefined;
  ratios.push({
    rate,
    cluster_vs_single_p99: p99(cluster, single),
    cluster_vs_socketio_p99: p99(cluster, sio),
  });
}
if (results.some((r) => "rate" in r)) out.paced_p99_ratios = ratios;

const ms = (v: unknown) => v === undefined ? "-" : String(v);
const rows = [[
  "scenario",
  "rate/s",
  "deliveries",
  "deliveries/s",
  "p50 ms",
  "p99 ms",
  "max ms",
  "local p99",
  "remote p99",
  "pub lag max",
  "CPU % clients/servers",
]];
for (const r of results as Record<string, unknown>[]) {
  const lat = r as { all?: Lat; local?: Lat; remote?: Lat };
  rows.push([
    String(r.name),
    ms(r.rate),
    r.stalled ? `${r.delivered} of ${r.deliveries} (stalled)` : `${r.delivered ?? r.deliveries}`,
    ms(r.deliveries_per_s),
    ms(lat.all?.p50 ?? r.latency_ms_p50),
    ms(lat.all?.p99 ?? r.latency_ms_p99),
    ms(lat.all?.max),
    ms(lat.local?.n ? lat.local.p99 : undefined),
    ms(lat.remote?.n ? lat.remote.p99 : undefined),
    ms(r.publish_lag_ms_max),
    r.client_cpu_pct === undefined
      ? "-"
      : `${r.client_cpu_pct}/${(r.server_cpu_pct as number[]).join("+")}`,
  ]);
}
printTable(rows);
console.log(JSON.stringify(out, null, 2));
