import assert from "node:assert/strict";

const ROOT = new URL("../../lib/", import.meta.url);

/** The import specifiers of every .ts file in `lib/<dir>`. */
async function imports(dir: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const entry of Deno.readDir(new URL(`${dir}/`, ROOT))) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(`${dir}/${entry.name}`, ROOT));
    const specs = [...text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)].map((m) =>
      m[1]
    );
    out.set(entry.name, specs);
  }
  return out;
}

Deno.test("lib/server never imports lib/client (shared code lives lower, e.g. lib/util)", async () => {
  for (const [file, specs] of await imports("server")) {
    for (const spec of specs) assert.ok(!spec.includes("/client/"), `${file} imports ${spec}`);
  }
});

Deno.test("lib/adapters reach the server only through lib/server/socket.ts (no cycle)", async () => {
  for (const [file, specs] of await imports("adapters")) {
    for (const spec of specs) {
      if (spec.startsWith("../server/")) {
        assert.equal(spec, "../server/socket.ts", `${file} imports ${spec}`);
      }
    }
  }
});
