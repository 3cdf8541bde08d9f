/**
 * Protocol fuzzing over real sockets: generated frames (random bytes and text, truncated and
 * invalid envelopes, wrong types, huge and deep values, bogus callback ids, extension events with
 * bad data) go to a live server; every frame's answer is checked against an oracle written from
 * docs/PROTOCOL.md, while a second client's echo traffic must keep working and memory must stay
 * bounded.
 */
import fc from "fast-check";
import { RawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";

/** What the fuzzer measured. */
export interface FuzzReport {
  frames: number;
  errorsByCode: Record<string, number>;
  replies: number;
  silent: number;
  closes1009: number;
  mismatches: string[];
  goodRoundTrips: number;
  heapGrowthMb: number;
  seconds: number;
}

const MAX_BYTES = 64 * 1024;
const EVENT_ID = /^[^\s/:][^\s/]*\/[^\s/]+$/;
const decoder = new TextDecoder("utf-8", { fatal: true });

type Expect =
  | { kind: "close" }
  | { kind: "error"; code: string; cbId: string | null }
  | { kind: "reply"; cbId: string; value: unknown }
  | { kind: "none" }
  | { kind: "any" };

function byteLength(frame: string | Uint8Array): number {
  return typeof frame === "string" ? new TextEncoder().encode(frame).length : frame.length;
}

/** Nesting depth of arrays and objects in a parsed JSON value (iterative: values nest 3000 deep). */
function depth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    max = Math.max(max, d + 1);
    for (const item of Object.values(v)) stack.push([item, d + 1]);
  }
  return max;
}

/** The documented answer to one frame (docs/PROTOCOL.md §2–§5). */
export function oracle(frame: string | Uint8Array): Expect {
  if (byteLength(frame) > MAX_BYTES) return { kind: "close" };
  let v: unknown;
  try {
    v = JSON.parse(typeof frame === "string" ? frame : decoder.decode(frame));
  } catch {
    return { kind: "error", code: "unpack-failed", cbId: null };
  }
  // §5: arrays and objects nested deeper than 512 are unpack-failed.
  if (depth(v) > 512) return { kind: "error", code: "unpack-failed", cbId: null };
  if (!Array.isArray(v) || v.length < 1 || v.length > 2) {
    return { kind: "error", code: "bad-envelope", cbId: null };
  }
  const rawCb = v.length > 1 ? v[1] : null;
  if (rawCb !== null && (typeof rawCb !== "string" || rawCb.length === 0 || rawCb.length > 64)) {
    return { kind: "error", code: "bad-envelope", cbId: null };
  }
  const cb = rawCb as string | null;
  const ev = v[0];
  if (!Array.isArray(ev) || ev.length < 1 || ev.length > 2) {
    return { kind: "error", code: "bad-event", cbId: cb };
  }
  const id = ev[0];
  if (typeof id !== "string" || id.length > 256 || !EVENT_ID.test(id)) {
    return { kind: "error", code: "bad-event", cbId: cb };
  }
  const data = ev[1];
  if (id === "chsk/ws-ping") {
    return cb ? { kind: "reply", cbId: cb, value: "pong" } : { kind: "none" };
  }
  if (id === "chsk/ws-pong") return { kind: "none" };
  if (id.startsWith("chsk/")) return { kind: "error", code: "reserved-event", cbId: cb };
  if (["sente-lite/subscribe", "sente-lite/unsubscribe", "sente-lite/publish"].includes(id)) {
    const ch = data !== null && typeof data === "object"
      ? (data as Record<string, unknown>)["channel-id"]
      : undefined;
    if (typeof ch !== "string" || ch.length === 0 || ch.length > 256) {
      return { kind: "error", code: "bad-request", cbId: cb };
    }
    return { kind: "any" };
  }
  if (id === "sente-lite/reply") {
    const c = data !== null && typeof data === "object"
      ? (data as Record<string, unknown>)["cb-id"]
      : undefined;
    return {
      kind: "error",
      code: typeof c === "string" ? "unknown-cb" : "bad-request",
      cbId: null,
    };
  }
  if (id === "fuzz/echo") {
    return cb ? { kind: "reply", cbId: cb, value: data ?? null } : { kind: "none" };
  }
  return { kind: "error", code: "no-handler", cbId: cb };
}

