/**
 * `msg.delivery` (docs/delivery.md, "Exactly-once effects"), one server on real sockets: every
 * numbered `send()` carries `{key, session, seq}`; the key stays the same session's across drops
 * and resumes, never holds the resume token's secret, differs between sessions, and is absent for
 * requests, clients without resume and servers without delivery. (Across nodes, with a SIGKILL:
 * tests/cluster/delivery_key_test.ts.)
 */
import assert from "node:assert/strict";
import { type Client, connect, type Handshake } from "../../client.ts";
import type { EventDelivery, EventMessage } from "../../server.ts";
import { startServer, until } from "../_server.ts";
import { closeClients, recordingWebSocket } from "./_resuming_clients.ts";

const RECONNECT = { initialDelayMs: 20, maxDelayMs: 200, jitter: 0.5 };
const uidFromQuery = (request: Request) => new URL(request.url).searchParams.get("uid");

interface Probe {
  client: Client;
  sockets: WebSocket[];
  handshakes: Handshake[];
}

function probe(url: string, uid: string, options: Parameters<typeof connect>[1] = {}): Probe {
  const sockets: WebSocket[] = [];
  const handshakes: Handshake[] = [];
  const client = connect(url, {
    params: { uid },
    reconnect: RECONNECT,
    WebSocket: recordingWebSocket(sockets),
    onError: () => {},
    ...options,
  });
  client.on("chsk/handshake", (h) => void handshakes.push(h as Handshake));
  return { client, sockets, handshakes };
}

Deno.test("msg.delivery: one key per numbered send, stable across drops and resumes, no secret in it", async () => {
  const keys = new Map<number, EventDelivery[]>();
  await using t = await startServer({ authenticate: uidFromQuery });
  t.server.on("k/up", (msg) => {
    const n = msg.data as number;
    assert.ok(msg.delivery, `send ${n} has a key`);
    keys.set(n, [...keys.get(n) ?? [], msg.delivery]);
  });
  const p = probe(t.url, "u1");
  await p.client.ready;
  const N = 200;
  let drops = 0;
  for (let n = 1; n <= N; n++) {
    p.client.send("k/up", n);
    if (n % 50 === 25) {
      // Unacknowledged sends in flight, from either side: they are re-sent after the resume.
      if (n % 100 === 25) t.server.closeUid("u1", 1012);
      else p.sockets.at(-1)!.close();
      drops++;
    } else if (n % 50 === 35) {
      await until(() => p.client.state === "open" && p.handshakes.length === drops + 1, "reopen");
    } else if (n % 10 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await until(() => keys.size === N, `all ${N} sends`, 10_000);
  assert.ok(p.client.stats().resent > 0, "some sends were re-sent");
  for (const h of p.handshakes.slice(1)) assert.equal(h.server?.resume?.resumed, true);
  const all = [...keys.values()].map((list) => {
    assert.equal(list.length, 1, "handled once");
    return list[0];
  });
  const session = all[0].session;
  assert.match(session, /^[0-9a-f]{16}$/);
  for (const d of all) {
    assert.equal(d.session, session, "one session across the drops");
    assert.equal(d.key, `${d.session}:${d.seq}`);
    assert.ok(Object.isFrozen(d));
  }
  assert.equal(new Set(all.map((d) => d.key)).size, N, "a key per send");
  assert.deepEqual(all.map((d) => d.seq), Array.from({ length: N }, (_, i) => i + 1));
  // The session is the token's lookup half; none of the secrets issued appears in a key.
  for (const h of p.handshakes) {
    const token = h.server!.resume!.token!;
    assert.equal(token.slice(0, 16), session);
    const secret = token.slice(16);
    assert.ok(all.every((d) => !d.key.includes(secret) && !d.session.includes(secret)));
  }
  await closeClients([p.client]);
});

Deno.test("msg.delivery: different sessions have different keys; absent for requests, resume: false and delivery: false", async () => {
  const seen: { id: string; uid: string; delivery: EventDelivery | undefined }[] = [];
  const record = (msg: EventMessage) => {
    seen.push({ id: msg.id, uid: msg.uid, delivery: msg.delivery });
    return msg.reply ? true : undefined;
  };
  await using t = await startServer({ authenticate: uidFromQuery });
  t.server.on("k/up", record);
  t.server.on("k/ask", record);
  await using plain = await startServer({ authenticate: uidFromQuery, delivery: false });
  plain.server.on("k/up", record);
  // Two tabs of one user: a session each.
  const a = probe(t.url, "u2");
  const b = probe(t.url, "u2");
  const noResume = probe(t.url, "u3", { resume: false });
  const noDelivery = probe(plain.url, "u4");
  await Promise.all([a, b, noResume, noDelivery].map((p) => p.client.ready));
  a.client.send("k/up", 1);
  b.client.send("k/up", 1);
  await a.client.request("k/ask", 1);
  noResume.client.send("k/up", 1);
  noDelivery.client.send("k/up", 1);
  await until(() => seen.length === 5, "5 events");
  const [ka, kb] = seen.filter((s) => s.uid === "u2" && s.id === "k/up").map((s) => s.delivery);
  assert.ok(ka && kb);
  assert.equal(ka.seq, 1);
  assert.equal(kb.seq, 1);
  assert.notEqual(ka.session, kb.session);
  assert.notEqual(ka.key, kb.key);
  assert.equal(seen.find((s) => s.id === "k/ask")!.delivery, undefined, "a request");
  assert.equal(seen.find((s) => s.uid === "u3")!.delivery, undefined, "resume: false");
  assert.equal(seen.find((s) => s.uid === "u4")!.delivery, undefined, "delivery: false");
  await closeClients([a, b, noResume, noDelivery].map((p) => p.client));
});
