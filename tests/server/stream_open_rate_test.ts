/**
 * `rateLimit.messages` against stream OPENs, on real sockets (docs/security.md): stream frames
 * skip the rate limits (credit bounds their bytes), so a client with streams could OPEN and CANCEL
 * uploads in a loop: each OPEN unpacks its metadata and runs `authorizeEvent` and the app's
 * `onStream` handler, and `maxIncomingStreams` bounds only how many are open at once (measured:
 * a bucket of 20 messages let 500 of 500 OPENs through to the handler). Now an OPEN costs one
 * message of `rateLimit.messages`: past it the stream is refused (`stream-limit`, "over the
 * message rate") before any of that, counted `rate-limited`, and refusals without a pause
 * close the connection (4029) as for events.
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import { decodeStreamFrame, encodeCancel, encodeOpen } from "../../lib/streams/frames.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { RawPeer } from "../_peer.ts";
import { until } from "../_server.ts";

const BURST = 20;
const OPENS = 500;

Deno.test("rateLimit.messages: stream OPENs count against the message rate", async () => {
  const clock = new VirtualClock(); // no refill: only the burst
  const server = createServer({
    clock,
    heartbeat: false,
    onError: () => {},
    rateLimit: { messages: { perSecond: 1, burst: BURST }, maxViolations: 1000 },
  });
  let handled = 0;
  server.onStream("app/upload", (msg) => {
    handled++;
    return msg.stream.cancel();
  });
  const handle = await server.serve({ port: 0 });
  const u = new URL(handle.url);
  u.searchParams.set("client-id", crypto.randomUUID());
  u.searchParams.set("packer", "json");
  const peer = new RawPeer(u.href, ["sente-lite", "sente-lite.streams.s1"]);
  const codes: string[] = [];
  try {
    await peer.opened;
    assert.match(await peer.next(), /"streams"/);
    peer.ws.addEventListener("message", (e) => {
      if (!(e.data instanceof ArrayBuffer)) return;
      const f = decodeStreamFrame(new Uint8Array(e.data));
      if (f.type === "cancel") codes.push(f.code);
    });
    for (let i = 0; i < OPENS; i++) {
      const id = 2 * i + 1;
      peer.ws.send(encodeOpen(id, "app/upload", undefined, false, new Uint8Array()));
      peer.ws.send(encodeCancel(id, "stream-cancelled", "again"));
    }
    await until(() => server.stats().streams!.refused + handled >= OPENS, "every OPEN answered");
    assert.ok(handled <= BURST, `${handled} of ${OPENS} OPENs reached the handler`);
    // Its CANCELs count too (each takes a message as well), over the rate as its OPENs.
    assert.equal(server.stats().errors["rate-limited"], 2 * (OPENS - handled));
    await until(
      () => codes.filter((c) => c === "stream-limit").length === OPENS - handled,
      "refusals",
    );
  } finally {
    peer.ws.close();
    await handle.close();
  }
});

Deno.test("rateLimit.messages: OPENs over the rate without a pause close the connection 4029", async () => {
  const clock = new VirtualClock();
  let closed!: (code: number) => void;
  const closeCode = new Promise<number>((resolve) => closed = resolve);
  const server = createServer({
    clock,
    heartbeat: false,
    onError: () => {},
    rateLimit: { messages: { perSecond: 1, burst: 5 }, maxViolations: 10 },
    onClose: (_conn, code) => closed(code),
  });
  server.onStream("app/upload", (msg) => msg.stream.cancel());
  const handle = await server.serve({ port: 0 });
  const u = new URL(handle.url);
  u.searchParams.set("client-id", crypto.randomUUID());
  u.searchParams.set("packer", "json");
  const peer = new RawPeer(u.href, ["sente-lite", "sente-lite.streams.s1"]);
  try {
    await peer.opened;
    await peer.next(); // the handshake
    for (let i = 0; i < 100; i++) {
      peer.ws.send(encodeOpen(2 * i + 1, "app/upload", undefined, false, new Uint8Array()));
    }
    assert.equal(await closeCode, 4029);
    assert.equal(server.stats().errors["rate-limit-exceeded"], 1);
  } finally {
    peer.ws.close();
    await handle.close();
  }
});
