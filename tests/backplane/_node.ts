/**
 * A backplane node in its own process, for tests that SIGKILL it: joins the cluster at
 * `argv[0]` with prefix `argv[1]`, holds uid `argv[2]`, prints "ready" once its link is up and the
 * uid is registered, then idles until killed. Runs on Deno and Bun.
 */
import { redisBackplane } from "../../lib/backplane/redis.ts";

const [url, prefix, uid] = typeof Deno !== "undefined"
  ? Deno.args
  : (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const bp = redisBackplane({ url, prefix, heartbeatMs: 100, heartbeatTtlMs: 500 });
await new Promise<void>((resolve) => {
  if (bp.link.state === "up") resolve();
  bp.link.watch((c) => c.to === "up" && resolve());
});
bp.presence.add(uid);
// The add publishes at once; a store call after it shows the command connection delivered it.
await bp.store.drain(uid);
console.log("ready");
setInterval(() => {}, 60_000);
