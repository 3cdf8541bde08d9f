/**
 * Presence on Redis. Each node keeps its uids in a set `<prefix>:{n:<node>}:uids` and a heartbeat
 * key `<prefix>:{n:<node>}:alive`, both expiring `heartbeatTtlMs` after the last heartbeat
 * (every `heartbeatMs`), and lists itself in `<prefix>:nodes`. Changes travel on the `p` topic as
 * `+uid`, `-uid`, `h` (heartbeat), `r` (re-registered: read my set) and `x` (leaving); a
 * heartbeat from a node not in the view also makes the others read its set. Every node keeps the cluster view in memory:
 * it is rebuilt from the keys whenever the link comes up (again) and once the presence topic's
 * subscription is active (changes published before it are not received), and a node not heard of for
 * `heartbeatTtlMs` is dropped — so a dead node's uids close everywhere within
 * `heartbeatTtlMs + heartbeatMs` (12 s by default).
 *
 * @module
 */
import type { Presence, PresenceChange } from "./backplane.ts";
import type { ScriptRunner } from "./redis_store.ts";
import { Refcounts } from "../util/refcounts.ts";

/** The presence topic (not one of `TOPICS`: those start with `u:`, `n:`, `c:` or are `b`). */
export const PRESENCE_TOPIC = "p";

