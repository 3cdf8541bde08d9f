/**
 * Native topics (Bun, docs/wire.md "Fan-out"): the connections whose frames are everyone's, kept
 * in one group per topic they are subscribed to — their frame variant's broadcast topic and, per
 * channel, the variant's topic of that channel —, so a broadcast or a channel publish is one
 * `server.publish` per variant and no work per native connection.
 *
 * Guarantees:
 * - A channel's native subscribers are in its groups (one per variant), and every subscriber is
 *   counted, native or not, as `Connection` changes its channels: a channel publish needs the
 *   per-connection pass only while the channel has more subscribers than its groups hold; a
 *   broadcast only while some open connection is not native.
 * - Backpressure, as the per-connection gate keeps it: once 64 KiB were published natively since
 *   the last look, the next publish first reads the buffer of every connection in a group that
 *   was published to since then and closes those over `maxBufferedBytes` as slow consumers (1013);
 *   a new group is looked at on its first publish. So a native connection is sent at most 64 KiB
 *   and one message between two looks, however many of its topics carry them.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import { type FanOutJob, topicOf } from "./fanout_job.ts";
import { NativeGroup as Members } from "./native_group.ts";

/** What a group needs of its member list: `Members` (broadcast) or `ChannelMembers`. */
interface MemberList {
  readonly size: number;
  readonly any: Connection | undefined;
  has(conn: Connection): boolean;
  add(conn: Connection): void;
  delete(conn: Connection): boolean;
  /** `fn` may remove the member it is given. */
  forEachLastFirst(fn: (conn: Connection) => void): void;
}

/**
 * A channel group's members. A connection is in one broadcast group, kept in an array where it
 * holds its place (`Members`, lib/server/native_group.ts: every native connection is in one, so
 * that saves a `Set` entry per connection), but in one channel group per channel: a `Set`.
 */
class ChannelMembers implements MemberList {
  readonly #set = new Set<Connection>();
  get size(): number {
    return this.#set.size;
  }
  get any(): Connection | undefined {
    return this.#set.values().next().value;
  }
  has(conn: Connection): boolean {
    return this.#set.has(conn);
  }
  add(conn: Connection): void {
    this.#set.add(conn);
  }
  delete(conn: Connection): boolean {
    return this.#set.delete(conn);
  }
  forEachLastFirst(fn: (conn: Connection) => void): void {
    for (const conn of this.#set) fn(conn); // a Set's iteration tolerates deletes
  }
}

/** The native subscribers of one topic. */
interface NativeGroup {
  readonly topic: string;
  readonly conns: MemberList;
  /** Not looked at yet (it is on its first publish). */
  fresh: boolean;
}

/** A channel's native subscribers by variant, and how many subscribers it has in all. */
interface ChannelGroups {
  /** Made with its first native subscriber (never on a runtime without topics). */
  groups: Map<string, NativeGroup> | null;
  subscribers: number;
}

/** What a native publish did. */
export interface NativeResult {
  /** Connections it reached (those it could not pack for are counted in the job instead). */
  readonly n: number;
  /**
   * Nobody else gets it: no recipient waits for the per-connection path (no subscriber or open
   * connection outside the groups, no group whose frames its sessions number instead).
   */
  readonly complete: boolean;
  /** Some recipients are in native groups: the per-connection pass must skip them. */
  readonly grouped: boolean;
}

/** Bytes published natively between two looks at the native connections' buffers (as the gate). */
const LOOK_EVERY_BYTES = 64 * 1024;

/** The native topic groups of one server. */
export class NativeTopics {
  /** Broadcast groups by variant. */
  readonly #broadcast = new Map<string, NativeGroup>();
  readonly #channels = new Map<string, ChannelGroups>();
  /** Connections in the broadcast groups. */
  #count = 0;
  /** Bytes published natively since the last look. */
  #sinceLook = 0;
  /** Groups published to since the last look. */
  readonly #touched = new Set<NativeGroup>();

  /** Whether any connection is in a native group (none: no native path at all). */
  get active(): boolean {
    return this.#count > 0;
  }

  /** `conn` joined its variant's topics (its channels' too). */
  joined(conn: Connection): void {
    const variant = conn.variant!;
    let group = this.#broadcast.get(variant);
    if (!group) this.#broadcast.set(variant, group = newGroup(variant, new Members()));
    if (!group.conns.has(conn)) {
      group.conns.add(conn);
      this.#count++;
    }
    for (const channel of conn.channels) {
      const ch = this.#channels.get(channel);
      if (ch) groupOf(ch, variant, channel).conns.add(conn);
    }
  }

  /** `conn` left the topics of `variant` (its channels' too); it is per connection from now. */
  left(conn: Connection, variant: string): void {
    const group = this.#broadcast.get(variant);
    if (group?.conns.delete(conn)) {
      this.#count--;
      if (group.conns.size === 0) this.#broadcast.delete(variant);
    }
    for (const channel of conn.channels) {
      const ch = this.#channels.get(channel);
      if (ch) dropFrom(ch, variant, conn);
    }
  }

