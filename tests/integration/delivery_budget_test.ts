/**
 * The delivery budget under attack, on real sockets (docs/delivery.md "Memory"): an anonymous
 * peer opens resume connections with fresh client ids one after another, subscribes each to a busy
 * public channel and leaves. Every parked session keeps the channel's messages; without a
 * server-wide budget they pile up to `maxSessions × maxBytes`. With `maxTotalBytes` the server
 * holds at most the budget, the largest parked sessions lose their oldest messages first, and every
 * session — the victim's and the attacker's — resumes with all its messages or an announced gap
 * whose size is exactly what is missing (and what `onDeliveryLoss` reported).
 */
import assert from "node:assert/strict";
import type { ResumeState } from "../../lib/protocol/handshake.ts";
import { type DeliveryLoss, ENTRY_BYTES, estimateBytes } from "../../lib/server/delivery.ts";
import { type RawPeer, resumingPeer } from "../_peer.ts";
import { startServer, type TestServer, until } from "../_server.ts";

const BUDGET = 256 * 1024;
const ATTACKERS = 50;
/** Channel messages published after each attacker leaves. */
const PER_ROUND = 5;
const PAD = "x".repeat(500);

interface Opened {
  peer: RawPeer;
  connId: string;
  resume: ResumeState;
}

/** Opens a sente-lite (JSON) raw peer asking to resume, and reads its handshake. */
async function open(t: TestServer, clientId: string, token?: string): Promise<Opened> {
  return await resumingPeer(t.url, { "client-id": clientId }, token);
}

/** Subscribes to `busy`, then leaves; resolves once the server has cleaned up the connection. */
async function park(t: TestServer, clientId: string): Promise<Opened> {
  const o = await open(t, clientId);
  o.peer.send('[["sente-lite/subscribe",{"channel-id":"busy"}],"cb1"]');
  await o.peer.nextJson(); // the subscribe reply
  await o.peer.close();
  await until(() => t.server.stats().connections === 0, "the server-side close");
  return o;
}

type Ev = [string, unknown];

/**
 * Resumes `o`'s session and reads its replay up to a `t/end` mark; returns the `n`s of the
 * channel messages replayed and the bytes the server charged for them.
 */
async function resume(t: TestServer, clientId: string, o: Opened) {
  const back = await open(t, clientId, o.resume.token!);
  t.server.sendTo(back.connId, "t/end");
  const ns: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 10_000; i++) {
    const [payload] = JSON.parse(await back.peer.next()) as [Ev[]];
    const [id, data] = payload[0];
    const inner = id === "sente-lite/msg" ? (data as { event: Ev }).event : payload[0];
    if (inner[0] === "t/end") {
      await back.peer.close();
      return { state: back.resume, ns, bytes };
    }
    assert.equal(inner[0], "sente-lite/channel-msg");
    ns.push((inner[1] as { data: { n: number } }).data.n);
    bytes += estimateBytes(inner) + ENTRY_BYTES;
  }
  throw new Error("no t/end within 10000 frames");
}

Deno.test("Delivery budget: parked resume sessions on a busy channel stay within maxTotalBytes; every loss is announced", async () => {
  const losses = new Map<string, number>();
  const onDeliveryLoss = (l: DeliveryLoss): void => {
    assert.equal(l.reason, "overflow");
    losses.set(l.clientId!, (losses.get(l.clientId!) ?? 0) + l.dropped);
  };
  await using t = await startServer({ delivery: { maxTotalBytes: BUDGET }, onDeliveryLoss });
  let published = 0;
  let maxHeld = 0;
  const publish = (k: number): void => {
    for (let i = 0; i < k; i++) {
      t.server.publish("busy", { n: ++published, p: PAD });
      maxHeld = Math.max(maxHeld, t.server.stats().deliveryBytes ?? Infinity);
    }
  };
  // The victim dropped first: it has been away the longest.
  const parked: { clientId: string; o: Opened; from: number }[] = [];
  parked.push({ clientId: "victim", o: await park(t, "victim"), from: published });
  publish(PER_ROUND);
  for (let i = 0; i < ATTACKERS; i++) {
    const clientId = `attacker-${i}-${crypto.randomUUID()}`;
    parked.push({ clientId, o: await park(t, clientId), from: published });
    publish(PER_ROUND);
  }
  // Every session resumes: all its messages, or an overflow gap of exactly the missing ones.
  let held = 0;
  for (const { clientId, o, from } of parked) {
    const { state, ns, bytes } = await resume(t, clientId, o);
    held += bytes;
    const all = published - from;
    const dropped = state.resumed ? 0 : state.gap?.dropped ?? -1;
    if (!state.resumed) assert.equal(state.gap?.reason, "overflow", clientId);
    assert.equal(dropped + ns.length, all, `${clientId}: kept + announced = sent`);
    assert.deepEqual(ns, Array.from({ length: ns.length }, (_, k) => from + dropped + 1 + k));
    assert.equal(losses.get(clientId) ?? 0, dropped, `${clientId}: each loss reported once`);
  }
  assert.ok(held <= BUDGET, `the parked sessions held ${held} bytes, budget ${BUDGET}`);
  assert.ok(maxHeld <= BUDGET, `stats().deliveryBytes reached ${maxHeld}, budget ${BUDGET}`);
  assert.ok(held > BUDGET / 2, `the attack filled the budget (${held})`);
  assert.ok(losses.size > 0);
});
