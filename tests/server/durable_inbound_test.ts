/**
 * lib/server/durable_inbound.ts with a fake store, in virtual time: duplicates dropped, sync
 * handlers recorded at once (and their write waited for), async ones once settled, records in seq
 * order behind a waiting one, a handler that never settles released after HANDLER_WAIT_MS, the
 * session's next connection on the node taking over what still waits.
 */
import assert from "node:assert/strict";
import type { DeliveryStore } from "../../lib/backplane/backplane.ts";
import type { Connection } from "../../lib/server/connection.ts";
import type { ServerContext } from "../../lib/server/context.ts";
import { HANDLER_WAIT_MS, InboundRecords } from "../../lib/server/durable_inbound.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

function setup() {
  const clock = new VirtualClock();
  const marks: number[] = [];
  const acks: number[] = [];
  let writes = 0;
  const store = {
    markInbound: (_uid: string, _sid: string, seq: number) => {
      marks.push(seq);
      return Promise.resolve(seq);
    },
    written: () => {
      writes++;
      return Promise.resolve();
    },
  } as unknown as DeliveryStore;
  const conn = {
    send: (m: { events: [string, { seq: number }][] }) => acks.push(m.events[0][1].seq),
  } as unknown as Connection;
  const records = new InboundRecords({ clock } as unknown as ServerContext, store, () => false);
  records.attach(conn, "u", "0123456789abcdef", 2);
  return { clock, marks, acks, records, conn, writes: () => writes };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("inbound records: duplicates dropped; a sync handler's event recorded at once, its write waited for", async () => {
  const { marks, acks, records, conn, writes } = setup();
  assert.equal(records.received(conn, 2), false, "at or below the handshake's ack");
  assert.equal(records.received(conn, 3), true);
  assert.equal(records.received(conn, 3), false, "a re-send");
  assert.equal(records.unwritten(conn), null, "nothing recorded yet");
  records.handled(conn, 3, undefined);
  assert.deepEqual(marks, [3], "recorded synchronously: in the Redis client's next write");
  assert.ok(records.unwritten(conn), "the next events wait for that write");
  assert.equal(writes(), 1);
  assert.equal(records.unwritten(conn), null, "once");
  await settle();
  assert.deepEqual(acks, [3]);
});

Deno.test("inbound records: an async handler's event is recorded once it settled, later ones behind it", async () => {
  const { marks, records, conn } = setup();
  let finish!: () => void;
  records.received(conn, 3);
  records.handled(conn, 3, new Promise<void>((r) => finish = r));
  records.received(conn, 4);
  records.handled(conn, 4, undefined); // sync, but behind 3: the mark is a high-water mark
  records.received(conn, 5);
  records.handled(conn, 5, Promise.reject(new Error("failed: reported by the router")));
  assert.equal(records.unwritten(conn), null, "nothing recorded at once");
  await settle();
  assert.deepEqual(marks, []);
  finish();
  await settle();
  assert.deepEqual(marks, [3, 4, 5]);
  records.received(conn, 6);
  records.handled(conn, 6, undefined);
  assert.deepEqual(marks, [3, 4, 5, 6], "nothing waiting: at once again");
});

Deno.test("inbound records: a handler that never settles holds its records HANDLER_WAIT_MS at most", async () => {
  const { clock, marks, records, conn } = setup();
  records.received(conn, 3);
  records.handled(conn, 3, new Promise(() => {}));
  records.received(conn, 4);
  records.handled(conn, 4, undefined);
  await settle();
  clock.tick(HANDLER_WAIT_MS - 1);
  await settle();
  assert.deepEqual(marks, []);
  clock.tick(1);
  await settle();
  assert.deepEqual(marks, [3, 4]);
});

Deno.test("inbound records: a closed connection's waiting records are still written", async () => {
  const { marks, records, conn } = setup();
  let finish!: () => void;
  records.received(conn, 3);
  records.handled(conn, 3, new Promise<void>((r) => finish = r));
  records.detach(conn);
  assert.equal(records.received(conn, 3), true, "not resuming any more: not deduplicated here");
  finish();
  await settle();
  assert.deepEqual(marks, [3]);
});

Deno.test("inbound records: the session's next connection on this node takes over what still waits", async () => {
  const { marks, acks, records, conn } = setup();
  let finish!: () => void;
  records.received(conn, 3);
  records.handled(conn, 3, new Promise<void>((r) => finish = r));
  records.detach(conn);
  // The client reconnects here before the handler settled: the store's ack (2) is behind.
  const conn2 = {
    send: (m: { events: [string, { seq: number }][] }) => acks.push(-m.events[0][1].seq),
  };
  records.attach(conn2 as unknown as Connection, "u", "0123456789abcdef", 2);
  assert.equal(records.received(conn2 as unknown as Connection, 3), false, "accepted here already");
  assert.equal(records.received(conn2 as unknown as Connection, 4), true);
  records.handled(conn2 as unknown as Connection, 4, undefined);
  await settle();
  assert.deepEqual(marks, [], "4 waits behind 3");
  finish();
  await settle();
  assert.deepEqual(marks, [3, 4]);
  assert.deepEqual(acks, [-3, -4], "acknowledged on the new connection");
});
