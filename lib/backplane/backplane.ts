/**
 * The backplane: what a Hub needs from the other nodes of its cluster, behind one interface with
 * an in-process implementation (`local.ts`, the default: a single server) and a Redis one
 * (`redis.ts`). Three parts:
 *
 * - **Topics** ({@linkcode Backplane.publish}/{@linkcode Backplane.subscribe}): at-most-once
 *   messages to the other nodes. A fan-out is encoded **once per cluster**: the Hub publishes the
 *   logical message as JSON text that keeps the Clojure-data types (`codec.ts`; the event plus
 *   routing fields such as `except`), never
 *   per-connection frames; each receiving node packs it per connection as it does for local
 *   sends. Topic names come from {@linkcode TOPICS}.
 * - **Presence** ({@linkcode Presence}): this node's uids, the cluster-wide connected uids and
 *   node liveness; a dead node's uids vanish within `heartbeatTtlMs + heartbeatMs`.
 * - **Durable delivery** ({@linkcode DeliveryStore}): resume sessions and offline buffers that
 *   outlive the node that made them, so a client resumes on any node.
 *
 * Plus the link state ({@linkcode Backplane.link}) for `/ready`, `/metrics` and telemetry, and the
 * gaps announced when cross-node messages may have been lost.
 *
 * @module
 */
import type { LinkStatus } from "./link.ts";

/** A message's encoded form on the backplane: the logical message as typed JSON (`codec.ts`). */
export type Payload = string;

/** Receives a topic's messages; `from` is the publishing node's id. */
export type TopicHandler = (payload: Payload, from: string) => void;

/**
 * The topics the Hub uses. Each is one pub/sub channel (a sharded one on Redis ≥ 7), so in a
 * Redis Cluster every topic lives on one shard and the topics spread over the shards.
 */
export const TOPICS: {
  /** `send(uid)`: the nodes holding a connection of `uid` subscribe while they hold one. */
  readonly uid: (uid: string) => string;
  /**
   * Node-addressed traffic: `sendTo(connId)`, server→client `request(connId)` and the reply routed
   * back to the requesting node, closes of superseded connections. Connection ids carry no node,
   * so the Hub finds the node in presence or asks all (`broadcast` topic) once.
   */
  readonly node: (nodeId: string) => string;
  /** `broadcast`: every node subscribes. */
  readonly broadcast: string;
  /** `publish(channel)` and client publishes: the nodes with a subscriber of `channel`. */
  readonly channel: (channel: string) => string;
} = Object.freeze({
  uid: (uid: string): string => `u:${uid}`,
  node: (nodeId: string): string => `n:${nodeId}`,
  broadcast: "b",
  channel: (channel: string): string => `c:${channel}`,
});

/** A cluster-wide change of a uid's presence. */
export interface PresenceChange {
  /** The uid. */
  readonly uid: string;
  /** `true`: its first connection in the cluster opened; `false`: its last one closed. */
  readonly online: boolean;
  /**
   * Set on a close caused by a node leaving the cluster (it died: its heartbeat expired; or it
   * left without closing its connections): that node's id. Such a close fired no
   * `chsk/uidport-close` anywhere, so one surviving node fires it (lib/server/departed.ts).
   */
  readonly node?: string;
}

/**
 * Presence: who is connected where. Counts are per node and kept by the node itself; the cluster
 * view is a set per uid of the nodes that hold it, updated by notifications and rebuilt from the
 * engine after every reconnect.
 */
export interface Presence {
  /**
   * Counts a connection of `uid` on this node; returns `true` when it is the node's first.
   * Synchronous: the local view changes at once, the engine is told in the background.
   */
  add(uid: string): boolean;
  /** Uncounts a connection of `uid` on this node; returns `true` when it was the node's last. */
  remove(uid: string): boolean;
  /** The uids connected anywhere in the cluster (as this node last heard), a snapshot. */
  current(): ReadonlySet<string>;
  /** Whether `uid` is connected anywhere (as this node last heard). */
  has(uid: string): boolean;
  /** The nodes that hold `uid` (this node included), as last heard. */
  nodesOf(uid: string): ReadonlySet<string>;
  /** The live nodes (this one included). */
  nodes(): ReadonlySet<string>;
  /**
   * Calls `listener` for every cluster-wide open (first connection anywhere) and close (last one
   * anywhere, or its node died); returns an unsubscribe function.
   */
  watch(listener: (change: PresenceChange) => void): () => void;
}

