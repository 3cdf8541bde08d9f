/**
 * A client id is no credential (docs/PROTOCOL.md §7, §8): on real sockets, a peer that presents
 * someone else's client id — with resume parameters and no token or a wrong one, or without
 * resume, anonymous or under the same uid — gets a fresh session, none of the owner's buffered
 * messages, and leaves the owner's connection open. The owner's token still resumes.
 */
import assert from "node:assert/strict";
import { resumeProtocol } from "../../lib/protocol/resume_token.ts";
import type { ResumeState } from "../../lib/protocol/handshake.ts";
import { connect, type Handshake } from "../../client.ts";
import { captureHandler } from "../../lib/telemetry/capture_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";
import { RawPeer } from "../_peer.ts";
import { startServer, type TestServer, until } from "../_server.ts";

interface Opened {
  peer: RawPeer;
  connId: string;
  resume: ResumeState | undefined;
}

interface Upgrade {
  /** `resume=<n>`; absent: no resume parameter. */
  resume?: number;
  /** A resume token to offer as the `sente-lite.resume.<token>` subprotocol. */
  token?: string;
  /** The `uid` query parameter read by the test's `authenticate`. */
  uid?: string;
}

/** Opens a sente-lite (JSON) raw peer and reads its handshake. */
async function open(t: TestServer, clientId: string, up: Upgrade = {}): Promise<Opened> {
  const u = new URL(t.url);
  u.searchParams.set("client-id", clientId);
  u.searchParams.set("packer", "json");
  if (up.resume !== undefined) u.searchParams.set("resume", String(up.resume));
  if (up.uid !== undefined) u.searchParams.set("uid", up.uid);
  const peer = new RawPeer(
    u.href,
    up.token === undefined ? undefined : ["sente-lite", resumeProtocol(up.token)],
  );
  await peer.opened;
  type Data = { "sente-lite": { "conn-id": string; resume?: ResumeState } };
  const [[id, [, , data]]] = await peer.nextJson() as [[string, [string, null, Data]]];
  assert.equal(id, "chsk/handshake");
  const info = data["sente-lite"];
  return { peer, connId: info["conn-id"], resume: info.resume };
}

/** The inner events of the push frames in `frames` (sequenced ones unwrapped). */
/** An event as read: `[id, data]`. */
type Ev = [string, { n?: number; event?: Ev } | null];

function events(frames: string[]): Ev[] {
  const out: Ev[] = [];
  for (const f of frames) {
    const [payload] = JSON.parse(f);
    if (!Array.isArray(payload) || !Array.isArray(payload[0])) continue;
    for (const ev of payload as Ev[]) {
      out.push(ev[0] === "sente-lite/msg" ? ev[1]!.event! : ev);
    }
  }
  return out;
}

/** Reads frames until one carries the event `mark`; returns every event read (bounded). */
async function readToMark(peer: RawPeer, mark = "t/mark"): Promise<Ev[]> {
  const frames: string[] = [];
  for (let i = 0; i < 1000; i++) {
    frames.push(await peer.next());
    if (events(frames.slice(-1)).some(([id]) => id === mark)) return events(frames);
  }
  throw new Error(`no ${mark} within 1000 frames`);
}

/** The `n`s of `t/n` events. */
const ns = (evs: Ev[]): number[] => evs.filter(([id]) => id === "t/n").map(([, d]) => d!.n!);

/**
 * The owner opens a resume session and holds 5 unacknowledged messages; each intruder then
 * connects with the owner's client id. None may read them or disturb the owner.
 */
async function attack(t: TestServer, uid: string | undefined, intruders: Upgrade[]): Promise<void> {
  const clientId = "victim-" + crypto.randomUUID();
  const owner = await open(t, clientId, { resume: 0, uid });
  assert.equal(owner.resume?.resumed, false);
  for (let n = 1; n <= 5; n++) t.server.sendTo(owner.connId, "t/n", { n });
  t.server.sendTo(owner.connId, "t/mark");
  assert.deepEqual(ns(await readToMark(owner.peer)), [1, 2, 3, 4, 5]);
  // A forged token: the owner's session id with a made-up secret.
  const forged = (owner.resume?.token ?? "").slice(0, 16) + "0".repeat(32);
  let next = 6;
  for (const up of intruders) {
    const token = up.token === "forged" ? forged : up.token;
    const intruder = await open(t, clientId, { ...up, token });
    if (up.resume !== undefined) {
      assert.equal(intruder.resume?.resumed, false, `resumed for ${JSON.stringify(up)}`);
      assert.equal(intruder.resume?.seq, 0, "a fresh session");
      assert.notEqual(intruder.resume?.token, owner.resume?.token);
    } else {
      assert.equal(intruder.resume, undefined);
    }
    t.server.sendTo(intruder.connId, "t/mark");
    assert.deepEqual(ns(await readToMark(intruder.peer)), [], "the owner's messages");
    // The owner is not superseded: still open, still receiving, in sequence.
    t.server.sendTo(owner.connId, "t/n", { n: next });
    t.server.sendTo(owner.connId, "t/mark");
    assert.deepEqual(ns(await readToMark(owner.peer)), [next]);
    assert.equal(owner.peer.closeEvent, null, "the owner was closed");
    next++;
    await intruder.peer.close();
  }
  // The owner's own token still resumes, with everything it had not acknowledged.
  assert.match(owner.resume?.token ?? "", /^[0-9a-f]{48}$/, "the handshake issues a token");
  await owner.peer.close();
  const back = await open(t, clientId, { resume: 3, token: owner.resume!.token!, uid });
  assert.equal(back.resume?.resumed, true);
  assert.notEqual(back.resume?.token, owner.resume?.token, "the token rotates");
  t.server.sendTo(back.connId, "t/end");
  const missed = Array.from({ length: next - 4 }, (_, i) => 4 + i);
  assert.deepEqual(ns(await readToMark(back.peer, "t/end")), missed);
  await back.peer.close();
}

