/**
 * `clientIp` and `forwardedClientIp` (docs/security.md, "Behind a proxy"). Behind a reverse proxy
 * every client has the proxy's address, so the per-IP limits throttled all users together; a
 * forwarding header must still never let a client that talks to the server directly pick its own
 * address. The socket tests upgrade over raw TCP from 127.0.0.1 with forged headers.
 */
import assert from "node:assert/strict";
import { createServer } from "../../lib/server/server.ts";
import { type ClientIp, forwardedClientIp, resolveClientIp } from "../../lib/server/client_ip.ts";
import type { ServerOptions } from "../../lib/server/options.ts";
import { requireTool } from "../_util.ts";
import { Child } from "../runtime/_child.ts";
import { BUN, NO_BUN } from "../cluster/_cluster.ts";
import { rawUpgrade } from "./_raw_upgrade.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

const req = (headers: Record<string, string>): Request =>
  new Request("http://127.0.0.1/chsk", { headers });

Deno.test("forwardedClientIp() believes X-Forwarded-For only from a trusted proxy, right-most untrusted entry first", () => {
  const ip = forwardedClientIp({ trustedProxies: ["10.0.0.0/8", "127.0.0.1"] });
  const xff = (v: string) => req({ "x-forwarded-for": v });
  // A direct client: its header is ignored.
  assert.equal(ip(xff("1.2.3.4"), "198.51.100.7"), "198.51.100.7");
  assert.equal(ip(xff("1.2.3.4"), null), null);
  // From a proxy: the entry the proxy appended, whatever the client wrote left of it.
  assert.equal(ip(xff("203.0.113.9"), "10.1.1.1"), "203.0.113.9");
  assert.equal(ip(xff("6.6.6.6, 203.0.113.9"), "10.1.1.1"), "203.0.113.9");
  assert.equal(ip(xff("6.6.6.6, 203.0.113.9, 10.2.2.2"), "127.0.0.1"), "203.0.113.9");
  assert.equal(ip(xff("garbage, 203.0.113.9"), "10.1.1.1"), "203.0.113.9");
  // Every entry a trusted proxy: the furthest one.
  assert.equal(ip(xff("10.9.9.9, 10.2.2.2"), "10.1.1.1"), "10.9.9.9");
  // Several header lines are one list.
  const two = new Headers([["x-forwarded-for", "6.6.6.6"], ["x-forwarded-for", "203.0.113.9"]]);
  assert.equal(ip(new Request("http://x/", { headers: two }), "10.1.1.1"), "203.0.113.9");
  // Missing, empty or garbage where the client should be: the peer.
  assert.equal(ip(req({}), "10.1.1.1"), "10.1.1.1");
  for (
    const bad of ["", "unknown", "1.2.3.4.5", "203.0.113.9,", "203.0.113.9, ", "x".repeat(500)]
  ) {
    assert.equal(ip(xff(bad), "10.1.1.1"), "10.1.1.1", JSON.stringify(bad));
  }
  // Ports and brackets are taken off; IPv6 and IPv4-mapped peers come back canonical.
  assert.equal(ip(xff("203.0.113.9:4711"), "10.1.1.1"), "203.0.113.9");
  assert.equal(ip(xff("[2001:DB8::0:1]:443"), "10.1.1.1"), "2001:db8::1");
  assert.equal(ip(xff("2001:db8:0:0::1"), "::ffff:10.1.1.1"), "2001:db8::1");
  assert.equal(ip(xff("203.0.113.9:port"), "10.1.1.1"), "10.1.1.1");
  assert.equal(ip(xff("[::1"), "10.1.1.1"), "10.1.1.1");
});

