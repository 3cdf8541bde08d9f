/**
 * Server-side membership (`server.join`/`server.leave`), presence and the subscription hooks,
 * through real sockets and the real client.
 */
import assert from "node:assert/strict";
import { type Client, connect, onPresence, presence, type PresenceEvent } from "../../client.ts";
import { ServerError } from "../../lib/protocol/errors.ts";
import type { SubscriptionEvent } from "../../server.ts";
import { startServer, until } from "../_server.ts";

const authenticate = (req: Request) => new URL(req.url).searchParams.get("uid");

async function client(url: string, uid: string): Promise<Client> {
  const c = connect(url, {
    params: { uid },
    reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 },
    onError: () => {},
  });
  await c.ready;
  return c;
}

Deno.test("server.join subscribes every connection of a uid; the client lists it, gets its messages and keeps it across a reconnect", async () => {
  const events: string[] = [];
  await using t = await startServer({
    authenticate,
    rateLimit: false,
    delivery: false,
    onSubscribe: (e) => void events.push(`+${e.channel}:${e.uid}:${e.by}`),
    onUnsubscribe: (e) => void events.push(`-${e.channel}:${e.uid}:${e.by}`),
  });
  const a1 = await client(t.url, "alice");
  const a2 = await client(t.url, "alice");
  const b = await client(t.url, "bob");
  const joined = new Promise((r) => a1.on("sente-lite/subscribed", r));
  assert.equal(t.server.join({ uid: "alice" }, "news"), 2);
  assert.equal(t.server.join({ uid: "alice" }, "news"), 0, "idempotent");
  await joined;
  await until(() => a2.channels().includes("news"), "a2 told");
  assert.deepEqual(a1.channels(), ["news"]);
  assert.deepEqual(b.channels(), []);
  const got: unknown[] = [];
  await a1.subscribe("news", (d) => void got.push(d)); // a handler for it: no second membership
  assert.equal(t.server.subscribers("news").length, 2);
  assert.equal(t.server.publish("news", 1), 2);
  await until(() => got.length === 1, "the message");
  // A reconnect (no resume: delivery off) re-subscribes what the server joined.
  const back = new Promise((r) => a2.on("chsk/handshake", r));
  t.server.closeConnection(t.server.connections("alice")[1].id, 1012, "restart");
  await back;
  await until(() => t.server.subscribers("news").length === 2, "a2 re-subscribed");
  // By connection id, then leave.
  assert.equal(t.server.join(t.server.connections("bob")[0].id, "news"), 1);
  await until(() => b.channels().includes("news"), "b told");
  assert.equal(t.server.leave({ uid: "alice" }, "news"), 2);
  await until(() => a1.channels().length === 0 && a2.channels().length === 0, "alice told");
  assert.deepEqual(t.server.subscribers("news"), [t.server.connections("bob")[0].id]);
  b.close();
  await until(() => t.server.channels().length === 0, "bob's close");
  assert.ok(events.includes("+news:alice:server"));
  assert.ok(events.includes("+news:alice:client")); // the re-subscribe after the reconnect
  assert.ok(events.includes("-news:alice:close"));
  assert.ok(events.includes("-news:alice:server"));
  assert.ok(events.includes("-news:bob:close"));
  a1.close();
  a2.close();
  assert.throws(() => t.server.join({ uid: "alice" }, ""), TypeError);
});

Deno.test("presence: members, join and leave events to the other subscribers, only for presence channels and subscribers", async () => {
  const seen: SubscriptionEvent[] = [];
  await using t = await startServer({
    authenticate,
    rateLimit: false,
    delivery: false,
    presence: ["room:*"],
    onSubscribe: (e) => void seen.push(e),
  });
  const a = await client(t.url, "alice");
  const b = await client(t.url, "bob");
  const heard: PresenceEvent[] = [];
  onPresence(a, "room:1", (e) => void heard.push(e));
  await a.subscribe("room:1", () => {});
  assert.deepEqual((await presence(a, "room:1")).map((m) => m.uid), ["alice"]);
  await b.subscribe("room:1", () => {});
  await until(() => heard.length === 1, "bob's join");
  assert.equal(heard[0].action, "join");
  assert.equal(heard[0].uid, "bob");
  assert.deepEqual((await presence(a, "room:1")).map((m) => m.uid).sort(), ["alice", "bob"]);
  assert.deepEqual(t.server.presence("room:1")!.map((m) => m.uid).sort(), ["alice", "bob"]);
  assert.equal(t.server.presence("chat"), null);
  // Only subscribers may ask; channels without presence say so.
  const c = await client(t.url, "carol");
  await assert.rejects(
    presence(c, "room:1"),
    (e) => e instanceof ServerError && e.code === "not-subscribed",
  );
  await c.subscribe("chat", () => {});
  await assert.rejects(
    presence(c, "chat"),
    (e) => e instanceof ServerError && e.code === "presence-off",
  );
  b.close();
  await until(() => heard.length === 2, "bob's leave");
  assert.equal(heard[1].action, "leave");
  assert.equal(heard[1].uid, "bob");
  assert.equal(seen.filter((e) => e.channel === "room:1").length, 2);
  a.close();
  c.close();
});

Deno.test("a private channel the server joins in onOpen survives reconnects though clients may not subscribe to it themselves", async () => {
  // deno-lint-ignore prefer-const
  let t: Awaited<ReturnType<typeof startServer>>;
  t = await startServer({
    authenticate,
    rateLimit: false,
    delivery: false,
    authorizeChannel: ({ channel }) => !channel.startsWith("user:"),
    onOpen: (c) => void t.server.join(c.id, `user:${c.uid}`),
  });
  await using _t = t;
  const a = await client(t.url, "alice");
  const failures: unknown[] = [];
  a.on("chsk/resubscribe-failed", (f) => void failures.push(f));
  await until(() => a.channels().includes("user:alice"), "the join");
  const got: unknown[] = [];
  await a.subscribe("user:alice", (d) => void got.push(d)); // a member already: no authorization
  t.server.publish("user:alice", 1);
  await until(() => got.length === 1, "the first message");
  const b = await client(t.url, "bob");
  await assert.rejects(b.subscribe("user:alice", () => {}), ServerError); // still private
  const back = new Promise((r) => a.on("chsk/handshake", r));
  t.server.closeUid("alice", 1012, "restart");
  await back;
  await until(
    () => t.server.subscribers("user:alice").length === 1,
    "the join after the reconnect",
  );
  t.server.publish("user:alice", 2);
  await until(() => got.length === 2, "the second message");
  assert.deepEqual(a.channels(), ["user:alice"]);
  assert.deepEqual(failures, []);
  a.close();
  b.close();
});