/** A message kept in a session, with its number. */
export interface StoredMessage {
  /** Its number in the session, from 1, without holes (a hole is a loss). */
  readonly seq: number;
  /** The message. */
  readonly payload: Payload;
}

/** Where a session's connection is attached: a node and a connection id. */
export interface Attachment {
  /** The node holding the connection. */
  readonly nodeId: string;
  /** The connection. */
  readonly connId: string;
}

/** A session as the store keeps it. */
export interface SessionRecord {
  /** The session id (the head of its resume tokens). */
  readonly sessionId: string;
  /** The newest resume token (wire form): handed to the client in the handshake. */
  readonly token: string;
  /** The last seq numbered for the client. */
  readonly outSeq: number;
  /** The highest client seq recorded (inbound dedup high-water mark). */
  readonly inAck: number;
  /**
   * The channels the session kept while detached (given to {@linkcode DeliveryStore.detach}):
   * the caller subscribes the new connection to them; the session no longer keeps them. Empty for
   * a new session.
   */
  readonly channels: readonly string[];
}

/** What {@linkcode DeliveryStore.open} decided. */
export type OpenResult =
  | {
    /** The token matched: the session is attached to the caller, with a new token. */
    readonly status: "opened";
    /** The session. */
    readonly session: SessionRecord;
    /** The connection the session was attached to before (to close, as superseded), if any. */
    readonly superseded: Attachment | null;
  }
  | {
    /**
     * `unknown`: no such session under this uid (expired, ended, never existed, or another uid's:
     * sessions are looked up under the uid, so a token never reaches another uid's session);
     * `rejected`: it exists but the secret or the client id did not match — it was left untouched.
     */
    readonly status: "unknown" | "rejected";
  };

/** What {@linkcode DeliveryStore.replay} returns. */
export interface Replay {
  /** The kept messages after the requested seq, oldest first. */
  readonly messages: StoredMessage[];
  /** Messages after the requested seq that are gone (trimmed by length or age): a gap. */
  readonly dropped: number;
  /** The session's last seq. */
  readonly outSeq: number;
}

/** What {@linkcode DeliveryStore.hold} did with a message for a uid. */
export interface HoldResult {
  /** Detached sessions of the uid that got it (numbered). */
  readonly sessions: number;
  /** Whether it went to the uid's offline buffer (no session, and the caller allowed it). */
  readonly buffered: boolean;
}

/** What {@linkcode DeliveryStore.drain} returns: a uid's offline buffer, now emptied. */
export interface OfflineDrain {
  /** The messages, oldest first. */
  readonly messages: Payload[];
  /** Lost to the length bound since the last drain. */
  readonly overflow: number;
  /** Lost to the age bound since the last drain. */
  readonly expired: number;
}

/**
 * Options of {@linkcode DeliveryStore.hold} and {@linkcode DeliveryStore.holdChannel}.
 */
export interface HoldOptions {
  /**
   * Number the message into **attached** sessions too (store-first delivery: the nodes holding
   * their connections send them what the session's stream holds, so nothing depends on the
   * attached node staying alive, and the stream's order is the one order every node sends).
   * @default {false}
   */
  attached?: boolean;
}

/** Options of {@linkcode DeliveryStore.open}. */
export interface OpenOptions {
  /**
   * Leave the session's channel set in place (it is still returned): for store-first delivery,
   * where the set is kept up to date while attached ({@linkcode DeliveryStore.keepChannel}), so
   * channel messages published during the open are numbered into the session, not missed.
   * @default {false}
   */
  keepChannels?: boolean;
  /**
   * The connection has channel sequences: the session goes on holding the streams of the
   * channels it kept ({@linkcode DeliveryStore.channelSince}) while attached, until the client's
   * re-subscribe reads them or it leaves them, so nothing is left unstored meanwhile.
   * @default {false}
   */
  holdStreams?: boolean;
}