Deno.test("forwardedClientIp() reads X-Real-IP and RFC 7239 Forwarded when asked", () => {
  const real = forwardedClientIp({ trustedProxies: ["::1"], header: "x-real-ip" });
  assert.equal(real(req({ "x-real-ip": " 203.0.113.9 " }), "::1"), "203.0.113.9");
  assert.equal(real(req({ "x-real-ip": "203.0.113.9" }), "127.0.0.1"), "127.0.0.1");
  assert.equal(real(req({ "x-real-ip": "nope" }), "::1"), "::1");
  assert.equal(real(req({ "x-forwarded-for": "203.0.113.9" }), "::1"), "::1");

  const fwd = forwardedClientIp({ trustedProxies: ["10.0.0.0/8"], header: "forwarded" });
  const f = (v: string) => fwd(req({ forwarded: v }), "10.0.0.1");
  assert.equal(f("for=192.0.2.43"), "192.0.2.43");
  assert.equal(f('For="[2001:db8:cafe::17]:4711";proto=https'), "2001:db8:cafe::17");
  assert.equal(f("for=6.6.6.6, for=192.0.2.43;by=10.0.0.1, for=10.0.0.2"), "192.0.2.43");
  assert.equal(f("for=unknown"), "10.0.0.1");
  assert.equal(f("for=_hidden, for=192.0.2.43"), "192.0.2.43");
  assert.equal(f("proto=https"), "10.0.0.1");
});

Deno.test("forwardedClientIp() refuses a configuration that trusts nothing or garbage", () => {
  assert.throws(() => forwardedClientIp({ trustedProxies: [] }), RangeError);
  assert.throws(() => forwardedClientIp({ trustedProxies: ["10.0.0.0/33"] }), TypeError);
  assert.throws(() => forwardedClientIp({ trustedProxies: ["proxy.local"] }), TypeError);
  assert.throws(
    () =>
      forwardedClientIp({
        trustedProxies: ["127.0.0.1"],
        header: "x-client-ip" as "x-real-ip",
      }),
    TypeError,
  );
});

Deno.test("resolveClientIp() falls back to the peer when the hook throws or answers no address", () => {
  const errors: string[] = [];
  const onError = (_e: unknown, c: { where: string }) => void errors.push(c.where);
  const r = (hook: ClientIp) => resolveClientIp(hook, req({}), "192.0.2.1", onError);
  assert.equal(r(() => "2001:DB8::1"), "2001:db8::1");
  assert.equal(r(() => "user-42"), "192.0.2.1");
  assert.equal(r(() => 42 as unknown as string), "192.0.2.1");
  assert.equal(r(() => null), null);
  assert.equal(
    r(() => {
      throw new Error("boom");
    }),
    "192.0.2.1",
  );
  assert.deepEqual(errors, ["clientIp"]);
});

// ------------------------------------------------------------------ real sockets

type Open = (headers: Record<string, string>) => Promise<number>;

/** Runs `body` with raw upgrades against `port`; their sockets stay open until it returns. */
async function withUpgrades(port: number, body: (open: Open) => Promise<void>): Promise<void> {
  const conns: Deno.TcpConn[] = [];
  try {
    await body(async (headers) => {
      const { status, conn } = await rawUpgrade(port, "", headers);
      conns.push(conn);
      return status;
    });
  } finally {
    for (const c of conns) c.close();
  }
}

/** A server on 127.0.0.1 with `options`, and the raw upgrades made against it. */
async function withServer(
  options: ServerOptions,
  body: (open: Open) => Promise<void>,
): Promise<void> {
  const server = createServer({ onError: () => {}, ...options });
  const handle = await server.serve({ port: 0 });
  try {
    await withUpgrades(handle.port, body);
  } finally {
    await handle.close();
  }
}

Deno.test("clientIp by default: a direct client forging X-Forwarded-For is still limited by its own address", async () => {
  await withServer({ maxConnectionsPerIp: 2 }, async (open) => {
    assert.equal(await open({ "x-forwarded-for": "1.2.3.4" }), 101);
    assert.equal(await open({ "x-forwarded-for": "1.2.3.5", "x-real-ip": "1.2.3.5" }), 101);
    assert.equal(await open({ "x-forwarded-for": "1.2.3.6", forwarded: "for=1.2.3.6" }), 429);
  });
});

Deno.test("forwardedClientIp: a peer that is not a trusted proxy cannot pick its address", async () => {
  const clientIp = forwardedClientIp({ trustedProxies: ["10.0.0.0/8", "::1"] });
  await withServer({ maxConnectionsPerIp: 2, clientIp }, async (open) => {
    assert.equal(await open({ "x-forwarded-for": "1.2.3.4" }), 101);
    assert.equal(await open({ "x-forwarded-for": "1.2.3.5" }), 101);
    assert.equal(await open({ "x-forwarded-for": "1.2.3.6, 10.0.0.1" }), 429);
  });
});

