/**
 * A scripted Sente 1.21 peer over real sockets: it connects as Sente's ClojureScript client does
 * (`client-id`, no `packer`) and checks every frame byte for byte (sente-wire.md §3.2, §3.7).
 */
import assert from "node:assert/strict";
import { RawPeer } from "../_peer.ts";
import { startServer, until } from "../_server.ts";
import { transitPacker } from "../../lib/packers/transit.ts";
import { TimeoutError } from "../../lib/protocol/errors.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

/** Connects like a Sente client and returns the peer and its handshake frame. */
async function sentePeer(url: string, clientId: string = crypto.randomUUID(), extra = "") {
  const peer = new RawPeer(`${url}?client-id=${clientId}${extra}`);
  await peer.opened;
  return { peer, handshake: await peer.next() };
}

Deno.test("Sente peer: anonymous handshake is exactly Sente's, with nil data", async () => {
  await using t = await startServer();
  const { peer, handshake } = await sentePeer(t.url, "tab-1", "&csrf-token=abc");
  assert.equal(handshake, `[[:chsk/handshake [:sente/nil-uid nil nil]] nil]`);
  const [info] = t.server.connections();
  assert.equal(info.clientId, "tab-1");
  assert.equal(info.packer, "edn");
  await peer.close();
});

Deno.test("Sente peer: handshake carries the uid and only the application's data", async () => {
  await using t = await startServer({
    authenticate: () => "alice",
    handshakeData: () => ({ foo: 1 }),
  });
  const { peer, handshake } = await sentePeer(t.url);
  assert.equal(handshake, `[[:chsk/handshake ["alice" nil {:foo 1}]] nil]`);
  await peer.close();
});

Deno.test("Sente peer: requests get [reply cb], events reach handlers, pushes are batches", async () => {
  await using t = await startServer({ authenticate: () => "alice" });
  const seen: unknown[] = [];
  t.server.on("my-app/some-req", (msg) => msg.reply ? { "ok?": true } : void seen.push(msg.data));
  t.server.on("my-app/poke", (msg) => void msg.send("my-app/alert", { n: 1 }));
  const { peer } = await sentePeer(t.url);
  peer.send(`[[:my-app/some-req {:data "data"}] "3f2c1a"]`);
  assert.equal(await peer.next(), `[{:ok? true} "3f2c1a"]`);
  peer.send(`[[:my-app/some-req {:data "data"}] nil]`);
  peer.send(`[[:my-app/poke]]`); // Sente 1.18–1.20's one-element envelope
  assert.equal(await peer.next(), `[[[:my-app/alert {:n 1}]] nil]`);
  assert.deepEqual(seen, [{ data: "data" }]);
  assert.equal(t.server.send("alice", "my-app/alert", { n: 2 }), 1);
  assert.equal(await peer.next(), `[[[:my-app/alert {:n 2}]] nil]`);
  assert.equal(t.server.broadcast("my-app/all", [1, "x"]), 1);
  assert.equal(await peer.next(), `[[[:my-app/all [1 "x"]]] nil]`);
  await peer.close();
});

Deno.test("Sente peer: a failed request is answered :chsk/error, a failed event with nothing", async () => {
  await using t = await startServer({ authorizeEvent: (msg) => msg.id !== "my-app/secret" });
  t.server.on("my-app/boom", () => {
    throw new Error("boom");
  });
  t.server.on("my-app/secret", () => 1);
  t.server.on("my-app/echo", (msg) => msg.data);
  const { peer } = await sentePeer(t.url);
  peer.send(`[[:my-app/none 1] "c1"]`);
  assert.equal(await peer.next(), `[:chsk/error "c1"]`);
  peer.send(`[[:my-app/boom 1] "c2"]`);
  assert.equal(await peer.next(), `[:chsk/error "c2"]`);
  peer.send(`[[:my-app/secret 1] "c3"]`);
  assert.equal(await peer.next(), `[:chsk/error "c3"]`);
  peer.send(`[[:no-namespace 1] "c4"]`);
  assert.equal(await peer.next(), `[:chsk/error "c4"]`);
  // Without a cb there is no Sente frame for an error: the next answer is the echo's.
  peer.send(`[[:my-app/none 1] nil]`);
  peer.send(`[[:my-app/boom 1] nil]`);
  peer.send(`not edn {`);
  peer.send(`[[:my-app/echo 5] "c5"]`);
  assert.equal(await peer.next(), `[5 "c5"]`);
  const errors = t.server.stats().errors;
  assert.equal(errors["no-handler"], 2);
  assert.equal(errors["handler-error"], undefined); // handler errors go to onError, not stats
  assert.equal(errors["forbidden"], 1);
  assert.equal(errors["bad-event"], 1);
  assert.equal(errors["bad-envelope"], 1); // `not edn {` reads as the symbol `not`
  await peer.close();
});

