/**
 * Reconnection on real sockets across processes: a server process and two client processes (one
 * Deno, one Bun) on one channel; the server is SIGKILLed and restarted on the same port, and both
 * clients must reconnect, re-subscribe and exchange messages again. Also: ten in-process clients
 * starting at the same moment, and a small reconnection storm whose spread shows the jitter.
 *
 * The Bun client needs Bun (`BUN_PATH`, `node_modules/.bin/bun` or PATH): skipped with a note
 * without it, failed under `CI=true`.
 */
import assert from "node:assert/strict";
import { type Client, connect, type Handshake } from "../../client.ts";
import { BUN_HINT, bunPath, ignoreWithoutTool, requireTool, withTimeout } from "../_util.ts";
import { Child } from "../runtime/_child.ts";
import { runStorm } from "../../bench/reconnect_storm.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const HERE = new URL("./", import.meta.url).pathname;
const BUN = bunPath();
const START_MS = 20_000;
const EVENT_MS = 10_000;

/** Starts the server process on `port` (0: any) and resolves with it and its port. */
async function startServerProcess(port = 0): Promise<{ child: Child; port: number }> {
  const child = new Child("reconnect_server.ts", Deno.execPath(), [
    "run",
    "-A",
    `${HERE}reconnect_server.ts`,
    String(port),
  ], ROOT);
  const line = await child.line("ready", (l) => l.includes('"ready"'), START_MS);
  return { child, port: JSON.parse(line).port };
}

type Line = Record<string, unknown>;
function has(pred: (l: Line) => boolean): (line: string) => boolean {
  return (line) => {
    try {
      return pred(JSON.parse(line));
    } catch {
      return false;
    }
  };
}

Deno.test({
  name: "Clients in Deno and Bun reconnect, re-subscribe and talk again after a SIGKILLed server",
  ignore: ignoreWithoutTool("Bun", BUN),
  async fn() {
    const bun = requireTool("Bun", BUN, BUN_HINT);
    let server = await startServerProcess();
    const url = `ws://127.0.0.1:${server.port}/chsk`;
    const script = `${HERE}reconnect_client.ts`;
    const deno = new Child(
      "deno client",
      Deno.execPath(),
      ["run", "-A", script, url, "deno"],
      ROOT,
    );
    const bunClient = new Child("bun client", bun, [script, url, "bun"], ROOT);
    try {
      const heard = (c: Child, from: string, epoch: number) =>
        c.line(
          `a message from ${from} (epoch ${epoch})`,
          has((l) => {
            const d = l.data as { from?: string; epoch?: number } | undefined;
            return l.ev === "msg" && d?.from === from && d?.epoch === epoch;
          }),
          START_MS,
        );
      await Promise.all([heard(deno, "bun", 1), heard(bunClient, "deno", 1)]);

      await server.child.stop("SIGKILL");
      for (const c of [deno, bunClient]) {
        await c.line(
          "reconnecting",
          has((l) => l.ev === "state" && l.from === "open" && l.to === "reconnecting"),
          EVENT_MS,
        );
      }
      server = await startServerProcess(server.port);
      for (const c of [deno, bunClient]) {
        await c.line(
          "the reconnect handshake",
          has((l) => l.ev === "handshake" && l.first === false && l.epoch === 2),
          EVENT_MS,
        );
      }
      await Promise.all([heard(deno, "bun", 2), heard(bunClient, "deno", 2)]);
      for (const c of [deno, bunClient]) {
        assert.ok(!c.stdout.includes("resubscribe-failed"), c.describe());
      }
    } finally {
      await deno.stop("SIGKILL");
      await bunClient.stop("SIGKILL");
      await server.child.stop("SIGKILL");
    }
  },
});

Deno.test("Ten clients starting at the same moment all open, subscribe and survive a restart", async () => {
  let server = await startServerProcess();
  const url = `ws://127.0.0.1:${server.port}/chsk`;
  const clients: Client[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      clients.push(connect(url, { reconnect: { initialDelayMs: 200, maxDelayMs: 1000 } }));
    }
    const hs = await withTimeout(Promise.all(clients.map((c) => c.ready)), EVENT_MS, "10 opens");
    assert.equal(new Set(hs.map((h) => h.server?.connId)).size, 10);
    // waiters[i].get(round) resolves when client i receives that round
    const waiters = clients.map(() => new Map<number, () => void>());
    await Promise.all(
      clients.map((c, i) =>
        c.subscribe("herd", (d) => waiters[i].get((d as { round: number }).round)?.())
      ),
    );
    const reach = async (round: number) => {
      const got = Promise.all(
        clients.slice(1).map((_, j) =>
          new Promise<void>((resolve) => waiters[j + 1].set(round, resolve))
        ),
      );
      assert.equal(await clients[0].publish("herd", { round }, { excludeSender: true }), 9);
      await withTimeout(got, EVENT_MS, `round ${round} to reach 9 clients`);
    };
    await reach(1);

    const reconnected = clients.map((c) =>
      new Promise<Handshake>((resolve) => {
        const off = c.on("chsk/handshake", (h) => {
          off();
          resolve(h as Handshake);
        });
      })
    );
    await server.child.stop("SIGKILL");
    server = await startServerProcess(server.port);
    const again = await withTimeout(Promise.all(reconnected), EVENT_MS, "10 reconnects");
    assert.ok(again.every((h) => h.first === false));
    // re-subscription is sent right after each handshake; publish once every client has it
    await withTimeout(
      (async () => {
        for (;;) {
          const n = await clients[0].publish("herd", { round: 0 }, { excludeSender: true });
          if (n === 9) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      EVENT_MS,
      "every client re-subscribed",
    );
    await reach(2);
  } finally {
    for (const c of clients) c.close();
    await server.child.stop("SIGKILL");
  }
});

Deno.test("A reconnection storm of 60 clients spreads its returns over the jitter window", async () => {
  const result = await runStorm({ clients: 60, jitter: 0.25, log: false });
  console.log(result.report);
  assert.equal(result.reconnected, 60, result.report);
  // ±25 % around 1 s: the returns span several hundred ms, not one instant
  assert.ok(result.delays.spreadMs >= 200, result.report);
  assert.ok(result.delays.minMs >= 700, result.report);
});
