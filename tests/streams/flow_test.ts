import assert from "node:assert/strict";
import { DATA_HEADER_BYTES, decodeStreamFrame } from "../../lib/streams/frames.ts";
import { StreamError } from "../../lib/streams/errors.ts";
import type { IncomingStream } from "../../lib/streams/incoming.ts";
import { StreamMux } from "../../lib/streams/mux.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { bytes, concat, counted, join, pair, readAll, turn } from "./_pair.ts";

Deno.test("StreamMux.open() sends a Uint8Array, a Blob and a ReadableStream intact, with SHA-256", async () => {
  const { client, next } = pair();
  const data = bytes(300_000);
  const bodies = [data, new Blob([data]), counted(300_000, 10_000).stream, new Uint8Array(0)];
  const expected = [data, data, counted(300_000, 10_000).data, new Uint8Array(0)];
  for (let i = 0; i < bodies.length; i++) {
    const out = client.open("app/up", bodies[i], { integrity: true, meta: new Uint8Array([i]) });
    const inc = await next(i + 1);
    assert.equal(inc.name, "app/up");
    assert.deepEqual(inc.meta, new Uint8Array([i]));
    assert.equal(inc.integrity, true);
    assert.equal(
      inc.total,
      bodies[i] instanceof ReadableStream ? undefined : expected[i].byteLength,
    );
    assert.deepEqual(await readAll(inc.readable), expected[i]);
    await out.done;
    await inc.done;
    assert.equal(out.state, "closed");
    assert.equal(inc.state, "closed");
  }
  assert.equal(client.stats().completed, 4);
  assert.equal(client.stats().outgoing, 0);
});

Deno.test("StreamMux keeps in-flight and unread bytes within the window and the socket within highWaterMark + one frame", async () => {
  const windowBytes = 64 * 1024;
  const frameBytes = 8 * 1024;
  const highWaterMark = 16 * 1024;
  const { client, joined, next } = pair({ windowBytes, frameBytes, highWaterMark });
  joined.ab.perTurn = 2; // a slow network: bufferedAmount builds up
  const data = bytes(1024 * 1024);
  const out = client.open("app/up", data);
  const inc = await next();
  const reader = inc.readable.getReader();
  const got: Uint8Array[] = [];
  for (let i = 0;; i++) {
    if (i % 3 === 0) await turn(); // a slow reader
    const { done, value } = await reader.read();
    if (done) break;
    got.push(value);
  }
  await out.done;
  assert.deepEqual(concat(got), data);
  assert.ok(out.maxInFlight <= windowBytes, `in flight ${out.maxInFlight}`);
  assert.ok(inc.maxQueued <= windowBytes, `unread ${inc.maxQueued}`);
  assert.ok(
    joined.ab.maxBuffered <= highWaterMark + frameBytes + DATA_HEADER_BYTES + 64,
    `buffered ${joined.ab.maxBuffered}`,
  );
});

Deno.test("StreamMux: a reader that stops reading stops the sender's pulls after one window", async () => {
  const windowBytes = 64 * 1024;
  const { client, next } = pair({ windowBytes, frameBytes: 4096 });
  const source = counted(10 * 1024 * 1024, 4096);
  const out = client.open("app/up", source.stream);
  const inc = await next();
  for (let i = 0; i < 50; i++) await turn();
  // one window, the piece being sent and the stream's own one-chunk read-ahead
  assert.ok(source.seen.pulled <= windowBytes + 2 * 4096, `pulled ${source.seen.pulled}`);
  assert.ok(source.seen.pulled >= windowBytes, `pulled ${source.seen.pulled}`);
  const reader = inc.readable.getReader();
  await reader.read();
  for (let i = 0; i < 50; i++) await turn();
  assert.ok(source.seen.pulled <= 2 * windowBytes + 2 * 4096, `pulled ${source.seen.pulled}`);
  await reader.cancel("done");
  await assert.rejects(out.done);
});

