/** Streams wired into the Hub and the Client, over real sockets (docs/streaming.md §12). */
import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import { clientStreams } from "../../lib/client/streams.ts";
import { StreamError } from "../../lib/streams/errors.ts";
import { sha256 } from "../../lib/streams/sha256.ts";
import type { StreamProgress } from "../../lib/streams/progress.ts";
import { startServer, until } from "../_server.ts";
import { rawPeer } from "../_peer.ts";

const MiB = 1024 * 1024;

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function hex(data: Uint8Array): string {
  const h = sha256();
  h.update(data);
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads a stream, hashing as it goes; returns the hex SHA-256 and the byte count. */
async function digest(stream: ReadableStream<Uint8Array>): Promise<[string, number]> {
  const h = sha256();
  let n = 0;
  for await (const chunk of stream) {
    h.update(chunk);
    n += chunk.byteLength;
  }
  return [Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join(""), n];
}

Deno.test("streams: an 8 MiB upload reaches the handler intact, with progress and the reply", async () => {
  await using t = await startServer();
  const seen: { uid: string; meta: unknown }[] = [];
  t.server.onStream("app/upload", async (msg) => {
    seen.push({ uid: msg.uid, meta: msg.meta });
    const [sha, n] = await digest(msg.stream);
    return { sha, n };
  });
  const client = connect(t.url, { streams: clientStreams() });
  try {
    const handshake = await client.ready;
    assert.ok(handshake.server?.capabilities.includes("streams"));
    const body = bytes(8 * MiB);
    const progress: StreamProgress[] = [];
    const reply = await client.upload("app/upload", body, {
      meta: { name: "x.bin" },
      integrity: true,
      onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(reply, { sha: hex(body), n: body.byteLength });
    assert.deepEqual(seen[0].meta, { name: "x.bin" });
    assert.ok(progress.length >= 1);
    assert.equal(progress.at(-1)!.bytes, body.byteLength);
    assert.equal(progress.at(-1)!.percentage, 100);
    const stats = t.server.stats().streams!;
    assert.ok(stats.completed >= 1);
    assert.equal(stats.bytesIn, body.byteLength);
  } finally {
    client.close();
  }
});

Deno.test("streams: an 8 MiB download from a request handler, with progress", async () => {
  await using t = await startServer();
  const body = bytes(8 * MiB, 7);
  t.server.on("app/download", (msg) => {
    const { size } = msg.data as { size: number };
    return new Blob([body.subarray(0, size) as Uint8Array<ArrayBuffer>]);
  });
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const progress: StreamProgress[] = [];
    const readable = await client.download("app/download", { size: body.byteLength }, {
      onProgress: (p) => progress.push(p),
    });
    const [sha, n] = await digest(readable);
    assert.equal(n, body.byteLength);
    assert.equal(sha, hex(body));
    await until(() => progress.at(-1)?.bytes === body.byteLength, "final progress");
  } finally {
    client.close();
  }
});

Deno.test("streams: a push stream from server.streamTo reaches client.onStream with its meta", async () => {
  await using t = await startServer();
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const got = Promise.withResolvers<[string, number, unknown]>();
    client.onStream("app/push", (stream, meta) => {
      digest(stream).then(([sha, n]) => got.resolve([sha, n, meta]), got.reject);
    });
    const body = bytes(3 * MiB + 5, 3);
    const connId = t.server.connections()[0].id;
    await t.server.streamTo(connId, "app/push", body, { meta: { kind: "log" } });
    assert.deepEqual(await got.promise, [hex(body), body.byteLength, { kind: "log" }]);
  } finally {
    client.close();
  }
});

Deno.test("streams: a request is answered during a large upload (no head-of-line blocking)", async () => {
  await using t = await startServer();
  let uploaded = 0;
  const finish = Promise.withResolvers<void>();
  t.server.onStream("app/slow", async (msg) => {
    for await (const chunk of msg.stream) {
      uploaded += chunk.byteLength;
      if (uploaded >= 2 * MiB) await finish.promise; // stall the reader mid-stream
    }
    return uploaded;
  });
  t.server.on("app/ping", () => "pong");
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const upload = client.upload("app/slow", bytes(16 * MiB));
    await until(() => uploaded >= 2 * MiB, "the upload to be under way", 10_000);
    assert.equal(await client.request("app/ping"), "pong");
    finish.resolve();
    assert.equal(await upload, 16 * MiB);
  } finally {
    client.close();
  }
});

Deno.test("streams: aborting an upload cancels it on the server with the reason", async () => {
  await using t = await startServer();
  const serverError = Promise.withResolvers<unknown>();
  let received = 0;
  t.server.onStream("app/upload", async (msg) => {
    try {
      for await (const chunk of msg.stream) received += chunk.byteLength;
    } catch (e) {
      serverError.resolve(e);
    }
    return "never";
  });
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const abort = new AbortController();
    // A ReadableStream body that stops producing after 1 MiB: the upload cannot finish first.
    let produced = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (produced >= MiB) return new Promise(() => {});
        produced += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024));
      },
    }, { highWaterMark: 0 });
    const upload = client.upload("app/upload", body, { signal: abort.signal });
    await until(() => received >= MiB, "1 MiB at the server", 10_000);
    abort.abort("user cancelled");
    await assert.rejects(upload, (e: unknown) => e instanceof StreamError);
    const e = await serverError.promise as StreamError;
    assert.equal(e.code, "stream-cancelled");
    assert.match(e.message, /user cancelled/);
  } finally {
    client.close();
  }
});