Deno.test('Sente peer: client ping gets ["pong" cb], server ping [:chsk/ws-ping nil]', async () => {
  const clock = new VirtualClock();
  await using t = await startServer({ clock, heartbeat: { intervalMs: 1000, timeoutMs: 3000 } });
  t.server.on("my-app/echo", (msg) => msg.data);
  const { peer } = await sentePeer(t.url);
  peer.send(`[[:chsk/ws-ping] "ab12cd"]`);
  assert.equal(await peer.next(), `["pong" "ab12cd"]`);
  clock.tick(1000);
  assert.equal(await peer.next(), `[:chsk/ws-ping nil]`);
  peer.send(`[[:chsk/ws-pong] nil]`);
  peer.send(`[[:my-app/echo 1] "e1"]`); // answered after the pong was read
  assert.equal(await peer.next(), `[1 "e1"]`);
  clock.tick(2500);
  assert.equal(t.server.stats().connections, 1);
  clock.tick(3000);
  assert.equal((await peer.closed()).code, 4008);
});

Deno.test("Sente peer: channels work with cbs; only asked-for sente-lite pushes arrive", async () => {
  await using t = await startServer();
  t.server.on("my-app/echo", (msg) => msg.data);
  const { peer } = await sentePeer(t.url);
  peer.send(`[[:sente-lite/subscribe {:channel-id "room"}] "s1"]`);
  assert.equal(await peer.next(), `[{:channel-id "room", :success true} "s1"]`);
  assert.equal(t.server.publish("room", { t: 1 }), 1);
  assert.equal(
    await peer.next(),
    `[[[:sente-lite/channel-msg {:channel-id "room", :data {:t 1}, :from nil}]] nil]`,
  );
  const connId = t.server.connections()[0].id;
  peer.send(
    `[[:sente-lite/publish {:channel-id "room", :data {:t 2}, :exclude-sender? false}] "p1"]`,
  );
  const frames = [await peer.next(), await peer.next()].sort();
  assert.deepEqual(
    frames,
    [
      `[[[:sente-lite/channel-msg {:channel-id "room", :data {:t 2}, :from "${connId}"}]] nil]`,
      `[{:channel-id "room", :success true, :delivered 1} "p1"]`,
    ].sort(),
  );
  // Without a cb, a subscribe is acknowledged with the original's sente-lite/subscribed push.
  peer.send(`[[:sente-lite/unsubscribe {:channel-id "room"}] nil]`);
  assert.equal(
    await peer.next(),
    `[[[:sente-lite/subscribed {:channel-id "room", :success true}]] nil]`,
  );
  // A server→client request has no Sente frame: it times out, and nothing reaches the peer.
  await assert.rejects(t.server.request(connId, "ask/name", null, { timeoutMs: 20 }), TimeoutError);
  peer.send(`[[:sente-lite/bogus 1] nil]`); // no error event either
  peer.send(`[[:my-app/echo 2] "e2"]`);
  assert.equal(await peer.next(), `[2 "e2"]`);
  await peer.close();
  await until(() => t.server.stats().channels === 0, "channel cleanup");
});

Deno.test("Sente peer: the configured Sente packer (Transit) is used", async () => {
  await using t = await startServer({ dialects: { sente: { packer: transitPacker() } } });
  t.server.on("my-app/some-req", () => ({ "ok?": true }));
  const { peer, handshake } = await sentePeer(t.url);
  assert.equal(handshake, `[["~:chsk/handshake",["~:sente/nil-uid",null,null]],null]`);
  peer.send(`[["~:my-app/some-req",["^ ","~:data","data"]],"3f2c1a"]`);
  assert.equal(await peer.next(), `[["^ ","~:ok?",true],"3f2c1a"]`);
  peer.send(`[["~:chsk/ws-ping"],"ab12cd"]`);
  assert.equal(await peer.next(), `["pong","ab12cd"]`);
  await peer.close();
});

Deno.test("Sente peer: with the Sente dialect off, client-id alone is sente-lite JSON", async () => {
  await using t = await startServer({ dialects: { sente: false } });
  const { peer, handshake } = await sentePeer(t.url);
  assert.match(handshake, /^\[\["chsk\/handshake",\["sente\/nil-uid",null,\{"sente-lite":/);
  await peer.close();
});
