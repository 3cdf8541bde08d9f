/**
 * End to end over real sockets on 127.0.0.1: raw `Deno.serve` + `WebSocket` with the wire
 * pipeline on both ends (see `_raw_peer.ts`), not the Hub or the Client.
 */
import assert from "node:assert/strict";
import { ALL_FEATURES } from "../../lib/wire/capabilities.ts";
import type { WireFeatures } from "../../lib/wire/capabilities.ts";
import { withTimeout } from "../_util.ts";
import { connectRaw, settled, startRawServer } from "./_raw_peer.ts";
import type { RawOptions, RawPeer } from "./_raw_peer.ts";

const NONE: WireFeatures = { batching: false, compression: false, chunking: false };

/** An echo server: every `echo/*` event comes back as a push of the same event. */
function echoServer(options: RawOptions) {
  return startRawServer(options, (peer, id, data) => {
    if (id.startsWith("echo/")) peer.send(id, data, { urgent: id === "echo/big" });
  });
}

function collector() {
  const got: [string, unknown][] = [];
  let wake = () => {};
  return {
    got,
    onEvent: (_: RawPeer, id: string, data: unknown) => {
      got.push([id, data]);
      wake();
    },
    async until(n: number) {
      while (got.length < n) await new Promise<void>((r) => wake = r);
    },
  };
}

Deno.test("wire e2e: every combination of features negotiates and echoes small and large events", async () => {
  // ~90 KB that compresses to about half: chunked (16 KB chunks) also when compressed.
  const large = {
    rows: Array.from({ length: 2000 }, (_, i) => ({ i, id: crypto.randomUUID() })),
  };
  const cases: [WireFeatures, WireFeatures, string][] = [
    [ALL_FEATURES, ALL_FEATURES, "batching,compression,chunking"],
    [ALL_FEATURES, NONE, ""],
    [NONE, ALL_FEATURES, ""],
    [{ ...ALL_FEATURES, compression: false }, ALL_FEATURES, "batching,chunking"],
    [
      ALL_FEATURES,
      { ...ALL_FEATURES, batching: false, compression: ["gzip"] },
      "compression,chunking",
    ],
  ];
  for (const [server, client, expected] of cases) {
    const srv = echoServer({ features: server, wire: { chunkSize: 16384 } });
    const c = collector();
    const peer = await connectRaw(
      srv.url,
      { features: client, wire: { chunkSize: 16384 } },
      c.onEvent,
    );
    const on = Object.entries(peer.settings).filter(([, v]) => v).map(([k]) => k).join(",");
    assert.equal(on, expected);
    for (let i = 0; i < 25; i++) peer.send("echo/small", i);
    peer.send("echo/large", large);
    await settled(peer);
    await withTimeout(c.until(26), 5000, `echoes for ${expected || "plain"}`);
    assert.deepEqual(c.got.filter(([id]) => id === "echo/small").map(([, d]) => d), [
      ...Array(25).keys(),
    ]);
    assert.deepEqual(c.got.find(([id]) => id === "echo/large")?.[1], large);
    const serverPeer = [...srv.peers][0];
    if (peer.settings.batching) assert.ok(serverPeer.batcher!.stats().frames < 26);
    if (peer.settings.chunking) assert.ok(serverPeer.receiver.stats().reassembly.messages >= 1);
    if (peer.settings.compression) assert.ok(peer.sender.stats().compression.messages >= 1);
    if (!expected) {
      assert.equal(peer.sender.stats().frames, 26, "plain: one frame per event");
      assert.equal(peer.receiver.stats().compression.messages, 0);
    }
    assert.deepEqual(peer.errors, []);
    peer.close();
    await srv.close();
  }
});

Deno.test("wire e2e: a 64 MB message round trip in chunks, with peak memory measured", async () => {
  const srv = echoServer({ features: ALL_FEATURES });
  const c = collector();
  const peer = await connectRaw(
    srv.url,
    { features: { ...ALL_FEATURES, compression: false } },
    c.onEvent,
  );
  const blob = "0123456789abcdef".repeat(4_000_000); // 64,000,000 bytes, under the 64 MiB limit
  const rss0 = Deno.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
  const start = performance.now();
  try {
    peer.send("echo/big", blob, { urgent: true });
    await withTimeout(c.until(1), 60_000, "the 64 MB echo");
  } finally {
    clearInterval(sampler);
  }
  const ms = performance.now() - start;
  peak = Math.max(peak, Deno.memoryUsage().rss);
  assert.equal(c.got[0][0], "echo/big");
  assert.ok(c.got[0][1] === blob, "the echo is byte-identical");
  const sent = peer.sender.stats();
  assert.equal(sent.chunkedMessages, 1);
  assert.equal(sent.chunks, Math.ceil((blob.length + 25) / 65536));
  assert.deepEqual(peer.errors, []);
  console.log(
    `64 MB round trip: ${ms.toFixed(0)} ms, ${sent.chunks} chunks each way, rss ${
      (rss0 / 1e6).toFixed(0)
    } MB → peak ${(peak / 1e6).toFixed(0)} MB (+${((peak - rss0) / 1e6).toFixed(0)} MB, ` +
      `${((peak - rss0) / 64e6).toFixed(1)}× the message, both ends in this process)`,
  );
  peer.close();
  await srv.close();
});

Deno.test("wire e2e: small messages keep flowing while a large message is in transit", async () => {
  const order: string[] = [];
  const srv = startRawServer({ features: ALL_FEATURES }, (peer, id, data) => {
    order.push(id);
    if (id === "app/ping") peer.send("app/pong", data, { urgent: true });
    if (id === "app/big") peer.send("app/got-big", null, { urgent: true });
  });
  const pongs: number[] = [];
  let bigDone = false;
  let wake = () => {};
  const peer = await connectRaw(
    srv.url,
    { features: { ...ALL_FEATURES, compression: false } },
    (_, id, data) => {
      if (id === "app/pong") pongs.push(performance.now() - (data as number));
      if (id === "app/got-big") bigDone = true;
      wake();
    },
  );
  peer.send("app/big", "z".repeat(20_000_000), { urgent: true });
  for (let i = 0; i < 10; i++) peer.send("app/burst", i, { urgent: true });
  // Ping-pong round trips, one at a time, for as long as the large message is in transit.
  let during = 0;
  await withTimeout(
    (async () => {
      while (!bigDone) {
        const n = pongs.length;
        peer.send("app/ping", performance.now(), { urgent: true });
        while (pongs.length === n && !bigDone) await new Promise<void>((r) => wake = r);
        if (!bigDone) during++;
      }
    })(),
    30_000,
    "the large message",
  );
  const bigAt = order.indexOf("app/big");
  assert.ok(bigAt > 0);
  assert.deepEqual(
    order.slice(0, bigAt).filter((id) => id === "app/burst").length,
    10,
    "the burst sent after the large message arrived before it",
  );
  assert.ok(during >= 1, "at least one ping-pong round trip completed during the transfer");
  const sorted = pongs.slice(0, during).sort((a, b) => a - b);
  console.log(
    `during a 20 MB transfer: ${during} ping-pongs, p50 ${
      sorted[Math.floor(sorted.length / 2)]?.toFixed(2)
    } ms, max ${sorted.at(-1)?.toFixed(2)} ms`,
  );
  peer.close();
  await srv.close();
});
