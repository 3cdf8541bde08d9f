/**
 * Out of file descriptors: a server process under a low `ulimit -n` is flooded with TCP
 * connections that stall in their request headers. It must stay up, keep serving its open
 * WebSocket, and take new clients once the flood is gone. Deno.serve's accept loop fails with
 * EMFILE (its `finished` promise rejects) and the server listens again; Bun keeps accepting.
 */
import assert from "node:assert/strict";
import { until } from "../_server.ts";
import { type RawPeer, rawPeer } from "../_peer.ts";
import { Child } from "../runtime/_child.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURE = new URL("./_fd_server.ts", import.meta.url).pathname;
const LIMIT = 200; // the server process's open-file limit
const ATTACKERS = 400; // bounded: twice the limit
const STALL = new TextEncoder().encode("GET /chsk?client-id=x HTTP/1.1\r\nHost: a\r\n");
/** How long the server may take to let a new client in once the flood is gone. */
const RECOVERY_MS = 20_000;
/** What connecting to a server whose listener is down throws. */
const LISTENER_DOWN = [
  Deno.errors.ConnectionRefused,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.BrokenPipe,
];
const BUN = [`${ROOT}node_modules/.bin/bun`].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/** Runs `command` under `ulimit -n LIMIT`. */
function limited(name: string, command: string[]): Child {
  const script = `ulimit -n ${LIMIT} && exec "$@"`;
  return new Child(name, "bash", ["-c", script, "bash", ...command], ROOT);
}

/** The port the child prints (`port N`, or the demo's `http://host:N/`). */
async function portOf(child: Child): Promise<number> {
  const line = await child.line("the port", (l) => /^port \d+|http:\/\/\S+:\d+\//.test(l), 20_000);
  return Number(/^port (\d+)/.exec(line)?.[1] ?? /:(\d+)\//.exec(line)![1]);
}

/** Sends `[id, text]` as a request and waits for the reply that carries `text`. */
async function echo(peer: RawPeer, id: string, text: string): Promise<void> {
  peer.send(JSON.stringify([[id, text], "cb-" + text]));
  for (let i = 0; i < 5; i++) if ((await peer.next(5000)).includes(text)) return;
  throw new Error(`no echo of ${text}`);
}

/**
 * Floods the child's port with stalled connections until `flooded()` (the child reported running
 * out) or ATTACKERS; then checks it still serves, and takes a new client after the flood.
 */
async function survivesFlood(child: Child, echoId: string, flooded: (() => boolean) | null) {
  const port = await portOf(child);
  const url = `ws://127.0.0.1:${port}/chsk`;
  const { peer } = await rawPeer(url);
  const attackers: Deno.TcpConn[] = [];
  try {
    await echo(peer, echoId, "before");
    for (let i = 0; i < ATTACKERS && !flooded?.() && child.status === null; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        attackers.push(conn);
        await conn.write(STALL);
      } catch (e) {
        // Refused or reset: the server's listener is down, it ran out. Anything else (this
        // process out of descriptors, below ATTACKERS) is a failure of the test's own, said so.
        if (!LISTENER_DOWN.some((type) => e instanceof type)) throw e;
        break;
      }
    }
    if (flooded) {
      await until(() => flooded() || child.status !== null, "the server to run out", 20_000);
    }
    assert.equal(child.status, null, `the server died:\n${child.describe()}`);
    await echo(peer, echoId, "during");
    for (const c of attackers.splice(0)) c.close();
    // It listens again once descriptors are free (with backoff up to 2 s): a new client gets in.
    // A deadline, not a number of tries: under load each try takes longer.
    let fresh: RawPeer | undefined;
    const deadline = Date.now() + RECOVERY_MS;
    while (fresh === undefined && child.status === null && Date.now() < deadline) {
      fresh = await rawPeer(url).then(({ peer }) => peer, () => undefined);
      if (fresh === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(child.status, null, `the server died:\n${child.describe()}`);
    assert.ok(fresh, `no new client got in within ${RECOVERY_MS} ms:\n${child.describe()}`);
    await fresh.close();
    await echo(peer, echoId, "after");
    await peer.close();
  } finally {
    for (const c of attackers) c.close();
    peer.ws.close();
    await child.stop();
  }
}

Deno.test("Deno: createServer().serve() out of descriptors stays up, serves open sockets, recovers", async () => {
  const child = limited("fd server", [Deno.execPath(), "run", "-A", FIXTURE]);
  await survivesFlood(child, "test/echo", () => /onError listener/.test(child.stdout));
});

Deno.test("Deno: the demo CLI (server.ts) out of descriptors stays up and recovers", async () => {
  const args = [Deno.execPath(), "run", "-A", `${ROOT}server.ts`, "--port", "0"];
  const child = limited("demo server", args);
  await survivesFlood(child, "demo/echo", () => /error in listener/.test(child.stderr));
});

Deno.test({
  name: "Bun: createServer().serve() under a low descriptor limit stays up and recovers",
  ignore: BUN === undefined,
  fn: async () => {
    // Bun leaves what it cannot accept in the backlog and says nothing: every attacker floods.
    await survivesFlood(limited("bun fd server", [BUN!, FIXTURE]), "test/echo", null);
  },
});
