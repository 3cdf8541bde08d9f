import assert from "node:assert/strict";
import { fanOut, type Sequencer } from "../../lib/server/fanout.ts";
import { Connection } from "../../lib/server/connection.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { ServerContext } from "../../lib/server/context.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { ednPacker } from "../../lib/packers/edn.ts";
import { senteLiteDialect } from "../../lib/dialects/sente_lite.ts";
import type { Frame, Packer } from "../../lib/packers/packer.ts";
import type { Session } from "../../lib/server/delivery.ts";
import type { ServerMessage } from "../../lib/protocol/envelope.ts";

/** A connection over a socket that records what it is sent. */
function conn(ctx: ServerContext, id: string, packer: Packer): { c: Connection; sent: Frame[] } {
  const sent: Frame[] = [];
  const socket = { send: (f: Frame) => void sent.push(f), close: () => {}, bufferedAmount: 0 };
  const request = new Request("http://localhost/chsk");
  const c = new Connection(id, "u", id, request, packer, senteLiteDialect, socket, 0, ctx.stats);
  return { c, sent };
}

/** Counts the packs of a packer. */
function counting(packer: Packer): { packer: Packer; packs: () => number } {
  let n = 0;
  return {
    packer: { ...packer, pack: (v: unknown) => (n++, packer.pack(v)) },
    packs: () => n,
  };
}

const NO_SEQUENCER: Sequencer = {
  sequenced: () => assert.fail("no recipient resumes here"),
};

Deno.test("fanOut packs once per packer, shares the frame, and skips `except`", () => {
  const ctx = new ServerContext(resolveServerOptions({}));
  const json = counting(jsonPacker);
  const edn = counting(ednPacker());
  const a = conn(ctx, "a", json.packer);
  const b = conn(ctx, "b", json.packer);
  const c = conn(ctx, "c", edn.packer);
  const d = conn(ctx, "d", json.packer);
  const message: ServerMessage = { type: "push", events: [["demo/x", { n: 1 }]] };
  const n = fanOut(ctx.options, NO_SEQUENCER, [a.c, b.c, c.c, d.c], message, new Set(["d"]));
  assert.equal(n, 3);
  assert.equal(json.packs(), 1);
  assert.equal(edn.packs(), 1);
  assert.equal(a.sent.length, 1);
  assert.equal(a.sent[0], b.sent[0]); // the same frame object, not a copy
  assert.equal(d.sent.length, 0);
  assert.equal(c.sent.length, 1);
});

Deno.test("fanOut hands the pushes of a resuming recipient to the sequencer", () => {
  const ctx = new ServerContext(resolveServerOptions({}));
  const a = conn(ctx, "a", jsonPacker);
  const b = conn(ctx, "b", jsonPacker);
  const session = {} as Session<Connection>;
  b.c.session = session;
  const handed: unknown[] = [];
  const sequencer: Sequencer = {
    sequenced: (to, s, event, bytes) => {
      assert.equal(to, b.c);
      assert.equal(s, session);
      assert.ok(bytes > 0);
      handed.push(event);
      return true;
    },
  };
  const event = ["demo/x", 1] as [string, unknown];
  assert.equal(fanOut(ctx.options, sequencer, [a.c, b.c], { type: "push", events: [event] }), 2);
  assert.deepEqual(handed, [event]);
  assert.equal(a.sent.length, 1);
  assert.equal(b.sent.length, 0);
});

Deno.test("fanOut skips recipients whose packer cannot write it, throws when none could", () => {
  const errors: unknown[] = [];
  const ctx = new ServerContext(resolveServerOptions({ onError: (e) => void errors.push(e) }));
  const failing: Packer = {
    ...jsonPacker,
    name: "failing",
    pack: () => {
      throw new TypeError("cannot write it");
    },
  };
  const ok = conn(ctx, "ok", jsonPacker);
  const bad = conn(ctx, "bad", failing);
  const message: ServerMessage = { type: "push", events: [["demo/x", 1]] };
  assert.equal(fanOut(ctx.options, NO_SEQUENCER, [bad.c, ok.c], message), 1);
  assert.equal(errors.length, 1);
  assert.throws(() => fanOut(ctx.options, NO_SEQUENCER, [bad.c], message), TypeError);
});