/**
 * Durable delivery: resume sessions and offline buffers, kept where every node reaches them.
 * Every session lives under its uid (so a Redis Cluster keeps a uid's sessions and buffer in one
 * slot). Guarantees, for both implementations:
 * - seqs of a session are 1, 2, 3… without holes; a message trimmed before it was acknowledged
 *   shows as `dropped` in the next {@linkcode replay}, never silently;
 * - a session holds at least its newest `maxMessages` unacknowledged messages (at most that plus
 *   one Redis stream node, ≤ 100 more, on Redis);
 * - a session lives while attached and for `ttlMs` after it is detached or its node died; an
 *   offline-buffered message lives `ttlMs`;
 * - tokens are checked with the secret, uid and client id; a mismatch never changes the session;
 *   the store keeps only a SHA-256 of each secret.
 */
export interface DeliveryStore {
  /** Makes a session for `uid`/`clientId` attached to `at`; returns it with its first token. */
  create(uid: string, clientId: string, at: Attachment): Promise<SessionRecord>;
  /**
   * Opens the session a token names, if the token (the newest or the one before it), the uid and
   * the client id match; it is then attached to `at` and gets a new token.
   */
  open(
    uid: string,
    clientId: string,
    token: string,
    at: Attachment,
    options?: OpenOptions,
  ): Promise<OpenResult>;
  /** Numbers `payload` in the session and keeps it until acknowledged; returns its seq. */
  append(uid: string, sessionId: string, payload: Payload): Promise<number>;
  /** The kept messages with seq > `afterSeq`, and how many after it are gone. */
  replay(uid: string, sessionId: string, afterSeq: number): Promise<Replay>;
  /** The client has every message through `seq`: they are dropped. */
  ack(uid: string, sessionId: string, seq: number): Promise<void>;
  /**
   * Records that client messages through `seq` were handled (raises the dedup high-water mark,
   * never lowers it). Call it before acknowledging them to the client; returns the mark.
   */
  markInbound(uid: string, sessionId: string, seq: number): Promise<number>;
  /**
   * Optional: resolves once the calls made so far were written to the store's connection (sent,
   * not yet answered). After a numbered client event ran, its connection's next events wait for
   * this, so a node that dies leaves at most that one event handled but unrecorded (docs/scaling.md).
   */
  written?(): Promise<void>;
  /**
   * The connection `at` left: the session starts its TTL (unless another attached since) and
   * keeps `channels` (the connection's subscriptions): their messages are numbered into it while
   * it is away ({@linkcode holdChannel}), and {@linkcode open} hands them to the next connection.
   * Resolves `true` when it detached (parked) the session, `false` (or nothing) when `at` no
   * longer had it.
   */
  detach(
    uid: string,
    sessionId: string,
    at: Attachment,
    channels?: readonly string[],
    options?: KeepOptions,
  ): Promise<boolean | void>;
  /** Drops the session and its messages. */
  end(uid: string, sessionId: string): Promise<void>;
  /**
   * Drops the session only if it is still detached by the connection `at` (its last
   * {@linkcode detach}): a session resumed since, or detached by another connection, is kept.
   * Resolves with the count of unacknowledged messages dropped with it, or `null` when it was kept
   * (or is gone). For a node's per-IP cap of parked sessions (`delivery.maxParkedPerIp`): a
   * node evicts only a session it parked, never one another connection (or IP) uses now.
   * Optional: a store without it is not capped per IP.
   */
  evict?(uid: string, sessionId: string, at: Attachment): Promise<number | null>;
  /** How long (ms) a detached session lives, if the store says. */
  readonly ttlMs?: number;
  /**
   * A message sent to `uid`: numbered into each of its detached sessions; when it has none and
   * `offline` is true (the uid is connected nowhere), kept in its offline buffer instead.
   */
  hold(
    uid: string,
    payload: Payload,
    offline: boolean,
    options?: HoldOptions,
  ): Promise<HoldResult>;
  /** Takes the uid's offline buffer (one caller gets each message) with the losses since. */
  drain(uid: string): Promise<OfflineDrain>;
  /**
   * A message published on `channel`: numbered into each detached session that keeps the
   * channel; returns how many. (Connected subscribers get it through the topic, not from here.)
   */
  holdChannel(channel: string, payload: Payload, options?: HoldOptions): Promise<number>;
  /**
   * Records that the session (attached) subscribes to `channel` (`keep`) or no longer does, so
   * {@linkcode holdChannel} with `attached` numbers the channel's messages into it.
   */
  keepChannel(
    uid: string,
    sessionId: string,
    channel: string,
    keep: boolean,
    options?: KeepOptions,
  ): Promise<void>;
  /**
   * Channel sequences: numbers `payload` in `channel`'s stream, once for the whole cluster (one
   * stream per channel; its numbers start above `ms × 1000` of the moment it was made, so a
   * stream made again never reuses one). Bounded by the store's `maxMessages` and `ttlMs`.
   * Returns the number; with `held`, 0 (nothing stored, no key made) when no session holds the
   * stream (see {@linkcode channelSince}).
   */
  appendChannel(channel: string, payload: Payload, options?: AppendChannelOptions): Promise<number>;
  /**
   * The channel stream's messages after `after` (`null`: none, only `current`). With `holder`
   * (a session with channel sequences that subscribes to `channel`), the session holds the stream
   * from this read on, atomically with it: while it is attached, and for `ttlMs` after it is
   * detached keeping the channel, until {@linkcode keepChannel} says it no longer keeps it.
   */
  channelSince(
    channel: string,
    after: number | null,
    holder?: StreamHolder,
  ): Promise<ChannelReplay>;
}

