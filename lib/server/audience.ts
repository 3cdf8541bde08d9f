/**
 * Who a fan-out is for (lib/server/fanout.ts): everyone, a channel's subscribers or a uid's
 * connections, looked at when the fan-out's turn comes.
 *
 * @module
 */
import type { Connection } from "./connection.ts";

/**
 * Who a fan-out is for: a live collection (the server's connections, a channel's or a uid's) and
 * the test a connection must pass when its turn comes.
 */
export interface Audience {
  /** The recipients, iterated live when the fan-out's turn comes. */
  readonly members: Iterable<Connection>;
  /** How many there are now (the count a queued fan-out returns). */
  readonly size: number;
  /** Some members are left out (`except`): a native topic would reach them too. */
  readonly partial: boolean;
  /** Every open connection (a broadcast): native recipients are their variant's topic. */
  readonly all?: boolean;
  /**
   * Only connections with channel sequences (`true`) or only those without (`false`): a node of
   * a cluster sends the first the broadcast stream's numbered frame (lib/server/channel_pump.ts).
   */
  readonly streamed?: boolean;
  /** Still a recipient of fan-out number `seq`? */
  includes(conn: Connection, seq: number): boolean;
}

/** Every connection open before the fan-out was made, but `except`. */
export function everyone(
  conns: ReadonlyMap<string, Connection>,
  except?: ReadonlySet<string>,
  streamed?: boolean,
): Audience {
  return {
    members: conns.values(),
    size: conns.size - (except?.size ?? 0),
    partial: except !== undefined && except.size > 0,
    all: true,
    streamed,
    includes: streamed === undefined
      ? (c, seq) => c.openSeq < seq && !except?.has(c.id)
      : (c, seq) =>
        c.openSeq < seq && !except?.has(c.id) && (c.cseq !== null) === streamed &&
        // Not before its replay of what it missed (lib/server/channel_pump.ts).
        (!streamed || c.cseq!.broadcastAfter === null),
  };
}

/**
 * A channel's subscribers (when its turn comes), but `except`; `streamed`: only those with
 * channel sequences (`true`) or only those without (`false`), else all.
 */
export function subscribers(
  members: ReadonlySet<Connection>,
  channel: string,
  except?: ReadonlySet<string>,
  streamed?: boolean,
): Audience {
  return {
    members,
    size: members.size,
    // A variant's native topic holds only its variant: with or without channel sequences.
    partial: except !== undefined && except.size > 0,
    includes: streamed === undefined
      ? (c, seq) => c.openSeq < seq && c.channels.has(channel) && !except?.has(c.id)
      : (c, seq) =>
        c.openSeq < seq && c.channels.has(channel) && !except?.has(c.id) &&
        (c.cseq !== null) === streamed,
  };
}

/** The connections of a uid open before the fan-out was made. */
export function ofUid(members: ReadonlySet<Connection>, uid: string): Audience {
  return {
    members,
    size: members.size,
    partial: false,
    includes: (c, seq) => c.openSeq < seq && c.uid === uid,
  };
}
