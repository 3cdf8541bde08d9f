/**
 * `authenticate` rejects with `reject(4001 | 4003, reason)`: the upgrade is accepted and closed at
 * once with that code and reason (browsers never see an HTTP 401's status, only 1006), the
 * socket never becomes a connection, its slot is given back, and the client stops.
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { reject, Rejection } from "../../server.ts";
import { RawPeer } from "../_peer.ts";
import { startServer, until } from "../_server.ts";

function peerUrl(url: string, query: Record<string, string> = {}): string {
  const u = new URL(url);
  u.searchParams.set("client-id", crypto.randomUUID());
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.href;
}

const authenticate = (req: Request) => {
  const token = new URL(req.url).searchParams.get("token");
  if (token === "good") return "alice";
  if (token === "banned") throw reject(4003, "banned");
  return reject(4001, "token expired");
};

Deno.test("a rejected upgrade closes with the rejection's code and reason, and is no connection", async () => {
  const opened: string[] = [];
  await using t = await startServer({
    authenticate,
    maxConnections: 1,
    onOpen: (c) => void opened.push(c.id),
  });
  for (
    const [token, code, reason] of [["bad", 4001, "token expired"], ["banned", 4003, "banned"]]
  ) {
    const peer = new RawPeer(peerUrl(t.url, { token: token as string }));
    const close = await peer.closed();
    assert.equal(close.code, code);
    assert.equal(close.reason, reason);
    assert.equal(peer.frames.length, 0, "no handshake");
  }
  assert.deepEqual(opened, []);
  assert.equal(t.server.stats().errors["rejected-upgrade"], 2);
  // The slot is back: with maxConnections 1 a good client still gets in.
  await until(() => t.server.stats().pendingUpgrades === 0, "slots released");
  const good = new RawPeer(peerUrl(t.url, { token: "good", packer: "json" }));
  await good.opened;
  const handshake = JSON.parse(await good.next());
  assert.equal(handshake[0][0], "chsk/handshake");
  assert.equal(t.server.connections().length, 1);
  await good.close();
});

Deno.test("a client rejected with 4001 goes to failed after one attempt instead of retrying", async () => {
  let attempts = 0;
  await using t = await startServer({
    authenticate: (req) => {
      attempts++;
      return authenticate(req);
    },
  });
  const client = connect(t.url, {
    params: { token: "bad" },
    reconnect: { initialDelayMs: 10, maxDelayMs: 20, jitter: 0 },
    onError: () => {},
  });
  const states: { to: string; code?: number; reason: string }[] = [];
  client.on("chsk/state", (change) => void states.push(change as typeof states[number]));
  await assert.rejects(client.ready);
  assert.equal(client.state, "failed");
  assert.equal(attempts, 1);
  const failed = states.find((s) => s.to === "failed");
  assert.equal(failed?.code, 4001);
  assert.match(failed?.reason ?? "", /token expired/);
  client.close();
});

Deno.test("reject() takes only 4000–4499 codes and cuts long reasons", () => {
  assert.throws(() => reject(1000, "x"), RangeError);
  assert.throws(() => reject(4500, "x"), RangeError);
  const r = reject(4003, "é".repeat(100));
  assert.ok(r instanceof Rejection);
  assert.ok(new TextEncoder().encode(r.reason).length <= 123);
  assert.equal(reject().code, 4001);
});
