import assert from "node:assert/strict";
import { BROADCAST_STREAM, ChannelLogs } from "../../lib/server/channel_log.ts";
import { DELIVERY_DEFAULTS, ENTRY_BYTES } from "../../lib/server/delivery_options.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function logs(options: Partial<typeof DELIVERY_DEFAULTS> = {}, start = 0) {
  const clock = new VirtualClock(start);
  return { clock, logs: new ChannelLogs({ ...DELIVERY_DEFAULTS, ...options }, clock) };
}

Deno.test("ChannelLogs numbers a held stream from base + 1 and logs nothing for streams nobody holds", () => {
  const { logs: l } = logs({}, 5);
  assert.equal(l.append("room", ["a", 1], 10, null), null);
  const s = l.retain("room");
  assert.equal(s.base, 5000);
  assert.equal(l.append("room", ["a", 1], 10, null), 5001);
  assert.equal(l.append("room", ["a", 2], 10, null), 5002);
  const since = l.since("room", 5001)!;
  assert.deepEqual(since.entries.map((e) => e.cseq), [5002]);
  assert.equal(since.gap, null);
  assert.equal(since.current, 5002);
  assert.equal(l.bytes, 2 * (10 + ENTRY_BYTES));
});

Deno.test("ChannelLogs tells overflow and expiry gaps with their counts", () => {
  const { clock, logs: l } = logs({ maxMessages: 3, ttlMs: 1000 });
  l.retain("room");
  for (let i = 1; i <= 5; i++) l.append("room", ["a", i], 10, null);
  assert.deepEqual(l.since("room", 0)!.gap, { reason: "overflow", dropped: 2 });
  assert.equal(l.since("room", 2)!.gap, null);
  clock.tick(1000);
  const since = l.since("room", 2)!;
  assert.deepEqual(since.gap, { reason: "expired", dropped: 3 });
  assert.equal(since.entries.length, 0);
  assert.equal(l.bytes, 0);
});

Deno.test("ChannelLogs: a cursor of another incarnation of a stream gets an unknown gap", () => {
  const { clock, logs: l } = logs({}, 1);
  l.retain("room");
  l.append("room", ["a", 1], 10, null);
  l.release("room"); // dropped: nobody holds it
  assert.equal(l.get("room"), undefined);
  clock.tick(1);
  l.retain("room");
  l.append("room", ["a", 2], 10, null);
  const since = l.since("room", 1001)!; // the old stream's first number
  assert.deepEqual(since.gap, { reason: "unknown", dropped: null });
  assert.deepEqual(since.entries.map((e) => e.event[1]), [2]);
  assert.deepEqual(l.since("room", 999_999_999)!.gap, { reason: "unknown", dropped: null });
});

Deno.test("ChannelLogs: a stream made again in the same millisecond still starts above the old one", () => {
  const { logs: l } = logs({}, 1);
  l.retain("room");
  for (let i = 0; i < 3; i++) l.append("room", ["a", i], 10, null);
  l.release("room");
  const again = l.retain("room");
  assert.ok(again.base >= 1003, `base ${again.base}`);
});

Deno.test("ChannelLogs keeps all logs within maxTotalBytes, trimming the largest first", () => {
  const { logs: l } = logs({ maxTotalBytes: 10 * (100 + ENTRY_BYTES) });
  l.retain("big");
  l.retain("small");
  l.retain(BROADCAST_STREAM);
  for (let i = 0; i < 8; i++) l.append("big", ["a", i], 100, null);
  l.append("small", ["a", 0], 100, null);
  l.append(BROADCAST_STREAM, ["a", 0], 100, null);
  l.append("small", ["a", 1], 100, null);
  assert.ok(l.bytes <= 10 * (100 + ENTRY_BYTES));
  assert.equal(l.since("small", l.get("small")!.base)!.gap, null);
  assert.deepEqual(l.since("big", l.get("big")!.base)!.gap, { reason: "overflow", dropped: 1 });
  l.release(BROADCAST_STREAM);
  assert.ok(l.get(BROADCAST_STREAM), "the broadcast stream stays");
});

Deno.test("ChannelLogs.since finds a cursor by its number (consecutive) and copies nothing when only counting", () => {
  const { logs: l } = logs({ maxMessages: 4 }, 1);
  l.retain("room");
  for (let i = 1; i <= 6; i++) l.append("room", ["a", i], 10, null); // keeps 1003..1006
  for (let after = 1000; after <= 1006; after++) {
    const since = l.since("room", after)!;
    const expect = [1003, 1004, 1005, 1006].filter((n) => n > after);
    assert.deepEqual(since.entries.map((e) => e.cseq), expect, `after ${after}`);
    const dropped = Math.max(0, 1002 - after);
    assert.deepEqual(since.gap, dropped ? { reason: "overflow", dropped } : null);
    const counted = l.since("room", after, true)!;
    assert.deepEqual(counted, { ...since, entries: [] });
  }
});