Deno.test("Resume: an anonymous peer with the owner's client id and no or a wrong token gets a fresh session, not the owner's", async () => {
  await using t = await startServer();
  await attack(t, undefined, [
    { resume: 0 },
    { resume: 5 },
    { resume: 0, token: "forged" },
    { resume: 5, token: "forged" },
  ]);
});

Deno.test("Resume: the same uid's other connection with the owner's client id and no or a wrong token gets a fresh session", async () => {
  await using t = await startServer({
    authenticate: (request) => new URL(request.url).searchParams.get("uid"),
  });
  await attack(t, "alice", [
    { resume: 0, uid: "alice" },
    { resume: 0, token: "forged", uid: "alice" },
  ]);
});

Deno.test("Resume: a stolen token does not open the session under another uid; telemetry warns, never shows a token", async () => {
  const telemetry = new Telemetry({ minLevel: "debug" });
  const capture = captureHandler();
  telemetry.addHandler("capture", capture, { mode: "sync" });
  await using t = await startServer({
    telemetry,
    authenticate: (request) => new URL(request.url).searchParams.get("uid"),
  });
  const owner = await open(t, "c1", { resume: 0, uid: "alice" });
  t.server.sendTo(owner.connId, "t/n", { n: 1 });
  const thief = await open(t, "c1", { resume: 0, token: owner.resume!.token!, uid: "mallory" });
  assert.equal(thief.resume?.resumed, false);
  assert.deepEqual(thief.resume?.gap, { reason: "unknown", dropped: null });
  t.server.sendTo(thief.connId, "t/mark");
  assert.deepEqual(ns(await readToMark(thief.peer)), []);
  assert.equal(owner.peer.closeEvent, null);
  const denied = capture.signals.filter((s) => s.id === "sente-lite/resume-denied");
  assert.equal(denied.length, 1);
  assert.equal((denied[0].data as { uid: string }).uid, "mallory");
  await thief.peer.close();
  await owner.peer.close();
  const told = JSON.stringify(capture.signals.map((s) => s.data));
  for (const token of [owner.resume!.token!, thief.resume!.token!]) {
    assert.ok(!told.includes(token), "a resume token in telemetry");
  }
});

Deno.test("A peer reusing a live client id without resume neither supersedes nor reads the owner", async () => {
  await using t = await startServer();
  await attack(t, undefined, [{}, {}]);
});

Deno.test("connect() offers the newest resume token on each reconnect and resumes with it", async () => {
  await using t = await startServer({
    authenticate: (request) => new URL(request.url).searchParams.get("uid"),
  });
  const offered: (string[] | undefined)[] = [];
  class Spy extends WebSocket {
    constructor(u: string | URL, p?: string | string[]) {
      super(u, p);
      offered.push(typeof p === "string" ? [p] : p);
    }
  }
  const handshakes: Handshake[] = [];
  const client = connect(t.url, {
    params: { uid: "u1" },
    WebSocket: Spy,
    reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 },
    onError: () => {},
  });
  client.on("chsk/handshake", (h) => void handshakes.push(h as Handshake));
  await client.ready;
  for (let drop = 1; drop <= 2; drop++) {
    t.server.closeUid("u1", 1012, "restart");
    await until(() => handshakes.length === drop + 1, `reconnect ${drop}`);
  }
  const tokens = handshakes.map((h) => h.server?.resume?.token);
  assert.equal(new Set(tokens).size, 3, "a new token in every handshake");
  assert.equal(offered[0], undefined, "the first upgrade has no token to offer");
  for (let i = 1; i < handshakes.length; i++) {
    assert.deepEqual(offered[i], ["sente-lite", resumeProtocol(tokens[i - 1]!)]);
    assert.equal(handshakes[i].server?.resume?.resumed, true);
  }
  client.close();
  await until(() => client.state === "closed", "closed");
});
