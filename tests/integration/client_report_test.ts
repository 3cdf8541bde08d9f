import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import { captureHandler } from "../../lib/telemetry/capture_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";
import { startServer, until } from "../_server.ts";

Deno.test("Client reports connecting, open, reconnect attempts (with code and delay) and close", async () => {
  const telemetry = new Telemetry({ minLevel: "debug" });
  const capture = captureHandler();
  telemetry.addHandler("capture", capture, { mode: "sync" });
  await using t = await startServer();
  const client = connect(t.url, {
    telemetry,
    reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
  });
  await client.ready;
  t.server.closeAll(1012, "restart");
  await until(
    () => capture.signals.some((s) => s.id === "sente-lite/client-reconnecting"),
    "reconnecting",
  );
  await until(() => client.state === "open", "reopened");
  client.close();
  await until(() => client.state === "closed", "closed");
  const ids = capture.signals.map((s) => s.id);
  for (const id of ["connecting", "open", "reconnecting", "closed"]) {
    assert.ok(ids.includes(`sente-lite/client-${id}`), `${id} in ${ids.join(", ")}`);
  }
  const rec = capture.signals.find((s) => s.id === "sente-lite/client-reconnecting")!;
  const data = rec.data as { code: number; retryInMs: number; attempt: number };
  assert.equal(data.code, 1012);
  assert.ok(data.retryInMs >= 0 && data.attempt >= 1, JSON.stringify(data));
  assert.equal(rec.level, "info");
  assert.ok(capture.signals.every((s) => s.ns === "sente-lite.client"));
});

Deno.test("Client without a telemetry option reports to ./telemetry's default instance once loaded", async () => {
  // Loading lib/telemetry/default.ts is what registers the default instance for clients.
  const { telemetry } = await import("../../lib/telemetry/default.ts");
  const capture = captureHandler();
  telemetry.addHandler("client-default", capture, { mode: "sync" });
  telemetry.setMinLevel("debug", { ns: "sente-lite.client" });
  try {
    await using t = await startServer();
    const client = connect(t.url);
    await client.ready;
    client.close();
    await until(() => client.state === "closed", "closed");
    const ids = capture.signals.filter((s) => s.ns === "sente-lite.client").map((s) => s.id);
    assert.ok(ids.includes("sente-lite/client-open"), ids.join(", "));
  } finally {
    telemetry.setMinLevel(undefined, { ns: "sente-lite.client" });
    await telemetry.removeHandler("client-default");
  }
});