Deno.test("StreamMux sends the frames of concurrent streams round-robin", async () => {
  const { client, joined, next } = pair({ frameBytes: 4096, windowBytes: 1024 * 1024 });
  joined.ab.record = true;
  const outs = [1, 2, 3].map(() => client.open("app/up", bytes(256 * 1024)));
  const incs = await Promise.all([1, 2, 3].map((n) => next(n)));
  await Promise.all(incs.map((s) => readAll(s.readable)));
  await Promise.all(outs.map((o) => o.done));
  const ids = joined.ab.sent.filter((f) => f[0] === 0x10).map((f) => decodeStreamFrame(f).id);
  assert.equal(ids.length, 3 * 64);
  // While all three send, no stream gets a second frame before the others got theirs.
  const firstDone = Math.min(...[1, 3, 5].map((id) => ids.lastIndexOf(id)));
  for (let i = 0; i + 3 <= firstDone; i += 3) {
    assert.equal(
      new Set(ids.slice(i, i + 3)).size,
      3,
      `frames ${i}..${i + 2}: ${ids.slice(i, i + 3)}`,
    );
  }
});

Deno.test("StreamMux reports progress on both sides, ending at 100 %", async () => {
  const received: number[] = [];
  const { client, next } = pair({}, (s) => s.accept({ onProgress: (p) => received.push(p.bytes) }));
  const sent: number[] = [];
  const out = client.open("app/up", bytes(200_000), {
    onProgress: (p) => sent.push(p.percentage!),
  });
  await readAll((await next()).readable);
  await out.done;
  assert.equal(sent.at(-1), 100);
  assert.equal(received.at(-1), 200_000);
});

Deno.test("StreamMux works over a transport that delivers synchronously (re-entrant receive)", async () => {
  const incoming: IncomingStream[] = [];
  const server = new StreamMux({
    side: "server",
    windowBytes: 8192,
    frameBytes: 1024,
    onStream: (s) => {
      s.accept();
      incoming.push(s);
    },
  });
  const client = new StreamMux({ side: "client", windowBytes: 8192, frameBytes: 1024 });
  client.attach({ send: (f) => server.receive(f), bufferedAmount: 0 });
  server.attach({ send: (f) => client.receive(f), bufferedAmount: 0 });
  const data = bytes(100_000);
  const a = client.open("app/up", data, { integrity: true });
  const b = client.open("app/up", counted(50_000, 1000).stream);
  assert.equal(incoming.length, 2, "OPEN arrived synchronously");
  const [got] = await Promise.all([
    readAll(incoming[0].readable),
    incoming[1].readable.cancel("no"),
  ]);
  assert.deepEqual(got, data);
  await a.done;
  await assert.rejects(b.done, (e) => e instanceof StreamError && e.code === "stream-cancelled");
  assert.equal(client.stats().outgoing + server.stats().incoming, 0);
});

Deno.test("StreamMux reports progress at most every progressIntervalMs of its clock", async () => {
  const clock = new VirtualClock();
  const at: number[] = [];
  const { client, next } = pair({ clock, windowBytes: 16 * 1024, frameBytes: 1024 });
  const out = client.open("app/up", bytes(300_000), { onProgress: () => at.push(clock.now()) });
  const inc = await next();
  const reading = readAll(inc.readable);
  let settled = false;
  out.done.then(() => settled = true);
  for (let i = 0; i < 5000 && !settled; i++) {
    clock.tick(7); // the mux yields and polls on this clock
    await turn();
  }
  assert.ok(settled);
  await reading;
  assert.ok(at.length >= 3, `${at.length} reports`);
  for (let i = 1; i < at.length - 1; i++) assert.ok(at[i] - at[i - 1] >= 100, `${at}`);
});

Deno.test("StreamMux suspends its streams when the transport's send throws", async () => {
  const server = new StreamMux({
    side: "server",
    onStream: (s) => {
      s.accept();
      readAll(s.readable).catch(() => {});
    },
  });
  const client = new StreamMux({ side: "client", windowBytes: 4096, frameBytes: 1024 });
  let sends = 0;
  client.attach({
    send: (f) => {
      if (++sends > 20) throw new Error("socket closed");
      server.receive(f);
    },
    bufferedAmount: 0,
  });
  server.attach({ send: (f) => client.receive(f), bufferedAmount: 0 });
  const out = client.open("app/up", bytes(100_000));
  for (let i = 0; i < 20 && out.state !== "suspended"; i++) await turn();
  assert.equal(out.state, "suspended");
  assert.equal(client.attached, false);
  client.close();
  server.close();
  await assert.rejects(out.done);
});

