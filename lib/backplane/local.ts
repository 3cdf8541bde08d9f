/**
 * The in-process backplane: what a single server uses by default. Alone on its bus it is a
 * no-op seam — `publish` returns at once (no other node), presence is a count map, the link is
 * `up` from the start — so the single-node fast path costs a map lookup. Several nodes sharing one
 * {@linkcode LocalBus} form a cluster inside one process (for tests and embedding); messages to
 * other nodes are delivered in a microtask, in publish order, never inside the publisher's call.
 *
 * @module
 */
import type {
  Backplane,
  BackplaneStats,
  DeliveryStore,
  Payload,
  Presence,
  PresenceChange,
  TopicHandler,
} from "./backplane.ts";
import { type LinkStatus, LinkTracker } from "./link.ts";
import { LocalStore } from "./local_store.ts";
import type { StoreOptions } from "./store_options.ts";
import { randomHex } from "../util/ids.ts";
import { Refcounts } from "../util/refcounts.ts";

/** The shared state of in-process nodes: their topics, presence and store. */
export class LocalBus {
  /** topic → node id → handlers. */
  readonly topics: Map<string, Map<string, Set<TopicHandler>>> = new Map();
  /** uid → the nodes that hold it. */
  readonly holders: Map<string, Set<string>> = new Map();
  /** The nodes on the bus and their presence watchers. */
  readonly nodes: Map<string, Set<(change: PresenceChange) => void>> = new Map();
  /** The durable store every node of the bus shares. */
  readonly store: DeliveryStore;

  /** Makes an empty bus; `store` bounds its delivery store. */
  constructor(store?: StoreOptions, now?: () => number) {
    this.store = new LocalStore(store ?? {}, now ?? Date.now);
  }

  /**
   * Tells every node's presence watchers.
   *
   * @example
   * ```ts
   * import { LocalBus } from "@sente-lite/sente-lite/redis";
   *
   * const bus = new LocalBus();
   * bus.notify({ uid: "alice", online: true }); // every node's presence watchers hear it
   * ```
   */
  notify(change: PresenceChange): void {
    for (const watchers of this.nodes.values()) {
      for (const w of watchers) {
        try {
          w(change);
        } catch (e) {
          console.error("sente-lite: presence listener threw:", e);
        }
      }
    }
  }
}

/** Options of {@linkcode localBackplane}. */
export interface LocalBackplaneOptions {
  /**
   * The bus shared with other in-process nodes; each node gets a private one by default.
   * @default {a new LocalBus}
   */
  bus?: LocalBus;
  /**
   * This node's id.
   * @default {16 random hex digits}
   */
  nodeId?: string;
}

class LocalPresence implements Presence {
  #counts = new Refcounts<string>();
  #watchers = new Set<(change: PresenceChange) => void>();

