/**
 * A Bun server's broadcasts and channel publishes through Bun's native topics reach every frame
 * variant (sente-lite JSON, sente-lite EDN, the Sente dialect, a resuming client on the
 * per-connection path, resuming clients with channel sequences sharing their variant's topic),
 * and a push sent right after a broadcast reaches its connection after it; a burst with
 * `nativeTurnMs` takes turns and still reaches every connection once, in order.
 * Needs Bun (`BUN_PATH`, else `node_modules/.bin/bun`, else `bun` on PATH).
 */
import assert from "node:assert/strict";
import { Child } from "./_child.ts";
import { RawPeer } from "../_peer.ts";
import { BUN_HINT, bunPath, ignoreWithoutTool, requireTool } from "../_util.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HERE = new URL("./", import.meta.url).pathname;
const BUN = bunPath();

async function peer(url: string, query: string): Promise<RawPeer> {
  const p = new RawPeer(`${url}?${query}`);
  await p.opened;
  await p.next(5000); // the handshake
  return p;
}

/** Reads frames until one contains `needle`; returns every frame read up to it. */
async function until(p: RawPeer, needle: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) {
    const f = await p.next(5000);
    seen.push(f);
    if (f.includes(needle)) return seen;
  }
  throw new Error(`no frame with ${needle} in ${JSON.stringify(seen)}`);
}

/**
 * Runs `fn` against the Bun server of `_bun_fanout_server.ts`; the peers it puts in `peers` are
 * closed after it, then the server is stopped.
 */
async function withServer(
  fn: (info: { url: string; runtime: string }, peers: RawPeer[]) => Promise<void>,
): Promise<void> {
  const child = new Child("bun _bun_fanout_server.ts", requireTool("Bun", BUN, BUN_HINT), [
    `${HERE}_bun_fanout_server.ts`,
  ], ROOT);
  const peers: RawPeer[] = [];
  try {
    const info = JSON.parse(
      await child.line("the listening line", (l) => l.startsWith("{"), 20_000),
    );
    await fn(info, peers);
  } finally {
    await Promise.all(peers.map((p) => p.close().catch(() => {})));
    await child.stop("SIGTERM");
  }
}

Deno.test({
  name: "Bun native topics: every frame variant gets broadcasts and publishes, in order",
  ignore: ignoreWithoutTool("Bun", BUN),
  fn: () =>
    withServer(async (info, peers) => {
      assert.equal(info.runtime, "bun");
      const json = await peer(info.url, "client-id=j1&packer=json");
      const json2 = await peer(info.url, "client-id=j2&packer=json");
      const edn = await peer(info.url, "client-id=e1&packer=edn");
      const sente = await peer(info.url, "client-id=s1"); // the Sente dialect (EDN)
      const resuming = await peer(info.url, "client-id=r1&packer=json&resume=0");
      // Channel sequences (our client's default): one native topic for both, same bytes.
      const cs1 = await peer(info.url, "client-id=c1&packer=json&resume=0&cseq=");
      const cs2 = await peer(info.url, "client-id=c2&packer=json&resume=0&cseq=");
      peers.push(json, json2, edn, sente, resuming, cs1, cs2);
      for (let n = 1; n <= 3; n++) {
        json.send(JSON.stringify([["test/bcast-then-send", n], `cb${n}`]));
        // The sender: the broadcast, then the push sent after it, then the reply.
        const got = await until(json, `"test/after",${n}`);
        const b = got.findIndex((f) => f.includes(`"test/b",${n}`));
        assert.ok(b >= 0 && b < got.length - 1, JSON.stringify(got));
        const reply = JSON.parse(await json.next(5000));
        assert.deepEqual(reply, [{ reached: 7 }, `cb${n}`]);
        await until(json2, `"test/b",${n}`);
        await until(edn, `test/b`);
        await until(sente, `test/b`);
        const r = await until(resuming, `test/b`);
        assert.match(r.at(-1)!, /sente-lite\/msg/); // numbered: its own frame
        const c1 = (await until(cs1, `test/b`)).at(-1)!;
        assert.match(c1, /^\[\[\["sente-lite\/msg",\{"ch":null,"cseq":\d+,/);
        assert.equal((await until(cs2, `test/b`)).at(-1), c1);
      }
      // A channel publish reaches its JSON and EDN subscribers.
      json2.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "room" }], "s1"]));
      await until(json2, "s1");
      edn.send('[[:sente-lite/subscribe {"channel-id" "room"}] "s2"]');
      await until(edn, "s2");
      cs1.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "room" }], "s3"]));
      await until(cs1, "s3");
      json.send(JSON.stringify([["test/publish", "hello"], "p1"]));
      assert.deepEqual(JSON.parse((await until(json, "p1")).at(-1)!), [{ delivered: 3 }, "p1"]);
      assert.match((await until(cs1, "hello")).at(-1)!, /"ch":"room","cseq":/);
      assert.match((await until(json2, "hello")).at(-1)!, /sente-lite\/channel-msg/);
      assert.match((await until(edn, "hello")).at(-1)!, /sente-lite\/channel-msg/);
    }),
});

/** Reads `n` frames of `test/k` and what else comes until a frame contains `needle` (bounded). */
async function burstUntil(
  p: RawPeer,
  needle: string,
  limit: number,
): Promise<{ ks: number[]; last: string }> {
  const ks: number[] = [];
  for (let i = 0; i < limit; i++) {
    const f = await p.next(10_000);
    for (const m of f.matchAll(/"test\/k",(\d+)/g)) ks.push(Number(m[1]));
    if (f.includes(needle)) return { ks, last: f };
  }
  throw new Error(`no ${needle} in ${limit} frames`);
}

Deno.test({
  name:
    "Bun native topics: a burst of broadcasts takes turns, and every connection gets it once, in order",
  ignore: ignoreWithoutTool("Bun", BUN),
  fn: () =>
    withServer(async (info, peers) => {
      const sender = await peer(info.url, "client-id=a&packer=json");
      const plain = await peer(info.url, "client-id=b&packer=json");
      const cseq = await peer(info.url, "client-id=c&packer=json&resume=0&cseq=");
      peers.push(sender, plain, cseq);
      const n = 30_000;
      const all = Array.from({ length: n }, (_, i) => i + 1);
      sender.send(JSON.stringify([["test/burst", n], "b1"]));
      // The sender's reply comes after every broadcast made before it, though most of them
      // were still waiting for their turn (it got them on its own, then the reply).
      const a = await burstUntil(sender, '"b1"]', n + 10);
      assert.deepEqual(a.ks, all);
      const reply = JSON.parse(a.last)[0];
      assert.equal(reply.reached, 3);
      assert.ok(reply.queued > 0, `queued after the loop: ${reply.queued}`);
      // The others get each one once, in order, through their topics.
      assert.deepEqual((await burstUntil(plain, `"test/k",${n}]`, n + 10)).ks, all);
      assert.deepEqual((await burstUntil(cseq, `"test/k",${n}]`, n + 10)).ks, all);
      // The event loop turned during the burst: a timer set after the loop ran while most of it
      // still waited.
      sender.send(JSON.stringify([["test/timer", null], "t1"]));
      const timer = JSON.parse((await until(sender, '"t1"]')).at(-1)!)[0];
      assert.ok(timer.queuedAtTimer > 0, `queued when the timer ran: ${timer.queuedAtTimer}`);
      // After it, a broadcast is one publish again and still reaches everyone.
      sender.send(JSON.stringify([["test/bcast-then-send", 7], "x1"]));
      await until(sender, '"x1"]');
      await until(plain, `"test/b",7`);
      await until(cseq, `"test/b",7`);
    }),
});
