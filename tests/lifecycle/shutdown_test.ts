/**
 * Graceful shutdown of a real server process: SIGTERM with 50 connected clients (each with a
 * request in flight that pushes 20 frames during the drain), every client sees 1001 after all
 * its frames, and reconnects on its own (the client's reconnect option) to a replacement process
 * on the same port. Also: a second signal forces the exit, and installShutdown in-process.
 */
import assert from "node:assert/strict";
import { type Client, connect, type Handshake } from "../../client.ts";
import {
  installShutdown,
  serverComponent,
  type ServerInstance,
  shutdownSystem,
  startSystem,
} from "../../lifecycle.ts";
import { withTimeout } from "../_util.ts";
import { Child } from "../runtime/_child.ts";
import { rawPeer } from "../_peer.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCRIPT = new URL("./_shutdown_server.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
const CLIENTS = 50;
const PUSHES = 20;
const START_MS = 30_000;
const EVENT_MS = 20_000;

function startServer(name: string, port: number, mode = "normal"): Child {
  return new Child(name, DENO, ["run", "-A", SCRIPT, String(port), mode], ROOT);
}

async function listening(child: Child): Promise<{ port: number; pid: number }> {
  const line = await child.line("listening", (l) => l.startsWith("listening "), START_MS);
  const [, port, pid] = line.split(" ");
  return { port: Number(port), pid: Number(pid) };
}

interface Tracked {
  client: Client;
  closeCodes: number[];
  seq: number[];
  seqAtClose: number[];
  handshakes: Handshake[];
}

/** A client whose socket closes and pushes are recorded. */
function trackedClient(url: string): Tracked {
  const t = { closeCodes: [], seq: [], seqAtClose: [], handshakes: [] } as unknown as Tracked;
  class TrackedWebSocket extends WebSocket {
    constructor(u: string, protocols?: string | string[]) {
      super(u, protocols);
      this.addEventListener("close", (e) => {
        t.closeCodes.push(e.code);
        t.seqAtClose.push(t.seq.length);
      });
    }
  }
  t.client = connect(url, {
    WebSocket: TrackedWebSocket,
    reconnect: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0.5 },
    onError: () => {},
  });
  t.client.on("test/seq", (data) => void t.seq.push((data as { i: number }).i));
  t.client.on("chsk/handshake", (h) => void t.handshakes.push(h as Handshake));
  return t;
}

