import assert from "node:assert/strict";
import {
  type Component,
  ref,
  serverComponent,
  type ServerInstance,
  startSystem,
  telemetryComponent,
} from "../../lifecycle.ts";
import { rawPeer } from "../_peer.ts";
import { until } from "../_server.ts";
import { withTimeout } from "../_util.ts";
import { parsePrometheusText, seriesMap } from "./_prom_parser.ts";

const CLIENT_A = "00000000-0000-4000-8000-00000000000a";

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

async function scrape(base: string): Promise<Record<string, number>> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return seriesMap(parsePrometheusText(await res.text()));
}

Deno.test("/health and /ready follow the system: starting, running, failing check, draining, stopped", async () => {
  let releaseStart!: () => void;
  const gate = new Promise<void>((r) => releaseStart = r);
  let cacheOk = true;
  const slow: Component<string, unknown> = {
    config: { server: ref("server") },
    start: async () => {
      await gate;
      return "cache";
    },
    health: () => ({ ok: cacheOk, detail: { entries: 3 } }),
  };
  let base = "";
  const onListen: Component<null, unknown> = {
    config: ref<ServerInstance>("server"),
    start: (server) => {
      base = `http://127.0.0.1:${(server as ServerInstance).port}`;
      return null;
    },
  };
  const starting = startSystem({
    server: serverComponent({ server: { onError: () => {} } }),
    probe: onListen,
    cache: slow,
  });
  await until(() => base !== "", "the server to listen");

  let r = await getJson(`${base}/ready`);
  assert.equal(r.status, 503);
  assert.equal(r.body.status, "not-ready");
  assert.equal(r.body.state, "starting");
  r = await getJson(`${base}/health`);
  assert.equal(r.status, 200, "alive while starting");
  assert.deepEqual(r.body.components, { server: "started", probe: "started", cache: "stopped" });

  releaseStart();
  const system = await starting;
  r = await getJson(`${base}/ready`);
  assert.equal(r.status, 200);
  assert.equal(r.body.state, "running");
  const components = r.body.components as Record<string, Record<string, unknown>>;
  assert.deepEqual(components.cache, { status: "up", detail: { entries: 3 } });
  assert.equal(components.server.status, "up");

  cacheOk = false;
  r = await getJson(`${base}/ready`);
  assert.equal(r.status, 503);
  assert.equal((r.body.components as Record<string, { status: string }>).cache.status, "down");
  cacheOk = true;

  const { peer } = await rawPeer(`ws://127.0.0.1:${base.split(":").at(-1)}/chsk`);
  const draining = system.drain(2000);
  const closed = await peer.closed();
  assert.equal(closed.code, 1001);
  await draining;
  r = await getJson(`${base}/ready`);
  assert.equal(r.status, 503);
  assert.equal(r.body.state, "draining");
  assert.equal((await getJson(`${base}/health`)).status, 200, "alive while draining");
  const upgrade = await fetch(`${base}/chsk?client-id=late`, {
    headers: { upgrade: "websocket", connection: "upgrade" },
  });
  await upgrade.body?.cancel();
  assert.equal(upgrade.status, 503, "new connections are refused while draining");
  assert.equal((await fetch(`${base}/ready`, { method: "POST" })).status, 405);

  await system.stop();
  await assert.rejects(fetch(`${base}/health`), "the listener is closed after stop");
});

