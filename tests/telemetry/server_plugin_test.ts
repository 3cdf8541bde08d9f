import assert from "node:assert/strict";
import {
  sessionName,
  type TelemetryMessage,
  telemetryPlugin,
} from "../../lib/telemetry/server_plugin.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function msg(data: unknown, over: Partial<TelemetryMessage> = {}) {
  const replies: unknown[] = [];
  const m: TelemetryMessage = {
    id: "sente-lite/telemetry",
    data,
    uid: "user-1",
    clientId: "client-A",
    connId: "conn-1",
    reply: (v) => (replies.push(v), true),
    ...over,
  };
  return { m, replies };
}

Deno.test("telemetryPlugin() installs on server.on and writes stamped per-session JSONL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = new VirtualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const plugin = telemetryPlugin({ dir, clock });
    let handler: ((m: TelemetryMessage) => unknown) | undefined;
    const off = plugin.install({
      on(id, h) {
        assert.equal(id, "sente-lite/telemetry");
        handler = h;
        return () => (handler = undefined);
      },
    });
    const { m, replies } = msg({ signals: [{ level: "error", id: "ui/x", uid: "spoof" }, 5] });
    handler!(m);
    assert.deepEqual(replies, [{ ok: true, accepted: 1, dropped: 1 }]);
    plugin.handle(msg({ signals: [{ id: "b" }] }, { clientId: "client-B" }).m);
    plugin.flush();
    const path = plugin.fileOf("client-A")!;
    assert.equal(path, `${dir}/client-A-20260102T030405Z.jsonl`);
    const rec = JSON.parse(Deno.readTextFileSync(path).trim());
    assert.equal(rec.id, "ui/x");
    assert.equal(rec.uid, "user-1", "server fields overwrite client fields");
    assert.equal(rec.clientId, "client-A");
    assert.equal(rec.connId, "conn-1");
    assert.equal(rec.recvTime, "2026-01-02T03:04:05.000Z");
    assert.ok(plugin.fileOf("client-B"));
    assert.equal(plugin.stats().openFiles, 2);
    plugin.close();
    off();
    assert.equal(handler, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("telemetryPlugin() answers malformed batches with an error and never throws", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plugin = telemetryPlugin({ dir, maxBatch: 2 });
    for (const bad of [null, 5, "x", { signals: "no" }, { nope: [] }, { signals: [1, 2, 3] }]) {
      const { m, replies } = msg(bad);
      const r = plugin.handle(m);
      assert.equal(r.ok, false);
      assert.deepEqual(replies, [r]);
      if (!r.ok) assert.equal(r.error.code, "telemetry/bad-batch");
    }
    assert.equal(plugin.handle(null as never).ok, false);
    assert.equal(plugin.handle(msg({ signals: [] }, { reply: undefined }).m).ok, true);
    assert.equal(plugin.stats().rejected, 7);
    plugin.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("telemetryPlugin() rate-limits per connection with a token bucket in virtual time", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = new VirtualClock();
    const plugin = telemetryPlugin({ dir, clock, ratePerSec: 10, burst: 5 });
    const batch = (n: number, connId = "c1") =>
      plugin.handle(msg({ signals: Array.from({ length: n }, (_, i) => ({ i })) }, { connId }).m);
    assert.deepEqual(batch(4), { ok: true, accepted: 4, dropped: 0 });
    assert.deepEqual(batch(4), { ok: true, accepted: 1, dropped: 3 });
    const r = batch(1);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, "telemetry/rate-limited");
    assert.deepEqual(batch(2, "c2"), { ok: true, accepted: 2, dropped: 0 }, "per connection");
    clock.tick(300);
    assert.deepEqual(batch(5), { ok: true, accepted: 3, dropped: 2 });
    plugin.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sessionName() keeps safe ids and cleans unsafe ones", () => {
  assert.equal(sessionName("abc_DEF-123"), "abc_DEF-123");
  assert.equal(sessionName("../../etc/passwd"), "______etc_passwd");
  assert.equal(sessionName(""), "anonymous");
});

Deno.test("telemetryPlugin() gives each client address a share of the files and bytes (an IPv6 one by its /64); without an address only the totals apply", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plugin = telemetryPlugin({ dir, maxSessionFiles: 20, maxSessionFilesPerIp: 2 });
    const batch = (clientId: string, remoteIp?: string) =>
      plugin.handle({
        id: "sente-lite/telemetry",
        data: { signals: [{ level: "info", id: "ui/x" }] },
        uid: "u",
        clientId,
        connId: clientId,
        connection: remoteIp === undefined ? undefined : { remoteIp },
      });
    const code = (r: ReturnType<typeof batch>) => r.ok ? "ok" : r.error.code;
    assert.equal(code(batch("a1", "192.0.2.1")), "ok");
    assert.equal(code(batch("a2", "192.0.2.1")), "ok");
    assert.equal(code(batch("a3", "192.0.2.1")), "telemetry/quota-exceeded"); // a third file
    assert.equal(code(batch("a1", "192.0.2.1")), "ok"); // its open session still writes
    assert.equal(code(batch("b1", "2001:db8:1:2::5")), "ok");
    assert.equal(code(batch("b2", "2001:db8:1:2::6")), "ok");
    assert.equal(code(batch("b3", "2001:db8:1:2::7")), "telemetry/quota-exceeded"); // same /64
    assert.equal(code(batch("b4", "2001:db8:1:3::7")), "ok"); // another /64
    for (let i = 0; i < 5; i++) assert.equal(code(batch(`c${i}`)), "ok"); // no address known
    const stats = plugin.stats();
    assert.equal(stats.addresses, 3);
    assert.equal(stats.sessionFiles, 10);

    // Bytes: an address past its share is refused, the others still write.
    const bytes = telemetryPlugin({ dir: `${dir}/b`, maxTotalBytes: 8000, maxBytesPerIp: 1200 });
    const big = (remoteIp: string) =>
      bytes.handle({
        id: "sente-lite/telemetry",
        data: { signals: [{ level: "info", id: "ui/x", msg: "x".repeat(400) }] },
        uid: "u",
        clientId: "s",
        connId: "s",
        connection: { remoteIp },
      }).ok;
    assert.deepEqual([big("192.0.2.9"), big("192.0.2.9"), big("192.0.2.9")], [true, true, false]);
    assert.equal(big("192.0.2.10"), true);
    plugin.close();
    bytes.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
