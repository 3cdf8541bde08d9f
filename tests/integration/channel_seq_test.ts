/**
 * Channel sequences on real sockets (docs/PROTOCOL.md §8 "Channel sequences", docs/delivery.md):
 * the exact frames for a peer that negotiates `"channel-seq"` and, unchanged, for one that does
 * not; the library client's resume through channel and broadcast logs (replay, gaps when the log
 * no longer holds the cursor, no duplicates), and 30 clients under repeated drops.
 */
import assert from "node:assert/strict";
import { connect, type Handshake } from "../../client.ts";
import type { ResumeState } from "../../lib/protocol/handshake.ts";
import { serverEnvelope } from "../../lib/protocol/envelope.ts";
import { BROADCAST_STREAM } from "../../lib/server/channel_log.ts";
import { streamEvent, streamGap } from "../../lib/server/channel_seq.ts";
import { type RawPeer, resumingPeer } from "../_peer.ts";
import { startServer, type TestServer, until } from "../_server.ts";
import { audit, closeClients, recordingWebSocket } from "./_resuming_clients.ts";

const RECONNECT = { initialDelayMs: 20, maxDelayMs: 200, jitter: 0.5 };

interface Opened {
  peer: RawPeer;
  capabilities: string[];
  resume: ResumeState;
}

/** A raw sente-lite (JSON) peer with resume; `cseq` (the parameter) offers channel sequences. */
async function open(t: TestServer, cseq?: string, token?: string): Promise<Opened> {
  const params: Record<string, string> = { "client-id": "raw1" };
  if (cseq !== undefined) params.cseq = cseq;
  return await resumingPeer(t.url, params, token);
}

Deno.test("channel-seq: a channel publish and a broadcast are the same frame for every subscriber (exact bytes)", async () => {
  await using t = await startServer({ rateLimit: false });
  const a = await open(t, "");
  const b = await open(t, "");
  assert.ok(a.capabilities.includes("channel-seq"));
  const b0 = a.resume.cseq!;
  assert.equal(typeof b0, "number");
  assert.equal(b.resume.cseq, b0);
  const replies: number[] = [];
  for (const p of [a, b]) {
    p.peer.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s1"]`);
    const reply = await p.peer.next();
    const c0 = (JSON.parse(reply)[0] as { cseq: number }).cseq;
    assert.equal(reply, `[{"channel-id":"room","success":true,"cseq":${c0}},"s1"]`);
    replies.push(c0);
  }
  assert.equal(replies[0], replies[1]);
  t.server.publish("room", { t: 1 });
  t.server.broadcast("my-app/alert", { n: 1 });
  const c1 = replies[0] + 1;
  for (const p of [a, b]) {
    assert.equal(
      await p.peer.next(),
      `[[["sente-lite/msg",{"ch":"room","cseq":${c1},"event":["sente-lite/channel-msg",{"channel-id":"room","data":{"t":1},"from":null}]}]],null]`,
    );
    assert.equal(
      await p.peer.next(),
      `[[["sente-lite/msg",{"ch":null,"cseq":${b0 + 1},"event":["my-app/alert",{"n":1}]}]],null]`,
    );
  }
  a.peer.close();
  b.peer.close();
});

Deno.test("channel-seq: a peer that does not offer it gets today's frames, byte for byte", async () => {
  await using t = await startServer({ rateLimit: false });
  const p = await open(t);
  assert.ok(!p.capabilities.includes("channel-seq"));
  assert.equal(p.resume.cseq, undefined);
  p.peer.send(`[["sente-lite/subscribe",{"channel-id":"room","after":3}],"s1"]`);
  assert.equal(await p.peer.next(), `[{"channel-id":"room","success":true},"s1"]`);
  t.server.publish("room", { t: 1 });
  t.server.broadcast("my-app/alert", { n: 1 });
  assert.equal(
    await p.peer.next(),
    `[[["sente-lite/msg",{"seq":1,"event":["sente-lite/channel-msg",{"channel-id":"room","data":{"t":1},"from":null}]}]],null]`,
  );
  assert.equal(
    await p.peer.next(),
    `[[["sente-lite/msg",{"seq":2,"event":["my-app/alert",{"n":1}]}]],null]`,
  );
  p.peer.close();
});

Deno.test("channel-seq: a resumed session replays a kept channel after the cursor, then goes live; a gap names the channel", async () => {
  await using t = await startServer({ rateLimit: false, delivery: { maxMessages: 4 } });
  const a = await open(t, "");
  a.peer.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s1"]`);
  const c0 = (JSON.parse(await a.peer.next())[0] as { cseq: number }).cseq;
  a.peer.close();
  await until(() => t.server.connections().length === 0, "the close");
  for (let i = 1; i <= 6; i++) assert.equal(t.server.publish("room", i), 1); // kept: 3..6
  const r = await open(t, "", a.resume.token!);
  assert.equal(r.resume.resumed, true);
  // Not live before the client's cursor comes: nothing newer may overtake the replay.
  assert.equal(t.server.publish("room", 7), 1);
  r.peer.send(`[["sente-lite/subscribe",{"channel-id":"room","after":${c0}}],"s2"]`);
  assert.equal(
    await r.peer.next(),
    `[[["sente-lite/gap",{"ch":"room","dropped":3,"reason":"overflow"}]],null]`,
  );
  const got: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [[[, body]]] = await r.peer.nextJson() as [
      [[string, { cseq: number; event: [string, { data: number }] }]],
    ];
    assert.equal(body.cseq, c0 + 4 + i);
    got.push(body.event[1].data);
  }
  assert.deepEqual(got, [4, 5, 6, 7]);
  assert.equal(await r.peer.next(), `[{"channel-id":"room","success":true,"cseq":${c0 + 7}},"s2"]`);
  t.server.publish("room", 8);
  const [[[, live]]] = await r.peer.nextJson() as [[[string, { cseq: number }]]];
  assert.equal(live.cseq, c0 + 8);
  r.peer.close();
});