Deno.test("/metrics and /stats report the same server figures, parsed as Prometheus text", async () => {
  const system = await startSystem({
    server: serverComponent({
      server: { onError: () => {} },
      setup: (server) => {
        server.on("test/echo", (msg) => msg.data);
        server.on("test/later", async (msg) => {
          await new Promise((r) => setTimeout(r, 20));
          return msg.data;
        });
      },
    }),
  });
  const instance = system.instance<ServerInstance>("server");
  const base = `http://127.0.0.1:${instance.port}`;
  const { peer } = await rawPeer(instance.url, CLIENT_A);
  const { peer: peer2 } = await rawPeer(instance.url);
  peer.send(`[["test/echo",1],"c1"]`);
  assert.equal(await peer.next(), `[1,"c1"]`);
  peer.send(`[["test/later",2],"c2"]`);
  assert.equal(await peer.next(), `[2,"c2"]`);
  peer.send(`[["test/nope",2],"c3"]`);
  await peer.next(); // the no-handler error
  await peer.close();
  // The same client id again is a reconnect.
  const { peer: again } = await rawPeer(instance.url, CLIENT_A);
  // A server close with 4008 counts as a heartbeat timeout.
  const victim = instance.server.connections().find((c) => c.clientId !== CLIENT_A)!;
  instance.server.closeConnection(victim.id, 4008, "heartbeat timeout");
  assert.equal((await peer2.closed()).code, 4008);
  await until(() => instance.server.stats().connections === 1, "the closed connection to go");

  const m = await scrape(base);
  const L = 'server="server"';
  assert.equal(m[`sente_lite_connections{${L}}`], 1);
  assert.equal(m[`sente_lite_uids{${L}}`], 1);
  assert.equal(m[`sente_lite_messages_total{direction="in",${L}}`], 3);
  assert.equal(m[`sente_lite_request_duration_seconds_count{${L}}`], 2);
  assert.ok(m[`sente_lite_request_duration_seconds_sum{${L}}`] >= 0.015);
  assert.equal(m[`sente_lite_request_duration_seconds_bucket{le="0.001",${L}}`] <= 1, true);
  assert.equal(m[`sente_lite_request_duration_seconds_bucket{le="+Inf",${L}}`], 2);
  assert.equal(m[`sente_lite_errors_total{code="no-handler",${L}}`], 1);
  assert.equal(m[`sente_lite_reconnects_total{${L}}`], 1);
  assert.equal(m[`sente_lite_heartbeat_timeouts_total{${L}}`], 1);
  assert.equal(m[`sente_lite_requests_in_flight{${L}}`], 0);
  assert.equal(m[`sente_lite_send_queue_bytes{${L}}`], 0);
  assert.equal(
    m[`sente_lite_listen_info{ephemeral="true",port="${instance.port}",requested_port="0",${L}}`],
    1,
  );
  assert.equal(m['sente_lite_system_state{state="running"}'], 1);
  assert.equal(m["sente_lite_system_accepting{}"], 1);
  assert.ok(m['sente_lite_process_memory_bytes{kind="rss"}'] > 0);

  const stats = await getJson(`${base}/stats`);
  assert.equal(stats.status, 200);
  const s = (stats.body.components as Record<string, Record<string, unknown>>).server;
  assert.equal(s.connections, m[`sente_lite_connections{${L}}`]);
  assert.equal(s.messagesIn, m[`sente_lite_messages_total{direction="in",${L}}`]);
  assert.equal(s.messagesOut, m[`sente_lite_messages_total{direction="out",${L}}`]);
  assert.equal(s.bytesIn, m[`sente_lite_bytes_total{direction="in",${L}}`]);
  assert.equal(s.reconnects, 1);
  assert.equal(s.heartbeatTimeouts, 1);
  assert.equal((s.latency as { count: number }).count, 2);
  assert.deepEqual(s.port, { requested: 0, actual: instance.port, ephemeral: true });
  assert.deepEqual(instance.stats().port, s.port);
  assert.ok(((stats.body.memory as Record<string, number>).heapUsed) > 0);

  await again.close();
  await system.stop();
});

Deno.test("serverComponent() drain waits for requests in flight and delivers them before 1001", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  const system = await startSystem({
    server: serverComponent({
      server: { onError: () => {} },
      setup: (server) => {
        server.on("test/slow", async (msg) => {
          await released;
          for (let i = 0; i < 5; i++) msg.send("test/push", i);
          return "done";
        });
      },
    }),
  });
  const instance = system.instance<ServerInstance>("server");
  const { peer } = await rawPeer(instance.url);
  peer.send(`[["test/slow",null],"s1"]`);
  await until(() => instance.metrics.requestsInFlight === 1, "the request to arrive");
  const draining = instance.drain(5000);
  setTimeout(release, 30);
  const frames: string[] = [];
  for (;;) {
    try {
      frames.push(await peer.next());
    } catch {
      break;
    }
  }
  assert.equal((await peer.closed()).code, 1001);
  assert.equal(frames.length, 6, `all pushes and the reply before the close: ${frames}`);
  assert.equal(frames.at(-1), `["done","s1"]`);
  const report = await withTimeout(draining, 5000, "the drain");
  assert.equal(report.connections, 1);
  assert.equal(report.timedOut, false);
  assert.equal(report.requestsInFlightLeft, 0);
  await system.stop();
});

Deno.test("serverComponent() drain gives up after its timeout and still closes with 1001", async () => {
  const system = await startSystem({
    server: serverComponent({
      server: { onError: () => {} },
      setup: (server) => void server.on("test/never", () => new Promise(() => {})),
    }),
  });
  const instance = system.instance<ServerInstance>("server");
  const { peer } = await rawPeer(instance.url);
  peer.send(`[["test/never",null],"n1"]`);
  await until(() => instance.metrics.requestsInFlight === 1, "the request to arrive");
  const report = await instance.drain(50);
  assert.equal(report.timedOut, true);
  assert.equal(report.requestsInFlightLeft, 1);
  assert.equal((await peer.closed()).code, 1001);
  await system.stop();
});

