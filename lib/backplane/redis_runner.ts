/**
 * How the delivery store and presence reach Redis (lib/backplane/redis.ts): commands and Lua
 * scripts (EVALSHA by the script's SHA-1, EVAL when the server does not have it cached), and
 * `written`, which tells when what was sent is on the wire.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { RedisConnection } from "./redis_conn.ts";
import type { ScriptRunner } from "./redis_store.ts";

/** Runs commands and scripts on one Redis connection. */
export class RedisRunner implements ScriptRunner {
  readonly #redis: RedisConnection;
  readonly #starting: () => boolean;
  readonly #started: () => Promise<void>;
  readonly #shas = new Map<string, string>();

  /**
   * Sends on `redis`; while `starting()` (before the first connection) calls wait for
   * `started()`, so calls made at startup do not fail needlessly.
   */
  constructor(redis: RedisConnection, starting: () => boolean, started: () => Promise<void>) {
    this.#redis = redis;
    this.#starting = starting;
    this.#started = started;
  }

  /**
   * Sends a command. Once started it is written to the connection synchronously, so commands keep
   * the order of the calls (presence relies on it: its set rewrite must not overtake an add).
   */
  command(args: string[]): Promise<unknown> {
    if (this.#starting()) return this.#started().then(() => this.#redis.command(args));
    return this.#redis.command(args);
  }

  /**
   * Runs a script. Once started and its SHA known, the call reaches the Redis client synchronously
   * too, so it is in the client's next write: `written` relies on it.
   */
  run(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const sha = this.#shas.get(script);
    if (sha === undefined || this.#starting()) return this.#runSlow(script, keys, args);
    return this.#evalsha(sha, script, [String(keys.length), ...keys, ...args.map(String)]);
  }

  /**
   * Resolves once the Redis client wrote what was sent so far. node-redis writes its queue in a
   * `setImmediate` scheduled by the first command after a write, and immediates run in order, so
   * one scheduled after the command runs after that write. A cluster client queues a command
   * only after a microtask (it looks up the slot's client first): there, one immediate more.
   */
  written(): Promise<void> {
    if (!this.#redis.cluster) return new Promise((r) => setImmediate(r));
    return new Promise((r) => setImmediate(() => setImmediate(r)));
  }

  async #runSlow(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    await this.#started();
    let sha = this.#shas.get(script);
    if (sha === undefined) {
      const hash = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(script));
      sha = [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
      this.#shas.set(script, sha);
    }
    return await this.#evalsha(sha, script, [String(keys.length), ...keys, ...args.map(String)]);
  }

  #evalsha(sha: string, script: string, tail: string[]): Promise<unknown> {
    return this.#redis.command(["EVALSHA", sha, ...tail]).catch((e) => {
      // Not cached on this server yet (or it restarted empty): EVAL caches it.
      if (!String((e as Error)?.message).startsWith("NOSCRIPT")) throw e;
      return this.#redis.command(["EVAL", script, ...tail]);
    });
  }
}
