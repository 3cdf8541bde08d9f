import assert from "node:assert/strict";
import { rawPeer } from "../_peer.ts";
import { startServer, until } from "../_server.ts";
import { captureHandler } from "../../lib/telemetry/capture_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";

Deno.test("Hub reports connections, protocol errors, large messages, slow handlers and closes", async () => {
  const telemetry = new Telemetry({ minLevel: "debug" });
  const capture = captureHandler();
  telemetry.addHandler("capture", capture, { mode: "sync" });
  await using t = await startServer({
    telemetry,
    largeMessageBytes: 100,
    slowHandlerMs: 5,
    maxMessageBytes: 1000,
  });
  t.server.on("test/slow", () => {
    const end = performance.now() + 20;
    while (performance.now() < end) { /* block the loop on purpose */ }
    return "done";
  });
  t.server.on("test/throws", () => {
    throw new Error("kaput");
  });
  const { peer } = await rawPeer(t.url);
  peer.send("not json");
  await peer.next();
  peer.send(`[["test/slow","${"x".repeat(150)}"],"c1"]`);
  assert.equal(await peer.next(), `["done","c1"]`);
  peer.send(`[["test/throws",1],"c2"]`);
  await peer.next();
  peer.send(`[["test/slow","${"x".repeat(2000)}"],"c3"]`);
  assert.equal((await peer.closed()).code, 1009);
  await until(() => capture.signals.some((s) => s.id === "sente-lite/conn-close"), "close signal");
  const ids = capture.signals.map((s) => s.id);
  for (
    const id of [
      "sente-lite/conn-open",
      "sente-lite/protocol-error",
      "sente-lite/large-message",
      "sente-lite/slow-handler",
      "sente-lite/handler-error",
      "sente-lite/conn-close",
    ]
  ) assert.ok(ids.includes(id), `missing ${id} in ${ids.join(", ")}`);
  const fatal = capture.signals.find((s) =>
    s.id === "sente-lite/protocol-error" && s.level === "warn"
  );
  assert.equal((fatal?.data as { close: number }).close, 1009);
  assert.ok(capture.signals.every((s) => s.ns === "sente-lite.server"));
});
