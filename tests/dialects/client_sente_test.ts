/**
 * Our client in the Sente dialect (`connect(url, { dialect: "sente", packer })`): against a
 * scripted Sente 1.21 server that writes Sente's exact frames and records ours byte for byte
 * (sente-wire.md §3.2, §3.5, §4.2), and against our own server's Sente dialect.
 */
import assert from "node:assert/strict";
import { startServer } from "../_server.ts";
import { type Client, connect } from "../../lib/client/client.ts";
import type { StateChange } from "../../lib/client/types.ts";
import { resolveClientOptions } from "../../lib/client/options.ts";
import { ednPacker } from "../../lib/packers/edn.ts";
import { transitPacker } from "../../lib/packers/transit.ts";
import { ServerError } from "../../lib/protocol/errors.ts";

const FAST_RECONNECT = { initialDelayMs: 10, maxDelayMs: 10, jitter: 0 };

/** Rejects after `ms` unless `promise` settles first. */
async function within<T>(promise: Promise<T>, what: string, ms = 3000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Sente 1.21 server reduced to its wire: on every upgrade it records the URL and sends the
 * given handshake frame; it records every frame the client sends and writes what the test says.
 */
class ScriptedSente implements AsyncDisposable {
  readonly upgrades: URL[] = [];
  readonly frames: string[] = [];
  socket: WebSocket | null = null;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #waiters: (() => void)[] = [];

  constructor(handshake: string) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      this.upgrades.push(new URL(req.url));
      socket.onopen = () => {
        this.socket = socket;
        socket.send(handshake); // Sente's server speaks first, in on-open
        this.#wake();
      };
      socket.onmessage = (e) => {
        this.frames.push(String(e.data));
        this.#wake();
      };
      socket.onclose = () => this.#wake();
      return response;
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}/chsk`;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `pred()` holds, re-checked on every socket event. */
  async until(pred: () => boolean, what: string, ms = 3000): Promise<void> {
    await within(
      (async () => {
        while (!pred()) await new Promise<void>((r) => this.#waiters.push(r));
      })(),
      what,
      ms,
    );
  }

  /** The next frame the client sent, as text. */
  async next(what = "a client frame"): Promise<string> {
    await this.until(() => this.frames.length > 0, what);
    return this.frames.shift()!;
  }

  send(frame: string): void {
    this.socket!.send(frame);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.socket?.close();
    } catch {
      // already closed
    }
    await this.#server.shutdown();
  }
}

/** Collects pushes of one id and resolves once `n` arrived. */
function pushes(client: Client, id: string, n: number): Promise<unknown[]> {
  const got: unknown[] = [];
  return within(
    new Promise((resolve) => {
      const off = client.on(id, (data) => {
        got.push(data);
        if (got.length === n) (off(), resolve(got));
      });
    }),
    `${n} ${id} pushes`,
  );
}

/** Closes the client and waits for the socket to go, so no test leaks it. */
async function closeClient(client: Client): Promise<void> {
  if (client.state === "closed") return;
  const closed = new Promise<void>((resolve) => {
    client.on(
      "chsk/state",
      (change) => void ((change as StateChange).to === "closed" && resolve()),
    );
  });
  client.close();
  await within(closed, "the client to close");
}

// ------------------------------------------------------------------ options

Deno.test("resolveClientOptions() validates dialect and csrfToken with TypeError", () => {
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => resolveClientOptions({ dialect: "clojure" as any }),
    { name: "TypeError", message: `dialect must be "sente-lite" or "sente", got "clojure"` },
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => resolveClientOptions({ dialect: "sente", packer: ednPacker(), csrfToken: 42 as any }),
    { name: "TypeError", message: "csrfToken must be a string or a function, got number" },
  );
  assert.equal(resolveClientOptions().dialect, "sente-lite");
});

Deno.test("resolveClientOptions() requires a packer in the Sente dialect instead of bundling EDN", () => {
  assert.throws(() => resolveClientOptions({ dialect: "sente" }), {
    name: "TypeError",
    message: /dialect "sente" needs a packer: ednPacker\(\) from \.\/edn/,
  });
  assert.equal(resolveClientOptions({ dialect: "sente", packer: ednPacker() }).packer.name, "edn");
});

Deno.test("resolveClientOptions() defaults the Sente dialect to Sente's client keep-alive", () => {
  const sente = resolveClientOptions({ dialect: "sente", packer: ednPacker() });
  assert.deepEqual(sente.heartbeat, { intervalMs: 10_000, timeoutMs: 15_000 });
  assert.deepEqual(resolveClientOptions().heartbeat, { intervalMs: 35_000, timeoutMs: 50_000 });
  const off = resolveClientOptions({ dialect: "sente", packer: ednPacker(), heartbeat: false });
  assert.deepEqual(off.heartbeat, { intervalMs: 0, timeoutMs: 0 });
});

// ------------------------------------------------------------------ scripted Sente server, EDN

Deno.test("Client (sente dialect, EDN) speaks Sente 1.21's frames byte for byte", async () => {
  await using sente = new ScriptedSente(`[[:chsk/handshake ["alice" nil {:foo 1}]] nil]`);
  const client = connect(sente.url, {
    dialect: "sente",
    packer: ednPacker(),
    csrfToken: "tok-1",
    params: { app: "x" },
    heartbeat: false,
  });
  try {
    const hs = await within(client.ready, "the handshake");
    assert.deepEqual(hs, { uid: "alice", data: { foo: 1 }, server: null, first: true });

    // §3.5: user params, then client-id and csrf-token; never packer.
    const [upgrade] = sente.upgrades;
    assert.deepEqual([...upgrade.searchParams.keys()], ["app", "client-id", "csrf-token"]);
    assert.equal(upgrade.searchParams.get("client-id"), client.clientId);
    assert.equal(upgrade.searchParams.get("csrf-token"), "tok-1");

    assert.equal(client.send("my-app/x", { a: 1 }), "sent");
    assert.equal(await sente.next(), `[[:my-app/x {:a 1}] nil]`);

    const reply = client.request("my-app/req", { q: 1 });
    const req = /^\[\[:my-app\/req \{:q 1\}\] "([^"]+)"\]$/.exec(await sente.next());
    assert.ok(req, "a request is [[:id data] cb]");
    sente.send(`[{:ok? true} "${req[1]}"]`);
    assert.deepEqual(await within(reply, "the reply"), { "ok?": true });

    // A push is always a batch; every event reaches the handlers, in order.
    const alerts = pushes(client, "my-app/alert", 2);
    sente.send(`[[[:my-app/alert {:n 1}] [:my-app/alert {:n 2}]] nil]`);
    assert.deepEqual(await alerts, [{ n: 1 }, { n: 2 }]);

    // The server's keep-alive ping is answered with Sente's pong.
    sente.send(`[:chsk/ws-ping nil]`);
    assert.equal(await sente.next(), `[[:chsk/ws-pong] nil]`);

    // Reply sentinels.
    const failed = client.request("my-app/req", { q: 2 });
    const cb = /"([^"]+)"\]$/.exec(await sente.next())![1];
    sente.send(`[:chsk/error "${cb}"]`);
    await assert.rejects(within(failed, "the failed reply"), (e: unknown) => {
      assert.ok(e instanceof ServerError);
      assert.equal(e.code, "chsk/error");
      return true;
    });
    assert.equal(client.state, "open");
  } finally {
    await closeClient(client);
  }
});

Deno.test("Client (sente dialect) reads the 1-element envelopes of Sente 1.18–1.20 servers", async () => {
  await using sente = new ScriptedSente(`[[:chsk/handshake ["alice" nil]]]`);
  const client = connect(sente.url, { dialect: "sente", packer: ednPacker(), heartbeat: false });
  try {
    const hs = await within(client.ready, "the handshake");
    assert.deepEqual(hs, { uid: "alice", data: null, server: null, first: true });
    const alerts = pushes(client, "my-app/alert", 1);
    sente.send(`[[[:my-app/alert {:n 1}]]]`);
    assert.deepEqual(await alerts, [{ n: 1 }]);
    sente.send(`[:chsk/ws-ping]`);
    assert.equal(await sente.next(), `[[:chsk/ws-pong] nil]`);
  } finally {
    await closeClient(client);
  }
});

Deno.test("Client (sente dialect) rejects channel helpers at once, sending nothing", async () => {
  await using sente = new ScriptedSente(`[[:chsk/handshake [:sente/nil-uid nil nil]] nil]`);
  const client = connect(sente.url, { dialect: "sente", packer: ednPacker(), heartbeat: false });
  try {
    const hs = await within(client.ready, "the handshake");
    assert.deepEqual(hs, { uid: "sente/nil-uid", data: null, server: null, first: true });
    const noChannels = { name: "TypeError", message: /Sente servers have no channels/ };
    await assert.rejects(client.subscribe("room", () => {}), noChannels);
    await assert.rejects(client.publish("room", 1), noChannels);
    await assert.rejects(client.unsubscribe("room"), noChannels);
    assert.deepEqual(client.channels(), []);
    client.send("my-app/marker");
    assert.equal(await sente.next(), `[[:my-app/marker] nil]`);
    // csrfToken absent: no csrf-token parameter at all (Sente drops nil params).
    assert.deepEqual([...sente.upgrades[0].searchParams.keys()], ["client-id"]);
  } finally {
    await closeClient(client);
  }
});

Deno.test('Client (sente dialect) pings [[:chsk/ws-ping] cb] when idle and stays open on "pong"', async () => {
  await using sente = new ScriptedSente(`[[:chsk/handshake ["alice" nil nil]] nil]`);
  const client = connect(sente.url, {
    dialect: "sente",
    packer: ednPacker(),
    heartbeat: { intervalMs: 100, timeoutMs: 400 },
  });
  try {
    await within(client.ready, "the handshake");
    for (let i = 0; i < 2; i++) {
      const ping = /^\[\[:chsk\/ws-ping\] "([^"]+)"\]$/.exec(await sente.next("a keep-alive ping"));
      assert.ok(ping, "the keep-alive ping is [[:chsk/ws-ping] cb]");
      sente.send(`["pong" "${ping[1]}"]`);
    }
    assert.equal(client.state, "open");
    assert.equal(sente.upgrades.length, 1);
    assert.equal(client.stats().lateReplies, 0, "the pong is not mistaken for a late reply");
  } finally {
    await closeClient(client);
  }
});

Deno.test("Client (sente dialect) reconnects when its ping gets no pong, asking csrfToken again", async () => {
  await using sente = new ScriptedSente(`[[:chsk/handshake ["alice" nil nil]] nil]`);
  let tokens = 0;
  const client = connect(sente.url, {
    dialect: "sente",
    packer: ednPacker(),
    csrfToken: () => Promise.resolve(`tok-${++tokens}`),
    heartbeat: { intervalMs: 50, timeoutMs: 250 },
    reconnect: FAST_RECONNECT,
  });
  try {
    await within(client.ready, "the handshake");
    assert.match(await sente.next("a keep-alive ping"), /^\[\[:chsk\/ws-ping\] "[^"]+"\]$/);
    // No pong: the client gives up on the socket and connects again with a fresh token.
    const again = new Promise<boolean>((resolve) => {
      client.on("chsk/handshake", (hs) => resolve((hs as { first: boolean }).first));
    });
    assert.equal(await within(again, "the second handshake"), false);
    assert.deepEqual(sente.upgrades.map((u) => u.searchParams.get("csrf-token")), [
      "tok-1",
      "tok-2",
    ]);
    assert.ok(sente.upgrades.every((u) => !u.searchParams.has("packer")));
  } finally {
    await closeClient(client);
  }
});

Deno.test("Client (sente-lite dialect) sends packer and never csrf-token", async () => {
  await using sente = new ScriptedSente(`[[:chsk/handshake ["alice" nil nil]] nil]`);
  const client = connect(sente.url, { packer: ednPacker(), csrfToken: "tok", heartbeat: false });
  try {
    await within(client.ready, "the handshake");
    const query = sente.upgrades[0].searchParams;
    assert.equal(query.get("client-id"), client.clientId);
    assert.equal(query.get("packer"), "edn");
    assert.equal(query.has("csrf-token"), false);
  } finally {
    await closeClient(client);
  }
});

// ------------------------------------------------------------------ scripted Sente server, Transit

Deno.test("Client (sente dialect, Transit) speaks Sente 1.21's Transit frames byte for byte", async () => {
  await using sente = new ScriptedSente(
    `[["~:chsk/handshake",["~:sente/nil-uid",null,["^ ","~:foo",1]]],null]`,
  );
  const client = connect(sente.url, {
    dialect: "sente",
    packer: transitPacker(),
    csrfToken: () => "tok-t",
    heartbeat: { intervalMs: 150, timeoutMs: 3000 },
  });
  try {
    const hs = await within(client.ready, "the handshake");
    assert.deepEqual(hs, { uid: "sente/nil-uid", data: { foo: 1 }, server: null, first: true });
    assert.deepEqual([...sente.upgrades[0].searchParams.keys()], ["client-id", "csrf-token"]);
    assert.equal(sente.upgrades[0].searchParams.get("csrf-token"), "tok-t");

    client.send("my-app/x", { a: 1 });
    assert.equal(await sente.next(), `[["~:my-app/x",["^ ","~:a",1]],null]`);

    const reply = client.request("my-app/req", { q: 1 });
    const req = /^\[\["~:my-app\/req",\["\^ ","~:q",1\]\],"([^"]+)"\]$/.exec(await sente.next());
    assert.ok(req, "a request is [[id data] cb]");
    sente.send(`[["^ ","~:ok?",true],"${req[1]}"]`);
    assert.deepEqual(await within(reply, "the reply"), { "ok?": true });

    // The second event id is the Transit cache ref ^0 of the first.
    const alerts = pushes(client, "my-app/alert", 2);
    sente.send(`[[["~:my-app/alert",["^ ","~:n",1]],["^0",["^ ","~:n",2]]],null]`);
    assert.deepEqual(await alerts, [{ n: 1 }, { n: 2 }]);

    sente.send(`["~:chsk/ws-ping",null]`);
    assert.equal(await sente.next(), `[["~:chsk/ws-pong"],null]`);

    const ping = /^\[\["~:chsk\/ws-ping"\],"([^"]+)"\]$/.exec(
      await sente.next("a keep-alive ping"),
    );
    assert.ok(ping, "the keep-alive ping is [[:chsk/ws-ping] cb]");
    sente.send(`["pong","${ping[1]}"]`);

    const failed = client.request("my-app/req", 2);
    const cb = /,"([^"]+)"\]$/.exec(await sente.next())![1];
    sente.send(`["~:chsk/error","${cb}"]`);
    await assert.rejects(within(failed, "the failed reply"), { name: "ServerError" });
    assert.equal(client.state, "open");
  } finally {
    await closeClient(client);
  }
});

// ------------------------------------------------------------------ our own server's Sente dialect

for (const [name, packer] of [["EDN", ednPacker], ["Transit", transitPacker]] as const) {
  Deno.test(`Client (sente dialect, ${name}) against our server's Sente dialect: requests, pushes, :chsk/error`, async () => {
    await using t = await startServer({
      authenticate: () => "alice",
      handshakeData: () => ({ theme: "dark" }),
      dialects: { sente: { packer: packer() } },
    });
    t.server.on("my-app/echo", (msg) => msg.data);
    t.server.on("my-app/boom", () => {
      throw new Error("boom");
    });
    const client = connect(t.url, { dialect: "sente", packer: packer(), csrfToken: "tok" });
    try {
      const hs = await within(client.ready, "the handshake");
      // The Sente dialect sends the application's data only: no sente-lite server facts.
      assert.deepEqual(hs, { uid: "alice", data: { theme: "dark" }, server: null, first: true });
      const [info] = t.server.connections();
      assert.equal(info.packer, packer().name);
      assert.equal(new URL(info.request.url).searchParams.has("packer"), false);

      assert.deepEqual(await client.request("my-app/echo", { q: [1, "x"] }), { q: [1, "x"] });

      const alerts = pushes(client, "my-app/alert", 1);
      assert.equal(t.server.send("alice", "my-app/alert", { n: 1 }), 1);
      assert.deepEqual(await alerts, [{ n: 1 }]);

      for (const id of ["my-app/boom", "my-app/none"]) {
        await assert.rejects(client.request(id, 1), (e: unknown) => {
          assert.ok(e instanceof ServerError, `${id}: ${e}`);
          assert.equal(e.code, "chsk/error");
          return true;
        });
      }
      await assert.rejects(client.subscribe("room", () => {}), { name: "TypeError" });
      assert.equal(client.state, "open");
    } finally {
      await closeClient(client);
    }
  });
}
