/**
 * The Bun side of `streams_bun_test.ts`: a server with an upload handler (`test/upload` replies
 * with the SHA-256 of the bytes) and a download handler (`test/download` returns `size` bytes of
 * the test pattern), printing `{"url", "runtime", "hash"}` as one JSON line once listening.
 */
import { createServer } from "../../server.ts";
import { Sha256, sha256 } from "../../lib/streams/sha256.ts";
import { pattern } from "./_stream_pattern.ts";

const server = createServer({ onError: () => {} });
server.onStream("test/upload", async (msg) => {
  const h = sha256();
  for await (const chunk of msg.stream) h.update(chunk);
  return Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
});
server.on("test/download", (msg) => pattern((msg.data as { size: number }).size));
const handle = await server.serve({ port: 0, hostname: "127.0.0.1" });
// `hash`: which SHA-256 the streams use by default here (native: node:crypto's).
const hash = sha256() instanceof Sha256 ? "js" : "native";
console.log(
  JSON.stringify({ url: handle.url, runtime: "Bun" in globalThis ? "bun" : "deno", hash }),
);