const ids = fc.oneof(
  fc.constantFrom(
    "fuzz/echo",
    "fuzz/none",
    "chsk/ws-ping",
    "chsk/ws-pong",
    "chsk/handshake",
    "chsk/recv",
    "sente-lite/subscribe",
    "sente-lite/unsubscribe",
    "sente-lite/publish",
    "sente-lite/reply",
    "sente-lite/unknown",
  ),
  fc.string({ maxLength: 12 }),
  fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })).map(([a, b]) => `${a}/${b}`),
  fc.anything({ maxDepth: 1 }),
);
const cbIds = fc.oneof(
  fc.constant(null),
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.constant(""),
  fc.string({ minLength: 65, maxLength: 80 }),
  fc.integer(),
  fc.boolean(),
  fc.object({ maxDepth: 1 }),
);
const data = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.record({
      "channel-id": fc.oneof(
        fc.string({ maxLength: 5 }),
        fc.integer(),
        fc.string({ minLength: 257, maxLength: 260 }),
      ),
      data: fc.jsonValue({ maxDepth: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ "cb-id": fc.oneof(fc.string({ maxLength: 4 }), fc.integer()) }),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 3000 }).map((d) =>
      JSON.parse("[".repeat(d) + "]".repeat(d))
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 90_000 }).map((n) => "x".repeat(n)) },
);
const envelopeValue = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.tuple(ids, data), cbIds) },
  { weight: 1, arbitrary: fc.tuple(fc.tuple(ids)) },
  { weight: 1, arbitrary: fc.tuple(fc.tuple(ids, data, data), cbIds) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
/** One fuzz frame: text or bytes. */
export const frames: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 10, arbitrary: envelopeValue.map((v) => JSON.stringify(v) ?? "null") },
  {
    weight: 2,
    arbitrary: fc.tuple(envelopeValue, fc.nat()).map(([v, n]) => {
      const s = JSON.stringify(v) ?? "null";
      return s.slice(0, n % (s.length + 1)); // truncated
    }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 64, unit: "binary" }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  {
    weight: 1,
    arbitrary: envelopeValue.map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "1")),
  },
);

function matches(expect: Expect, answers: unknown[], closed: boolean): string | null {
  switch (expect.kind) {
    case "close":
      return closed ? null : "expected close 1009";
    case "none":
      return answers.length === 0
        ? null
        : `expected no answer, got ${JSON.stringify(answers).slice(0, 200)}`;
    case "any": {
      // Channel operations: an ack, and (publish) our own channel message when subscribed.
      const errors = answers.filter((a) => JSON.stringify(a).startsWith(`[[["sente-lite/error"`));
      return answers.length <= 2 && errors.length === 0
        ? null
        : `expected at most an ack and a channel message, got ${
          JSON.stringify(answers).slice(0, 200)
        }`;
    }
    case "reply": {
      const ok = answers.length === 1 &&
        JSON.stringify(answers[0]) === JSON.stringify([expect.value, expect.cbId]);
      return ok
        ? null
        : `expected reply for ${expect.cbId}, got ${JSON.stringify(answers).slice(0, 200)}`;
    }
    case "error": {
      const a = answers[0] as [[[string, Record<string, unknown>]], null] | undefined;
      const body = a?.[0]?.[0]?.[1];
      const ok = answers.length === 1 && a?.[0]?.[0]?.[0] === "sente-lite/error" &&
        body?.code === expect.code && (body?.["cb-id"] ?? null) === expect.cbId;
      return ok
        ? null
        : `expected error ${expect.code} (cb ${expect.cbId}), got ${
          JSON.stringify(answers).slice(0, 200)
        }`;
    }
  }
}