  /** `conn` subscribed to `channel` (natively when it has a variant). */
  subscribed(conn: Connection, channel: string): void {
    let ch = this.#channels.get(channel);
    if (!ch) this.#channels.set(channel, ch = { groups: null, subscribers: 0 });
    ch.subscribers++;
    if (conn.variant !== null) groupOf(ch, conn.variant, channel).conns.add(conn);
  }

  /** `conn` is no longer a subscriber of `channel` (`variant`: its variant then, if any). */
  unsubscribed(conn: Connection, channel: string, variant: string | null): void {
    const ch = this.#channels.get(channel);
    if (!ch) return;
    if (variant !== null) dropFrom(ch, variant, conn);
    if (--ch.subscribers === 0) this.#channels.delete(channel);
  }

  /**
   * A broadcast to every native connection (`streamed`: only the variants with channel
   * sequences, or only those without; `open`: how many connections the server has; `outside`:
   * how many of them the caller sends it to itself, `complete` then means all others are native).
   */
  broadcast(
    job: FanOutJob,
    streamed: boolean | undefined,
    open: number,
    outside = 0,
  ): NativeResult {
    if (this.#broadcast.size === 0) return { n: 0, complete: open === outside, grouped: false };
    const { n, unshared } = this.#publish(job, this.#broadcast.values(), streamed);
    return { n, complete: !unshared && this.#count + outside === open, grouped: true };
  }

  /**
   * A publish to `channel`'s native subscribers (`streamed` as for broadcasts; `members`: how many
   * subscribers the server's registry has; `outside` as for broadcasts).
   */
  channel(
    job: FanOutJob,
    channel: string,
    streamed: boolean | undefined,
    members: number,
    outside = 0,
  ): NativeResult {
    const ch = this.#channels.get(channel);
    if (!ch?.groups) return { n: 0, complete: false, grouped: false };
    const { n, unshared } = this.#publish(job, ch.groups.values(), streamed);
    let natives = 0;
    // (slow consumers closed by the publish left their groups)
    for (const group of ch.groups?.values() ?? []) natives += group.conns.size;
    // (the registry and the connections' own channels differ only while one changes)
    const all = natives + outside;
    const complete = !unshared && all === ch.subscribers && all >= members;
    return { n, complete, grouped: true };
  }

  /** One publish per group (variant); `unshared`: a group whose sessions number the message. */
  #publish(
    job: FanOutJob,
    groups: Iterable<NativeGroup>,
    streamed: boolean | undefined,
  ): { n: number; unshared: boolean } {
    let n = 0;
    let unshared = false;
    for (const group of groups) {
      let rep = first(group);
      if (rep === undefined) continue;
      // A cluster sends the variants with channel sequences their stream's frame apart.
      if (streamed !== undefined && (rep.cseq !== null) !== streamed) continue;
      if (!job.sharedBy(rep)) {
        unshared = true; // numbered per session: per connection
        continue;
      }
      if (this.#sinceLook >= LOOK_EVERY_BYTES) this.#look();
      if (group.fresh) {
        group.fresh = false;
        closeSlow(group);
      }
      rep = first(group);
      if (rep === undefined) continue;
      const count = group.conns.size;
      const packed = job.packed(rep);
      if (packed.frames.length === 0) {
        job.unpackable!.skipped += count;
        continue;
      }
      for (let i = 0; i < packed.frames.length; i++) {
        rep.socket.publish!(group.topic, packed.frames[i]);
        rep.stats.messagesOut += count;
        rep.stats.bytesOut += packed.bytes[i] * count;
        this.#sinceLook += packed.bytes[i];
      }
      this.#touched.add(group);
      n += count;
    }
    return { n, unshared };
  }

  /** Reads the buffers of the connections published to since the last look. */
  #look(): void {
    for (const group of this.#touched) closeSlow(group);
    this.#touched.clear();
    this.#sinceLook = 0;
  }
}

function newGroup(topic: string, conns: MemberList): NativeGroup {
  return { topic, conns, fresh: true };
}

function groupOf(ch: ChannelGroups, variant: string, channel: string): NativeGroup {
  const groups = ch.groups ??= new Map();
  let group = groups.get(variant);
  if (!group) {
    groups.set(variant, group = newGroup(topicOf(variant, channel), new ChannelMembers()));
  }
  return group;
}

function dropFrom(ch: ChannelGroups, variant: string, conn: Connection): void {
  const group = ch.groups?.get(variant);
  if (!group?.conns.delete(conn) || group.conns.size > 0) return;
  ch.groups!.delete(variant);
  if (ch.groups!.size === 0) ch.groups = null;
}

function first(group: NativeGroup): Connection | undefined {
  return group.conns.any;
}

/** Closes the group's connections over `maxBufferedBytes` (they leave the group). */
function closeSlow(group: NativeGroup): void {
  group.conns.forEachLastFirst((conn) => {
    const gate = conn.gate;
    if (gate && conn.socket.bufferedAmount > gate.options.maxBufferedBytes) conn.closeSlow();
  });
}
