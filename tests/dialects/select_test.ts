import assert from "node:assert/strict";
import { type DialectConfig, originalClientId, selectDialect } from "../../lib/dialects/select.ts";
import { originalDialect, originalPacker } from "../../lib/dialects/original.ts";
import { senteDialect } from "../../lib/dialects/sente.ts";
import { senteLiteDialect } from "../../lib/dialects/sente_lite.ts";
import { ednPacker } from "../../lib/packers/edn.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { Hub } from "../../lib/server/hub.ts";
import { resolveServerOptions } from "../../lib/server/options.ts";

const edn = ednPacker();
const all: DialectConfig = { sente: { packer: edn }, original: true };
const none: DialectConfig = { sente: false, original: false };
const q = (s: string) => new URLSearchParams(s);
const fixedId = () => "original-1";

Deno.test("selectDialect() serves a query without client-id in the original dialect when enabled", () => {
  assert.deepEqual(selectDialect(q(""), all, fixedId), {
    dialect: originalDialect,
    clientId: "original-1",
    packer: originalPacker,
  });
  assert.equal(selectDialect(q(""), none), null);
  assert.equal(selectDialect(q("packer=json"), none), null);
});

Deno.test("selectDialect() serves client-id without packer in the Sente dialect when enabled", () => {
  assert.deepEqual(selectDialect(q("client-id=tab-1&csrf-token=x"), all), {
    dialect: senteDialect,
    clientId: "tab-1",
    packer: edn,
  });
  assert.deepEqual(selectDialect(q("client-id=tab-1"), none), {
    dialect: senteLiteDialect,
    clientId: "tab-1",
    packer: null,
  });
});

Deno.test("selectDialect() serves client-id with packer as sente-lite, whatever is enabled", () => {
  for (const config of [all, none]) {
    assert.deepEqual(selectDialect(q("client-id=%20c1%20&packer=json"), config), {
      dialect: senteLiteDialect,
      clientId: "c1",
      packer: null,
    });
  }
});

Deno.test("selectDialect() refuses a blank or overlong client-id in every configuration", () => {
  for (const config of [all, none]) {
    assert.equal(selectDialect(q("client-id="), config), null);
    assert.equal(selectDialect(q("client-id=%20%20"), config), null);
    assert.equal(selectDialect(q(`client-id=${"x".repeat(129)}`), config), null);
    assert.ok(selectDialect(q(`client-id=${"x".repeat(128)}`), config));
  }
});

Deno.test("originalClientId() makes distinct original-<hex> ids", () => {
  const a = originalClientId();
  assert.match(a, /^original-[0-9a-f]{16}$/);
  assert.notEqual(a, originalClientId());
});

Deno.test("resolveServerOptions() defaults to Sente with EDN on and original off", () => {
  const { dialects } = resolveServerOptions();
  assert.equal(dialects.original, false);
  assert.ok(dialects.sente);
  assert.equal(dialects.sente.packer.name, "edn");
  assert.deepEqual(resolveServerOptions({ dialects: { sente: false } }).dialects, none);
  assert.deepEqual(resolveServerOptions({ dialects: { sente: { packer: jsonPacker } } }).dialects, {
    sente: { packer: jsonPacker },
    original: false,
  });
  const on = resolveServerOptions({ dialects: { original: true } }).dialects;
  assert.equal(on.original, true);
  assert.ok(on.sente);
});

Deno.test("resolveServerOptions() rejects bad dialect options with TypeError", () => {
  assert.throws(
    () => resolveServerOptions({ dialects: { original: "yes" as unknown as boolean } }),
    { name: "TypeError", message: /dialects\.original must be a boolean, got yes/ },
  );
  assert.throws(
    () => resolveServerOptions({ dialects: { sente: 1 as unknown as boolean } }),
    { name: "TypeError", message: /dialects\.sente must be a boolean or an object, got 1/ },
  );
  assert.throws(
    () => resolveServerOptions({ dialects: { sente: { packer: {} as typeof edn } } }),
    { name: "TypeError", message: /dialects\.sente\.packer must be a Packer/ },
  );
});

Deno.test("Hub.prepare() picks the dialect and its packer from the upgrade query", async () => {
  const hub = new Hub({ dialects: { original: true }, onError: () => {} });
  const prepare = async (query: string) => {
    const r = await hub.prepare(
      new Request(`http://127.0.0.1/chsk${query}`, { headers: { upgrade: "websocket" } }),
    );
    assert.ok(!(r instanceof Response), query);
    return r;
  };
  const original = await prepare("");
  assert.equal(original.dialect, originalDialect);
  assert.equal(original.packer, originalPacker);
  assert.match(original.clientId, /^original-/);
  const sente = await prepare("?client-id=tab-1");
  assert.equal(sente.dialect, senteDialect);
  assert.equal(sente.packer.name, "edn");
  const ours = await prepare("?client-id=tab-1&packer=json");
  assert.equal(ours.dialect, senteLiteDialect);
  assert.equal(ours.packer, jsonPacker);
  const closed = new Hub({ onError: () => {} });
  const refused = await closed.prepare(
    new Request("http://127.0.0.1/chsk", { headers: { upgrade: "websocket" } }),
  );
  assert.ok(refused instanceof Response);
  assert.equal(refused.status, 400);
});