Deno.test("channel-seq: a new session (no token) gets no replay of a channel or of broadcasts, only the gap", async () => {
  await using t = await startServer({ rateLimit: false });
  const a = await open(t, "");
  const b0 = a.resume.cseq!;
  a.peer.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s1"]`);
  const c0 = (JSON.parse(await a.peer.next())[0] as { cseq: number }).cseq;
  t.server.publish("room", "secret");
  t.server.broadcast("my-app/alert", "secret");
  await a.peer.next();
  await a.peer.next();
  // Another peer claims the cursors without the session's token.
  const x = await open(t, String(b0));
  assert.equal(x.resume.resumed, false);
  assert.equal(
    await x.peer.next(),
    `[[["sente-lite/gap",{"ch":null,"dropped":1,"reason":"unknown"}]],null]`,
  );
  x.peer.send(`[["sente-lite/subscribe",{"channel-id":"room","after":${c0}}],"s1"]`);
  assert.equal(
    await x.peer.next(),
    `[[["sente-lite/gap",{"ch":"room","dropped":1,"reason":"unknown"}]],null]`,
  );
  assert.equal(await x.peer.next(), `[{"channel-id":"room","success":true,"cseq":${c0 + 1}},"s1"]`);
  a.peer.close();
  x.peer.close();
});

/** A library client (default options: resume and channel sequences) counting `room` and `t/b`. */
function probe(url: string, options: Parameters<typeof connect>[1] = {}) {
  const room: number[] = [];
  const bcast: number[] = [];
  const gaps: unknown[] = [];
  const handshakes: Handshake[] = [];
  const sockets: WebSocket[] = [];
  const client = connect(url, {
    reconnect: RECONNECT,
    WebSocket: recordingWebSocket(sockets),
    onError: () => {},
    ...options,
  });
  client.on("t/b", (d) => void bcast.push(d as number));
  client.on("sente-lite/gap", (g) => void gaps.push(g));
  client.on("chsk/handshake", (h) => void handshakes.push(h as Handshake));
  const ready = client.ready.then(() =>
    client.subscribe("room", (d) => void room.push(d as number))
  );
  return { client, room, bcast, gaps, handshakes, sockets, ready };
}

Deno.test("channel-seq: the library client resumes its channel and broadcasts from the logs; sessions keep no copies", async () => {
  await using t = await startServer({ rateLimit: false });
  const p = probe(t.url);
  await p.ready;
  assert.ok(p.client.handshake!.server!.capabilities.includes("channel-seq"));
  for (let i = 1; i <= 5; i++) {
    t.server.publish("room", i);
    t.server.broadcast("t/b", i);
  }
  await until(() => p.room.length === 5 && p.bcast.length === 5, "the first five");
  const n = p.handshakes.length;
  t.server.closeAll(1012, "restart");
  await until(() => t.server.connections().length === 0, "the drop");
  const before = t.server.stats().deliveryBytes;
  for (let i = 6; i <= 10; i++) {
    assert.equal(t.server.publish("room", i), 1); // its session keeps the channel
    t.server.broadcast("t/b", i);
  }
  await until(() => p.handshakes.length > n, "the reconnect");
  assert.equal(p.client.handshake!.server!.resume!.resumed, true);
  for (let i = 11; i <= 15; i++) {
    t.server.publish("room", i);
    t.server.broadcast("t/b", i);
  }
  await until(() => p.room.length >= 15 && p.bcast.length >= 15, "all fifteen");
  assert.deepEqual(p.room, Array.from({ length: 15 }, (_, i) => i + 1));
  assert.deepEqual(p.bcast, Array.from({ length: 15 }, (_, i) => i + 1));
  assert.deepEqual(p.gaps, []);
  // One copy per stream, not per session: 5 channel and 5 broadcast messages while away.
  const kept = t.server.stats().deliveryBytes - before;
  assert.ok(kept > 0 && kept < 10 * 400, `kept ${kept} bytes`);
  assert.equal(t.server.subscribers("room").length, 1);
  await closeClients([p.client]);
});

