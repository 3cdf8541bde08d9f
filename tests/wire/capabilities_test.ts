import assert from "node:assert/strict";
import {
  ALL_FEATURES,
  capabilityNames,
  negotiate,
  parseWireQuery,
  PLAIN,
  settingsFromHandshake,
  usesFlags,
  wireHandshakeEntry,
  wireQueryValue,
} from "../../lib/wire/capabilities.ts";
import type { WireFeatures } from "../../lib/wire/capabilities.ts";

const NONE: WireFeatures = { batching: false, compression: false, chunking: false };
const LIMITS = {
  compressThreshold: 512,
  chunkSize: 65536,
  maxChunks: 1000,
  maxAssembledBytes: 64 * 1024 * 1024,
};

Deno.test("wireQueryValue() lists features, formats in order of preference", () => {
  assert.equal(
    wireQueryValue(ALL_FEATURES),
    "batching,compression:deflate-raw,compression:gzip,chunking",
  );
  assert.equal(wireQueryValue(NONE), null);
  assert.deepEqual(parseWireQuery(wireQueryValue(ALL_FEATURES)), {
    batching: true,
    compression: ["deflate-raw", "gzip"],
    chunking: true,
  });
});

Deno.test("parseWireQuery() ignores unknown items and reads a bare compression as every format", () => {
  assert.deepEqual(parseWireQuery(" chunking , zstd,compression:brotli,compression,future"), {
    batching: false,
    compression: ["deflate-raw", "gzip"],
    chunking: true,
  });
  assert.deepEqual(parseWireQuery(""), NONE);
  assert.deepEqual(parseWireQuery(null), NONE);
});

Deno.test("negotiate() turns on a feature only when both sides want it (the matrix)", () => {
  const cases: [WireFeatures, WireFeatures | null, string][] = [
    [ALL_FEATURES, ALL_FEATURES, "batching,compression,chunking"],
    [ALL_FEATURES, NONE, ""],
    [NONE, ALL_FEATURES, ""],
    [ALL_FEATURES, null, ""], // a Sente peer or an older client: no wire parameter
    [{ ...ALL_FEATURES, chunking: false }, ALL_FEATURES, "batching,compression"],
    [ALL_FEATURES, { ...ALL_FEATURES, batching: false }, "compression,chunking"],
    [{ ...ALL_FEATURES, compression: false }, ALL_FEATURES, "batching,chunking"],
  ];
  for (const [server, client, expected] of cases) {
    const settings = negotiate(server, client && wireQueryValue(client));
    assert.equal(capabilityNames(settings).join(","), expected, JSON.stringify([server, client]));
  }
  assert.deepEqual(negotiate(ALL_FEATURES, null), PLAIN);
  assert.equal(usesFlags(PLAIN), false);
});

Deno.test("negotiate() picks the client's first format the server accepts", () => {
  const server = { ...ALL_FEATURES, compression: ["gzip", "deflate-raw"] as const };
  assert.equal(
    negotiate(server, "compression:deflate-raw,compression:gzip").compression,
    "deflate-raw",
  );
  assert.equal(negotiate(server, "compression:gzip").compression, "gzip");
  assert.equal(
    negotiate({ ...ALL_FEATURES, compression: ["gzip"] }, "compression:deflate-raw").compression,
    null,
  );
});

Deno.test("wireHandshakeEntry() is null when nothing was negotiated, else names the format and limits", () => {
  assert.equal(wireHandshakeEntry(PLAIN, LIMITS), null);
  assert.deepEqual(wireHandshakeEntry(negotiate(ALL_FEATURES, "compression:gzip"), LIMITS), {
    "compression": "gzip",
    "compress-threshold": 512,
    "chunk-size": 65536,
    "max-chunks": 1000,
    "max-assembled-bytes": 67108864,
  });
});

Deno.test("settingsFromHandshake() reads the server's answer, never turning on what was not offered", () => {
  const settings = negotiate(ALL_FEATURES, "batching,compression:gzip,chunking");
  const caps = ["channels", ...capabilityNames(settings)];
  const entry = wireHandshakeEntry(settings, LIMITS);
  assert.deepEqual(settingsFromHandshake(ALL_FEATURES, caps, entry), settings);
  assert.deepEqual(
    settingsFromHandshake({ ...ALL_FEATURES, batching: false }, caps, entry),
    { ...settings, batching: false },
  );
  // An older sente-lite server or a Sente server: no capabilities, no entry.
  assert.deepEqual(settingsFromHandshake(ALL_FEATURES, ["channels"], undefined), PLAIN);
});
