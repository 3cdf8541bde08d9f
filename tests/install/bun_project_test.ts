/**
 * A Bun project outside the repository that depends on it by local path (`bun add <repo>`), as a
 * user's project would, and imports every documented entrypoint by its package name, then runs a
 * server and a client through them. Checks `package.json`'s `name`, `exports` and `files`.
 *
 * Needs Bun (`BUN_PATH`, else `node_modules/.bin/bun`, else `bun` on PATH) and the npm registry
 * (for the package's dependencies): skipped with a note when Bun is missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { firstExisting, ignoreWithoutTool, requireTool } from "../_util.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const BUN = firstExisting(
  Deno.env.get("BUN_PATH") !== undefined ? [Deno.env.get("BUN_PATH")] : [
    `${ROOT}/node_modules/.bin/bun`,
    ...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/bun`),
  ],
);
/** Bound on `bun add` (the dependencies come from the npm registry or Bun's cache). */
const INSTALL_MS = 180_000;
/** Bound on the app: start, one connection, a few round trips. */
const RUN_MS = 60_000;

/** Every entrypoint the README documents, by the name a user imports. */
const ENTRYPOINTS = [
  "@sente-lite/sente-lite",
  "@sente-lite/sente-lite/server",
  "@sente-lite/sente-lite/client",
  "@sente-lite/sente-lite/client/wire",
  "@sente-lite/sente-lite/telemetry",
  "@sente-lite/sente-lite/transit",
  "@sente-lite/sente-lite/edn",
  "@sente-lite/sente-lite/lifecycle",
  "@sente-lite/sente-lite/redis",
  "@sente-lite/sente-lite/ws",
];

const APP = `
${ENTRYPOINTS.map((name, i) => `import * as m${i} from "${name}";`).join("\n")}
import { createServer } from "@sente-lite/sente-lite/server";
import { connect } from "@sente-lite/sente-lite/client";
import { wireTransforms } from "@sente-lite/sente-lite/client/wire";
import { captureHandler, Telemetry } from "@sente-lite/sente-lite/telemetry";

const modules = [${ENTRYPOINTS.map((_, i) => `m${i}`).join(", ")}];
const server = createServer({ authenticate: (req) => new URL(req.url).searchParams.get("user") });
server.on("demo/echo", (msg) => msg.data);
const handle = await server.serve({ port: 0 });
const telemetry = new Telemetry({ minLevel: "debug" });
const capture = captureHandler();
telemetry.addHandler("capture", capture);
const plain = connect(handle.url, { params: { user: "bob" } });
const full = connect(handle.url, { params: { user: "alice" }, wire: wireTransforms(), telemetry });
const [a, b] = await Promise.all([full.ready, plain.ready]);
const pushed = new Promise((resolve) => full.on("demo/push", resolve));
let delivered;
const got = new Promise((resolve) => (delivered = resolve));
await plain.subscribe("room", (data) => delivered(data));
const reply = await full.request("demo/echo", { hi: 1 });
const plainReply = await plain.request("demo/echo", "x".repeat(5000));
server.send("alice", "demo/push", "pushed");
await full.publish("room", "hello room");
const result = {
  exports: modules.map((m) => Object.keys(m).length),
  uids: [a.uid, b.uid],
  reply,
  plainReplyLength: plainReply.length,
  push: await pushed,
  channel: await got,
  fullCaps: a.server.capabilities,
  plainWire: b.server.wire ?? null,
};
full.close();
plain.close();
await handle.close();
await telemetry.flush();
result.signals = capture.signals.length;
console.log("RESULT " + JSON.stringify(result));
`;

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { ok: out.success, out: text };
}

/** Makes a Bun project in a temp dir depending on `dependency`, runs {@linkcode APP}, checks it. */
async function consumer(bun: string, dependency: (dir: string) => Promise<string>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sente-lite-bun-project-" });
  try {
    assert.ok(!dir.startsWith(ROOT), `${dir} must be outside the repository`);
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    const dep = await dependency(dir);
    const add = await run(bun, ["add", dep], dir, INSTALL_MS);
    assert.ok(add.ok, `bun add ${dep} failed:\n${add.out}`);
    const pkg = JSON.parse(await Deno.readTextFile(`${dir}/package.json`));
    assert.ok("@sente-lite/sente-lite" in pkg.dependencies, JSON.stringify(pkg));

    await Deno.writeTextFile(`${dir}/app.ts`, APP);
    const app = await run(bun, ["app.ts"], dir, RUN_MS);
    assert.ok(app.ok, `the app failed:\n${app.out}`);
    const line = app.out.split("\n").find((l) => l.startsWith("RESULT "));
    assert.ok(line, `no RESULT line in:\n${app.out}`);
    const result = JSON.parse(line.slice("RESULT ".length));
    assert.equal(result.exports.length, ENTRYPOINTS.length);
    for (const [i, n] of result.exports.entries()) {
      assert.ok(n > 0, `${ENTRYPOINTS[i]} exports nothing`);
    }
    assert.deepEqual(result.uids, ["alice", "bob"]);
    assert.deepEqual(result.reply, { hi: 1 });
    assert.equal(result.plainReplyLength, 5000);
    assert.equal(result.push, "pushed");
    assert.equal(result.channel, "hello room");
    assert.ok(result.fullCaps.includes("compression"), JSON.stringify(result.fullCaps));
    assert.equal(result.plainWire, null);
    assert.ok(result.signals > 0, "the client reported to the telemetry it was given");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const BUN_HINT = "run `npm ci` (the bun package) or set BUN_PATH";

Deno.test({
  name: "a Bun project outside the repo depends on it by path and imports every entrypoint by name",
  ignore: ignoreWithoutTool("Bun", BUN),
  async fn() {
    await consumer(requireTool("Bun", BUN, BUN_HINT), () => Promise.resolve(ROOT));
  },
});

Deno.test({
  name:
    "the packed package (package.json `files`) holds every entrypoint and runs in a Bun project",
  ignore: ignoreWithoutTool("Bun", BUN),
  async fn() {
    const bun = requireTool("Bun", BUN, BUN_HINT);
    await consumer(bun, async (dir) => {
      // What a registry or a git dependency gets: the files `package.json` lists, no more.
      const pack = await run(
        bun,
        ["pm", "pack", "--quiet", "--destination", dir],
        ROOT,
        INSTALL_MS,
      );
      assert.ok(pack.ok, `bun pm pack failed:\n${pack.out}`);
      const tarball = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".tgz"));
      assert.ok(tarball, `no tarball in ${dir}:\n${pack.out}`);
      return `file:${dir}/${tarball.name}`;
    });
  },
});
