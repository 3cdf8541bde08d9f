/**
 * The browser bundle budget: an app that uses connect/request/on/subscribe must stay at or under
 * 12 KB minified + gzipped (wire transforms and telemetry are opt-in imports, so they are not in
 * it); the same app with every opt-in is built too and its size reported.
 */
import assert from "node:assert/strict";
import { kb, minifiedBundle } from "../../scripts/bundle.ts";
import { PROTOCOL_ERRORS } from "../../lib/protocol/error_table.ts";
import { CLOSE_CODES } from "../../lib/protocol/close_code_table.ts";

/** The budget of the minimal app, minified + gzipped. */
const BUDGET_GZ = 12 * 1024;
/** Code that only the opt-in parts contain (compression, chunking, telemetry handlers). */
const OPT_IN_MARKERS = ["CompressionStream", "chunk", "sente-lite/batch", "addHandler"];
/**
 * Text an app that does not import the tables never reads: the protocol error and close code
 * descriptions stay out of its bundle.
 */
const SERVER_ONLY_MARKERS = [
  PROTOCOL_ERRORS["unpack-failed"].description,
  CLOSE_CODES[4409].description,
];
/** Code that only the opt-in streams contain. */
const STREAM_MARKER = "stream-resume-failed";

Deno.test("the minimal client app bundles to at most 12 KB min+gz, without opt-in code", async () => {
  const { code, size } = await minifiedBundle(new URL("./_minimal_app.ts", import.meta.url));
  console.log(
    `minimal app (connect/request/on/subscribe): ${kb(size.min)} min, ${kb(size.gz)} min+gz`,
  );
  assert.ok(size.gz <= BUDGET_GZ, `${size.gz} bytes min+gz, over the ${BUDGET_GZ} budget`);
  for (const marker of [...OPT_IN_MARKERS, STREAM_MARKER, ...SERVER_ONLY_MARKERS]) {
    assert.ok(!code.includes(marker), `the minimal bundle contains ${JSON.stringify(marker)}`);
  }
});

Deno.test("the client app with every opt-in (wire transforms, telemetry) bundles; size reported", async () => {
  const wire = await minifiedBundle(new URL("./_wire_app.ts", import.meta.url));
  console.log(`app with wire: ${kb(wire.size.min)} min, ${kb(wire.size.gz)} min+gz`);
  const { code, size } = await minifiedBundle(new URL("./_full_app.ts", import.meta.url));
  console.log(`app with wire + telemetry: ${kb(size.min)} min, ${kb(size.gz)} min+gz`);
  for (const marker of OPT_IN_MARKERS) {
    assert.ok(code.includes(marker), `the full bundle lacks ${JSON.stringify(marker)}`);
  }
});

Deno.test("the client app with streams (./client/streams) bundles; size reported", async () => {
  const { code, size } = await minifiedBundle(new URL("./_streams_app.ts", import.meta.url));
  console.log(`app with streams: ${kb(size.min)} min, ${kb(size.gz)} min+gz`);
  assert.ok(code.includes(STREAM_MARKER), "the streams bundle lacks the streams code");
});
