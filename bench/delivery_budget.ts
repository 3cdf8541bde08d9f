/**
 * Cost of the delivery budget (`maxTotalBytes`, docs/delivery.md "Memory"), on the books alone
 * (lib/server/delivery.ts in virtual time, no sockets):
 *
 * - `connected`: 1,000 connected sessions, each push acknowledged 16 at a time; the budget is
 *   never reached (the common case: connected sessions are not indexed, one sum per change).
 * - `parked-free`: `sessions` parked sessions on a busy stream, budget not reached.
 * - `parked-full`: the same with a budget of 64 KiB: every message buffered trims
 *   one from the largest parked session (the attack).
 * - `scan-baseline`: what finding the largest by a scan over the same sessions costs per trim
 *   (the O(sessions) approach the size index replaces).
 * - `connected-full`: 1,000 connected sessions that never acknowledge, budget 1 MiB: connected
 *   buffers are found by a scan, amortized (each scan frees 1/8 of the budget).
 *
 *   deno run -A bench/delivery_budget.ts [sessions=10000] [messages=50]
 *
 * Prints one JSON line per run (ns per buffered message) and one with the comparison.
 */
import { Delivery, type DeliveryCounters, resolveDelivery } from "../lib/server/delivery.ts";
import type { DeliveryOptions } from "../lib/server/delivery.ts";
import { VirtualClock } from "../lib/util/clock.ts";
import { zeroDeliveryCounters } from "../lib/server/session.ts";

const sessions = Number(Deno.args[0] ?? 10_000);
const messages = Number(Deno.args[1] ?? 50);

function books(options: DeliveryOptions): { d: Delivery<string>; stats: DeliveryCounters } {
  const stats = zeroDeliveryCounters();
  const resolved = resolveDelivery({ maxSessions: sessions + 1000, ...options });
  const d = new Delivery<string>(resolved as Required<DeliveryOptions>, new VirtualClock(), {
    loss: () => {},
    ack: () => {},
  }, stats);
  return { d, stats };
}

const event: [string, unknown] = ["t/n", { n: 1, p: "x".repeat(60) }];

function connected(): Record<string, number> {
  const { d } = books({});
  const open = Array.from({ length: 1000 }, (_, i) => d.attach("u", `c${i}`, `k${i}`, 0).session);
  const rounds = 200;
  const t0 = performance.now();
  for (let r = 1; r <= rounds; r++) {
    for (const s of open) {
      d.account(s, d.sequence(s, event), 80);
      if (r % 16 === 0) d.acked(s, s.outSeq);
    }
  }
  const ms = performance.now() - t0;
  return { messages: rounds * 1000, nsPerMessage: (ms * 1e6) / (rounds * 1000) };
}

function connectedFull(): Record<string, number> {
  const { d, stats } = books({ maxTotalBytes: 1024 * 1024 });
  const open = Array.from({ length: 1000 }, (_, i) => d.attach("u", `c${i}`, `k${i}`, 0).session);
  const rounds = 200;
  const t0 = performance.now();
  for (let r = 1; r <= rounds; r++) for (const s of open) d.account(s, d.sequence(s, event), 80);
  const ms = performance.now() - t0;
  return {
    messages: rounds * 1000,
    lost: stats.offlineDropped,
    bytes: d.bytes,
    nsPerMessage: (ms * 1e6) / (rounds * 1000),
  };
}

function parked(maxTotalBytes: number): Record<string, number> {
  const { d, stats } = books({ maxTotalBytes });
  for (let i = 0; i < sessions; i++) {
    const s = d.attach("anon", `c${i}`, `k${i}`, 0).session;
    d.detach(s, `k${i}`);
  }
  const t0 = performance.now();
  let held = 0;
  for (let m = 0; m < messages; m++) held += d.hold("anon", event, 0);
  const ms = performance.now() - t0;
  return {
    messages: held,
    trimmed: stats.offlineDropped,
    bytes: d.bytes,
    nsPerMessage: (ms * 1e6) / held,
  };
}

function scanBaseline(): Record<string, number> {
  const sizes = Array.from({ length: sessions }, (_, i) => (i * 7919) % 100_000);
  const trims = 2000;
  let found = 0;
  const t0 = performance.now();
  for (let t = 0; t < trims; t++) {
    let best = -1;
    for (let i = 0; i < sizes.length; i++) if (best < 0 || sizes[i] > sizes[best]) best = i;
    sizes[best] -= 200;
    found += best;
  }
  const ms = performance.now() - t0;
  return { trims, nsPerTrim: (ms * 1e6) / trims, checksum: found % 7 };
}

const runs = {
  connected: connected(),
  "parked-free": parked(2 ** 50),
  "parked-full": parked(64 * 1024), // full after the first messages
  "scan-baseline": scanBaseline(),
  "connected-full": connectedFull(),
};
for (const [label, r] of Object.entries(runs)) console.log(JSON.stringify({ label, ...r }));
console.log(JSON.stringify({
  sessions,
  fullOverFree: runs["parked-full"].nsPerMessage / runs["parked-free"].nsPerMessage,
  scanOverIndexedTrim: runs["scan-baseline"].nsPerTrim / runs["parked-full"].nsPerMessage,
}));
