import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import { wireTransforms } from "../../client_wire.ts";
import { startServer, until } from "../_server.ts";

const text = (n: number) => Array.from({ length: n }, (_, i) => `item ${i % 97} `).join("");

Deno.test("wire: compression and chunking are negotiated and carry big messages both ways", async () => {
  await using t = await startServer({ rateLimit: false });
  t.server.on("wire/echo", (msg) => msg.data);
  const client = connect(t.url, { onError: () => {}, wire: wireTransforms() });
  const hs = await client.ready;
  for (const cap of ["compression", "chunking"]) {
    assert.ok(hs.server!.capabilities.includes(cap), cap);
  }
  assert.ok(!hs.server!.capabilities.includes("batching")); // the client did not ask
  // 100 KB of repetitive JSON: compressed on the way in, so far fewer bytes reach the server.
  const before = t.server.stats().bytesIn;
  const small = { s: text(10_000) };
  assert.deepEqual(await client.request("wire/echo", small), small);
  const wireBytes = t.server.stats().bytesIn - before;
  assert.ok(wireBytes < 30_000, `compressed to ${wireBytes} bytes`);
  // 3 MB: over the 1 MiB frame limit as one frame, fine in 64 KiB chunks (compressed first).
  let seed = 42; // a PRNG: random-looking digits compress only partly, so chunking must carry it
  const digits = Array.from({ length: 3_000_000 }, () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % 10;
  }).join("");
  const big = { s: digits };
  assert.deepEqual(await client.request("wire/echo", big, { timeoutMs: 20_000 }), big);
  assert.equal(t.server.stats().errors["too-large"], undefined);
  const wire = t.server.stats().wire;
  assert.ok(wire.decompressedIn >= 2 && wire.compressedOut >= 2, JSON.stringify(wire));
  assert.ok(wire.compressBytesAfter < wire.compressBytesBefore);
  assert.ok(wire.chunksIn > 1 && wire.reassembledIn >= 1 && wire.chunkedMessagesOut >= 1);
  client.close();
});

Deno.test("wire: batching packs events into few frames both ways and keeps their order", async () => {
  await using t = await startServer({ rateLimit: false });
  const seen: number[] = [];
  t.server.on("wire/n", (msg) => void seen.push(msg.data as number));
  t.server.on("wire/done", (msg) => msg.data);
  const client = connect(t.url, { wire: wireTransforms({ batching: true }) });
  const hs = await client.ready;
  assert.ok(hs.server!.capabilities.includes("batching"));
  const framesIn = t.server.stats().messagesIn;
  for (let i = 0; i < 50; i++) client.send("wire/n", i);
  assert.equal(await client.request("wire/done", "ok"), "ok");
  assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
  const frames = t.server.stats().messagesIn - framesIn;
  assert.ok(frames <= 10, `51 messages in ${frames} frames`);
  // Server → client: pushes to the uid are batched too.
  const got: number[] = [];
  client.on("wire/push", (n) => void got.push(n as number));
  const framesOut = t.server.stats().messagesOut;
  for (let i = 0; i < 30; i++) t.server.send("sente/nil-uid", "wire/push", i);
  await until(() => got.length === 30, "30 pushes");
  assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
  assert.ok(t.server.stats().messagesOut - framesOut <= 6, "pushes batched");
  const wire = t.server.stats().wire;
  assert.ok(wire.batchedMessages >= 30 && wire.batchFrames <= wire.batchedMessages / 2);
  client.close();
});

Deno.test("wire: each side can switch features off; peers that ask nothing get plain frames", async () => {
  {
    await using t = await startServer({ wire: false });
    t.server.on("wire/echo", (msg) => msg.data);
    const client = connect(t.url, { wire: wireTransforms({ batching: true }) });
    const hs = await client.ready;
    assert.deepEqual(
      hs.server!.capabilities.filter((c) => ["batching", "compression", "chunking"].includes(c)),
      [],
    );
    assert.equal(await client.request("wire/echo", text(2000)), text(2000));
    client.close();
  }
  {
    await using t = await startServer();
    t.server.on("wire/echo", (msg) => msg.data);
    const client = connect(t.url, { wire: false });
    const hs = await client.ready;
    assert.equal(hs.server!.wire ?? null, null);
    assert.equal(await client.request("wire/echo", text(2000)), text(2000));
    client.close();
  }
});

Deno.test("wire: a broadcast reaches compressing and plain clients alike", async () => {
  await using t = await startServer();
  const clients = [
    connect(t.url, { wire: wireTransforms() }),
    connect(t.url, { wire: wireTransforms() }),
    connect(t.url),
  ];
  await Promise.all(clients.map((c) => c.ready));
  const payload = { s: text(5000) };
  const got = clients.map(() => [] as unknown[]);
  clients.forEach((c, i) => c.on("wire/news", (d) => void got[i].push(d)));
  assert.equal(t.server.broadcast("wire/news", payload), 3);
  await until(() => got.every((g) => g.length === 1), "the broadcast on every client");
  for (const g of got) assert.deepEqual(g[0], payload);
  for (const c of clients) c.close();
});

Deno.test("wire: transforms are opt-in; the old options object is refused with a TypeError", async () => {
  await using t = await startServer();
  const client = connect(t.url);
  const hs = await client.ready;
  assert.equal(hs.server!.wire ?? null, null); // no wireTransforms(): plain frames
  for (const cap of ["batching", "compression", "chunking"]) {
    assert.ok(!hs.server!.capabilities.includes(cap), cap);
  }
  client.close();
  assert.throws(
    // @ts-expect-error: the pre-0.2 shape, an options object without the code
    () => connect(t.url, { wire: { batching: true } }),
    (e) => e instanceof TypeError && /wireTransforms/.test(e.message),
  );
});
