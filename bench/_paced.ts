/**
 * The paced-latency scenario of bench/backplane.ts on sente-lite nodes: library clients in this
 * process, publishes paced by the first node (`ctl/pace` of tests/cluster/_node_server.ts),
 * publish → delivery latency of every delivery, overall and by node.
 *
 * @module
 */
import { type Client, connect } from "../client.ts";

/** What a paced run does. */
export interface PacedOptions {
  /** Clients, spread over the nodes in turn. */
  clients: number;
  /** Publishes per second, one measured run each, in turn. */
  rates: number[];
  /** Seconds of one measured run (after one second of warm-up). */
  seconds: number;
  /** Bytes of padding per message. */
  bytes: number;
  /** The server nodes' process ids (their CPU share is reported), in the order of `urls`. */
  pids: number[];
}

/** CPU time (ms) of process `pid` ("self" for this one) so far, from /proc (10 ms ticks). */
export function cpuMs(pid: number | "self"): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, at 100 ticks per second
}

/** Latency figures (ms) of some deliveries. */
export interface Latency {
  /** How many deliveries. */
  n: number;
  /** Median. */
  p50: number;
  /** 99th percentile. */
  p99: number;
  /** Slowest. */
  max: number;
}

/** p50/p99/max (ms) of the latencies of `lat[0…n)` whose node passes `pick`. */
export function latency(
  lat: Float64Array,
  node: Uint8Array,
  n: number,
  pick: (k: number) => boolean,
): Latency {
  const s: number[] = [];
  for (let i = 0; i < n; i++) if (pick(node[i])) s.push(lat[i]);
  s.sort((a, b) => a - b);
  const at = (p: number) => +(s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0).toFixed(2);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: +(s.at(-1) ?? 0).toFixed(2) };
}

/**
 * The paced scenario on sente-lite nodes `urls` (the first publishes): library clients in this
 * process, one result per rate of `options.rates`. Every delivery's latency is kept, with its node.
 */
export async function runPaced(
  name: string,
  urls: string[],
  options: PacedOptions,
): Promise<Record<string, unknown>[]> {
  const { rates, seconds, bytes } = options;
  const clients: Client[] = [];
  let lat = new Float64Array(0);
  let node = new Uint8Array(0);
  let got = 0;
  let wake = () => {};
  for (let k = 0; k < options.clients; k++) {
    clients.push(
      connect(`${urls[k % urls.length]}?user=p${k}`, { onError: () => {}, resume: false }),
    );
  }
  await Promise.all(clients.map((c) => c.ready));
  await Promise.all(clients.map((c, k) =>
    c.subscribe("paced", (data) => {
      const d = data as { t: number; w: boolean };
      if (d.w) return;
      if (got < lat.length) {
        lat[got] = performance.timeOrigin + performance.now() - d.t;
        node[got] = k % urls.length;
      }
      if (++got === lat.length) wake();
    })
  ));
  const pace = (count: number, rate: number, warm: boolean) =>
    clients[0].request("ctl/pace", { channel: "paced", count, rate, bytes, warm }, {
      timeoutMs: seconds * 1000 + 60_000,
    }) as Promise<{ sent: number; lagMs: number }>;
  const results: Record<string, unknown>[] = [];
  try {
    for (const rate of rates) {
      await pace(rate, rate, true); // one second of warm-up, left out
      const count = Math.round(rate * seconds);
      lat = new Float64Array(count * options.clients);
      node = new Uint8Array(count * options.clients);
      got = 0;
      const all = new Promise<void>((r) => wake = r);
      const cpu0 = [cpuMs("self"), ...options.pids.map(cpuMs)];
      const t0 = performance.now();
      const { lagMs } = await pace(count, rate, false);
      // Bounded: a stall is reported (with how many arrived), never waited on forever.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([all, new Promise<void>((r) => timer = setTimeout(r, 60_000))]);
      clearTimeout(timer);
      const n = Math.min(got, lat.length);
      const wall = performance.now() - t0;
      const [client, ...servers] = [cpuMs("self"), ...options.pids.map(cpuMs)].map((c, i) =>
        Math.round((c - cpu0[i]) / wall * 100)
      );
      results.push({
        name,
        rate,
        publishes: count,
        deliveries: lat.length,
        delivered: n,
        ms: Math.round(wall),
        publish_lag_ms_max: lagMs,
        client_cpu_pct: client,
        server_cpu_pct: servers,
        all: latency(lat, node, n, () => true),
        local: latency(lat, node, n, (k) => k === 0),
        remote: latency(lat, node, n, (k) => k !== 0),
      });
    }
  } finally {
    for (const c of clients) c.close();
  }
  return results;
}