/** KEYS: alive, uids. ARGV: ttl, uid…. Marks the node alive and replaces its uid set. */
const REGISTER = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('DEL', KEYS[2])
if #ARGV > 1 then
  redis.call('SADD', KEYS[2], unpack(ARGV, 2))
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return 1`;

/** What presence needs from its backplane. */
export interface PresenceHost {
  /** Redis commands. */
  readonly redis: ScriptRunner;
  /** Publishes on the presence topic; `false` when the link is down. */
  publish(payload: string): boolean;
  /** Whether the command connection is ready. */
  ready(): boolean;
}

/** Presence on Redis; see the module doc. */
export class RedisPresence implements Presence {
  #counts = new Refcounts<string>();
  /** uid → nodes holding it (this node included). */
  #holders = new Map<string, Set<string>>();
  /** Remote node → when last heard (ms) and its uids. */
  #remote = new Map<string, { seen: number; uids: Set<string> }>();
  #watchers = new Set<(change: PresenceChange) => void>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /**
   * Messages received while snapshots (resync, reload) are in flight: applied after them, so an
   * older snapshot never undoes a newer `+uid`/`-uid` (applying one twice is harmless).
   */
  #pending: [string, string][] = [];
  #loading = 0;
  #closed = false;

  constructor(
    readonly host: PresenceHost,
    readonly prefix: string,
    readonly nodeId: string,
    readonly heartbeatMs: number,
    readonly heartbeatTtlMs: number,
  ) {}

  #key(node: string, what: "uids" | "alive"): string {
    return `${this.prefix}:{n:${encodeURIComponent(node)}}:${what}`;
  }

  /** Starts the heartbeat and sweep timer. */
  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.heartbeatMs);
  }

  // ------------------------------------------------------------------ the view

  #hold(uid: string, node: string): void {
    let set = this.#holders.get(uid);
    if (!set) this.#holders.set(uid, set = new Set());
    if (set.has(node)) return;
    set.add(node);
    if (set.size === 1) this.#notify({ uid, online: true });
  }

  /** `departed`: `node` left the cluster (died or said `x`) holding `uid`. */
  #unhold(uid: string, node: string, departed = false): void {
    const set = this.#holders.get(uid);
    if (!set?.delete(node) || set.size > 0) return;
    this.#holders.delete(uid);
    this.#notify(departed ? { uid, online: false, node } : { uid, online: false });
  }

  #notify(change: PresenceChange): void {
    for (const w of this.#watchers) {
      try {
        w(change);
      } catch (e) {
        console.error("sente-lite: presence listener threw:", e);
      }
    }
  }

  #dropNode(node: string): void {
    const r = this.#remote.get(node);
    if (!r) return;
    this.#remote.delete(node);
    for (const uid of r.uids) this.#unhold(uid, node, true);
  }

  #node(node: string): { seen: number; uids: Set<string> } {
    let r = this.#remote.get(node);
    if (!r) this.#remote.set(node, r = { seen: Date.now(), uids: new Set() });
    r.seen = Date.now();
    return r;
  }

  /** A message of another node on the presence topic. */
  receive(payload: string, from: string): void {
    if (this.#closed || from === this.nodeId) return;
    if (this.#loading > 0) {
      this.#pending.push([payload, from]);
      return;
    }
    this.#apply(payload, from);
  }

  #apply(payload: string, from: string): void {
    const kind = payload[0];
    if (kind === "x") return this.#dropNode(from);
    const known = this.#remote.has(from);
    const r = this.#node(from);
    // A node that (re)registered, or one we had dropped (outage): read its whole set.
    if (kind === "r" || (kind === "h" && !known)) {
      this.#reload(from).catch(() => {});
      return;
    }
    const uid = payload.slice(1);
    if (kind === "+") {
      r.uids.add(uid);
      this.#hold(uid, from);
    } else if (kind === "-") {
      r.uids.delete(uid);
      this.#unhold(uid, from);
    }
  }

  // ------------------------------------------------------------------ Presence

  add(uid: string): boolean {
    if (!this.#counts.hold(uid)) return false;
    this.#hold(uid, this.nodeId);
    if (this.host.ready()) {
      this.host.redis.command(["SADD", this.#key(this.nodeId, "uids"), uid]).catch(() => {});
      this.host.publish(`+${uid}`);
    }
    return true;
  }

  remove(uid: string): boolean {
    if (!this.#counts.release(uid)) return false;
    this.#unhold(uid, this.nodeId);
    if (this.host.ready()) {
      this.host.redis.command(["SREM", this.#key(this.nodeId, "uids"), uid]).catch(() => {});
      this.host.publish(`-${uid}`);
    }
    return true;
  }

  current(): ReadonlySet<string> {
    return new Set(this.#holders.keys());
  }

  has(uid: string): boolean {
    return this.#holders.has(uid);
  }

  nodesOf(uid: string): ReadonlySet<string> {
    return new Set(this.#holders.get(uid));
  }

  nodes(): ReadonlySet<string> {
    return new Set([this.nodeId, ...this.#remote.keys()]);
  }

  watch(listener: (change: PresenceChange) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  // ------------------------------------------------------------------ heartbeat and resync

  /** Rewrites this node's keys in one script, so no reader ever sees the set half-written. */
  async #register(): Promise<void> {
    const r = this.host.redis;
    // Written at once (the runner keeps the calls' order): an add made after it is written after
    // this rewrite that does not contain it.
    await r.command([
      "EVAL",
      REGISTER,
      "2",
      this.#key(this.nodeId, "alive"),
      this.#key(this.nodeId, "uids"),
      String(this.heartbeatTtlMs),
      ...this.#counts.keys(),
    ]);
    await r.command(["SADD", `${this.prefix}:nodes`, this.nodeId]);
  }

  #tick(): void {
    if (this.#closed) return;
    const cutoff = Date.now() - this.heartbeatTtlMs;
    for (const [node, r] of this.#remote) if (r.seen < cutoff) this.#dropNode(node);
    if (!this.host.ready()) return;
    const ttl = String(this.heartbeatTtlMs);
    const r = this.host.redis;
    r.command(["SET", this.#key(this.nodeId, "alive"), "1", "PX", ttl]).catch(() => {});
    r.command(["PEXPIRE", this.#key(this.nodeId, "uids"), ttl]).catch(() => {});
    this.host.publish("h");
  }

  /**
   * Re-registers this node (its keys may have expired during an outage, or Redis restarted empty)
   * and rebuilds the view of the others from their keys. Called when the link comes up.
   */
  async resync(): Promise<void> {
    if (this.#closed) return;
    this.#loading++;
    try {
      // The local set is rewritten whole: removes made while down are not in it any more.
      await this.#register();
      const nodes = await this.host.redis.command(["SMEMBERS", `${this.prefix}:nodes`]) as string[];
      const seen = new Map<string, Set<string>>();
      for (const node of nodes) {
        if (node === this.nodeId) continue;
        const alive = await this.host.redis.command(["EXISTS", this.#key(node, "alive")]);
        if (Number(alive) === 0) {
          await this.host.redis.command(["SREM", `${this.prefix}:nodes`, node]);
          continue;
        }
        const uids = await this.host.redis.command(["SMEMBERS", this.#key(node, "uids")]);
        seen.set(node, new Set(uids as string[]));
      }
      for (const node of [...this.#remote.keys()]) if (!seen.has(node)) this.#dropNode(node);
      for (const [node, uids] of seen) {
        const r = this.#node(node);
        for (const uid of r.uids) if (!uids.has(uid)) this.#unhold(uid, node);
        r.uids = uids;
        for (const uid of uids) this.#hold(uid, node);
      }
      // Nodes that resynced before we re-registered read our set now.
      this.host.publish("r");
    } finally {
      this.#loaded();
    }
  }

  /** Replaces the view of `node`'s uids with its set in Redis. */
  async #reload(node: string): Promise<void> {
    this.#loading++;
    try {
      const uids = new Set(
        await this.host.redis.command(["SMEMBERS", this.#key(node, "uids")]) as string[],
      );
      const r = this.#remote.get(node);
      if (this.#closed || !r) return;
      for (const uid of r.uids) if (!uids.has(uid)) this.#unhold(uid, node);
      r.uids = uids;
      for (const uid of uids) this.#hold(uid, node);
    } finally {
      this.#loaded();
    }
  }

  /** A snapshot landed: when none is in flight any more, apply what arrived meanwhile. */
  #loaded(): void {
    if (--this.#loading > 0) return;
    const pending = this.#pending;
    this.#pending = [];
    for (const [payload, from] of pending) this.receive(payload, from);
  }

  /** Leaves: deletes this node's keys (best effort), tells the others, stops the timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.host.ready()) {
      this.host.publish("x");
      const r = this.host.redis;
      await Promise.allSettled([
        r.command(["DEL", this.#key(this.nodeId, "uids"), this.#key(this.nodeId, "alive")]),
        r.command(["SREM", `${this.prefix}:nodes`, this.nodeId]),
      ]);
    }
  }
}
