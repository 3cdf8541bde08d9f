/**
 * Channel messages survive a drop of a resuming client: its subscriptions are kept in its
 * session while it is away, the messages wait there, and the resume delivers them in order,
 * without duplicates, before the new ones.
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { startServer, until } from "../_server.ts";

Deno.test("a resuming client misses no channel message published while it was disconnected", async () => {
  await using t = await startServer({ rateLimit: false });
  const got: number[] = [];
  // The reconnect waits for the test (the URL provider runs on every attempt): the drop is seen
  // and the messages are published while the client is surely away, however slow the machine.
  let away: Promise<void> = Promise.resolve();
  let comeBack = () => {};
  const client = connect(async () => (await away, t.url), {
    reconnect: { initialDelayMs: 50, maxDelayMs: 100, jitter: 0 },
    onError: () => {},
  });
  await client.ready;
  await client.subscribe("room", (data) => void got.push(data as number));
  for (let i = 1; i <= 5; i++) t.server.publish("room", i);
  await until(() => got.length === 5, "the first five");
  const reopened = new Promise<void>((resolve) => {
    const off = client.on("chsk/handshake", () => {
      off();
      resolve();
    });
  });
  away = new Promise((resolve) => comeBack = resolve);
  t.server.closeAll(1012, "restart");
  await until(() => t.server.connections().length === 0, "the drop");
  // The client is away: its subscription waits in its session.
  for (let i = 6; i <= 10; i++) assert.equal(t.server.publish("room", i), 1);
  comeBack();
  await reopened;
  assert.equal(client.handshake!.server!.resume?.resumed, true);
  for (let i = 11; i <= 15; i++) t.server.publish("room", i);
  await until(() => got.length >= 15, "all fifteen");
  assert.deepEqual(got, Array.from({ length: 15 }, (_, i) => i + 1));
  // The restored subscription is the live one now (the client's own re-subscribe is a no-op).
  assert.equal(t.server.subscribers("room").length, 1);
  client.close();
});

Deno.test("a client that does not come back within the TTL gives its kept channels up", async () => {
  await using t = await startServer({ rateLimit: false, delivery: { ttlMs: 50 } });
  const client = connect(t.url, { reconnect: false, onError: () => {} });
  await client.ready;
  await client.subscribe("room", () => {});
  client.close();
  await until(() => t.server.connections().length === 0, "the close");
  assert.equal(t.server.publish("room", 1), 1); // kept for the session
  await until(() => t.server.publish("room", 2) === 0, "the TTL to end the session", 2000);
});
