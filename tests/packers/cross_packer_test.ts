/**
 * What one peer's packer reads, every other peer's packer writes: a value published by an EDN or
 * Transit peer reaches JSON subscribers instead of failing the whole publish.
 */
import assert from "node:assert/strict";
import { jsonPacker } from "../../lib/packers/json.ts";
import { transitPacker } from "../../lib/packers/transit.ts";
import { RawPeer, rawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";

Deno.test("jsonPacker writes bigints as JSON numbers with all their digits", () => {
  assert.equal(jsonPacker.pack([1n, { n: -(2n ** 70n) }]), '[1,{"n":-1180591620717411303424}]');
  assert.deepEqual(jsonPacker.unpack(jsonPacker.pack([2n ** 53n])), [2 ** 53]);
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => jsonPacker.pack(cyclic), TypeError);
});

Deno.test("a bigint published by EDN and Transit peers reaches a JSON subscriber", async () => {
  const errors: unknown[] = [];
  await using t = await startServer({
    packers: [jsonPacker, transitPacker()],
    onError: (e) => errors.push(e),
  });
  const { peer: sub } = await rawPeer(t.url);
  sub.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "c" }], "1"]));
  await sub.next();

  const sente = new RawPeer(`${t.url}?client-id=sente-tab`); // Sente dialect, EDN
  await sente.opened;
  await sente.next();
  sente.send(
    `[[:sente-lite/publish {:channel-id "c" :data 123456789012345678901234567890N}] "p1"]`,
  );
  assert.match(await sente.next(), /^\[\{:channel-id "c", :success true, :delivered 1\} "p1"\]$/);
  assert.match(await sub.next(), /"data":123456789012345678901234567890,/);

  const transit = new RawPeer(`${t.url}?client-id=transit-tab&packer=transit`);
  await transit.opened;
  await transit.next();
  transit.send(
    `[["~:sente-lite/publish",["^ ","~:channel-id","c","~:data","~n99999999999999999999"]],"p2"]`,
  );
  assert.match(await transit.next(), /"~:delivered",1\]/);
  assert.match(await sub.next(), /"data":99999999999999999999,/);

  assert.deepEqual(errors, []);
  assert.deepEqual(t.server.stats().errors, {});
  await Promise.all([sub.close(), sente.close(), transit.close()]);
});

Deno.test("a value one subscriber's packer cannot write still reaches the others", async () => {
  const errors: { error: unknown; where: string }[] = [];
  await using t = await startServer({
    packers: [jsonPacker, transitPacker()],
    onError: (error, { where }) => errors.push({ error, where }),
  });
  // The EDN subscriber first: a failure there used to end the publish before anyone else.
  const sente = new RawPeer(`${t.url}?client-id=sente-tab`);
  await sente.opened;
  await sente.next();
  sente.send(`[[:sente-lite/subscribe {:channel-id "c"}] "s1"]`);
  await sente.next();
  const { peer: sub } = await rawPeer(t.url);
  sub.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "c" }], "1"]));
  await sub.next();
  const transit = new RawPeer(`${t.url}?client-id=transit-tab&packer=transit`);
  await transit.opened;
  await transit.next();
  // Transit binary (`~b`) reads as a Uint8Array, which EDN cannot carry.
  for (const cb of ["p1", "p2"]) {
    transit.send(
      `[["~:sente-lite/publish",["^ ","~:channel-id","c","~:data","~bAAECAw=="]],"${cb}"]`,
    );
    assert.equal(
      await transit.next(),
      `[["^ ","~:channel-id","c","~:success",true,"~:delivered",1],"${cb}"]`,
    );
    assert.match(await sub.next(), /"sente-lite\/channel-msg",\{"channel-id":"c","data":\{"0":0/);
  }
  assert.deepEqual(errors.map((e) => e.where), [
    "fan-out: skipped 1 recipient(s) whose packer cannot write it",
    "fan-out: skipped 1 recipient(s) whose packer cannot write it",
  ]);
  assert.match(String(errors[0].error), /Cannot write a Uint8Array as EDN/);
  // The EDN peer got nothing and is still served.
  sente.send(`[[:sente-lite/publish {:channel-id "c" :data 1}] "s2"]`);
  assert.match(await sente.next(), /sente-lite\/channel-msg \{:channel-id "c", :data 1,/);
  assert.match(await sente.next(), /:delivered 2\} "s2"\]$/);
  await Promise.all([sub.close(), sente.close(), transit.close()]);
});
