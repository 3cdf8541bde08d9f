/**
 * Channel presence across the nodes of a cluster (docs/scaling.md): every node tells the others,
 * on one backplane topic, when a connection of its own joins or leaves a presence channel, and
 * keeps the other nodes' members in memory. `server.presence(channel)`, the `sente-lite/presence`
 * request and the join/leave pushes then cover the whole cluster.
 *
 * Topic `pc` (JSON): `{"j": channel, "c": connId, "u": uid}` a join, `{"l": channel, "c": connId}`
 * a leave, `{"s": 1}` a node asking for the others' members (when it starts and after a gap), and
 * `{"m": [[channel, connId, uid], …]}` a node's whole list (its answer; it replaces what was known
 * of that node). A node that left presence (it died: its heartbeat expired; or it left) loses its
 * members: they are filtered out at once by every read and their leaves pushed at the next
 * presence change or topic message.
 *
 * @module
 */
import type { LinkChange } from "../backplane/link.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { PresenceMember } from "./presence.ts";

/** The presence topic every node of a cluster subscribes to. */
export const PRESENCE_TOPIC = "pc";

type Message =
  | { j: string; c: string; u: string }
  | { l: string; c: string }
  | { s: 1 }
  | { m: [string, string, string][] };

/** The local side `ClusterPresence` needs from presence.ts. */
export interface PresenceHost {
  /** Whether `channel` has presence. */
  enabled(channel: string): boolean;
  /** Pushes a join or leave to this node's subscribers of `channel`. */
  tell(channel: string, connId: string, uid: string, added: boolean): void;
}

/** The other nodes' members of the presence channels, as this node last heard. */
export class ClusterPresence {
  readonly #ctx: ServerContext;
  readonly #host: PresenceHost;
  /** node → channel → connId → uid. */
  readonly #remote = new Map<string, Map<string, Map<string, string>>>();
  /**
   * The nodes of `#remote` presence has listed live: only those are dropped when it stops
   * listing them (a node's first message here may come before presence heard of it).
   */
  readonly #seen = new Set<string>();

  /** Subscribes the presence topic and asks the other nodes for their members. */
  constructor(ctx: ServerContext, host: PresenceHost) {
    this.#ctx = ctx;
    this.#host = host;
    const backplane = ctx.options.backplane;
    ctx.topics.retain(PRESENCE_TOPIC, (payload, from) => this.#receive(payload, from));
    backplane.presence.watch(() => this.#sweep());
    backplane.link.watch((change: LinkChange) => {
      if (change.to === "up") this.#publish({ s: 1 });
    });
    // Asked once the topic listens, so no answer is missed.
    ctx.topics.ready().then(() => this.#publish({ s: 1 }));
  }

  /** This node's connection joined or left a presence channel: the other nodes are told. */
  local(channel: string, conn: Connection, added: boolean): void {
    this.#publish(added ? { j: channel, c: conn.id, u: conn.uid } : { l: channel, c: conn.id });
  }

  /** The other live nodes' members of `channel`. */
  members(channel: string): PresenceMember[] {
    this.#sweep();
    const out: PresenceMember[] = [];
    for (const channels of this.#remote.values()) {
      for (const [connId, uid] of channels.get(channel) ?? []) out.push({ connId, uid });
    }
    return out;
  }

  #publish(m: Message): void {
    this.#ctx.options.backplane.publish(PRESENCE_TOPIC, JSON.stringify(m));
  }

  #receive(payload: string, from: string): void {
    const self = this.#ctx.options.backplane.nodeId;
    if (from === self) return;
    const m = JSON.parse(payload) as Message;
    this.#sweep();
    if ("s" in m) return this.#publish({ m: this.#mine() });
    if ("m" in m) return this.#replace(from, m.m);
    let channels = this.#remote.get(from);
    if ("j" in m) {
      if (!this.#host.enabled(m.j)) return;
      if (!channels) this.#remote.set(from, channels = new Map());
      let members = channels.get(m.j);
      if (!members) channels.set(m.j, members = new Map());
      if (members.has(m.c)) return;
      members.set(m.c, m.u);
      this.#host.tell(m.j, m.c, m.u, true);
      return;
    }
    const members = channels?.get(m.l);
    const uid = members?.get(m.c);
    if (uid === undefined) return;
    members!.delete(m.c);
    if (members!.size === 0) channels!.delete(m.l);
    this.#host.tell(m.l, m.c, uid, false);
  }

  /** This node's members of its presence channels. */
  #mine(): [string, string, string][] {
    const out: [string, string, string][] = [];
    for (const conn of this.#ctx.conns.values()) {
      if (conn.closed) continue;
      for (const ch of conn.channels) if (this.#host.enabled(ch)) out.push([ch, conn.id, conn.uid]);
    }
    return out;
  }

  /** `node`'s whole list: what changed is pushed as joins and leaves. */
  #replace(node: string, list: [string, string, string][]): void {
    const next = new Map<string, Map<string, string>>();
    for (const [ch, connId, uid] of list) {
      if (!this.#host.enabled(ch)) continue;
      let members = next.get(ch);
      if (!members) next.set(ch, members = new Map());
      members.set(connId, uid);
    }
    const before = this.#remote.get(node);
    this.#remote.set(node, next);
    for (const [ch, members] of before ?? []) {
      for (const [connId, uid] of members) {
        if (!next.get(ch)?.has(connId)) this.#host.tell(ch, connId, uid, false);
      }
    }
    for (const [ch, members] of next) {
      for (const [connId, uid] of members) {
        if (!before?.get(ch)?.has(connId)) this.#host.tell(ch, connId, uid, true);
      }
    }
  }

  /** Drops the members of nodes no longer in presence, pushing their leaves. */
  #sweep(): void {
    if (this.#remote.size === 0) return;
    const live = this.#ctx.options.backplane.presence.nodes();
    for (const [node, channels] of [...this.#remote]) {
      if (live.has(node)) {
        this.#seen.add(node);
        continue;
      }
      if (!this.#seen.delete(node)) continue;
      this.#remote.delete(node);
      for (const [ch, members] of channels) {
        for (const [connId, uid] of members) this.#host.tell(ch, connId, uid, false);
      }
    }
  }
}
