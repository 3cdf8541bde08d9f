/**
 * Cross-runtime tests: a Bun client against the Deno server, a Deno client against the server
 * running under Bun, and the demo server CLI as a subprocess.
 *
 * Needs Bun (`BUN_PATH`, else `node_modules/.bin/bun`, else `bun` on PATH) for the first two:
 * skipped with a note when it is missing, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { type Client, connect, type WebSocketConstructor } from "../../client.ts";
import { createDemoServer } from "../../lib/demo/demo.ts";
import {
  BUN_HINT,
  bunPath,
  ignoreWithoutTool,
  requireTool,
  waitFor,
  withTimeout,
} from "../_util.ts";
import { Child } from "./_child.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HERE = new URL("./", import.meta.url).pathname;
const BUN = bunPath();
const SKIP_BUN = ignoreWithoutTool("Bun", BUN);
/** Bound on a subprocess starting up (cold runtime start and module loading on a busy machine). */
const START_MS = 20_000;
/** Bound on one message round trip or event. */
const EVENT_MS = 5_000;

/** Sockets made by {@linkcode track}ed clients, so tests can wait until they are really closed. */
function track(): { WebSocket: WebSocketConstructor; allClosed(): Promise<void> } {
  const closes: Promise<void>[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      closes.push(new Promise((r) => this.addEventListener("close", () => r(), { once: true })));
    }
  }
  return {
    WebSocket: TrackedWebSocket,
    allClosed: () =>
      withTimeout(Promise.all(closes).then(() => {}), EVENT_MS, "client sockets to close"),
  };
}

/** The data of the next push of `id` to `client`. */
function nextPush(client: Client, id: string): Promise<unknown> {
  let off = () => {};
  return withTimeout(
    new Promise((resolve) => {
      off = client.on(id, (data) => resolve(data));
    }),
    EVENT_MS,
    `a ${id} push`,
  ).finally(() => off());
}

Deno.test({
  name: "a Bun client talks to the Deno server: request/reply, pushes, channel, server request",
  ignore: SKIP_BUN,
  async fn() {
    const bun = requireTool("Bun", BUN, BUN_HINT);
    const server = createDemoServer();
    let askedAnswer: unknown;
    server.on("test/kick", async (msg) => {
      server.sendTo(msg.connId, "test/push", { from: "deno", to: msg.connId });
      server.publish("xr", { text: "hi from deno" });
      askedAnswer = await server.request(msg.connId, "test/ask", { q: 42 }, {
        timeoutMs: EVENT_MS,
      });
      return { kicked: msg.data, answer: askedAnswer };
    });
    const handle = await server.serve({ port: 0 });
    let child: Child | undefined;
    try {
      child = new Child("bun _bun_client.ts", bun, [`${HERE}_bun_client.ts`, handle.url], ROOT);
      const status = await child.exited(START_MS);
      assert.equal(status.code, 0, `the Bun client failed:\n${child.describe()}`);
      const line = await child.line("a JSON result line", (l) => l.startsWith("{"), EVENT_MS);
      const result = JSON.parse(line);
      assert.equal(result.runtime, "bun");
      assert.equal(typeof result.version, "string");
      assert.equal(result.uid, "sente/nil-uid");
      assert.equal(typeof result.connId, "string");
      assert.deepEqual(result.echo, { text: "héllo from bun", n: [1, 2, 3] });
      assert.deepEqual(result.push, { from: "deno", to: result.connId });
      assert.deepEqual(result.broadcast, { from: "bun" });
      assert.deepEqual(result.channel, {
        data: { text: "hi from deno" },
        channel: "xr",
        from: null,
      });
      const answer = { answer: { q: 42 }, runtime: "bun" };
      assert.deepEqual(askedAnswer, answer);
      assert.deepEqual(result.kick, { kicked: { from: "bun" }, answer });
    } finally {
      await child?.stop("SIGKILL");
      await handle.close();
    }
  },
});

