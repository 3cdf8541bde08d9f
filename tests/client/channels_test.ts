import assert from "node:assert/strict";
import { type ChannelsHost, ClientChannels } from "../../lib/client/channels.ts";
import { ServerError } from "../../lib/protocol/errors.ts";
import type { ConnectionState } from "../../lib/client/session.ts";

function fakeHost(answers: Record<string, unknown>) {
  const sent: [string, unknown][] = [];
  const errors: Error[] = [];
  const emitted: [string, unknown][] = [];
  let state: ConnectionState = "open";
  const host: ChannelsHost = {
    request: (id, data) => {
      sent.push([id, data]);
      const a = answers[id];
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
    state: () => state,
    onError: (e) => void errors.push(e),
    emit: (id, data) => void emitted.push([id, data]),
  };
  return { host, sent, errors, emitted, setState: (s: ConnectionState) => state = s };
}

Deno.test("ClientChannels delivers channel messages to their handlers; a throwing one is reported", async () => {
  const f = fakeHost({ "sente-lite/subscribe": { success: true } });
  const channels = new ClientChannels(f.host);
  const got: unknown[] = [];
  await channels.subscribe("room", (data, ctx) => void got.push([data, ctx.channel, ctx.from]));
  await channels.subscribe("room", () => {
    throw new Error("handler bug");
  });
  channels.deliver({ "channel-id": "room", data: 1, from: "c1" });
  channels.deliver({ "channel-id": "other", data: 2, from: null });
  assert.deepEqual(got, [[1, "room", "c1"]]);
  assert.equal(f.errors[0].message, "handler bug");
  assert.deepEqual(channels.list(), ["room"]);
});

Deno.test("ClientChannels.subscribe() rejects and forgets the handler when the server refuses", async () => {
  const f = fakeHost({ "sente-lite/subscribe": { success: false, error: "forbidden" } });
  const channels = new ClientChannels(f.host);
  await assert.rejects(
    channels.subscribe("vip", () => {}),
    (e) => e instanceof ServerError && e.code === "forbidden",
  );
  assert.deepEqual(channels.list(), []);
  await assert.rejects(channels.subscribe("", () => {}), TypeError);
});

Deno.test("ClientChannels.resubscribeAll() re-subscribes confirmed channels and reports refusals", async () => {
  const answers: Record<string, unknown> = { "sente-lite/subscribe": { success: true } };
  const f = fakeHost(answers);
  const channels = new ClientChannels(f.host);
  await channels.subscribe("a", () => {});
  answers["sente-lite/subscribe"] = { success: false, error: "forbidden" };
  channels.resubscribeAll();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(f.sent.length, 2);
  assert.deepEqual(channels.list(), []);
  assert.equal(f.emitted[0][0], "chsk/resubscribe-failed");
  assert.equal((f.emitted[0][1] as { channel: string }).channel, "a");
});

Deno.test("ClientChannels.unsubscribe() sends nothing when the client is closed", async () => {
  const f = fakeHost({ "sente-lite/subscribe": { success: true }, "sente-lite/unsubscribe": {} });
  const channels = new ClientChannels(f.host);
  await channels.subscribe("a", () => {});
  f.setState("closed");
  await channels.unsubscribe("a");
  assert.deepEqual(f.sent.map(([id]) => id), ["sente-lite/subscribe"]);
  assert.deepEqual(channels.list(), []);
});

Deno.test("ClientChannels.publish() resolves with the count and rejects refusals", async () => {
  const f = fakeHost({ "sente-lite/publish": { success: true, delivered: 3 } });
  const channels = new ClientChannels(f.host);
  assert.equal(await channels.publish("a", { x: 1 }, true), 3);
  assert.deepEqual(f.sent[0], ["sente-lite/publish", {
    "channel-id": "a",
    data: { x: 1 },
    "exclude-sender?": true,
  }]);
});
