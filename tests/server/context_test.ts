import assert from "node:assert/strict";
import { ServerContext } from "../../lib/server/context.ts";
import { Connection } from "../../lib/server/connection.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { senteLiteDialect } from "../../lib/dialects/sente_lite.ts";
import { ProtocolError } from "../../lib/protocol/errors.ts";
import type { Frame } from "../../lib/packers/packer.ts";

function conn(ctx: ServerContext): { c: Connection; sent: Frame[]; closes: number[] } {
  const sent: Frame[] = [];
  const closes: number[] = [];
  const socket = {
    send: (f: Frame) => void sent.push(f),
    close: (code?: number) => void closes.push(code ?? 1005),
    bufferedAmount: 0,
  };
  const request = new Request("http://localhost/chsk");
  const c = new Connection(
    "c",
    "u",
    "c",
    request,
    jsonPacker,
    senteLiteDialect,
    socket,
    0,
    ctx.stats,
  );
  return { c, sent, closes };
}

Deno.test("ServerContext.protocolError answers, counts, and closes past maxProtocolErrors", () => {
  const ctx = new ServerContext(resolveServerOptions({ maxProtocolErrors: 2 }));
  const { c, sent, closes } = conn(ctx);
  for (let i = 0; i < 2; i++) ctx.protocolError(c, new ProtocolError("no-handler", "none"));
  assert.equal(sent.length, 2);
  assert.equal(ctx.stats.errors["no-handler"], 2);
  assert.deepEqual(closes, []);
  ctx.protocolError(c, new ProtocolError("no-handler", "none"));
  assert.equal(ctx.stats.errors["too-many-errors"], 1);
  assert.deepEqual(closes, [1008]);
});

Deno.test("ServerContext.hook and observe report what a hook throws to onError", () => {
  const where: string[] = [];
  const ctx = new ServerContext(
    resolveServerOptions({ onError: (_e, info) => void where.push(String(info.where)) }),
  );
  ctx.hook("onOpen", () => {
    throw new Error("boom");
  });
  let seen = 0;
  ctx.observers = [{
    open: () => {
      throw new Error("boom");
    },
  }, { open: () => void seen++ }];
  ctx.observe((o) => o.open?.(null as never));
  assert.deepEqual(where, ["onOpen", "observer"]);
  assert.equal(seen, 1);
});
