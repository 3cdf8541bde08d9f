/** Unit tests of lib/server/channel_seq.ts: the streams of a connection. */
import assert from "node:assert/strict";
import { ChannelSeq } from "../../lib/server/channel_seq.ts";
import type { Connection } from "../../lib/server/connection.ts";
import { type DeliveryOptions, resolveDelivery } from "../../lib/server/delivery.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

const channelSeq = () =>
  new ChannelSeq(resolveDelivery({}) as Required<DeliveryOptions>, new VirtualClock());
/** Two (stand-in) connections that negotiated channel sequences with `seq`. */
function attached(seq: ChannelSeq): [Connection, Connection] {
  const [a, b] = [{ cseq: null }, { cseq: null }] as unknown as [Connection, Connection];
  seq.attach(a, null, false);
  seq.attach(b, null, false);
  return [a, b];
}

Deno.test("ChannelSeq.attach() gives idle connections one shared, frozen ConnStreams", () => {
  const seq = channelSeq();
  const [a, b] = attached(seq);
  assert.notEqual(a.cseq, null);
  assert.equal(a.cseq, b.cseq);
  assert.ok(Object.isFrozen(a.cseq));
  a.cseq!.cleared([]); // closing an idle connection writes nothing
  assert.equal(a.cseq!.dropPending("room"), false);
});

Deno.test("ChannelSeq.own() makes a connection's streams its own before its first pending channel", () => {
  const seq = channelSeq();
  const [a, b] = attached(seq);
  const shared = a.cseq;
  seq.own(a).addPending("room");
  assert.notEqual(a.cseq, shared);
  assert.equal(seq.own(a), a.cseq, "made once");
  assert.deepEqual([...a.cseq!.pending!], ["room"]);
  assert.equal(b.cseq, shared);
  assert.equal(b.cseq!.pending, null, "the other connections see nothing of it");
  a.cseq!.cleared([]);
  assert.equal(a.cseq!.pending, null);
});
