/**
 * Stream control frames from a peer that never reads, on real sockets (docs/security.md): a
 * RESUME or END about a stream the server does not hold is answered (CANCEL or END), answers are
 * written at once, and stream frames skipped the rate limits. A peer that sent such frames
 * without reading made the server hold every answer (measured on Deno: 250,000 RESUMEs, 8 MB
 * sent, and the server's RSS grew by 100 MB within a second; DATA frames for unknown streams,
 * which are not answered, grew it by 6 MB). Now END, CANCEL and RESUME each take a message of
 * `rateLimit.messages`; over it the frame is dropped unanswered, counted `rate-limited`, and
 * refusals without a pause close the connection (4029).
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import { encodeResume } from "../../lib/streams/frames.ts";
import { buildFrame } from "./_raw_ws.ts";
import { rawUpgrade } from "./_raw_upgrade.ts";
import { until } from "../_server.ts";

const BATCH = 10_000;

Deno.test("streams: RESUMEs of unknown streams from a peer that never reads are bounded by the message rate", async () => {
  let closed!: (code: number) => void;
  const closeCode = new Promise<number>((resolve) => closed = resolve);
  const server = createServer({
    onError: () => {},
    heartbeat: false,
    onClose: (_conn, code) => closed(code),
  });
  server.onStream("app/upload", (msg) => msg.stream.cancel());
  const handle = await server.serve({ port: 0 });
  const { status, conn } = await rawUpgrade(handle.port, "&packer=json", {
    "Sec-WebSocket-Protocol": "sente-lite, sente-lite.streams.s1",
  });
  try {
    assert.equal(status, 101);
    const size = buildFrame({ opcode: 2, payload: encodeResume(1, 0, 0, 0) }).length;
    const batch = new Uint8Array(size * BATCH);
    for (let i = 0; i < BATCH; i++) {
      batch.set(buildFrame({ opcode: 2, payload: encodeResume(2 * i + 1, 0, 0, 0) }), i * size);
    }
    // Write until the server closes (or stops reading), reading nothing back.
    for (let k = 0; k < 40 && server.stats().connections > 0; k++) {
      const wrote = await Promise.race([
        conn.write(batch).then(() => true, () => false),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
      ]);
      if (!wrote) break;
    }
    await until(() => server.stats().connections === 0, "the connection closed", 10_000);
    assert.equal(await closeCode, 4029);
    assert.equal(server.stats().errors["rate-limit-exceeded"], 1);
  } finally {
    conn.close();
    await handle.close();
  }
});