async function open(url: string): Promise<RawPeer> {
  const peer = new RawPeer(`${url}?client-id=${crypto.randomUUID()}&packer=json`);
  await peer.opened;
  await peer.next(); // handshake
  return peer;
}

/** Runs `count` generated frames with `seed` against a fresh server. */
export async function fuzz(count: number, seed: number): Promise<FuzzReport> {
  const started = performance.now();
  await using t = await startServer({
    maxMessageBytes: MAX_BYTES,
    largeMessageBytes: MAX_BYTES,
    maxProtocolErrors: 1_000_000_000,
    rateLimit: false,
  });
  t.server.on("fuzz/echo", (msg) => msg.data ?? null);
  const samples = fc.sample(frames, { numRuns: count, seed });
  const report: FuzzReport = {
    frames: 0,
    errorsByCode: {},
    replies: 0,
    silent: 0,
    closes1009: 0,
    mismatches: [],
    goodRoundTrips: 0,
    heapGrowthMb: 0,
    seconds: 0,
  };
  let peer = await open(t.url);
  const good = await open(t.url);
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < samples.length; i++) {
    const frame = samples[i];
    const expect = oracle(frame);
    peer.send(frame);
    const answers: unknown[] = [];
    let closed = false;
    if (expect.kind === "close") {
      const ev = await peer.closed(5000);
      closed = ev.code === 1009;
      peer = await open(t.url);
    } else {
      // A ping after every frame marks where its answers end.
      peer.send(`[["chsk/ws-ping"],"end-${i}"]`);
      for (;;) {
        const text = await peer.next(5000);
        if (text === `["pong","end-${i}"]`) break;
        answers.push(JSON.parse(text));
      }
    }
    const problem = matches(expect, answers, closed);
    if (problem) {
      report.mismatches.push(
        `frame ${i} ${
          JSON.stringify(typeof frame === "string" ? frame.slice(0, 120) : [...frame.slice(0, 40)])
        }: ${problem}`,
      );
    }
    if (expect.kind === "error") {
      report.errorsByCode[expect.code] = (report.errorsByCode[expect.code] ?? 0) + 1;
    }
    if (expect.kind === "reply") report.replies++;
    if (expect.kind === "none") report.silent++;
    if (expect.kind === "close") report.closes1009++;
    report.frames++;
    if (i % 50 === 0) {
      good.send(`[["fuzz/echo",${i}],"g${i}"]`);
      const text = await good.next(5000);
      if (text !== `[${i},"g${i}"]`) report.mismatches.push(`good client got ${text}`);
      else report.goodRoundTrips++;
    }
  }
  (globalThis as { gc?: () => void }).gc?.();
  report.heapGrowthMb = Math.round((Deno.memoryUsage().heapUsed - heapBefore) / 1e5) / 10;
  await peer.close();
  await good.close();
  report.seconds = Math.round((performance.now() - started) / 100) / 10;
  return report;
}

/** What the wire fuzzer measured. */
export interface WireFuzzReport {
  frames: number;
  answersByCode: Record<string, number>;
  closes: Record<string, number>;
  unexpected: string[];
  goodRoundTrips: number;
  heapGrowthMb: number;
}

/** Answers a bad binary frame may get once chunking and compression are negotiated. */
const WIRE_ANSWERS = new Set([
  "bad-frame",
  "decompress-failed",
  "bad-chunk",
  "reassembly-busy",
  "chunk-timeout",
  "unpack-failed",
  "bad-envelope",
  "bad-event",
  "no-handler",
  "reserved-event",
  "bad-request",
  "unknown-cb",
]);

