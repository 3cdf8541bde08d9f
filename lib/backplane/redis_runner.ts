/**
 * How the delivery store and presence reach Redis (lib/backplane/redis.ts): commands and Lua
 * scripts (EVALSHA by the script's SHA-1, EVAL when the server does not have it cached), and
 * `written`, which tells when what was sent is on the wire.
 *
 * Calls reach Redis in the order they were made, always: the store numbers a uid's sends in the
 * order its `hold` calls arrive, and a call that overtook an earlier one would be delivered first
 * (docs/scaling.md). So nothing on the way is asynchronous for one call and not for the next: the
 * SHA-1 is computed synchronously, and calls that must wait — while starting, or while scripts
 * that missed the server's cache (NOSCRIPT) are sent again — wait in one queue, in order, which
 * later calls join until it is written.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { setImmediate } from "node:timers";
import type { RedisConnection } from "./redis_conn.ts";
import type { ScriptRunner } from "./redis_store.ts";

/** Runs commands and scripts on one Redis connection. */
export class RedisRunner implements ScriptRunner {
  readonly #redis: RedisConnection;
  readonly #starting: () => boolean;
  readonly #started: () => Promise<void>;
  readonly #shas = new Map<string, string>();
  /** Calls waiting (for the start, or a NOSCRIPT's retries), in order (`null`: none wait). */
  #queue: (() => void)[] | null = null;
  /** EVALSHA calls written and not answered yet. */
  #inFlight = 0;
  /** A NOSCRIPT was answered: calls wait until every EVALSHA in flight has had its answer. */
  #retrying = false;

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
    return this.#inOrder(() => this.#redis.command(args));
  }

  /**
   * Runs a script. Once started the call reaches the Redis client synchronously too, so it is in
   * the client's next write (`written` relies on it) and after every call made before it.
   */
  run(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    return this.#inOrder(() => this.#evalsha(this.#sha(script), script, tail));
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

  /**
   * Sends now, or after the calls that wait: one queue drained in order (each call waiting on its
   * own promise would let a call made right after the start overtake them).
   */
  #inOrder(send: () => Promise<unknown>): Promise<unknown> {
    if (this.#queue === null) {
      if (!this.#starting()) return send();
      this.#queue = [];
      this.#started().then(() => this.#drain());
    }
    const queue = this.#queue;
    return new Promise((resolve, reject) => {
      queue.push(() => {
        try {
          send().then(resolve, reject);
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /** Sends what waits, in order, unless a NOSCRIPT's retries are still being sent. */
  #drain(): void {
    const queue = this.#queue;
    if (queue === null || this.#retrying) return;
    this.#queue = null;
    // Sends are written synchronously: nothing joins the queue meanwhile, no answer comes.
    for (const send of queue) send();
  }

  /** The script's SHA-1, computed once, synchronously (an async digest would reorder calls). */
  #sha(script: string): string {
    let sha = this.#shas.get(script);
    if (sha === undefined) {
      sha = createHash("sha1").update(script).digest("hex");
      this.#shas.set(script, sha);
    }
    return sha;
  }

  /**
   * EVALSHA; on NOSCRIPT (the server does not have it: a restart, a failover) EVAL, which caches
   * it. The calls written after this one and answered NOSCRIPT too are sent again in the order of
   * their answers, the order they were made; calls made meanwhile wait until all of them have
   * their answer, so none of them runs before a call made earlier.
   */
  #evalsha(sha: string, script: string, tail: string[]): Promise<unknown> {
    const sent = this.#redis.command(["EVALSHA", sha, ...tail]);
    this.#inFlight++; // counted once sent (a command that throws is never answered)
    return sent.then(
      (value) => {
        this.#answered();
        return value;
      },
      (e) => {
        try {
          if (!String((e as Error)?.message).startsWith("NOSCRIPT")) throw e;
          this.#retrying = true;
          this.#queue ??= [];
          return this.#redis.command(["EVAL", script, ...tail]);
        } finally {
          this.#answered(); // after the EVAL is written: what waits goes after it
        }
      },
    );
  }

  #answered(): void {
    if (--this.#inFlight > 0 || !this.#retrying) return;
    this.#retrying = false;
    this.#drain();
  }
}