Deno.test({
  name:
    "SIGTERM with 50 clients: all frames delivered, 1001, exit 0, clients reconnect to a replacement on the same port",
  async fn() {
    const a = startServer("server A", 0);
    let b: Child | undefined;
    const clients: Tracked[] = [];
    try {
      const { port, pid: pidA } = await listening(a);
      const url = `ws://127.0.0.1:${port}/chsk`;
      for (let i = 0; i < CLIENTS; i++) clients.push(trackedClient(url));
      await withTimeout(
        Promise.all(clients.map((c) => c.client.ready)),
        EVENT_MS,
        "50 handshakes",
      );
      const replies = clients.map((c) =>
        c.client.request("test/hold", null, { timeoutMs: EVENT_MS })
      );
      await a.line(`${CLIENTS} held requests`, (l) => l === `held ${CLIENTS}`, EVENT_MS);

      const t0 = performance.now();
      a.process.kill("SIGTERM");
      const answers = await withTimeout(Promise.all(replies), EVENT_MS, "the 50 replies");
      for (const answer of answers) assert.deepEqual(answer, { pushed: PUSHES });
      const status = await a.exited(EVENT_MS);
      const exitMs = performance.now() - t0;
      assert.equal(status.code, 0, a.describe());
      const drain = JSON.parse(
        (await a.line("the drain report", (l) => l.startsWith("drain "), 1000)).slice(6),
      );
      assert.equal(drain.connections, CLIENTS);
      assert.equal(drain.timedOut, false, a.describe());
      assert.equal(drain.requestsInFlightLeft, 0);
      assert.equal(drain.bufferedBytesLeft, 0);
      assert.equal(drain.unacknowledgedLeft, 0, "no ack crosses the close");
      for (const [i, c] of clients.entries()) {
        assert.equal(c.closeCodes[0], 1001, `client ${i} closes: ${c.closeCodes}`);
        assert.deepEqual(c.seq, [...Array(PUSHES).keys()], `client ${i} got every push in order`);
        assert.equal(c.seqAtClose[0], PUSHES, `client ${i} got its pushes before the close`);
      }

      // The replacement process on the same port; the clients come back on their own.
      b = startServer("server B", port);
      const { pid: pidB } = await listening(b);
      assert.notEqual(pidB, pidA);
      const t1 = performance.now();
      await withTimeout(
        (async () => {
          for (const c of clients) {
            while (!(c.handshakes.length >= 2 && c.client.state === "open")) {
              await new Promise<void>((r) => {
                const off = c.client.on("chsk/handshake", () => {
                  off();
                  r();
                });
              });
            }
          }
        })(),
        EVENT_MS,
        "every client to reconnect to the replacement",
      );
      const reconnectMs = performance.now() - t1;
      for (const c of clients) {
        assert.equal(c.handshakes.at(-1)!.first, false);
        assert.deepEqual(await c.client.request("test/whoami", null), { pid: pidB });
      }
      console.log(
        `measured: ${CLIENTS} clients, drain ${drain.flushMs} ms + closes ${drain.closeMs} ms, ` +
          `SIGTERM to exit ${Math.round(exitMs)} ms, all reconnected ${
            Math.round(reconnectMs)
          } ms after the replacement listened`,
      );
      for (const c of clients) c.client.close();
      b.process.kill("SIGTERM");
      assert.equal((await b.exited(EVENT_MS)).code, 0, b.describe());
    } finally {
      for (const c of clients) c.client.close();
      await a.stop();
      await b?.stop();
    }
  },
});

Deno.test("a second SIGTERM forces the exit (128 + 15) while the shutdown hangs", async () => {
  const child = startServer("hanging server", 0, "hang");
  try {
    await listening(child);
    child.process.kill("SIGTERM");
    await child.line("the shutdown start", (l) => l.includes("SIGTERM: shutting down"), EVENT_MS);
    await child.line("the drain report", (l) => l.startsWith("drain "), EVENT_MS);
    child.process.kill("SIGTERM");
    const status = await child.exited(EVENT_MS);
    assert.equal(status.code, 143, child.describe());
    assert.match(child.stdout, /second SIGTERM: forcing exit/);
  } finally {
    await child.stop();
  }
});

Deno.test("installShutdown() runs drain, flush and stop once, then calls exit with 0", async () => {
  const system = await startSystem({
    server: serverComponent({ server: { onError: () => {} } }),
  });
  const instance = system.instance<ServerInstance>("server");
  const { peer } = await rawPeer(instance.url);
  const codes: number[] = [];
  const lines: string[] = [];
  const handle = installShutdown(system, {
    signals: ["SIGUSR2"],
    exit: (code) => codes.push(code),
    log: (l) => lines.push(l),
  });
  const [report, again] = await Promise.all([handle.shutdown("test"), handle.shutdown("twice")]);
  assert.equal(report, again);
  assert.equal(report.reason, "test");
  assert.deepEqual(report.errors, {});
  assert.equal(await handle.done, 0);
  assert.deepEqual(codes, [0]);
  assert.equal((await peer.closed()).code, 1001);
  assert.equal(system.state, "stopped");
  assert.match(lines.join("\n"), /test: shutting down[\s\S]*stopped in \d+ ms/);
  assert.throws(() => installShutdown(system, { timeoutMs: 0 }), /timeoutMs must be a number >= 1/);
});

Deno.test("shutdownSystem() reports phase errors instead of throwing", async () => {
  const system = await startSystem({
    bad: {
      start: () => 1,
      drain: () => {
        throw new Error("cannot drain");
      },
      stop: () => {
        throw new Error("cannot stop");
      },
    },
  });
  const report = await shutdownSystem(system, { drainTimeoutMs: 100 });
  assert.deepEqual(report.errors, { "drain:bad": "cannot drain", stop: "cannot stop" });
});
