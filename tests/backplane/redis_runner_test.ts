import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RedisRunner } from "../../lib/backplane/redis_runner.ts";
import type { RedisConnection } from "../../lib/backplane/redis_conn.ts";

const SCRIPT = "return ARGV[1]";
const SHA = createHash("sha1").update(SCRIPT).digest("hex");

/**
 * A Redis that runs each command when it is written (the order of the wire) and answers when the
 * test says so, in order; scripts record their last argument in `ran`.
 */
function fakeRedis(cached: boolean) {
  const scripts = new Set(cached ? [SHA] : []);
  const ran: string[] = [];
  const answers: (() => void)[] = [];
  const redis = {
    cluster: false,
    command(args: string[]): Promise<unknown> {
      const [name, shaOrScript] = args;
      let result: { ok: unknown } | { err: Error };
      if (name === "EVAL") scripts.add(createHash("sha1").update(shaOrScript).digest("hex"));
      if (name === "EVALSHA" && !scripts.has(shaOrScript)) {
        result = { err: new Error("NOSCRIPT No matching script.") };
      } else {
        ran.push(args.at(-1)!);
        result = { ok: args.at(-1) };
      }
      return new Promise((resolve, reject) =>
        answers.push(() => "ok" in result ? resolve(result.ok) : reject(result.err))
      );
    },
  } as unknown as RedisConnection;
  /** Answers the oldest `n` commands, then lets their handlers run. */
  const answer = async (n = answers.length) => {
    for (const a of answers.splice(0, n)) a();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { redis, ran, answer };
}

const up = (): [() => boolean, () => Promise<void>] => [() => false, () => Promise.resolve()];

Deno.test("RedisRunner.run() writes a script's first calls at once, in the order made", async () => {
  const { redis, ran, answer } = fakeRedis(true);
  const runner = new RedisRunner(redis, ...up());
  const done = [];
  for (let i = 0; i < 50; i++) {
    done.push(runner.run(SCRIPT, [], [String(i)]));
    // Synchronously: an async digest of the script first let later calls overtake this one.
    assert.equal(ran.length, i + 1);
  }
  await answer();
  assert.deepEqual(await Promise.all(done), ran);
  assert.deepEqual(ran, Array.from({ length: 50 }, (_, i) => String(i)));
});

Deno.test("RedisRunner: calls made while starting, and right after, keep their order", async () => {
  const { redis, ran, answer } = fakeRedis(true);
  let starting = true;
  let start!: () => void;
  const started = new Promise<void>((r) => start = r);
  const runner = new RedisRunner(redis, () => starting, () => started);
  const done = [runner.run(SCRIPT, [], ["1"]), runner.command(["SET", "k", "2"])];
  done.push(runner.run(SCRIPT, [], ["3"]));
  assert.deepEqual(ran, []);
  starting = false;
  start();
  // Up, but the waiting calls are not sent yet: this one waits behind them.
  done.push(runner.run(SCRIPT, [], ["4"]));
  await answer();
  await answer();
  await Promise.all(done);
  assert.deepEqual(ran, ["1", "2", "3", "4"]);
});

Deno.test("RedisRunner: after NOSCRIPT, calls made while the misses are sent again wait for them", async () => {
  const { redis, ran, answer } = fakeRedis(false); // a restarted server: an empty script cache
  const runner = new RedisRunner(redis, ...up());
  const done = [runner.run(SCRIPT, [], ["1"]), runner.run(SCRIPT, [], ["2"])];
  assert.deepEqual(ran, []); // both missed
  await answer(1); // 1: NOSCRIPT, sent again with EVAL (which caches the script)
  assert.deepEqual(ran, ["1"]);
  // Made before 2's miss is answered: it would run before 2's EVAL.
  done.push(runner.run(SCRIPT, [], ["3"]));
  await answer(1); // 2: NOSCRIPT, sent again; then 3
  assert.deepEqual(ran, ["1", "2", "3"]);
  done.push(runner.run(SCRIPT, [], ["4"]));
  assert.deepEqual(ran, ["1", "2", "3", "4"]); // nothing waits any more: at once
  await answer();
  await answer();
  assert.deepEqual(await Promise.all(done), ["1", "2", "3", "4"]);
});
