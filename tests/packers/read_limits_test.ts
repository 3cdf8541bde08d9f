/**
 * Read limits of the packers. Nesting: a frame nested deeper than 512 levels is answered with
 * `unpack-failed` before it is parsed (JSON, Transit) or read (EDN, discards and tags included),
 * and data read at the limit can be forwarded to a peer of any packer. Bigints: at most 4096
 * digits (parsing 1 MiB of digits takes ~100 ms).
 */
import assert from "node:assert/strict";
import { checkJsonDepth, MAX_JSON_DEPTH } from "../../lib/packers/_json_depth.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { ednPacker } from "../../lib/packers/edn.ts";
import { transitPacker } from "../../lib/packers/transit.ts";
import { MAX_BIGINT_DIGITS } from "../../lib/packers/_values.ts";
import { RawPeer, rawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";

const nested = (depth: number, inner = "1") => "[".repeat(depth) + inner + "]".repeat(depth);

Deno.test("checkJsonDepth() counts arrays and objects outside strings", () => {
  checkJsonDepth(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH);
  assert.throws(() => checkJsonDepth(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), {
    name: "SyntaxError",
    message: "Invalid JSON at offset 512: arrays and objects nested deeper than 512",
  });
  assert.throws(() => checkJsonDepth('{"a":{"b":[1]}}', 2), /offset 10/);
  // Brackets in strings, escaped quotes and escaped backslashes do not fool it.
  checkJsonDepth(JSON.stringify(["[[[[", '\\"[[[', "\\", "{{{{"]), 1);
  assert.throws(() => checkJsonDepth(JSON.stringify(["\\", [["x"]]]), 2), /deeper than 2/);
  // Malformed text is left to JSON.parse.
  checkJsonDepth('["unterminated [[[[', 1);
  assert.throws(() => jsonPacker.unpack(nested(600)), /nested deeper than 512/);
  assert.deepEqual(jsonPacker.unpack(nested(512)), JSON.parse(nested(512)));
});

Deno.test("EDN discards and tags count as nesting", () => {
  const edn = ednPacker();
  assert.equal(edn.unpack("#_ #_ 1 2 3"), 3);
  assert.throws(() => edn.unpack("#_".repeat(100_000) + "1"), /nested deeper than 512/);
  assert.throws(() => edn.unpack("#inst ".repeat(100_000)), /nested deeper than 512/);
  assert.throws(() => transitPacker().unpack(nested(100_000)), /nested deeper than 512/);
});

function sentePeerUrl(url: string, clientId: string, packer?: string): string {
  const u = new URL(url);
  u.searchParams.set("client-id", clientId);
  if (packer) u.searchParams.set("packer", packer);
  return u.href;
}

Deno.test("a frame nested deeper than 512 is unpack-failed for every packer, over a socket", async () => {
  const errors: unknown[] = [];
  await using t = await startServer({
    packers: [jsonPacker, ednPacker(), transitPacker()],
    onError: (e) => errors.push(e),
  });
  t.server.on("demo/echo", (msg) => msg.reply?.(msg.data));
  const cases: [string, string, RegExp][] = [
    // 1 MiB of brackets: V8's JSON.parse would take ~0.4 s to build it.
    ["json", `[["demo/echo", ${nested(256 * 1024)}], "cb"]`, /"code":"unpack-failed"/],
    ["json", `[["demo/echo", ${nested(600)}], "cb"]`, /"code":"unpack-failed"/],
    ["transit", `[["~:demo/echo", ${nested(100_000)}], "cb"]`, /"~:code","unpack-failed"/],
    ["edn", `[[:demo/echo ${"#_".repeat(100_000)} 1] "cb"]`, /:code "unpack-failed"/],
    ["edn", `[[:demo/echo ${"#inst ".repeat(100_000)}] "cb"]`, /:code "unpack-failed"/],
  ];
  for (const [packer, frame, code] of cases) {
    const peer = new RawPeer(sentePeerUrl(t.url, crypto.randomUUID(), packer));
    await peer.opened;
    await peer.next(); // handshake
    peer.send(frame);
    const answer = await peer.next();
    assert.match(answer, code, `${packer}: ${answer.slice(0, 200)}`);
    assert.match(answer, /nested deeper than 512/, `${packer}: ${answer.slice(0, 200)}`);
    // The connection still serves.
    peer.send(
      packer === "json"
        ? `[["demo/echo", 7], "ok"]`
        : packer === "edn"
        ? `[[:demo/echo 7] "ok"]`
        : `[["~:demo/echo",7],"ok"]`,
    );
    assert.match(await peer.next(), /7/);
    await peer.close();
  }
  assert.deepEqual(errors, []);
});

Deno.test("data read at the depth limit reaches JSON and Sente EDN subscribers of a channel", async () => {
  const errors: unknown[] = [];
  await using t = await startServer({ onError: (e) => errors.push(e) });
  const sente = new RawPeer(sentePeerUrl(t.url, "sente-tab"));
  await sente.opened;
  await sente.next();
  sente.send(`[[:sente-lite/subscribe {:channel-id "c"}] "s1"]`);
  assert.equal(await sente.next(), `[{:channel-id "c", :success true} "s1"]`);
  const { peer: sub } = await rawPeer(t.url);
  sub.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "c" }], "1"]));
  await sub.next();
  const { peer: pub } = await rawPeer(t.url);
  // The frame is exactly 512 deep: `[[id {"data": X}] cb]` holds X at depth 3.
  const data = nested(MAX_JSON_DEPTH - 3);
  pub.send(`[["sente-lite/publish", {"channel-id": "c", "data": ${data}}], "p1"]`);
  assert.deepEqual(await pub.nextJson(), [
    { "channel-id": "c", success: true, delivered: 2 },
    "p1",
  ]);
  const got = (await sub.nextJson()) as [[[string, { data: unknown }]]];
  assert.deepEqual(got[0][0][1].data, JSON.parse(data));
  assert.match(
    await sente.next(),
    /^\[\[\[:sente-lite\/channel-msg \{:channel-id "c", :data \[{509}1\]{509}/,
  );
  assert.deepEqual(errors, []);
  await Promise.all([sente.close(), sub.close(), pub.close()]);
});

Deno.test("a bigint of more than 4096 digits is unpack-failed, over a socket", async () => {
  const edn = ednPacker();
  const max = "9".repeat(MAX_BIGINT_DIGITS);
  assert.equal(edn.unpack(`-${max}N`), -BigInt(max));
  assert.equal(transitPacker().unpack(`["~n${max}"]`)?.toString(), [BigInt(max)].toString());
  await using t = await startServer({ packers: [jsonPacker, ednPacker(), transitPacker()] });
  t.server.on("demo/echo", () => true);
  const digits = "1".repeat(1024 * 1024 - 64); // ~100 ms of BigInt parsing without the limit
  const cases: [string, string][] = [
    ["edn", `[[:demo/echo ${digits}N] "cb"]`],
    ["transit", `[["~:demo/echo", "~n${digits}"], "cb"]`],
  ];
  for (const [packer, frame] of cases) {
    const peer = new RawPeer(sentePeerUrl(t.url, crypto.randomUUID(), packer));
    await peer.opened;
    await peer.next();
    peer.send(frame);
    const answer = await peer.next();
    assert.match(answer, /unpack-failed/, `${packer}: ${answer.slice(0, 200)}`);
    assert.match(answer, /more than 4096 digits/, `${packer}: ${answer.slice(0, 200)}`);
    await peer.close();
  }
});