Deno.test("StreamMux completes when the two sides have different windows", async () => {
  for (const [mine, theirs] of [[4096, 1024 * 1024], [1024 * 1024, 4096]]) {
    const client = new StreamMux({ side: "client", windowBytes: mine, frameBytes: 1024 });
    const incoming: Promise<Uint8Array>[] = [];
    const server = new StreamMux({
      side: "server",
      windowBytes: theirs,
      onStream: (s) => {
        s.accept();
        incoming.push(readAll(s.readable));
      },
    });
    join(client, server);
    const data = bytes(200_000);
    const out = client.open("app/up", data);
    await out.done;
    assert.deepEqual(await incoming[0], data);
  }
});

Deno.test("Broadcast: one body to three subscribers; a stalled one holds neither the others nor memory", async () => {
  const body = bytes(500_000);
  const windowBytes = 32 * 1024;
  const subscribers = [0, 1, 2].map(() => {
    const hub = new StreamMux({ side: "server", windowBytes });
    let stream!: IncomingStream;
    const client = new StreamMux({
      side: "client",
      windowBytes,
      onStream: (s) => {
        s.accept();
        stream = s;
      },
    });
    join(hub, client);
    return { hub, out: hub.open("app/broadcast", body), stream: () => stream };
  });
  for (let i = 0; i < 10 && !subscribers[2].stream(); i++) await turn();
  const fast = await Promise.all(subscribers.slice(0, 2).map((s) => readAll(s.stream().readable)));
  for (const got of fast) assert.deepEqual(got, body);
  await Promise.all(subscribers.slice(0, 2).map((s) => s.out.done));
  const slow = subscribers[2];
  assert.equal(slow.out.state, "open", "the stalled subscriber is still at its window");
  assert.ok(slow.stream().maxQueued <= windowBytes);
  slow.out.cancel("slow subscriber dropped"); // the policy: drop it
  await assert.rejects(slow.stream().done, (e) => e instanceof StreamError && e.remote);
});

Deno.test("StreamMux carries streams both ways at once on one transport", async () => {
  const got: Promise<Uint8Array>[] = [];
  const accept = (s: IncomingStream) => {
    s.accept();
    got.push(readAll(s.readable));
  };
  const client = new StreamMux({ side: "client", onStream: accept, frameBytes: 4096 });
  const server = new StreamMux({ side: "server", onStream: accept, frameBytes: 4096 });
  join(client, server);
  const up = bytes(300_000, 1);
  const down = bytes(300_000, 2);
  const a = client.open("app/up", up);
  const b = server.open("app/down", down);
  assert.equal(a.id % 2, 1);
  assert.equal(b.id % 2, 0);
  await Promise.all([a.done, b.done]);
  const results = await Promise.all(got);
  assert.equal(results.length, 2);
  assert.ok(results.some((r) => r.every((x, i) => x === up[i])));
  assert.ok(results.some((r) => r.every((x, i) => x === down[i])));
});

Deno.test("StreamMux builds every DATA frame in one reused buffer when the transport copies on send", async () => {
  const frameBytes = 16 * 1024;
  const { client, joined, next } = pair({ frameBytes });
  joined.ab.copiesOnSend = true;
  joined.ab.perTurn = 3; // frames queue up: a frame kept instead of copied would be overwritten
  const data = bytes(1024 * 1024 + 5);
  const bodies = [data, new Blob([data]), counted(300_000, 10_000).stream];
  const expected = [data, data, counted(300_000, 10_000).data];
  for (let i = 0; i < bodies.length; i++) {
    const out = client.open("app/up", bodies[i], { integrity: true });
    const inc = await next(i + 1);
    assert.deepEqual(await readAll(inc.readable), expected[i]);
    await out.done;
    await inc.done; // SHA-256 checked
  }
  // Control frames (OPEN, END) are new each; every DATA frame shares the one buffer.
  const dataBuffers = [...joined.ab.sentBuffers].filter((b) => b.byteLength > 1024);
  assert.equal(dataBuffers.length, 1);
  assert.equal(dataBuffers[0].byteLength, DATA_HEADER_BYTES + frameBytes);
});

Deno.test("StreamMux gives each DATA frame its own buffer when the transport keeps frames", async () => {
  const { client, joined, next } = pair({ frameBytes: 16 * 1024 });
  joined.ab.record = true;
  const data = bytes(200_000);
  const out = client.open("app/up", data);
  assert.deepEqual(await readAll((await next()).readable), data);
  await out.done;
  const buffers = joined.ab.sent.filter((f) => f[0] === 0x10).map((f) => f.buffer);
  assert.equal(new Set(buffers).size, buffers.length);
  assert.ok(buffers.length >= 13);
});
