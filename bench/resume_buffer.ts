/**
 * Resume buffer sizing (docs/delivery.md "Sizing the buffers"): clients receive a 500 msg/s stream
 * each while the server drops every connection every 2 s, and reconnect with the client's default
 * backoff (1 s ± 25 %, growing while connections live under 5 s). The baseline run uses the old
 * default buffer (`maxMessages: 100`), the other the current defaults (bounded by `maxBytes`).
 * Every loss must be announced (handshake gap or `sente-lite/gap`).
 *
 *   deno run -A bench/resume_buffer.ts [clients=5] [seconds=8]
 *
 * Prints a JSON line per run and one with the comparison.
 */
import { type Client, connect } from "../client.ts";
import { createServer } from "../server.ts";
import type { DeliveryOptions } from "../lib/server/delivery.ts";

/** What one run measured. */
export interface BufferRun {
  label: string;
  sent: number;
  received: number;
  lost: number;
  announced: number;
  lostPct: number;
  drops: number;
  resumed: number;
  resumeFailed: number;
}

/** Streams `rate` msg/s to each of `clients` uids for `seconds`, dropping them every `dropMs`. */
export async function runBuffer(
  label: string,
  delivery: DeliveryOptions,
  clients: number,
  seconds: number,
  rate = 500,
  dropMs = 2000,
): Promise<BufferRun> {
  const server = createServer({
    onError: () => {},
    delivery,
    authenticate: (r) => new URL(r.url).searchParams.get("uid"),
  });
  const handle = await server.serve({ port: 0 });
  const got: Set<number>[] = [];
  const announced: number[] = [];
  const conns: Client[] = [];
  for (let i = 0; i < clients; i++) {
    const seen = new Set<number>();
    got.push(seen);
    announced.push(0);
    const c = connect(handle.url, { params: { uid: `u${i}` }, onError: () => {} });
    c.on("t/n", (d) => void seen.add((d as { n: number }).n));
    c.on("sente-lite/gap", (g) => void (announced[i] += (g as { dropped?: number }).dropped ?? 0));
    conns.push(c);
  }
  await Promise.all(conns.map((c) => c.ready));
  let n = 0;
  let drops = 0;
  const tickMs = 10;
  const perTick = rate * tickMs / 1000;
  const start = Date.now();
  let nextDrop = start + dropMs;
  while (Date.now() - start < seconds * 1000) {
    // Catch up to the wall clock, so a slow turn does not lower the rate.
    const due = Math.floor((Date.now() - start) / tickMs) * perTick;
    while (n < due) {
      n++;
      for (let i = 0; i < clients; i++) server.send(`u${i}`, "t/n", { n });
    }
    if (Date.now() >= nextDrop) {
      for (let i = 0; i < clients; i++) drops += server.closeUid(`u${i}`, 1012, "drop");
      nextDrop += dropMs;
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  // Let every client come back and drain (bounded).
  const until = Date.now() + 15_000;
  while (Date.now() < until && got.some((s, i) => s.size + announced[i] < n)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const received = got.reduce((a, s) => a + s.size, 0);
  const sent = n * clients;
  const stats = server.stats();
  for (const c of conns) c.close();
  await handle.close();
  return {
    label,
    sent,
    received,
    lost: sent - received,
    announced: announced.reduce((a, b) => a + b, 0),
    lostPct: Math.round((sent - received) / sent * 1000) / 10,
    drops,
    resumed: stats.resumed,
    resumeFailed: stats.resumeFailed,
  };
}

if (import.meta.main) {
  const clients = Number(Deno.args[0] ?? 5);
  const seconds = Number(Deno.args[1] ?? 8);
  const baseline = await runBuffer(
    "maxMessages 100 (old default)",
    { maxMessages: 100 },
    clients,
    seconds,
  );
  console.log(JSON.stringify(baseline));
  const current = await runBuffer("defaults (10000 messages / 1 MiB)", {}, clients, seconds);
  console.log(JSON.stringify(current));
  console.log(JSON.stringify({
    rate: 500,
    dropEveryMs: 2000,
    lostPctBaseline: baseline.lostPct,
    lostPctDefaults: current.lostPct,
    allLossAnnounced: baseline.lost === baseline.announced && current.lost === current.announced,
  }));
}
