/**
 * The backplane topics one Hub listens to, counted: a uid's topic while this node holds a
 * connection or an away resume session of the uid, a channel's topic while it has a subscriber
 * or an away session keeping the channel (docs/scaling.md). The first retain subscribes, the
 * last release unsubscribes; what arrives goes to the {@linkcode TopicRoutes} the cluster module
 * sets. A server alone on a private in-process backplane subscribes nothing (nobody could
 * publish): its sends cost what they cost before the backplane existed.
 *
 * @module
 */
import { type Backplane, type TopicHandler, TOPICS } from "../backplane/backplane.ts";

/** Where topic messages go (set by lib/server/cluster.ts). */
export interface TopicRoutes {
  /** A send to `uid` published by another node. */
  uid(uid: string, payload: string, from: string): void;
  /** A publish on `channel` made on another node. */
  channel(channel: string, payload: string, from: string): void;
}

interface Ref {
  n: number;
  unsubscribe: Promise<(() => void) | null>;
}

/** Counted topic subscriptions of one Hub. */
export class Topics {
  /** Where messages go; `null` until the cluster module is made. */
  routes: TopicRoutes | null = null;
  readonly #backplane: Backplane | null;
  readonly #onError: (error: unknown, where: string) => void;
  readonly #refs = new Map<string, Ref>();
  /** Subscriptions not active yet. */
  readonly #pending = new Set<Promise<unknown>>();

  /** Subscribes through `backplane`, or nothing when it is `null` (a server alone). */
  constructor(backplane: Backplane | null, onError: (error: unknown, where: string) => void) {
    this.#backplane = backplane;
    this.#onError = onError;
  }

  /** `false` for a server alone: no other node can reach it. */
  get clustered(): boolean {
    return this.#backplane !== null;
  }

  /** Listens to `uid`'s topic (once per node however many retain it). */
  retainUid(uid: string): void {
    if (this.#backplane === null) return;
    this.retain(TOPICS.uid(uid), (p, from) => this.routes?.uid(uid, p, from));
  }

  /** Stops listening to `uid`'s topic when nothing else retains it. */
  releaseUid(uid: string): void {
    if (this.#backplane !== null) this.release(TOPICS.uid(uid));
  }

  /** Listens to `channel`'s topic. */
  retainChannel(channel: string): void {
    if (this.#backplane === null) return;
    this.retain(TOPICS.channel(channel), (p, from) => this.routes?.channel(channel, p, from));
  }

  /** Stops listening to `channel`'s topic when nothing else retains it. */
  releaseChannel(channel: string): void {
    if (this.#backplane !== null) this.release(TOPICS.channel(channel));
  }

  /** Listens to `topic` with `handler` (the first retain's handler serves every retain). */
  retain(topic: string, handler: TopicHandler): void {
    const backplane = this.#backplane;
    if (backplane === null) return;
    const ref = this.#refs.get(topic);
    if (ref) {
      ref.n++;
      return;
    }
    const unsubscribe = backplane.subscribe(topic, (payload, from) => {
      try {
        handler(payload, from);
      } catch (e) {
        this.#onError(e, `backplane topic ${topic}`);
      }
    }).catch((e) => {
      this.#onError(e, `subscribing backplane topic ${topic}`);
      return null;
    });
    this.#refs.set(topic, { n: 1, unsubscribe });
    this.#pending.add(unsubscribe);
    unsubscribe.then(() => this.#pending.delete(unsubscribe));
  }

  /** Releases one retain of `topic`. */
  release(topic: string): void {
    const ref = this.#refs.get(topic);
    if (!ref || --ref.n > 0) return;
    this.#refs.delete(topic);
    ref.unsubscribe.then((u) => u?.());
  }

  /** Resolves once every subscription made so far is active (or failed). */
  ready(): Promise<void> {
    return Promise.all(this.#pending).then(() => {});
  }

  /** How many topics are held. */
  get size(): number {
    return this.#refs.size;
  }

  /** Releases every topic. */
  close(): void {
    for (const ref of this.#refs.values()) ref.unsubscribe.then((u) => u?.());
    this.#refs.clear();
  }
}