Deno.test("telemetryComponent() flushes in the flush phase and flushes then stops on stop", async () => {
  const calls: string[] = [];
  const telemetry = {
    flush: (timeoutMs?: number) => {
      calls.push(`flush ${timeoutMs}`);
      return Promise.resolve(true);
    },
    stop: () => void calls.push("stop"),
  };
  const system = await startSystem({ telemetry: telemetryComponent(telemetry) });
  assert.deepEqual((await system.health()).components.telemetry.status, "up");
  await system.flush(100);
  await system.stop();
  assert.deepEqual(calls, ["flush 100", "flush 5000", "stop"]);
  assert.throws(
    () => telemetryComponent({} as never),
    /telemetry must have flush\(\) and stop\(\)/,
  );
});

Deno.test("serverComponent() checks its options, naming the key and value", () => {
  assert.throws(() => serverComponent({ port: 70000 }), /port must be an integer .* got 70000/);
  assert.throws(
    () => serverComponent({ drainTimeoutMs: -1 }),
    /drainTimeoutMs must be a number >= 0, got -1/,
  );
  assert.throws(
    () => serverComponent({ latencyBuckets: [1, 1] }),
    /latencyBuckets must be strictly ascending/,
  );
  assert.throws(
    () => serverComponent({ operations: { metricsPath: "metrics" } }),
    /OperationsOptions.metricsPath must be a path starting with "\/" or false, got "metrics"/,
  );
});

Deno.test("sente_lite_heartbeat_timeouts_total counts the server heartbeat's 4008 closes", async () => {
  const system = await startSystem({
    server: serverComponent({
      server: { onError: () => {}, heartbeat: { intervalMs: 20, timeoutMs: 60 } },
    }),
  });
  const instance = system.instance<ServerInstance>("server");
  const { peer } = await rawPeer(instance.url);
  // The raw peer never answers pings, so the server times it out.
  assert.equal((await peer.closed(5000)).code, 4008);
  await until(() => instance.stats().heartbeatTimeouts === 1, "the timeout to be counted");
  const m = await scrape(`http://127.0.0.1:${instance.port}`);
  assert.equal(m['sente_lite_heartbeat_timeouts_total{server="server"}'], 1);
  await system.stop();
});

Deno.test("concurrent /ready requests share one run of the health checks", async () => {
  let checks = 0;
  let release!: () => void;
  let gate = new Promise<void>((r) => release = r);
  const db: Component<string, unknown> = {
    start: () => "db",
    health: async () => {
      checks++;
      await gate; // a slow check, e.g. a database round trip
      return { ok: true };
    },
  };
  const system = await startSystem({
    server: serverComponent({ server: { onError: () => {} } }),
    db,
  });
  try {
    const base = `http://127.0.0.1:${system.instance<ServerInstance>("server").port}`;
    // An anonymous caller floods /ready while the check is still running.
    const answers = Array.from({ length: 50 }, () => fetch(`${base}/ready`));
    await until(() => checks >= 1, "the first health check");
    // /health runs no check; once it is answered the /ready requests sent before it have arrived.
    await (await fetch(`${base}/health`)).body?.cancel();
    await new Promise((r) => setTimeout(r, 0));
    release();
    const statuses = await Promise.all(answers.map(async (p) => {
      const res = await p;
      await res.body?.cancel();
      return res.status;
    }));
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(checks, 1, "one run of the checks served all 50 requests");
    // The next request checks again: the result is shared, not cached.
    gate = Promise.resolve();
    const r = await getJson(`${base}/ready`);
    assert.equal(r.status, 200);
    assert.equal(checks, 2);
  } finally {
    release();
    await system.stop();
  }
});

Deno.test("the operations endpoints show no client id, conn id, channel id or address", async () => {
  const system = await startSystem({ server: serverComponent({ server: { onError: () => {} } }) });
  try {
    const instance = system.instance<ServerInstance>("server");
    const base = `http://127.0.0.1:${instance.port}`;
    const clientId = "00000000-0000-4000-8000-0000deadbeef";
    const { peer } = await rawPeer(instance.url, clientId);
    peer.send(JSON.stringify([["sente-lite/subscribe", { "channel-id": "secret-room" }], "1"]));
    await peer.next();
    const connId = instance.server.connections()[0].id;
    for (const path of ["/health", "/ready", "/stats", "/metrics"]) {
      const text = await (await fetch(base + path)).text();
      for (const secret of [clientId, connId, "secret-room", "127.0.0.1"]) {
        assert.ok(!text.includes(secret), `${path} shows ${secret}`);
      }
    }
    await peer.close();
  } finally {
    await system.stop();
  }
});