Deno.test("channel-seq: a client away longer than the channel log holds learns the gap per stream", async () => {
  await using t = await startServer({ rateLimit: false, delivery: { maxMessages: 3 } });
  const p = probe(t.url);
  await p.ready;
  t.server.publish("room", 1);
  await until(() => p.room.length === 1, "the first");
  const n = p.handshakes.length;
  t.server.closeAll(1012, "restart");
  await until(() => t.server.connections().length === 0, "the drop");
  for (let i = 2; i <= 10; i++) t.server.publish("room", i);
  await until(() => p.handshakes.length > n, "the reconnect");
  await until(() => p.room.length >= 4, "the kept three");
  t.server.publish("room", 11);
  await until(() => p.room.length >= 5, "the live one");
  assert.deepEqual(p.room, [1, 8, 9, 10, 11]);
  assert.deepEqual(p.gaps, [{ ch: "room", dropped: 6, reason: "overflow" }]);
  await closeClients([p.client]);
});

Deno.test("channel-seq: 30 clients under repeated drops get every channel message and broadcast once, in order", async () => {
  const CLIENTS = 30;
  const N = 150;
  await using t = await startServer({ rateLimit: false });
  const probes = Array.from({ length: CLIENTS }, () => probe(t.url));
  await Promise.all(probes.map((p) => p.ready));
  let sent = 0;
  let drops = 0;
  await new Promise<void>((resolve) => {
    const stream = setInterval(() => {
      sent++;
      t.server.publish("room", sent);
      t.server.broadcast("t/b", sent);
      if (sent === N) {
        clearInterval(stream);
        clearInterval(dropper);
        resolve();
      }
    }, 10);
    const dropper = setInterval(() => {
      for (let k = 0; k < 4; k++) {
        const p = probes[Math.floor(Math.random() * CLIENTS)];
        if (p.client.state !== "open") continue;
        drops++;
        const info = t.server.connections().find((c) => c.clientId === p.client.clientId);
        if (k % 2 === 0 && info) t.server.closeConnection(info.id, 1012, "drop");
        else p.sockets.at(-1)!.close();
      }
    }, 40);
  });
  await until(
    () => probes.every((p) => p.room.length >= N && p.bcast.length >= N),
    "every client has every message",
    20_000,
  );
  let bad = 0;
  for (const p of probes) {
    for (const a of [audit(p.room, N), audit(p.bcast, N)]) {
      bad += a.lost + a.duplicated + a.reordered;
    }
  }
  const gaps = probes.reduce((s, p) => s + p.gaps.length, 0);
  const dups = probes.reduce((s, p) => s + p.client.stats().duplicatesDropped, 0);
  console.log(
    `${CLIENTS} clients × ${N} channel messages and ${N} broadcasts, ${drops} drops: ` +
      `lost/duplicated/out of order ${bad}, gaps ${gaps}, duplicates dropped by the client ${dups}`,
  );
  assert.equal(bad, 0);
  assert.equal(gaps, 0);
  assert.ok(drops >= 20, `only ${drops} drops`);
  await closeClients(probes.map((p) => p.client));
});

Deno.test("docs/PROTOCOL.md §8 shows exactly the channel-seq frames the server makes", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
  const section = doc.slice(
    doc.indexOf("**Channel sequences**"),
    doc.indexOf("**Close code 4409**"),
  );
  const frames = section.split("\n").filter((l) => l.startsWith("[[[")).map((l) => l.trim());
  const made = [
    streamEvent("room", 1764669907000042, [
      "sente-lite/channel-msg",
      { "channel-id": "room", data: { t: 1 }, from: null },
    ]),
    streamEvent(BROADCAST_STREAM, 1764669907000007, ["my-app/alert", { n: 1 }]),
  ].map((e) => JSON.stringify(serverEnvelope({ type: "push", events: [e] })));
  assert.deepEqual(frames, made);
  const gap = streamGap("room", { reason: "overflow", dropped: 1 });
  assert.ok(section.includes(JSON.stringify(serverEnvelope({ type: "push", events: [gap] }))));
  assert.ok(
    section.includes(`[{"channel-id":"room","success":true,"cseq":1764669907000042},"s1"]`),
  );
});

Deno.test("channel-seq: a connection that supersedes its session's old one (still open) replays the old one's channels", async () => {
  await using t = await startServer({ rateLimit: false });
  const a = await open(t, "");
  a.peer.send(`[["sente-lite/subscribe",{"channel-id":"room"}],"s1"]`);
  const c0 = (JSON.parse(await a.peer.next())[0] as { cseq: number }).cseq;
  t.server.publish("room", 1);
  await a.peer.next();
  // The client reconnects while the server still holds the old socket (a half-open drop).
  const b = await open(t, "", a.resume.token!);
  assert.equal(b.resume.resumed, true);
  assert.equal((await a.peer.closed()).code, 4409);
  assert.equal(t.server.publish("room", 2), 1); // waits for b's cursor
  b.peer.send(`[["sente-lite/subscribe",{"channel-id":"room","after":${c0 + 1}}],"s2"]`);
  const [[[, body]]] = await b.peer.nextJson() as [[[string, { cseq: number }]]];
  assert.equal(body.cseq, c0 + 2);
  assert.equal(await b.peer.next(), `[{"channel-id":"room","success":true,"cseq":${c0 + 2}},"s2"]`);
  b.peer.close();
});