const u32 = (n: number) => [n >>> 24 & 255, n >>> 16 & 255, n >>> 8 & 255, n & 255];
/** Binary frames for a peer that negotiated chunking and compression: lying chunk headers too. */
export const wireFrames: fc.Arbitrary<Uint8Array> = fc.oneof(
  // Chunk frames whose header may lie about index, count, total or its own length.
  fc.record({
    id: fc.nat(3),
    index: fc.oneof(fc.nat(4), fc.nat()),
    count: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.nat()),
    total: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.nat(), fc.constant(0xffff_ffff)),
    body: fc.uint8Array({ maxLength: 300 }),
  }).map(({ id, index, count, total, body }) =>
    new Uint8Array([3, ...u32(id), ...u32(index), ...u32(count), ...u32(total), ...body])
  ),
  // Consistent chunk headers (so reassembly state builds up and completes) with random bodies.
  fc.record({ id: fc.nat(3), count: fc.integer({ min: 1, max: 3 }), seed: fc.nat() }).chain((
    { id, count, seed },
  ) => {
    const total = count * 20 + (seed % 20);
    const index = seed % count;
    const start = Math.floor(index * total / count);
    const end = Math.floor((index + 1) * total / count);
    return fc.uint8Array({ minLength: end - start, maxLength: end - start }).map((body) =>
      new Uint8Array([3, ...u32(id), ...u32(index), ...u32(count), ...u32(total), ...body])
    );
  }),
  // Compressed-frame flags with garbage, unknown flags, empty frames.
  fc.tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 200 })).map(([flag, b]) =>
    new Uint8Array([flag, ...b])
  ),
  fc.tuple(fc.integer({ min: 4, max: 255 }), fc.uint8Array({ maxLength: 50 })).map(([flag, b]) =>
    new Uint8Array([flag, ...b])
  ),
  fc.constant(new Uint8Array(0)),
);

/** Sends `count` generated binary frames to a peer that negotiated chunking and compression. */
export async function fuzzWire(count: number, seed: number): Promise<WireFuzzReport> {
  await using t = await startServer({ maxProtocolErrors: 1_000_000_000, rateLimit: false });
  t.server.on("fuzz/echo", (msg) => msg.data ?? null);
  const report: WireFuzzReport = {
    frames: 0,
    answersByCode: {},
    closes: {},
    unexpected: [],
    goodRoundTrips: 0,
    heapGrowthMb: 0,
  };
  const wireUrl = (u: string) =>
    `${u}?client-id=${crypto.randomUUID()}&packer=json&wire=compression:deflate-raw,chunking`;
  const openWire = async () => {
    const p = new RawPeer(wireUrl(t.url));
    await p.opened;
    await p.next();
    return p;
  };
  let peer = await openWire();
  const good = await open(t.url);
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = Deno.memoryUsage().heapUsed;
  const samples = fc.sample(wireFrames, { numRuns: count, seed });
  for (let i = 0; i < samples.length; i++) {
    peer.send(samples[i]);
    peer.send(`[["chsk/ws-ping"],"end-${i}"]`);
    for (;;) {
      let text: string;
      try {
        text = await peer.next(5000);
      } catch {
        const code = String(peer.closeEvent?.code);
        report.closes[code] = (report.closes[code] ?? 0) + 1;
        if (code !== "1009") report.unexpected.push(`frame ${i}: closed with ${code}`);
        peer = await openWire();
        break;
      }
      if (text === `["pong","end-${i}"]`) break;
      const answer = JSON.parse(text) as [[[string, Record<string, unknown>]]];
      const [[[id, body]]] = answer;
      const code = String(body?.code);
      if (id !== "sente-lite/error" || !WIRE_ANSWERS.has(code)) {
        report.unexpected.push(`frame ${i}: ${text.slice(0, 160)}`);
      } else report.answersByCode[code] = (report.answersByCode[code] ?? 0) + 1;
    }
    report.frames++;
    if (i % 50 === 0) {
      good.send(`[["fuzz/echo",${i}],"g${i}"]`);
      const text = await good.next(5000);
      if (text !== `[${i},"g${i}"]`) report.unexpected.push(`good client got ${text}`);
      else report.goodRoundTrips++;
    }
  }
  (globalThis as { gc?: () => void }).gc?.();
  report.heapGrowthMb = Math.round((Deno.memoryUsage().heapUsed - heapBefore) / 1e5) / 10;
  await peer.close();
  await good.close();
  return report;
}
