/**
 * The telemetry ingest's disk bounds, attacked over real sockets: anonymous clients with fresh
 * client ids and connections cannot make the plug-in write more than `maxTotalBytes` or create
 * more than `maxSessionFiles` files; a client id cannot choose where the file goes; one client
 * address cannot take more than its share (`maxBytesPerIp`, `maxSessionFilesPerIp`).
 */
import assert from "node:assert/strict";
import WS from "ws";
import { telemetryPlugin, type TelemetryReply } from "../../lib/telemetry/server_plugin.ts";
import { forwardedClientIp } from "../../lib/server/client_ip.ts";
import { rawPeer } from "../_peer.ts";
import { startServer } from "../_server.ts";

async function diskBytes(dir: string): Promise<{ files: string[]; bytes: number }> {
  const files: string[] = [];
  let bytes = 0;
  for await (const e of Deno.readDir(dir)) {
    files.push(e.name);
    bytes += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  return { files: files.sort(), bytes };
}

async function sendBatch(url: string, clientId: string, signals: unknown[]): Promise<unknown> {
  // rawPeer types its id as a UUID; any text is a client id.
  const { peer } = await rawPeer(url, clientId as ReturnType<typeof crypto.randomUUID>);
  try {
    peer.send(JSON.stringify([["sente-lite/telemetry", { signals }], "t1"]));
    const [reply, cb] = (await peer.nextJson()) as [unknown, string];
    assert.equal(cb, "t1");
    return reply;
  } finally {
    await peer.close();
  }
}

Deno.test("telemetry ingest stops at maxTotalBytes, whatever client ids the batches come from", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using t = await startServer();
    // (every peer is 127.0.0.1 here: its share is the whole, to test the total)
    const plugin = telemetryPlugin({ dir, maxTotalBytes: 16 * 1024, maxBytesPerIp: 16 * 1024 });
    plugin.install(t.server);
    const signal = { level: "info", id: "ui/x", msg: "x".repeat(900) };
    const codes: string[] = [];
    // 40 sessions × 1 KiB would be 40 KiB on disk without the bound.
    for (let i = 0; i < 40; i++) {
      const reply = (await sendBatch(t.url, `attacker-${i}`, [signal])) as {
        ok: boolean;
        error?: { code: string };
      };
      codes.push(reply.ok ? "ok" : reply.error!.code);
    }
    plugin.close();
    const accepted = codes.filter((c) => c === "ok").length;
    assert.ok(accepted >= 10 && accepted < 40, codes.join(" "));
    assert.deepEqual(new Set(codes.slice(accepted)), new Set(["telemetry/quota-exceeded"]));
    const disk = await diskBytes(dir);
    assert.equal(disk.files.length, accepted);
    assert.ok(disk.bytes <= 16 * 1024, `${disk.bytes} bytes on disk`);
    assert.equal(plugin.stats().bytes, disk.bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("telemetry ingest creates at most maxSessionFiles files, even as sessions are evicted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using t = await startServer();
    const plugin = telemetryPlugin({
      dir,
      maxOpenFiles: 2,
      maxSessionFiles: 3,
      maxSessionFilesPerIp: 3, // (every peer is 127.0.0.1 here)
    });
    plugin.install(t.server);
    const replies: unknown[] = [];
    // Fresh ids, then an id whose file was closed (a reopen makes a new file).
    for (const id of ["s-0", "s-1", "s-2", "s-3", "s-0"]) {
      replies.push(await sendBatch(t.url, id, [{ id: "ui/x" }]));
    }
    assert.deepEqual(
      replies.slice(0, 3),
      [1, 1, 1].map(() => ({
        ok: true,
        accepted: 1,
        dropped: 0,
      })),
    );
    for (const r of replies.slice(3)) {
      assert.equal((r as { error: { code: string } }).error.code, "telemetry/quota-exceeded");
    }
    plugin.close();
    assert.equal((await diskBytes(dir)).files.length, 3);
    assert.equal(plugin.stats().sessionFiles, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a client id cannot choose the telemetry file's directory or name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using t = await startServer();
    const plugin = telemetryPlugin({ dir });
    plugin.install(t.server);
    for (const id of ["../../escape", "a/b\\c", ".", "..", "x".repeat(128)]) {
      assert.deepEqual(await sendBatch(t.url, id, [{ id: "ui/x" }]), {
        ok: true,
        accepted: 1,
        dropped: 0,
      });
    }
    plugin.close();
    const { files } = await diskBytes(dir);
    assert.equal(files.length, 5);
    for (const f of files) assert.match(f, /^[A-Za-z0-9_-]{1,64}-\d{8}T\d{6}Z\.jsonl$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("telemetryPlugin() range-checks its quotas", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => telemetryPlugin({ maxTotalBytes: bad }), { name: "RangeError" });
    assert.throws(() => telemetryPlugin({ maxSessionFiles: bad }), { name: "RangeError" });
    assert.throws(() => telemetryPlugin({ maxBytesPerIp: bad }), { name: "RangeError" });
    assert.throws(() => telemetryPlugin({ maxSessionFilesPerIp: bad }), { name: "RangeError" });
  }
});

/** One batch from `ip` (behind the trusted proxy at 127.0.0.1), on a fresh connection and id. */
async function batchFrom(url: string, ip: string, signals: unknown[]): Promise<TelemetryReply> {
  const ws = new WS(`${url}?client-id=${crypto.randomUUID()}&packer=json`, {
    headers: { "x-forwarded-for": ip },
  });
  const frames: string[] = [];
  let wake = () => {};
  ws.on("message", (data) => {
    frames.push(String(data));
    wake();
  });
  const next = async () => {
    if (frames.length === 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => wake = r),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("no frame in 5 s")), 5000);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    return frames.shift()!;
  };
  try {
    await next(); // the handshake
    ws.send(JSON.stringify([["sente-lite/telemetry", { signals }], "t1"]));
    const [reply, cb] = JSON.parse(await next()) as [TelemetryReply, string];
    assert.equal(cb, "t1");
    return reply;
  } finally {
    const closed = new Promise((r) => ws.once("close", r));
    ws.close();
    await closed;
  }
}

Deno.test("telemetry ingest: one address's connections cannot use the whole quota up (maxBytesPerIp)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using t = await startServer({
      clientIp: forwardedClientIp({ trustedProxies: ["127.0.0.1"] }),
    });
    const plugin = telemetryPlugin({ dir, maxTotalBytes: 64 * 1024, maxBytesPerIp: 16 * 1024 });
    plugin.install(t.server);
    const signal = { level: "info", id: "ui/x", msg: "x".repeat(900) };
    // The attacker: fresh connections and client ids from one address, 80 KiB worth.
    const codes: string[] = [];
    for (let i = 0; i < 80; i++) {
      const reply = await batchFrom(t.url, "203.0.113.66", [signal]);
      codes.push(reply.ok ? "ok" : reply.error!.code);
    }
    const accepted = codes.filter((c) => c === "ok").length;
    assert.ok(accepted >= 10 && accepted <= 16, codes.join(" "));
    assert.deepEqual(new Set(codes.slice(accepted)), new Set(["telemetry/quota-exceeded"]));
    assert.ok(plugin.stats().bytes <= 16 * 1024);
    // Everyone else still gets their telemetry stored.
    const other = await batchFrom(t.url, "198.51.100.7", [signal]);
    assert.equal(other.ok, true, JSON.stringify(other));
    assert.equal(plugin.stats().addresses, 2);
    plugin.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