  constructor(readonly bus: LocalBus, readonly nodeId: string) {
    bus.nodes.set(nodeId, this.#watchers);
  }

  add(uid: string): boolean {
    if (!this.#counts.hold(uid)) return false;
    let holders = this.bus.holders.get(uid);
    if (!holders) this.bus.holders.set(uid, holders = new Set());
    holders.add(this.nodeId);
    if (holders.size === 1) this.bus.notify({ uid, online: true });
    return true;
  }

  remove(uid: string): boolean {
    if (!this.#counts.release(uid)) return false;
    this.#release(uid);
    return true;
  }

  /** `departed`: this node leaves the bus with the uid still connected here. */
  #release(uid: string, departed = false): void {
    const holders = this.bus.holders.get(uid);
    if (!holders?.delete(this.nodeId) || holders.size > 0) return;
    this.bus.holders.delete(uid);
    this.bus.notify(departed ? { uid, online: false, node: this.nodeId } : { uid, online: false });
  }

  current(): ReadonlySet<string> {
    return new Set(this.bus.holders.keys());
  }

  has(uid: string): boolean {
    return this.bus.holders.has(uid);
  }

  nodesOf(uid: string): ReadonlySet<string> {
    return new Set(this.bus.holders.get(uid));
  }

  nodes(): ReadonlySet<string> {
    return new Set(this.bus.nodes.keys());
  }

  watch(listener: (change: PresenceChange) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /** Leaves the bus: every uid of this node is released. */
  leave(): void {
    // Off the bus first: the others' watchers see a node list without it.
    this.bus.nodes.delete(this.nodeId);
    for (const uid of this.#counts.keys()) this.#release(uid, true);
    this.#counts.clear();
  }
}

class LocalBackplane implements Backplane {
  readonly nodeId: string;
  readonly presence: LocalPresence;
  readonly store: DeliveryStore;
  readonly #link = new LinkTracker("up");
  readonly #bus: LocalBus;
  #stats: BackplaneStats = { published: 0, publishDropped: 0, received: 0, topics: 0 };
  #closed = false;

  constructor(options: LocalBackplaneOptions) {
    this.#bus = options.bus ?? new LocalBus();
    this.nodeId = options.nodeId ?? randomHex(16);
    if (this.#bus.nodes.has(this.nodeId)) {
      throw new RangeError(`node id ${this.nodeId} is already on this bus`);
    }
    this.presence = new LocalPresence(this.#bus, this.nodeId);
    this.store = this.#bus.store;
  }

  get link(): LinkStatus {
    return this.#link;
  }

  publish(topic: string, payload: Payload): boolean {
    if (this.#closed) return false;
    const byNode = this.#bus.topics.get(topic);
    if (byNode === undefined) return true;
    for (const [nodeId, handlers] of byNode) {
      if (nodeId === this.nodeId) continue;
      this.#stats.published++;
      const from = this.nodeId;
      queueMicrotask(() => {
        for (const h of handlers) {
          try {
            h(payload, from);
          } catch (e) {
            console.error("sente-lite: backplane topic handler threw:", e);
          }
        }
      });
    }
    return true;
  }

  subscribe(topic: string, handler: TopicHandler): Promise<() => void> {
    if (this.#closed) return Promise.reject(new Error("backplane is closed"));
    let byNode = this.#bus.topics.get(topic);
    if (!byNode) this.#bus.topics.set(topic, byNode = new Map());
    let handlers = byNode.get(this.nodeId);
    if (!handlers) {
      byNode.set(this.nodeId, handlers = new Set());
      this.#stats.topics++;
    }
    // A wrapper per call, so the same function subscribed twice unsubscribes once each.
    const counted: TopicHandler = (payload, from) => {
      this.#stats.received++;
      handler(payload, from);
    };
    handlers.add(counted);
    const set = handlers;
    return Promise.resolve(() => {
      if (!set.delete(counted) || set.size > 0) return;
      byNode.delete(this.nodeId);
      this.#stats.topics--;
      if (byNode.size === 0 && this.#bus.topics.get(topic) === byNode) {
        this.#bus.topics.delete(topic);
      }
    });
  }

  stats(): BackplaneStats {
    return { ...this.#stats };
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const [topic, byNode] of this.#bus.topics) {
      byNode.delete(this.nodeId);
      if (byNode.size === 0) this.#bus.topics.delete(topic);
    }
    this.#stats.topics = 0;
    this.presence.leave();
    this.#link.apply("close()");
    return Promise.resolve();
  }
}

/**
 * An in-process backplane node. Without `bus` it is a cluster of one (the server's default);
 * nodes given the same `bus` see each other's topics, presence and store.
 *
 * @example
 * ```ts
 * import { LocalBus, localBackplane } from "@sente-lite/sente-lite/redis";
 *
 * const bus = new LocalBus(); // two nodes of one in-process cluster
 * const a = localBackplane({ bus });
 * const b = localBackplane({ bus });
 * console.log(a !== b);
 * ```
 */
export function localBackplane(options?: LocalBackplaneOptions): Backplane {
  options ??= {};
  return new LocalBackplane(options);
}
