/** The checked SHA-256 of a stream, exposed to its receiver: `msg.sha256` and `download().sha256`. */
import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import { clientStreams } from "../../lib/client/streams.ts";
import { sha256, toHex } from "../../lib/streams/sha256.ts";
import { startServer } from "../_server.ts";

function bytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 255;
  return out;
}

function hexOf(data: Uint8Array): string {
  const h = sha256();
  h.update(data);
  return toHex(h.digest());
}

Deno.test("StreamMessage.sha256 resolves with the upload's checked digest, undefined without integrity", async () => {
  await using t = await startServer();
  t.server.onStream("app/upload", async (msg) => {
    let n = 0;
    for await (const chunk of msg.stream) n += chunk.byteLength;
    return { n, sha256: await msg.sha256 ?? null };
  });
  const client = connect(t.url, { streams: clientStreams() });
  try {
    await client.ready;
    const body = bytes(3 * 1024 * 1024 + 7);
    const checked = await client.upload("app/upload", body, { integrity: true });
    assert.deepEqual(checked, { n: body.byteLength, sha256: hexOf(body) });
    const plain = await client.upload("app/upload", body);
    assert.deepEqual(plain, { n: body.byteLength, sha256: null });
  } finally {
    client.close();
  }
});

Deno.test("client.download() has the checked digest as sha256 when the server sets downloadIntegrity", async () => {
  const body = bytes(2 * 1024 * 1024 + 3);
  for (const downloadIntegrity of [true, false]) {
    await using t = await startServer({ streams: { downloadIntegrity } });
    t.server.on("app/file", () => body);
    const client = connect(t.url, { streams: clientStreams() });
    try {
      await client.ready;
      const readable = await client.download("app/file");
      const reader = readable.getReader({ mode: "byob" });
      let n = 0;
      let buffer = new ArrayBuffer(100_000);
      for (;;) {
        const { value, done } = await reader.read(new Uint8Array(buffer));
        if (done) break;
        n += value.byteLength;
        buffer = value.buffer;
      }
      assert.equal(n, body.byteLength);
      assert.equal(await readable.sha256, downloadIntegrity ? hexOf(body) : undefined);
    } finally {
      client.close();
    }
  }
});