Deno.test("streams: cancelling a download's readable cancels the server's body", async () => {
  await using t = await startServer();
  const cancelled = Promise.withResolvers<unknown>();
  t.server.on("app/endless", () =>
    new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(64 * 1024)),
      cancel: (reason) => cancelled.resolve(reason),
    }));
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const readable = await client.download("app/endless");
    const reader = readable.getReader();
    await reader.read();
    await reader.cancel("enough");
    const reason = await cancelled.promise;
    assert.match(String((reason as Error).message ?? reason), /enough/);
  } finally {
    client.close();
  }
});

Deno.test("streams: a handler error reaches upload() as a ServerError", async () => {
  await using t = await startServer();
  t.server.onStream("app/upload", async (msg) => {
    await msg.stream.cancel();
    throw new Error("disk full");
  });
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    await assert.rejects(client.upload("app/upload", bytes(1000)));
  } finally {
    client.close();
  }
});

Deno.test("streams: authorizeEvent and missing handlers refuse a stream before any byte flows", async () => {
  await using t = await startServer({
    authorizeEvent: (msg) => msg.id !== "app/secret",
    streams: { maxStreamBytes: MiB },
  });
  let called = false;
  t.server.onStream("app/secret", () => called = true);
  t.server.onStream("app/upload", async (msg) => (await digest(msg.stream))[1]);
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    await assert.rejects(
      client.upload("app/secret", bytes(10)),
      (e: unknown) => e instanceof StreamError && e.code === "stream-refused",
    );
    await assert.rejects(
      client.upload("app/none", bytes(10)),
      (e: unknown) => e instanceof StreamError && e.code === "stream-refused",
    );
    await assert.rejects(
      client.upload("app/upload", bytes(2 * MiB)),
      (e: unknown) => e instanceof StreamError && e.code === "stream-too-large",
    );
    assert.equal(called, false);
    assert.equal(t.server.stats().streams!.bytesIn, 0);
    assert.equal(await client.upload("app/upload", bytes(10)), 10);
  } finally {
    client.close();
  }
});

Deno.test("streams: an upload of a Uint8Array survives a dropped connection (resume)", async () => {
  await using t = await startServer();
  let received = 0;
  const gate = Promise.withResolvers<void>();
  t.server.onStream("app/upload", async (msg) => {
    const h = sha256();
    for await (const chunk of msg.stream) {
      h.update(chunk);
      received += chunk.byteLength;
      if (received >= 2 * MiB) await gate.promise;
    }
    return Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
  });
  const client = connect(t.url, {
    streams: clientStreams(),
    reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
  });
  try {
    await client.ready;
    const body = bytes(8 * MiB, 9);
    const upload = client.upload("app/upload", body);
    await until(() => received >= 2 * MiB, "part of the upload", 10_000);
    const first = t.server.connections()[0].id;
    t.server.closeConnection(first, 1001, "drop");
    await until(
      () => t.server.connections().some((c) => c.id !== first),
      "the reconnect",
      10_000,
    );
    gate.resolve();
    assert.equal(await upload, hex(body));
    assert.equal(received, body.byteLength);
  } finally {
    client.close();
  }
});

Deno.test("streams: a client without clientStreams() is unaffected; plain clients get no capability", async () => {
  await using t = await startServer();
  const client = connect(t.url);
  try {
    const h = await client.ready;
    assert.ok(!h.server?.capabilities.includes("streams"));
    assert.throws(() => client.onStream("app/x", () => {}), TypeError);
  } finally {
    client.close();
  }
});

Deno.test("streams: bad stream frames count toward maxProtocolErrors and close the connection", async () => {
  await using t = await startServer({ maxProtocolErrors: 3 });
  const { peer, handshake } = await rawPeer(`${t.url}?streams=raw-session`);
  try {
    const caps = JSON.stringify(handshake);
    assert.match(caps, /"streams"/);
    // OPEN frames cut short: each is malformed (and names no stream the server has).
    for (let i = 0; i < 4; i++) peer.send(new Uint8Array([0x11, 0, 0, 0]));
    for (let i = 0; i < 3; i++) assert.match(await peer.next(), /stream-protocol/);
    const closed = await peer.closed();
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /too-many-errors/);
    assert.equal(t.server.stats().errors["stream-protocol"], 4); // the 4th closes
  } finally {
    peer.ws.close();
  }
});

