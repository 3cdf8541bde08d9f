/**
 * Channel membership: which connections are subscribed to which channel. Pure bookkeeping; the
 * Hub does authorization, limits and delivery.
 *
 * @module
 */

/** Longest accepted channel id. */
export const MAX_CHANNEL_ID_LENGTH = 256;

/** `true` for a non-empty string channel id of at most {@linkcode MAX_CHANNEL_ID_LENGTH}. */
export function isChannelId(id: unknown): id is string {
  return typeof id === "string" && id.length > 0 && id.length <= MAX_CHANNEL_ID_LENGTH;
}

/** Told when a channel gets its first subscriber and loses its last one. */
export interface ChannelHooks {
  /** `channel` got its first subscriber. */
  first(channel: string): void;
  /** `channel` lost its last subscriber. */
  last(channel: string): void;
  /** `member` joined (`true`) or left `channel`. */
  member?(channel: string, member: unknown, joined: boolean): void;
}

/** Told of every membership change, whoever made it (client, server, close, resume). */
export type MembershipListener<C> = (channel: string, member: C, added: boolean) => void;

/** Subscriber sets keyed by channel id. Empty channels are removed at once. */
export class ChannelRegistry<C> {
  #channels = new Map<string, Set<C>>();
  readonly #hooks: ChannelHooks | null;

  /** Makes an empty registry; `hooks` hear of each channel's first and last subscriber. */
  constructor(hooks: ChannelHooks | null = null) {
    this.#hooks = hooks;
  }

  /** Told after each change (lib/server/membership.ts: hooks and presence). */
  listener: MembershipListener<C> | null = null;

  /** Adds `member`; returns `false` when it was already subscribed. */
  add(channel: string, member: C): boolean {
    let set = this.#channels.get(channel);
    if (!set) {
      this.#channels.set(channel, set = new Set());
      this.#hooks?.first(channel);
    }
    if (set.has(member)) return false;
    set.add(member);
    this.#hooks?.member?.(channel, member, true);
    this.listener?.(channel, member, true);
    return true;
  }

  /** Removes `member`; returns `false` when it was not subscribed. */
  remove(channel: string, member: C): boolean {
    const set = this.#channels.get(channel);
    if (!set?.delete(member)) return false;
    this.#hooks?.member?.(channel, member, false);
    if (set.size === 0) {
      this.#channels.delete(channel);
      this.#hooks?.last(channel);
    }
    this.listener?.(channel, member, false);
    return true;
  }

  /** The subscribers of `channel` (empty when none). */
  members(channel: string): ReadonlySet<C> {
    return this.#channels.get(channel) ?? new Set();
  }

  /** Channels with at least one subscriber. */
  get size(): number {
    return this.#channels.size;
  }

  /** Channel ids with subscribers. */
  ids(): string[] {
    return [...this.#channels.keys()];
  }
}