Deno.test({
  name:
    "a Deno client talks to the server under Bun: request/reply, pushes, channel, server request",
  ignore: SKIP_BUN,
  async fn() {
    const bun = requireTool("Bun", BUN, BUN_HINT);
    const child = new Child("bun _bun_server.ts", bun, [`${HERE}_bun_server.ts`], ROOT);
    const sockets = track();
    let client: Client | undefined;
    try {
      const info = JSON.parse(
        await child.line("the listening line", (l) => l.startsWith("{"), START_MS),
      );
      assert.equal(info.runtime, "bun", child.describe());
      assert.equal(info.url, `ws://127.0.0.1:${info.port}/chsk`);

      const health = await withTimeout(
        fetch(`http://127.0.0.1:${info.port}/health`).then(async (r) => [r.status, await r.json()]),
        EVENT_MS,
        "GET /health",
      );
      assert.deepEqual([health[0], health[1].status], [200, "ok"]);

      client = connect(info.url, { WebSocket: sockets.WebSocket, requestTimeoutMs: EVENT_MS });
      const handshake = await withTimeout(client.ready, EVENT_MS, "the handshake");
      assert.equal(handshake.uid, "sente/nil-uid");
      const connId = handshake.server?.connId;
      assert.equal(typeof connId, "string");

      const data = { text: "héllo from deno", n: [1, 2, 3] };
      assert.deepEqual(await client.request("demo/echo", data), data);

      const echoPush = nextPush(client, "demo/echo");
      client.send("demo/echo", { pushed: true });
      assert.deepEqual(await echoPush, { pushed: true });

      const broadcast = nextPush(client, "demo/broadcast");
      assert.deepEqual(await client.request("demo/broadcast", { all: 1 }), { ok: true });
      assert.deepEqual(await broadcast, { all: 1 });

      const messages: unknown[] = [];
      let wake = () => {};
      await client.subscribe("xr", (d, ctx) => {
        messages.push({ data: d, ...ctx });
        wake();
      });
      const channelMessages = (n: number) =>
        withTimeout(
          new Promise<void>((resolve) => {
            wake = () => messages.length >= n && resolve();
            wake();
          }),
          EVENT_MS,
          `${n} channel messages`,
        );
      assert.equal(await client.publish("xr", { text: "from client" }), 1);
      await channelMessages(1);
      assert.deepEqual(await client.request("test/publish", { channel: "xr", data: "from bun" }), {
        delivered: 1,
      });
      await channelMessages(2);
      assert.deepEqual(messages, [
        { data: { text: "from client" }, channel: "xr", from: connId },
        { data: "from bun", channel: "xr", from: null },
      ]);

      client.onRequest("test/ask", (d) => ({ answer: d, runtime: "deno" }));
      assert.deepEqual(await client.request("test/ask-me", { q: 7 }), {
        client: { answer: { q: 7 }, runtime: "deno" },
      });
    } finally {
      client?.close();
      await sockets.allClosed().catch((e) => console.error(e.message));
      await child.stop("SIGTERM");
    }
  },
});

Deno.test("server.ts CLI writes --port-file, serves the demo and exits 0 on SIGTERM", async () => {
  const portFile = await Deno.makeTempFile({ prefix: "sente-lite-port-" });
  await Deno.remove(portFile); // the server must create it
  const child = new Child("server.ts CLI", Deno.execPath(), [
    "run",
    "-A",
    `${ROOT}server.ts`,
    "--port",
    "0",
    "--port-file",
    portFile,
  ], ROOT);
  const sockets = track();
  let client: Client | undefined;
  try {
    // Nothing signals the file's creation, so poll it (bounded); stop early if the CLI died.
    const port = await waitFor(
      async () => {
        if (child.status) {
          throw new Error(`the CLI exited before writing its port:\n${child.describe()}`);
        }
        const text = await Deno.readTextFile(portFile).catch(() => "");
        const n = Number(text.trim());
        return text.trim() !== "" && Number.isInteger(n) && n > 0 ? n : undefined;
      },
      `the port file ${portFile}`,
      { timeoutMs: START_MS },
    );
    await child.line("the listening line", (l) => l.includes(`:${port}/`), EVENT_MS);

    client = connect(`ws://127.0.0.1:${port}/chsk`, {
      WebSocket: sockets.WebSocket,
      requestTimeoutMs: EVENT_MS,
    });
    await withTimeout(client.ready, EVENT_MS, "the handshake");
    assert.deepEqual(await client.request("demo/echo", { cli: true }), { cli: true });
    client.close();
    await sockets.allClosed();

    child.process.kill("SIGTERM");
    const status = await child.exited(EVENT_MS);
    assert.equal(status.code, 0, child.describe());
    assert.match(child.stdout, /shutting down/);
  } finally {
    client?.close();
    await child.stop("SIGKILL");
    await Deno.remove(portFile).catch(() => {});
  }
});
