/**
 * One channel shared by a native sente-lite client, a Sente 1.21 peer and an original sente-lite
 * peer: every publish reaches all three, each in its own dialect.
 */
import assert from "node:assert/strict";
import { RawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";
import { connect } from "../../lib/client/client.ts";

Deno.test("a channel mixes a native client, a Sente peer and an original peer", async () => {
  await using t = await startServer({ dialects: { original: true } });

  const native = connect(t.url);
  const nativeId = (await native.ready).server!.connId;
  const got: { data: unknown; from: string | null }[] = [];
  let wake = () => {};
  await native.subscribe("room", (data, { from }) => {
    got.push({ data, from });
    wake();
  });
  const nativeNext = async () => {
    if (got.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no channel message")), 3000);
        wake = () => (clearTimeout(timer), resolve());
      });
    }
    return got.shift()!;
  };

  const sente = new RawPeer(`${t.url}?client-id=sente-tab`);
  await sente.opened;
  assert.equal(await sente.next(), `[[:chsk/handshake [:sente/nil-uid nil nil]] nil]`);
  sente.send(`[[:sente-lite/subscribe {:channel-id "room"}] "s1"]`);
  assert.equal(await sente.next(), `[{:channel-id "room", :success true} "s1"]`);

  const original = new RawPeer(t.url);
  await original.opened;
  const originalId = /^\[:chsk\/handshake \["([0-9a-f]+)" nil \{\} true\]\]$/.exec(
    await original.next(),
  )![1];
  original.send(`[:sente-lite/subscribe {:channel-id "room"}]`);
  assert.equal(
    await original.next(),
    `[:sente-lite/subscribed {:channel-id "room", :success true}]`,
  );
  const senteId = t.server.connections().find((c) => c.clientId === "sente-tab")!.id;
  assert.equal(t.server.subscribers("room").length, 3);

  // The native client publishes.
  assert.equal(await native.publish("room", { from: "native" }), 3);
  assert.deepEqual(await nativeNext(), { data: { from: "native" }, from: nativeId });
  assert.equal(
    await sente.next(),
    `[[[:sente-lite/channel-msg {:channel-id "room", :data {:from "native"}, :from "${nativeId}"}]] nil]`,
  );
  assert.equal(
    await original.next(),
    `[:sente-lite/channel-msg {:channel-id "room", :data {:from "native"}, :from "${nativeId}"}]`,
  );

  // The original peer publishes (no ack in its dialect).
  original.send(
    `[:sente-lite/publish {:channel-id "room", :data {:from "original"}, :exclude-sender? true}]`,
  );
  assert.deepEqual(await nativeNext(), { data: { from: "original" }, from: originalId });
  assert.equal(
    await sente.next(),
    `[[[:sente-lite/channel-msg {:channel-id "room", :data {:from "original"}, :from "${originalId}"}]] nil]`,
  );

  // The Sente peer publishes with a cb and learns how many it reached.
  sente.send(
    `[[:sente-lite/publish {:channel-id "room", :data {:from "sente"}, :exclude-sender? true}] "p1"]`,
  );
  assert.equal(await sente.next(), `[{:channel-id "room", :success true, :delivered 2} "p1"]`);
  assert.deepEqual(await nativeNext(), { data: { from: "sente" }, from: senteId });
  assert.equal(
    await original.next(),
    `[:sente-lite/channel-msg {:channel-id "room", :data {:from "sente"}, :from "${senteId}"}]`,
  );

  // The server publishes to all three.
  assert.equal(t.server.publish("room", [1, 2]), 3);
  assert.deepEqual(await nativeNext(), { data: [1, 2], from: null });
  assert.equal(
    await sente.next(),
    `[[[:sente-lite/channel-msg {:channel-id "room", :data [1 2], :from nil}]] nil]`,
  );
  assert.equal(
    await original.next(),
    `[:sente-lite/channel-msg {:channel-id "room", :data [1 2], :from nil}]`,
  );

  native.close();
  await sente.close();
  await original.close();
});
