/**
 * `deno task …` works both ways a user runs it: with Deno on PATH and no npm install at all, and
 * through `npx deno task …` after `npm ci` (npm's Deno, a binary in node_modules/.bin, which
 * `deno task` would run as JavaScript if a task named `deno` bare, so tasks call scripts/deno).
 */
import assert from "node:assert/strict";
import { firstExisting, ignoreWithoutTool, requireTool } from "../_util.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const NPX = firstExisting(
  (Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/npx`),
);
/** Bound on one task run (a cold Deno start on a busy machine). */
const RUN_MS = 60_000;
/** What `deno task demo --help` prints first. */
const DEMO_HELP = "sente-lite demo server";

async function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; clearEnv?: boolean },
): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    ...options,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_MS),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { ok: out.success, out: text };
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test("every task calls scripts/deno, never a bare deno or node_modules/.bin/deno", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  for (const [name, command] of Object.entries(tasks as Record<string, string>)) {
    for (const step of command.split("&&").map((s) => s.trim())) {
      assert.ok(step.startsWith("./scripts/deno "), `task ${name}: ${JSON.stringify(step)}`);
    }
  }
});

Deno.test("deno task works with Deno on PATH in a clone where npm never ran", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sente-lite-deno-only-" });
  try {
    // A clone without node_modules: what `deno task demo` needs to run.
    for (const file of Deno.readDirSync(ROOT)) {
      if (file.isFile && /\.(ts|json)$/.test(file.name) && file.name !== "package-lock.json") {
        await Deno.copyFile(`${ROOT}/${file.name}`, `${dir}/${file.name}`);
      }
    }
    await copyTree(`${ROOT}/lib`, `${dir}/lib`);
    await copyTree(`${ROOT}/scripts`, `${dir}/scripts`);
    await Deno.chmod(`${dir}/scripts/deno`, 0o755);
    // PATH: a directory holding only a `deno` symlink to this Deno, then the system's tools.
    await Deno.mkdir(`${dir}/.path`);
    await Deno.symlink(Deno.execPath(), `${dir}/.path/deno`);
    const env = { PATH: `${dir}/.path:/usr/bin:/bin`, HOME: Deno.env.get("HOME") ?? "/tmp" };
    const denoDir = Deno.env.get("DENO_DIR");
    const r = await run(`${dir}/.path/deno`, ["task", "demo", "--help"], {
      cwd: dir,
      env: denoDir ? { ...env, DENO_DIR: denoDir } : env,
      clearEnv: true,
    });
    assert.ok(r.ok && r.out.includes(DEMO_HELP), `deno task demo --help:\n${r.out}`);
    assert.ok(!r.out.includes("SyntaxError"), r.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "npx deno task works after npm ci (npm's Deno binary in node_modules/.bin)",
  ignore: ignoreWithoutTool("npx", NPX),
  async fn() {
    const npx = requireTool("npx", NPX, "install Node.js and npm");
    const r = await run(npx, ["--no-install", "deno", "task", "demo", "--help"], { cwd: ROOT });
    assert.ok(r.ok && r.out.includes(DEMO_HELP), `npx deno task demo --help:\n${r.out}`);
  },
});
