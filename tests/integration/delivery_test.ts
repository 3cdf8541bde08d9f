/**
 * Delivery on real sockets (docs/delivery.md): resume after drops on either side, TTL expiry,
 * offline buffering, client→server re-sends with dedup, 100 clients under repeated drops, and a
 * SIGKILLed server process (in-memory state lost: the client learns it from a gap).
 */
import assert from "node:assert/strict";
import { type Client, connect, type Handshake } from "../../client.ts";
import type { DeliveryLoss } from "../../lib/server/delivery.ts";
import { startServer, until } from "../_server.ts";
import { audit, closeClients, recordingWebSocket } from "./_resuming_clients.ts";
import { Child } from "../runtime/_child.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HERE = new URL("./", import.meta.url).pathname;
const RECONNECT = { initialDelayMs: 20, maxDelayMs: 200, jitter: 0.5 };
const uidFromQuery = (request: Request) => new URL(request.url).searchParams.get("uid");

interface Probe {
  client: Client;
  got: number[];
  sockets: WebSocket[];
  handshakes: Handshake[];
  gaps: unknown[];
}

function probe(url: string, uid: string, options: Parameters<typeof connect>[1] = {}): Probe {
  const got: number[] = [];
  const sockets: WebSocket[] = [];
  const handshakes: Handshake[] = [];
  const gaps: unknown[] = [];
  const client = connect(url, {
    params: { uid },
    reconnect: RECONNECT,
    WebSocket: recordingWebSocket(sockets),
    onError: () => {},
    ...options,
  });
  client.on("t/n", (d) => void got.push((d as { n: number }).n));
  client.on("chsk/handshake", (h) => void handshakes.push(h as Handshake));
  client.on("sente-lite/gap", (g) => void gaps.push(g));
  return { client, got, sockets, handshakes, gaps };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

Deno.test("Resume: a client dropped by the server (1012) or under its own socket misses nothing, resumed: true", async () => {
  await using t = await startServer({ authenticate: uidFromQuery });
  const p = probe(t.url, "u1");
  await p.client.ready;
  let n = 0;
  const burst = (k: number) => {
    for (let i = 0; i < k; i++) t.server.send("u1", "t/n", { n: ++n });
  };
  burst(20);
  await until(() => p.got.length === 20, "the first 20");
  // 1. The server closes; pushes made while closing and while away are kept for the session.
  t.server.closeUid("u1", 1012, "restart");
  burst(20);
  await until(() => p.handshakes.length === 2, "the first reconnect");
  burst(20);
  await until(() => p.got.length >= 60, "60 messages");
  // 2. The client's socket dies under it while pushes are on the wire.
  burst(10);
  p.sockets.at(-1)!.close();
  burst(10);
  await until(() => p.handshakes.length === 3, "the second reconnect");
  burst(20);
  await until(() => p.got.length >= 100, "100 messages");
  assert.deepEqual(p.got, range(1, 100));
  for (const h of p.handshakes.slice(1)) {
    assert.equal(h.server?.resume?.resumed, true);
    assert.equal(h.server?.resume?.gap, null);
  }
  assert.ok(p.handshakes[0].server?.capabilities.includes("resume"));
  assert.deepEqual(p.gaps, []);
  assert.equal(t.server.stats().resumed, 2);
  assert.equal(p.client.stats().duplicatesDropped, 0);
  await closeClients([p.client]);
});

Deno.test("Resume: past the TTL the client learns resumed: false with an expired gap, then gets later sends", async () => {
  const losses: DeliveryLoss[] = [];
  await using t = await startServer({
    authenticate: uidFromQuery,
    delivery: { ttlMs: 150 },
    onDeliveryLoss: (l) => void losses.push(l),
  });
  const p = probe(t.url, "u2");
  await p.client.ready;
  for (let n = 1; n <= 5; n++) t.server.send("u2", "t/n", { n });
  await until(() => p.got.length === 5, "5 messages");
  p.client.close();
  await until(() => t.server.stats().connections === 0, "the server saw the close");
  for (let n = 6; n <= 8; n++) t.server.send("u2", "t/n", { n }); // kept by the session…
  await until(() => t.server.stats().offlineExpired === 3, "the TTL", 3000); // …until the TTL
  t.server.send("u2", "t/n", { n: 9 }); // the uid's offline buffer takes it
  p.client.reconnect();
  await until(() => p.handshakes.length === 2 && p.got.length === 6, "the reconnect");
  const resume = p.handshakes[1].server?.resume;
  assert.equal(resume?.resumed, false);
  assert.deepEqual(resume?.gap, { reason: "expired", dropped: 3 });
  assert.deepEqual(p.gaps, [{ reason: "expired", dropped: 3 }]);
  assert.deepEqual(p.got, [1, 2, 3, 4, 5, 9]);
  assert.deepEqual(losses, [{
    reason: "expired",
    uid: "u2",
    clientId: p.client.clientId,
    dropped: 3,
  }]);
  const stats = t.server.stats();
  assert.equal(stats.resumeFailed, 1);
  assert.equal(stats.offlineBuffered, 4);
  await closeClients([p.client]);
});

Deno.test("Hub.send() to a uid without connections buffers, delivers in order on connect, reports overflow", async () => {
  const losses: DeliveryLoss[] = [];
  await using t = await startServer({
    authenticate: uidFromQuery,
    delivery: { maxMessages: 5 },
    onDeliveryLoss: (l) => void losses.push(l),
  });
  for (let n = 1; n <= 8; n++) assert.equal(t.server.send("bob", "t/n", { n }), 0);
  let stats = t.server.stats();
  assert.equal(stats.offlineBuffered, 8);
  assert.equal(stats.offlineDropped, 3);
  assert.equal(losses.length, 3);
  assert.deepEqual(losses[0], { reason: "overflow", uid: "bob", clientId: null, dropped: 1 });
  const order: string[] = [];
  const p = probe(t.url, "bob");
  p.client.on("sente-lite/gap", (g) => void order.push(`gap ${JSON.stringify(g)}`));
  p.client.on("t/n", (d) => void order.push(`n ${(d as { n: number }).n}`));
  await until(() => p.got.length === 5, "the buffered messages");
  assert.deepEqual(order, [
    'gap {"dropped":3,"reason":"overflow"}',
    "n 4",
    "n 5",
    "n 6",
    "n 7",
    "n 8",
  ]);
  // Delivered once: a second connection of bob gets nothing of it.
  const q = probe(t.url, "bob");
  await q.client.ready;
  t.server.send("bob", "t/n", { n: 9 });
  await until(() => q.got.length === 1 && p.got.length === 6, "n 9 on both");
  assert.deepEqual(q.got, [9]);
  stats = t.server.stats();
  assert.equal(stats.offlineBuffered, 8);
  await closeClients([p.client, q.client]);
});

Deno.test("Client re-sends unacknowledged events after drops; the handler sees each exactly once", async () => {
  const seen = new Map<number, number>();
  await using t = await startServer({ authenticate: uidFromQuery });
  t.server.on("t/up", (msg) => {
    const n = (msg.data as { n: number }).n;
    seen.set(n, (seen.get(n) ?? 0) + 1);
  });
  const p = probe(t.url, "u5");
  await p.client.ready;
  const N = 600;
  let drops = 0;
  for (let n = 1; n <= N; n++) {
    p.client.send("t/up", { n });
    if (n % 100 === 50) {
      // Drop with frames on the wire and unacknowledged, alternately from each side; the next
      // sends go to a dying socket or into the queue.
      if (n % 200 === 50) t.server.closeUid("u5", 1012);
      else p.sockets.at(-1)!.close();
      drops++;
    } else if (n % 100 === 60) {
      await until(() => p.client.state === "open" && p.handshakes.length === drops + 1, "reopen");
    } else if (n % 25 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await until(() => seen.size === N, `all ${N} events`, 10_000);
  const twice = [...seen.values()].filter((c) => c > 1).length;
  assert.equal(twice, 0);
  assert.deepEqual([...seen.keys()].sort((a, b) => a - b), range(1, N));
  const resent = p.client.stats().resent;
  const dropped = t.server.stats().duplicatesDropped;
  console.log(
    `client→server: ${N} events, ${drops} drops, re-sent ${resent}, duplicates dropped by the server ${dropped}, handled twice 0`,
  );
  assert.equal(p.client.stats().reconnects, drops);
  assert.ok(resent > 0);
  await closeClients([p.client]);
});

Deno.test("100 clients receive a numbered stream while their connections are dropped: none lost, none duplicated, in order", async () => {
  const CLIENTS = 100;
  const N = 200; // messages per client
  await using t = await startServer({ authenticate: uidFromQuery });
  const probes = Array.from({ length: CLIENTS }, (_, i) => probe(t.url, `s${i}`));
  await Promise.all(probes.map((p) => p.client.ready));
  const started = performance.now();
  let sent = 0;
  let drops = 0;
  // The stream: every 10 ms one message to each uid. The dropper: every 40 ms, 8 random clients
  // lose their connection, half closed by the server (1012), half under the client.
  await new Promise<void>((resolve) => {
    const stream = setInterval(() => {
      sent++;
      for (let i = 0; i < CLIENTS; i++) t.server.send(`s${i}`, "t/n", { n: sent });
      if (sent === N) {
        clearInterval(stream);
        clearInterval(dropper);
        resolve();
      }
    }, 10);
    const dropper = setInterval(() => {
      for (let k = 0; k < 8; k++) {
        const i = Math.floor(Math.random() * CLIENTS);
        const p = probes[i];
        if (p.client.state !== "open") continue;
        drops++;
        if (k % 2 === 0) t.server.closeUid(`s${i}`, 1012, "drop");
        else p.sockets.at(-1)!.close();
      }
    }, 40);
  });
  const streamMs = performance.now() - started;
  await until(() => probes.every((p) => p.got.length >= N), "every client has N messages", 20_000);
  const drainMs = performance.now() - started - streamMs;
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  for (const p of probes) {
    const a = audit(p.got, N);
    lost += a.lost;
    duplicated += a.duplicated;
    reordered += a.reordered;
  }
  const reconnects = probes.reduce((s, p) => s + p.client.stats().reconnects, 0);
  const resumedFalse = probes.reduce(
    (s, p) => s + p.handshakes.filter((h) => h.server?.resume?.resumed === false).length - 1,
    0,
  );
  const stats = t.server.stats();
  console.log(
    `100 clients × ${N} messages (${
      CLIENTS * N
    } total), ${drops} drops, ${reconnects} reconnects ` +
      `(server: resumed ${stats.resumed}, resume failed ${stats.resumeFailed}, buffered while away ` +
      `${stats.offlineBuffered}): lost ${lost}, duplicated ${duplicated}, out of order ${reordered}; ` +
      `stream ${Math.round(streamMs)} ms, drained ${Math.round(drainMs)} ms later`,
  );
  assert.equal(lost, 0);
  assert.equal(duplicated, 0);
  assert.equal(reordered, 0);
  assert.equal(resumedFalse, 0);
  assert.equal(stats.resumeFailed, 0);
  assert.ok(reconnects >= 50, `only ${reconnects} reconnects`);
  await closeClients(probes.map((p) => p.client));
});

Deno.test("A SIGKILLed server loses its in-memory buffers: the client learns resumed: false and an unknown gap", async () => {
  const start = async (port = 0) => {
    const child = new Child("delivery server", Deno.execPath(), [
      "run",
      "-A",
      `${HERE}_delivery_server.ts`,
      String(port),
    ], ROOT);
    const line = await child.line("ready", (l) => l.includes('"ready"'), 20_000);
    return { child, port: JSON.parse(line).port as number };
  };
  let server = await start();
  const p = probe(`ws://127.0.0.1:${server.port}/chsk`, "k1");
  try {
    await p.client.ready;
    await p.client.request("t/burst", { from: 1, count: 10 });
    await until(() => p.got.length === 10, "10 messages");
    await server.child.stop("SIGKILL");
    await until(() => p.client.state === "reconnecting", "reconnecting");
    // Sent while the server is down: queued, numbered, delivered to the new process.
    p.client.send("t/up", { n: 1 });
    server = await start(server.port);
    await until(() => p.handshakes.length === 2, "the reconnect", 10_000);
    await server.child.line("t/up 1", (l) => l.includes('"up":1'), 5000);
    const resume = p.handshakes[1].server?.resume;
    assert.equal(resume?.resumed, false);
    assert.deepEqual(resume?.gap, { reason: "unknown", dropped: null });
    assert.deepEqual(p.gaps, [{ reason: "unknown", dropped: null }]);
    // The new process numbers from 1 again; the client follows.
    await p.client.request("t/burst", { from: 11, count: 5 });
    await until(() => p.got.length === 15, "5 more");
    assert.deepEqual(p.got, range(1, 15));
  } finally {
    await closeClients([p.client]).catch(() => {});
    await server.child.stop("SIGKILL").catch(() => {});
  }
});
