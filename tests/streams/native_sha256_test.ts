import assert from "node:assert/strict";
import fc from "fast-check";
import { nativeSha256 } from "../../lib/streams/native_sha256.ts";
import { jsSha256, Sha256, sha256 } from "../../lib/streams/sha256.ts";
import type { HashFactory } from "../../lib/streams/sha256.ts";
import { bytes } from "./_pair.ts";

function native(): HashFactory {
  const factory = nativeSha256();
  assert.ok(factory, "Deno has process.getBuiltinModule('node:crypto')");
  return factory;
}

/** Feeds `data` to a fresh hash of `factory`, cut at `cuts` (sorted offsets). */
function digest(factory: HashFactory, data: Uint8Array, cuts: number[]): Uint8Array {
  const hash = factory();
  let at = 0;
  for (const cut of [...cuts, data.byteLength]) {
    hash.update(data.subarray(at, cut));
    at = cut;
  }
  return hash.digest();
}

Deno.test("nativeSha256() is found on Deno, and sha256 (the default) is it, not the JavaScript one", () => {
  native();
  assert.ok(!(sha256() instanceof Sha256), "the default is the native hash");
  assert.ok(jsSha256() instanceof Sha256);
});

Deno.test("nativeSha256() and Sha256 give equal digests on random inputs and random splits", async () => {
  const factory = native();
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      async (data, rawCuts) => {
        const cuts = rawCuts.map((c) => c % (data.byteLength + 1)).sort((a, b) => a - b);
        const js = digest(jsSha256, data, cuts);
        const nat = digest(factory, data, cuts);
        assert.deepEqual(nat, js);
        assert.equal(Object.getPrototypeOf(nat), Uint8Array.prototype, "a plain Uint8Array");
        const whole = new Uint8Array(
          await crypto.subtle.digest("SHA-256", new Uint8Array(data)),
        );
        assert.deepEqual(js, whole);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("nativeSha256() equals Sha256 on 1 MiB fed in uneven pieces around block edges", () => {
  const data = bytes(1 << 20, 7);
  const cuts: number[] = [];
  for (let at = 0, k = 1; at < data.byteLength; at += k, k = (k * 13) % 70_001 + 63) cuts.push(at);
  assert.deepEqual(digest(native(), data, cuts), digest(jsSha256, data, cuts));
});

Deno.test("nativeSha256() is undefined without process.getBuiltinModule (a browser)", () => {
  const g = globalThis as { process?: unknown };
  const saved = Object.getOwnPropertyDescriptor(globalThis, "process");
  try {
    Object.defineProperty(globalThis, "process", { value: undefined, configurable: true });
    assert.equal(nativeSha256(), undefined);
    Object.defineProperty(globalThis, "process", {
      value: { getBuiltinModule: () => undefined },
      configurable: true,
    });
    assert.equal(nativeSha256(), undefined);
    Object.defineProperty(globalThis, "process", {
      value: {
        getBuiltinModule: () => {
          throw new Error("polyfill");
        },
      },
      configurable: true,
    });
    assert.equal(nativeSha256(), undefined);
  } finally {
    if (saved) Object.defineProperty(globalThis, "process", saved);
    else delete g.process;
  }
  native();
});

Deno.test("importing the server and the client does not load node:crypto (only the first hash does)", async () => {
  // Loading node:crypto starts Deno's Node layer, which slowed the Hub's fan-out yields on Deno
  // (lib/streams/sha256.ts): a fresh process records every getBuiltinModule call.
  const root = new URL("../../", import.meta.url).href;
  const code = `
    const calls = [];
    const real = globalThis.process.getBuiltinModule.bind(globalThis.process);
    globalThis.process.getBuiltinModule = (id) => (calls.push(id), real(id));
    const { createServer } = await import("${root}server.ts");
    await import("${root}client.ts");
    await import("${root}client_streams.ts");
    const server = createServer();
    console.log(JSON.stringify(calls));
    const { sha256 } = await import("${root}lib/streams/sha256.ts");
    sha256().update(new Uint8Array(1));
    console.log(JSON.stringify(calls));
    await server.close?.();
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    stdout: "piped",
    stderr: "inherit",
  })
    .output();
  assert.equal(out.code, 0);
  const [atImport, afterHash] = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(atImport, []);
  assert.deepEqual(afterHash, ["node:crypto"]);
});
