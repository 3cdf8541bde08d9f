/**
 * `delivery.maxReplayBytes` under attack on real sockets (docs/security.md): a channel-seq
 * session keeps several busy channels; its client reconnects with the session's token and asks
 * every stream again from an old cursor (the broadcasts with `cseq=<n>` in the upgrade, each
 * channel with `"after"` in its re-subscribe). Each log holds up to `maxBytes`, so one reconnect
 * was replayed every log it kept (measured: 60 kept channels, ~5 MB and 128 ms of server CPU per
 * reconnect, again on every reconnect). Now one connection is replayed at most `maxReplayBytes`
 * over all its streams: the newest messages, the older told as an `overflow` gap of the exact
 * count, so nothing is lost silently.
 *
 * On a server alone (logs in memory) and on a node with the in-process cluster store (the
 * channel pump replays from the store).
 */
import assert from "node:assert/strict";
import { localBackplane } from "../../lib/backplane/local.ts";
import type { ServerOptions } from "../../lib/server/options.ts";
import { type ResumingPeer, resumingPeer } from "../_peer.ts";
import { startServer, type TestServer, until } from "../_server.ts";

const CHANNELS = 4;
const PER_STREAM = 300;
const BUDGET = 32 * 1024;

type Push = [string, { ch?: string | null; cseq?: number; dropped?: number; reason?: string }];

async function open(t: TestServer, cseq: string, token?: string): Promise<ResumingPeer> {
  return await resumingPeer(t.url, { "client-id": "greedy", cseq }, token);
}

async function attack(options: ServerOptions): Promise<void> {
  await using t = await startServer({
    rateLimit: false,
    delivery: { maxReplayBytes: BUDGET },
    ...options,
  });
  const first = await open(t, "");
  const cursors = new Map<string | null, number>([[null, first.resume.cseq!]]);
  for (let i = 0; i < CHANNELS; i++) {
    first.peer.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": `ch${i}` }], "s"]));
    const [reply] = await first.peer.nextJson() as [{ cseq: number }];
    cursors.set(`ch${i}`, reply.cseq);
  }
  await first.peer.close();
  await until(() => t.server.stats().connections === 0, "the server-side close");
  for (let n = 0; n < PER_STREAM; n++) {
    for (let i = 0; i < CHANNELS; i++) t.server.publish(`ch${i}`, { n, pad: "x".repeat(64) });
    t.server.broadcast("t/b", { n, pad: "x".repeat(64) });
  }
  // Two reconnects with the same old cursors: each is bounded, not only the first.
  let token = first.resume.token!;
  for (let round = 0; round < 2; round++) {
    const back = await open(t, String(cursors.get(null)), token);
    assert.equal(back.resume.resumed, true);
    token = back.resume.token!;
    for (let i = 0; i < CHANNELS; i++) {
      const after = cursors.get(`ch${i}`);
      back.peer.send(
        JSON.stringify([["sente-lite/subscribe", { "channel-id": `ch${i}`, after }], "r"]),
      );
    }
    const got = new Map<string | null, { gap: number; msgs: number[]; bytes: number }>();
    let replies = 0;
    while (replies < CHANNELS) {
      const frame = await back.peer.next();
      const v = JSON.parse(frame);
      if (typeof v[1] === "string") {
        replies++;
        continue;
      }
      for (const [id, d] of v[0] as Push[]) {
        const s = got.get(d.ch ?? null) ?? { gap: 0, msgs: [], bytes: 0 };
        got.set(d.ch ?? null, s);
        if (id === "sente-lite/gap") {
          assert.equal(d.reason, "overflow");
          s.gap += d.dropped!;
        } else {
          assert.equal(id, "sente-lite/msg");
          s.msgs.push(d.cseq!);
          s.bytes += frame.length;
        }
      }
    }
    let replayed = 0;
    for (const [ch, cursor] of cursors) {
      const s = got.get(ch) ?? { gap: 0, msgs: [], bytes: 0 };
      // Every message after the cursor is either replayed (the newest, in order) or counted.
      assert.equal(s.gap + s.msgs.length, PER_STREAM, `stream ${ch}: gap + replayed`);
      // The newest, in order: through the stream's last (a cursor of 0, before the cluster's
      // broadcast stream existed, counts from the stream's own base).
      const last = cursor > 0 ? cursor + PER_STREAM : s.msgs.at(-1)!;
      const newest = Array.from({ length: s.msgs.length }, (_, k) => last - s.msgs.length + 1 + k);
      assert.deepEqual(s.msgs, newest, `stream ${ch}: the newest, in order`);
      replayed += s.msgs.length;
    }
    // A message is counted as its size estimate + 128 bytes: ~240 each here.
    assert.ok(replayed > 0, "the newest are replayed");
    assert.ok(
      replayed <= Math.ceil(BUDGET / 200),
      `replayed ${replayed} of ${(CHANNELS + 1) * PER_STREAM} messages for a budget of ${BUDGET} B`,
    );
    await back.peer.close();
    await until(() => t.server.stats().connections === 0, "the server-side close");
  }
}

Deno.test("maxReplayBytes: a resumed session asking every stream from an old cursor is replayed only the newest that fit (server alone)", async () => {
  await attack({});
});

Deno.test("maxReplayBytes: the same on a node of a cluster (replays from the store)", async () => {
  await attack({ backplane: localBackplane() });
});
