import type { Signal } from "../../lib/telemetry/signal.ts";

/** Deterministic PRNG (mulberry32) for sampling tests. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A complete signal for tests: every field empty or neutral, then `over`. */
export function testSignal(over: Partial<Signal> = {}): Signal {
  return {
    time: 0,
    ns: undefined,
    kind: "log",
    level: "info",
    id: undefined,
    msg: undefined,
    data: undefined,
    error: undefined,
    ctx: undefined,
    uid: undefined,
    parent: undefined,
    root: undefined,
    runNs: undefined,
    runValue: undefined,
    sample: 1,
    ...over,
  };
}
