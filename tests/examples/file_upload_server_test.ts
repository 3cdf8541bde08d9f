/**
 * The file-upload example's server without a browser: its reply's SHA-256 is the stream's checked
 * digest when the client uploads with integrity, and the server's own hash when it does not.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { connect } from "../../client.ts";
import { clientStreams } from "../../client_streams.ts";
import { createFileUploadServer, type UploadReply } from "../../examples/file-upload/server.ts";

Deno.test("file-upload example: files/upload answers the SHA-256, with and without integrity", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sente-lite-file-upload-server-test-" });
  const { server } = createFileUploadServer({ dir });
  const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
  const client = connect(handle.url, { streams: clientStreams() });
  try {
    await client.ready;
    const body = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => (i * 7) >> 3);
    const expected = createHash("sha256").update(body).digest("hex");
    for (const integrity of [true, false]) {
      const reply = await client.upload("files/upload", body, { integrity }) as UploadReply;
      assert.equal(reply.bytes, body.byteLength);
      assert.equal(reply.sha256, expected);
      assert.deepEqual(await Deno.readFile(`${dir}/${reply.id}`), body);
    }
  } finally {
    client.close();
    await handle.close();
    await Deno.remove(dir, { recursive: true });
  }
});