/** Against a server with `maxConnectionsPerIp: 2` that trusts 127.0.0.1 as its proxy. */
async function proxiedClientsCountApart(open: Open): Promise<void> {
  // More clients than the limit, each its own address: none is refused for the proxy's.
  for (let i = 1; i <= 5; i++) {
    assert.equal(await open({ "x-forwarded-for": `198.51.100.${i}` }), 101);
  }
  // One client: its limit, whatever it wrote left of what the proxy appended.
  assert.equal(await open({ "x-forwarded-for": "203.0.113.9" }), 101);
  assert.equal(await open({ "x-forwarded-for": "6.6.6.6, 203.0.113.9" }), 101);
  assert.equal(await open({ "x-forwarded-for": "7.7.7.7, 203.0.113.9" }), 429);
  // Another spelling of an address is the same address.
  assert.equal(await open({ "x-forwarded-for": "2001:db8::1" }), 101);
  assert.equal(await open({ "x-forwarded-for": "2001:DB8:0:0::1" }), 101);
  assert.equal(await open({ "x-forwarded-for": "[2001:db8::0:1]:443" }), 429);
}

Deno.test("forwardedClientIp behind a trusted proxy: clients are counted apart, one forwarded address is limited", async () => {
  const clientIp = forwardedClientIp({ trustedProxies: ["127.0.0.1"] });
  await withServer({ maxConnectionsPerIp: 2, clientIp }, proxiedClientsCountApart);
});

Deno.test({
  name:
    "forwardedClientIp on Bun: the peer from server.requestIP is matched, clients are counted apart",
  ignore: NO_BUN,
  async fn() {
    const bun = requireTool("Bun", BUN, "run `npm install` (the bun package) or set BUN_PATH");
    const server = new URL("./_bun_proxy_server.ts", import.meta.url).pathname;
    const child = new Child("bun _bun_proxy_server.ts", bun, [server], ROOT);
    try {
      const info = JSON.parse(
        await child.line("the listening line", (l) => l.includes('"port"'), 20_000),
      );
      assert.equal(info.runtime, "bun", child.describe());
      await withUpgrades(info.port, proxiedClientsCountApart);
    } finally {
      await child.stop("SIGKILL");
    }
  },
});

Deno.test("forwardedClientIp behind a trusted proxy: garbage counts as the proxy, trusted hops are skipped", async () => {
  const clientIp = forwardedClientIp({ trustedProxies: ["127.0.0.1", "10.0.0.0/8"] });
  await withServer({ maxConnectionsPerIp: 1, clientIp }, async (open) => {
    // Garbage or a missing header: the peer's (the proxy's) address.
    assert.equal(await open({ "x-forwarded-for": "not-an-address" }), 101);
    assert.equal(await open({ "x-forwarded-for": "1.2.3.4.5" }), 429);
    assert.equal(await open({}), 429);
    // A chain through a second trusted proxy names the client left of it.
    assert.equal(await open({ "x-forwarded-for": "203.0.113.9, 10.0.0.7" }), 101);
    assert.equal(await open({ "x-forwarded-for": "203.0.113.9" }), 429);
  });
});

Deno.test("forwardedClientIp: rateLimit.upgradesPerIp counts the forwarded address, not the proxy's", async () => {
  const clientIp = forwardedClientIp({ trustedProxies: ["127.0.0.1"] });
  await withServer({
    clientIp,
    rateLimit: { upgradesPerIp: { perSecond: 0.001, burst: 2 } },
  }, async (open) => {
    assert.equal(await open({ "x-forwarded-for": "198.51.100.1" }), 101);
    assert.equal(await open({ "x-forwarded-for": "198.51.100.1" }), 101);
    assert.equal(await open({ "x-forwarded-for": "198.51.100.1" }), 429);
    assert.equal(await open({ "x-forwarded-for": "198.51.100.2" }), 101);
  });
});
