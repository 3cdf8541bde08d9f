import assert from "node:assert/strict";
import { Connection } from "../../lib/server/connection.ts";
import type { ConnectionHost, PendingRequest } from "../../lib/server/connection.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { senteLiteDialect } from "../../lib/dialects/sente_lite.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";
import { ServerContext } from "../../lib/server/context.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import type { Frame } from "../../lib/packers/packer.ts";

function connection(): { c: Connection; sent: Frame[]; closes: number[] } {
  const ctx = new ServerContext(resolveServerOptions());
  const sent: Frame[] = [];
  const closes: number[] = [];
  const socket = {
    send: (f: Frame) => void sent.push(f),
    close: (code?: number) => void closes.push(code ?? 1005),
    bufferedAmount: 0,
  };
  const request = new Request("http://localhost/chsk?client-id=c1");
  const c = new Connection(
    "c",
    "u",
    "c1",
    request,
    jsonPacker,
    senteLiteDialect,
    socket,
    0,
    ctx.stats,
  );
  return { c, sent, closes };
}

Deno.test("Connection reads the defaults of its rarely used state until it is first set", () => {
  const { c } = connection();
  assert.equal(c.protocolErrors, 0);
  assert.equal(c.violations, 0);
  assert.equal(c.lastViolationAt, 0);
  assert.equal(c.nextCbId, 1);
  assert.equal(c.closeCode, null);
  assert.equal(c.channels.size, 0);
  assert.equal(c.pendingRequest("1"), undefined);
  assert.deepEqual(c.takePending(), []);
  c.protocolErrors++;
  c.violations = 2;
  c.lastViolationAt = 5;
  assert.equal(c.nextCbId++, 1);
  assert.deepEqual([c.protocolErrors, c.violations, c.lastViolationAt, c.nextCbId], [1, 2, 5, 2]);
  assert.ok(c.subscribe("room"));
  assert.equal(c.subscribe("room"), false);
  assert.deepEqual([...c.channels], ["room"]);
  c.unsubscribe("room");
  assert.equal(c.channels.size, 0);
  const pending = { cleanup: () => {} } as PendingRequest;
  c.addPending("1", pending);
  assert.equal(c.pendingRequest("1"), pending);
  assert.deepEqual(c.takePending(), [pending]);
  assert.equal(c.pendingRequest("1"), undefined);
  assert.equal(c.request.url, "http://localhost/chsk?client-id=c1");
});

Deno.test("Connection reports its socket's frames and close to its host, and bounds its close by the host's timeout", () => {
  const { c, closes } = connection();
  const clock = new VirtualClock();
  const seen: string[] = [];
  const host: ConnectionHost = {
    clock,
    closeTimeoutMs: 100,
    received: (conn, frame) => void seen.push(`${conn.id} got ${frame}`),
    socketClosed: (conn, code) => void seen.push(`${conn.id} closed ${code}`),
    closeSlow: () => {},
    closeTimedOut: (conn) => void seen.push(`${conn.id} timed out`),
  };
  c.received("x"); // outside a Hub: nowhere to go
  c.host = host;
  c.received("y");
  c.socketClosed(1000, "");
  c.close(4000, "bye");
  assert.deepEqual(closes, [4000]);
  assert.equal(c.closeCode, 4000);
  clock.tick(99);
  c.closeDone(); // the close completed: no timeout
  clock.tick(10);
  assert.deepEqual(seen, ["c got y", "c closed 1000"]);
  const other = connection();
  other.c.host = host;
  other.c.close(4000, "bye");
  clock.tick(100);
  assert.deepEqual(seen.at(-1), "c timed out");
});

Deno.test("Connection gives the upgrade URL back whole, though it keeps only the parts around the client id", () => {
  const ctx = new ServerContext(resolveServerOptions());
  const socket = { send: () => {}, close: () => {}, bufferedAmount: 0 };
  const clientId = "0a11515b-4114-4f99-a6ac-800c8ba61652";
  const url = `http://localhost/chsk?client-id=${clientId}&packer=json&resume=0&cseq=`;
  const c = new Connection(
    "c",
    "u",
    clientId,
    new Request(url),
    jsonPacker,
    senteLiteDialect,
    socket,
    0,
    ctx.stats,
  );
  assert.equal(c.request.url, url);
  assert.equal(c.info().request.url, url);
});
