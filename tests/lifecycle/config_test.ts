import assert from "node:assert/strict";
import { loadConfig, parseConfig } from "../../lifecycle.ts";

Deno.test("parseConfig() shapes a valid config for serverComponent and installShutdown", () => {
  const config = parseConfig({
    server: {
      port: 3000,
      hostname: "0.0.0.0",
      path: "/ws",
      maxMessageBytes: 65536,
      drainTimeoutMs: 2000,
      latencyBuckets: [0.01, 0.1],
    },
    operations: { metricsPath: "/internal/metrics", statsPath: false },
    shutdown: { signals: ["SIGTERM"], timeoutMs: 20000, drainTimeoutMs: 5000 },
  });
  assert.deepEqual(config, {
    server: {
      port: 3000,
      hostname: "0.0.0.0",
      drainTimeoutMs: 2000,
      latencyBuckets: [0.01, 0.1],
      server: { path: "/ws", maxMessageBytes: 65536 },
      operations: { metricsPath: "/internal/metrics", statsPath: false },
    },
    shutdown: { signals: ["SIGTERM"], timeoutMs: 20000, drainTimeoutMs: 5000 },
  });
  assert.deepEqual(parseConfig({}), { server: { server: {}, operations: {} }, shutdown: {} });
  assert.equal(parseConfig({ operations: false }).server.operations, false);
});

Deno.test("parseConfig() names the bad key and value", () => {
  const cases: [unknown, RegExp, ErrorConstructor][] = [
    [{ server: { port: "80" } }, /^config\.server\.port must be an integer, got "80"$/, TypeError],
    [
      { server: { port: 70000 } },
      /^config\.server\.port must be from 0 to 65535, got 70000$/,
      RangeError,
    ],
    [
      { server: { prot: 80 } },
      /^config\.server\.prot is not a known key \(known: port,/,
      TypeError,
    ],
    [
      { sever: {} },
      /^config\.sever is not a known key \(known: server, operations, shutdown\)$/,
      TypeError,
    ],
    [
      { server: { path: "ws" } },
      /config\.server\.path must be a path starting with "\/", got "ws"/,
      TypeError,
    ],
    [
      { server: { hostname: "" } },
      /config\.server\.hostname must be a non-empty string, got ""/,
      TypeError,
    ],
    [
      { server: { maxMessageBytes: 0 } },
      /config\.server\.maxMessageBytes must be >= 1, got 0/,
      RangeError,
    ],
    [
      { server: { latencyBuckets: [1, 0.5] } },
      /config\.server\.latencyBuckets must be strictly ascending/,
      RangeError,
    ],
    [
      { operations: { readyPath: 5 } },
      /config\.operations\.readyPath must be a non-empty string, got 5/,
      TypeError,
    ],
    [
      { shutdown: { signals: ["TERM"] } },
      /config\.shutdown\.signals\[0\] must be a signal name like "SIGTERM", got "TERM"/,
      TypeError,
    ],
    [{ shutdown: { timeoutMs: 0 } }, /config\.shutdown\.timeoutMs must be >= 1, got 0/, RangeError],
    [{ shutdown: [] }, /config\.shutdown must be an object, got \[\]$/, TypeError],
    [null, /config must be an object, got null/, TypeError],
  ];
  for (const [input, message, type] of cases) {
    assert.throws(() => parseConfig(input), (e: unknown) => {
      assert.ok(e instanceof type, `${JSON.stringify(input)}: ${e}`);
      assert.match((e as Error).message, message);
      return true;
    });
  }
});

Deno.test("loadConfig() reads a JSON file and names the file in errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/sente.json`;
    await Deno.writeTextFile(good, JSON.stringify({ server: { port: 0 }, shutdown: {} }));
    assert.equal((await loadConfig(good)).server.port, 0);
    assert.equal((await loadConfig(new URL(`file://${good}`))).server.port, 0);
    assert.deepEqual((await loadConfig({ server: { port: 1 } })).server.port, 1);

    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(bad, JSON.stringify({ server: { port: -1 } }));
    await assert.rejects(
      loadConfig(bad),
      new RegExp(`^RangeError: ${bad}\\.server\\.port must be from 0 to 65535, got -1$`),
    );
    const broken = `${dir}/broken.json`;
    await Deno.writeTextFile(broken, "{ server: ");
    await assert.rejects(loadConfig(broken), new RegExp(`config file ${broken} is not valid JSON`));
    await assert.rejects(
      loadConfig(`${dir}/missing.json`),
      /cannot read config file .*missing\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