Deno.test("streams: maxIncomingStreams refuses a second concurrent upload with stream-limit", async () => {
  await using t = await startServer({ streams: { maxIncomingStreams: 1 } });
  const release = Promise.withResolvers<void>();
  let started = 0;
  t.server.onStream("app/upload", async (msg) => {
    started++;
    await release.promise;
    return (await digest(msg.stream))[1];
  });
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const first = client.upload("app/upload", bytes(1000));
    await until(() => started === 1, "the first upload");
    await assert.rejects(
      client.upload("app/upload", bytes(10)),
      (e: unknown) => e instanceof StreamError && e.code === "stream-limit",
    );
    release.resolve();
    assert.equal(await first, 1000);
  } finally {
    client.close();
  }
});

Deno.test("streams: a session the server no longer holds fails the client's streams with stream-resume-failed", async () => {
  await using t = await startServer({ streams: { resumeTimeoutMs: 1 } });
  const gate = Promise.withResolvers<void>();
  t.server.onStream("app/upload", async (msg) => {
    await gate.promise;
    return (await digest(msg.stream))[1];
  });
  const client = connect(t.url, {
    streams: clientStreams(),
    reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
  });
  try {
    await client.ready;
    const upload = client.upload("app/upload", bytes(4 * MiB));
    upload.catch(() => {});
    await until(() => t.server.stats().streams!.incoming === 1, "the upload to open");
    t.server.closeConnection(t.server.connections()[0].id, 1001, "drop");
    await until(() => t.server.stats().streams!.sessions === 0, "the session to expire");
    client.reconnect();
    await assert.rejects(
      upload,
      (e: unknown) => e instanceof StreamError && e.code === "stream-resume-failed",
    );
    gate.resolve();
  } finally {
    client.close();
  }
});

Deno.test("streams: openStream carries bytes both ways at once, with control messages", async () => {
  await using t = await startServer();
  t.server.onStream("app/echo", (msg) => {
    assert.equal(msg.bidirectional, true);
    msg.onControl((control) => msg.send({ echo: control }));
    // The answer starts at once: every chunk read is sent back, doubled.
    return msg.stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          c.enqueue(chunk.map((b) => (b * 2) & 255));
        },
      }),
    );
  });
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const bidi = client.openStream("app/echo", { meta: { codec: "x" } });
    const controls: unknown[] = [];
    bidi.onControl((c) => controls.push(c));
    const writer = bidi.writable.getWriter();
    const reader = bidi.readable.getReader();
    // Round trips while the stream stays open: the answer flows before the upload ends.
    for (let i = 1; i <= 3; i++) {
      await writer.write(new Uint8Array([i, i, i]));
      const { value } = await reader.read();
      assert.deepEqual([...value!], [i * 2, i * 2, i * 2]);
      assert.equal(bidi.send({ n: i }), true);
      await until(() => controls.length === i, `control ${i}`);
    }
    assert.deepEqual(controls, [{ echo: { n: 1 } }, { echo: { n: 2 } }, { echo: { n: 3 } }]);
    await writer.close();
    assert.equal((await reader.read()).done, true);
    await bidi.done;
  } finally {
    client.close();
  }
});

Deno.test("streams: streamToChannel reaches every subscriber; a subscriber that stops reading is dropped", async () => {
  await using t = await startServer({ streams: { idleTimeoutMs: 200, windowBytes: 64 * 1024 } });
  const fast = connect(t.url, { streams: clientStreams() });
  const slow = connect(t.url, { streams: clientStreams() });
  try {
    await Promise.all([fast.ready, slow.ready]);
    await fast.subscribe("room", () => {});
    await slow.subscribe("room", () => {});
    const got = Promise.withResolvers<[string, number]>();
    fast.onStream("app/file", (stream) => void digest(stream).then(got.resolve, got.reject));
    slow.onStream("app/file", (stream) => void stream.getReader()); // locked, never read
    const body = bytes(2 * MiB, 5);
    const result = await t.server.streamToChannel("room", "app/file", body);
    assert.deepEqual(await got.promise, [hex(body), body.byteLength]);
    assert.equal(result.delivered, 1);
    assert.deepEqual(Object.values(result.failed), ["stream-idle"]);
  } finally {
    fast.close();
    slow.close();
  }
});

Deno.test("streams: a download of a Uint8Array survives a dropped connection (resume)", async () => {
  await using t = await startServer();
  const body = bytes(8 * MiB, 11);
  t.server.on("app/download", () => body);
  const client = connect(t.url, {
    streams: clientStreams(),
    reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
  });
  try {
    await client.ready;
    const reader = (await client.download("app/download")).getReader();
    const h = sha256();
    let n = 0;
    while (n < 2 * MiB) {
      const { value } = await reader.read();
      h.update(value!);
      n += value!.byteLength;
    }
    const first = t.server.connections()[0].id;
    t.server.closeConnection(first, 1001, "drop");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      h.update(value);
      n += value.byteLength;
    }
    assert.equal(n, body.byteLength);
    assert.equal(
      Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join(""),
      hex(body),
    );
    assert.ok(t.server.connections().some((c) => c.id !== first), "it reconnected");
  } finally {
    client.close();
  }
});