/** Options of {@linkcode DeliveryStore.appendChannel}. */
export interface AppendChannelOptions {
  /**
   * Number the message only when a session holds the channel's stream (else resolve 0 and store
   * nothing): a publish to a channel nobody reads with channel sequences makes no keys.
   * @default {false}
   */
  held?: boolean;
}

/** A session that holds a channel stream ({@linkcode DeliveryStore.channelSince}). */
export interface StreamHolder {
  /** The session's uid. */
  readonly uid: string;
  /** The session's id. */
  readonly sessionId: string;
}

/** Options of {@linkcode DeliveryStore.keepChannel} and {@linkcode DeliveryStore.detach}. */
export interface KeepOptions {
  /**
   * Index the session under the channel so {@linkcode DeliveryStore.holdChannel} numbers the
   * channel's messages into it; `false` for a session with channel sequences, which replays the
   * channel's own stream ({@linkcode DeliveryStore.channelSince}) instead.
   * @default {true}
   */
  indexed?: boolean;
}

/** What {@linkcode DeliveryStore.channelSince} returns: a channel stream after a cursor. */
export interface ChannelReplay {
  /** The kept messages after the cursor, oldest first (`seq`: the stream's number). */
  readonly messages: StoredMessage[];
  /**
   * Messages after the cursor that are gone: a count, `null` when unknown (a cursor of another
   * incarnation of the stream), 0 when none.
   */
  readonly dropped: number | null;
  /** `"overflow"` (length bound) or `"expired"` (age) when `dropped` is a count above 0. */
  readonly reason: "overflow" | "expired" | "unknown" | null;
  /** The stream's last number (0 when the stream does not exist). */
  readonly current: number;
}

/** Counters of a backplane. */
export interface BackplaneStats {
  /** Messages published to other nodes. */
  published: number;
  /** Publishes dropped because the link was not up (each also counted in the next gap). */
  publishDropped: number;
  /** Messages received from other nodes. */
  received: number;
  /** Topics this node is subscribed to. */
  topics: number;
}

/** The cluster seam the Hub talks to. */
export interface Backplane {
  /** This node's id (random, unique per process start). */
  readonly nodeId: string;
  /**
   * Sends `payload` to the subscribers of `topic` on the **other** nodes (the caller delivers to
   * its own recipients itself, synchronously). At most once, in publish order per topic and
   * publisher. Returns `false` when it was dropped because the link is not up (counted, and
   * announced in the link's next gap).
   */
  publish(topic: string, payload: Payload): boolean;
  /**
   * Receives the other nodes' messages on `topic` until the returned function is called. Several
   * handlers may share a topic; the engine subscription is made once and re-made after every
   * reconnect. Resolves once the subscription is active (messages published after that arrive).
   */
  subscribe(topic: string, handler: TopicHandler): Promise<() => void>;
  /** Presence: this node's uids and the cluster's. */
  readonly presence: Presence;
  /** Durable delivery: resume sessions and offline buffers. */
  readonly store: DeliveryStore;
  /** The link to the engine: state and transitions (with gaps). */
  readonly link: LinkStatus;
  /** Counters. */
  stats(): BackplaneStats;
  /**
   * Leaves the cluster: this node's presence is removed at once (other nodes see its uids close),
   * subscriptions end, connections close. Idempotent.
   */
  close(): Promise<void>;
}
