/**
 * The README's examples work as printed: the short server-and-client example runs and exits by
 * itself, and the typed-events example type-checks (its marked line is the one type error).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const README = await Deno.readTextFile(new URL("README.md", ROOT));

/** The fenced `ts` blocks of the README section titled `heading`. */
function blocks(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const end = README.indexOf("\n## ", start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** Points the package's import names at this checkout. */
function local(code: string): string {
  return code.replace(
    /"@sente-lite\/sente-lite(\/[a-z/]+)?"/g,
    (_, sub: string | undefined) =>
      JSON.stringify(
        new URL(sub === undefined ? "mod.ts" : `${sub.slice(1).replace("/", "_")}.ts`, ROOT).href,
      ),
  );
}

async function deno(args: string[], file: string): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, file],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Bounded: a program that does not exit is killed, and the test fails on its exit code.
  const timer = setTimeout(() => child.kill(), 60_000);
  try {
    return await child.output();
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("README: the server-and-client example prints its results and exits by itself", async () => {
  const [code] = blocks("A server and a client in a dozen lines");
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, local(code));
    const out = await deno(["run", "-A", "--no-check"], file);
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /alice \{ hi: 1 \}/);
    assert.match(text, /lobby: welcome/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("README: the typed-events example type-checks, but for its marked error", async () => {
  const [map, use] = blocks("Typed events");
  const marked = "// type error: not a client→server event";
  assert.ok(use.includes(marked));
  const program = [
    'import { createServer } from "@sente-lite/sente-lite/server";',
    'import { connect } from "@sente-lite/sente-lite/client";',
    map,
    "declare const url: string;",
    use.replace(/^(.*)\/\/ type error: not a client→server event$/m, "// @ts-expect-error\n$1"),
  ].join("\n");
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, local(program));
    const out = await deno(["check"], file);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Deno.remove(file);
  }
});
