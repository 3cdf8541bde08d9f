import assert from "node:assert/strict";
import {
  type Component,
  component,
  planSystem,
  ref,
  startSystem,
  SystemError,
} from "../../lifecycle.ts";

/** What `promise` rejected with; fails when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

/** What `fn` threw; fails when it returns. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

/** A component that records its start and stop in `log`. */
function recorded(
  log: string[],
  name: string,
  config?: unknown,
  extra: Partial<Component<unknown, unknown>> = {},
): Component<unknown, unknown> {
  return {
    config,
    start: (cfg) => {
      log.push(`start ${name}`);
      return { name, cfg };
    },
    stop: () => void log.push(`stop ${name}`),
    ...extra,
  };
}

Deno.test("startSystem() starts components after what they ref, stopSystem in reverse", async () => {
  const log: string[] = [];
  const system = await startSystem({
    web: recorded(log, "web", { db: ref("db"), cache: ref("cache") }),
    cache: recorded(log, "cache", { nested: [{ db: ref("db") }] }),
    db: recorded(log, "db"),
    metrics: recorded(log, "metrics"),
  });
  assert.deepEqual(system.order, ["db", "cache", "web", "metrics"]);
  assert.deepEqual(log, ["start db", "start cache", "start web", "start metrics"]);
  const web = system.instance<{ cfg: { db: unknown; cache: unknown } }>("web");
  assert.equal(web.cfg.db, system.instance("db"), "refs are replaced by instances");
  assert.equal(web.cfg.cache, system.instance("cache"));
  const cache = system.instance<{ cfg: { nested: { db: unknown }[] } }>("cache");
  assert.equal(cache.cfg.nested[0].db, system.instance("db"), "refs inside arrays too");
  assert.equal(system.state, "running");
  await system.stop();
  assert.deepEqual(log.slice(4), ["stop metrics", "stop web", "stop cache", "stop db"]);
  assert.equal(system.state, "stopped");
  await system.stop(); // idempotent
  assert.equal(log.length, 8);
});

Deno.test("startSystem() rolls back what started when a start throws, naming the component", async () => {
  const log: string[] = [];
  const boom = new Error("port in use");
  const err = await rejection(
    startSystem({
      db: recorded(log, "db"),
      cache: recorded(log, "cache", { db: ref("db") }),
      web: {
        config: { cache: ref("cache") },
        start: () => {
          throw boom;
        },
      },
      never: recorded(log, "never", { web: ref("web") }),
    }),
  );
  assert.ok(err instanceof SystemError);
  assert.equal(err.code, "start-failed");
  assert.equal(err.component, "web");
  assert.equal(err.cause, boom);
  assert.match(err.message, /component "web" failed to start: port in use/);
  assert.deepEqual(log, ["start db", "start cache", "stop cache", "stop db"]);
});

Deno.test("startSystem() reports rollback stop errors along with the start failure", async () => {
  const err = await rejection(startSystem({
    a: component({
      start: () => 1,
      stop: () => {
        throw new Error("a stuck");
      },
    }),
    b: component({
      config: { a: ref("a") },
      start: () => Promise.reject(new Error("b broke")),
    }),
  }));
  assert.ok(err instanceof SystemError);
  assert.equal(err.component, "b");
  assert.match(err.message, /and stopping a failed too/);
  assert.equal((err.rollbackErrors.a as Error).message, "a stuck");
});

Deno.test("planSystem() rejects a missing ref before anything starts", async () => {
  let started = false;
  const err = await rejection(startSystem({
    a: component({ start: () => started = true }),
    web: component({ config: { opts: { db: ref("database") } }, start: () => 1 }),
  }));
  assert.ok(err instanceof SystemError);
  assert.equal(err.code, "missing-ref");
  assert.equal(err.component, "web");
  assert.match(err.message, /"web" refers to "database" \(at web\.config\.opts\.db\)/);
  assert.match(err.message, /components: a, web/);
  assert.equal(started, false);
});

Deno.test("planSystem() rejects a cycle, showing it", () => {
  const err = thrown(() =>
    planSystem({
      a: component({ config: ref("b"), start: () => 1 }),
      b: component({ config: { x: ref("c") }, start: () => 1 }),
      c: component({ config: [ref("a")], start: () => 1 }),
    })
  );
  assert.ok(err instanceof SystemError);
  assert.equal(err.code, "cycle");
  assert.match(err.message, /a → b → c → a/);
  assert.throws(
    () => planSystem({ self: component({ config: ref("self"), start: () => 1 }) }),
    /self → self/,
  );
});

