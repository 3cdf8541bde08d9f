import assert from "node:assert/strict";
import { ChannelCursors } from "../../lib/client/channel_cursors.ts";

Deno.test("ChannelCursors drops a stream number at or below the cursor, per stream", () => {
  const c = new ChannelCursors();
  c.started(["resume", "channel-seq"], 100);
  assert.equal(c.param(), "100");
  assert.equal(c.accept(null, 100), false);
  assert.equal(c.accept(null, 101), true);
  assert.equal(c.accept("room", 7), true);
  assert.equal(c.accept("room", 7), false);
  assert.equal(c.accept("room", 6), false);
  assert.equal(c.accept("other", 1), true);
  assert.deepEqual(c.after("room"), { after: 7 });
  assert.deepEqual(c.after("none"), {});
});

Deno.test("ChannelCursors: a reply raises the cursor, a gap or a leave clears it, off sends none", () => {
  const c = new ChannelCursors();
  assert.equal(c.param(), "");
  c.started(["resume", "channel-seq"], 0);
  c.replied("room", 40);
  c.accept("room", 42);
  c.replied("room", 41); // the replay came first
  assert.deepEqual(c.after("room"), { after: 42 });
  c.gap("room");
  assert.equal(c.accept("room", 3), true);
  c.forget("room");
  assert.deepEqual(c.after("room"), {});
  c.replied("room", 9);
  c.started(["resume"], undefined); // a server without channel sequences
  assert.equal(c.on, false);
  assert.deepEqual(c.after("room"), {});
});
