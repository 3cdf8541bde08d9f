import assert from "node:assert/strict";
import {
  type LifecycleTarget,
  remoteHandler,
  type TelemetryBatch,
} from "../../lib/telemetry/remote_handler.ts";
import type { ConsoleLike } from "../../lib/telemetry/console_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function fakeClient() {
  const sent: { id: string; data: TelemetryBatch }[] = [];
  return {
    state: "open",
    fail: false,
    sent,
    send(id: string, data: unknown) {
      if (this.fail) throw new Error("closed");
      sent.push({ id, data: data as TelemetryBatch });
      return "sent";
    },
  };
}

function fakeConsole() {
  const lines: unknown[][] = [];
  const c: ConsoleLike = {
    debug: (...a) => void lines.push(a),
    info: (...a) => void lines.push(a),
    warn: (...a) => void lines.push(a),
    error: (...a) => void lines.push(a),
  };
  return { c, lines };
}

function setup(opts: Parameters<typeof remoteHandler>[1] = {}) {
  const clock = new VirtualClock();
  const client = fakeClient();
  const con = fakeConsole();
  const tel = new Telemetry({ clock });
  const h = remoteHandler(client, { clock, fallback: con.c, lifecycle: false, ...opts });
  tel.addHandler("remote", h, { mode: "sync" });
  return { clock, client, tel, h, con };
}

Deno.test("remoteHandler() sends a batch when it holds maxBatch signals", () => {
  const { client, tel } = setup({ maxBatch: 3 });
  for (let i = 0; i < 7; i++) tel.event("e", { data: { i } });
  assert.equal(client.sent.length, 2);
  assert.equal(client.sent[0].id, "sente-lite/telemetry");
  assert.deepEqual(client.sent[1].data.signals.map((s) => (s.data as { i: number }).i), [3, 4, 5]);
});

Deno.test("remoteHandler() sends a partial batch after flushIntervalMs", () => {
  const { client, tel, clock } = setup({ flushIntervalMs: 200 });
  tel.error(new Error("boom"), "ui/err");
  assert.equal(client.sent.length, 0);
  clock.tick(200);
  assert.equal(client.sent.length, 1);
  const rec = client.sent[0].data.signals[0];
  assert.equal(rec.error?.message, "boom");
  assert.equal(typeof rec.time, "string");
  assert.doesNotThrow(() => JSON.stringify(client.sent[0].data));
});

Deno.test("remoteHandler() buffers while disconnected, up to maxBuffer, then falls back to console", () => {
  const { client, tel, clock, h, con } = setup({ maxBatch: 2, maxBuffer: 4, flushIntervalMs: 100 });
  client.state = "connecting";
  for (let i = 0; i < 6; i++) tel.event("e", { data: { i } });
  assert.equal(client.sent.length, 0);
  assert.equal(h.stats().buffered, 4);
  assert.equal(h.stats().dropped, 2);
  assert.equal(con.lines.length, 2);
  client.state = "open";
  clock.tick(100);
  assert.equal(client.sent.length, 2);
  assert.equal(h.stats().sent, 4);
});

Deno.test("remoteHandler() keeps the batch when send throws and retries later", () => {
  const { client, tel, clock, h } = setup({ maxBatch: 1, flushIntervalMs: 50 });
  client.fail = true;
  tel.event("a");
  assert.equal(h.stats().sendErrors, 1);
  assert.equal(h.stats().buffered, 1);
  client.fail = false;
  clock.tick(50);
  assert.equal(client.sent.length, 1);
});

Deno.test("remoteHandler() flushes on pagehide and stop() hands the rest to the fallback", () => {
  const listeners = new Map<string, () => void>();
  const target: LifecycleTarget = {
    addEventListener: (t, f) => void listeners.set(t, f),
    removeEventListener: (t) => void listeners.delete(t),
  };
  const { client, tel, h, con } = setup({ lifecycle: target });
  tel.event("a");
  listeners.get("pagehide")!();
  assert.equal(client.sent.length, 1);
  client.state = "closed";
  tel.event("b");
  h.stop();
  assert.equal(listeners.size, 0);
  assert.equal(con.lines.length, 1);
  assert.throws(() => remoteHandler({} as never), TypeError);
  assert.throws(() => remoteHandler(client, { maxBatch: 0 }), RangeError);
});