Deno.test("planSystem() rejects components without start() and non-function hooks", () => {
  assert.throws(
    () => planSystem({ x: {} as Component }),
    (e: unknown) =>
      e instanceof SystemError && e.code === "invalid-component" &&
      /component "x" must be an object with a start\(\) function/.test(e.message),
  );
  assert.throws(
    () => planSystem({ x: { start: () => 1, stop: 5 } as unknown as Component }),
    /component "x": stop must be a function, got number/,
  );
  assert.throws(() => ref(""), /ref key must be a non-empty string/);
});

Deno.test("System.stop() stops everything even when a stop throws, then reports it", async () => {
  const log: string[] = [];
  const system = await startSystem({
    a: recorded(log, "a"),
    b: recorded(log, "b", undefined, {
      stop: () => {
        log.push("stop b");
        throw new Error("b failed");
      },
    }),
    c: recorded(log, "c"),
  });
  const err = await rejection(system.stop());
  assert.ok(err instanceof SystemError);
  assert.equal(err.code, "stop-failed");
  assert.match(err.message, /"b" \(b failed\)/);
  assert.deepEqual(log.slice(3), ["stop c", "stop b", "stop a"]);
  assert.equal(system.state, "stopped");
});

Deno.test("System.stop() abandons a stop that hangs after stopTimeoutMs", async () => {
  const log: string[] = [];
  const system = await startSystem({
    a: recorded(log, "a"),
    hang: { start: () => 1, stop: () => new Promise(() => {}) },
  }, { stopTimeoutMs: 50 });
  await assert.rejects(system.stop(), /stop of "hang" took longer than 50 ms/);
  assert.deepEqual(log, ["start a", "stop a"]);
});

Deno.test("System.health() is ready only when running and every check passes", async () => {
  let dbOk = true;
  const system = await startSystem({
    db: { start: () => 1, health: () => ({ ok: dbOk, detail: { pool: 3 } }) },
    flaky: {
      start: () => 1,
      health: () => {
        throw new Error("no answer");
      },
    },
    plain: { start: () => 1 },
    slow: { start: () => 1, health: () => new Promise<boolean>(() => {}) },
  }, { healthTimeoutMs: 30 });
  let h = await system.health();
  assert.equal(h.ready, false);
  assert.deepEqual(h.components.db, { status: "up", detail: { pool: 3 } });
  assert.deepEqual(h.components.flaky, { status: "down", error: "no answer" });
  assert.deepEqual(h.components.plain, { status: "up" });
  assert.match(h.components.slow.error!, /took longer than 30 ms/);
  assert.deepEqual(Object.keys(h.components), ["db", "flaky", "plain", "slow"]);
  await system.stop();
  dbOk = false;
  h = await system.health();
  assert.equal(h.state, "stopped");
  assert.deepEqual(h.components, {});
});

Deno.test("System.drain() and flush() run hooks in reverse order before stop", async () => {
  const log: string[] = [];
  const hooks = (name: string): Component<unknown, unknown> => ({
    start: () => log.push(`start ${name}`),
    drain: (_, o) => void log.push(`drain ${name} ${o.timeoutMs}`),
    flush: () => void log.push(`flush ${name}`),
    stop: () => void log.push(`stop ${name}`),
  });
  const system = await startSystem({ a: hooks("a"), b: { ...hooks("b"), config: ref("a") } });
  assert.equal(system.accepting, true);
  await system.drain(100);
  assert.equal(system.state, "draining");
  assert.equal(system.accepting, false);
  await system.flush(100);
  await system.stop();
  assert.deepEqual(log, [
    "start a",
    "start b",
    "drain b 100",
    "drain a 100",
    "flush b",
    "flush a",
    "stop b",
    "stop a",
  ]);
});

Deno.test("startSystem() checks its options", async () => {
  await assert.rejects(
    startSystem({}, { healthTimeoutMs: 0 }),
    /StartSystemOptions.healthTimeoutMs must be a number > 0, got 0/,
  );
});
