// This module is browser compatible.
/**
 * The client's cursors in the server's channel and broadcast streams (capability
 * `"channel-seq"`, docs/PROTOCOL.md §8): the last `cseq` received per channel and for broadcasts.
 * They go back to the server on reconnect (`cseq=<n>` on the upgrade for broadcasts, `"after"` in
 * each channel's re-subscribe), so it replays what was missed; a number at or below the cursor is
 * a duplicate and dropped.
 *
 * @module
 */

/** The capability a server grants when it numbers channels and broadcasts per stream. */
export const CAP_CHANNEL_SEQ = "channel-seq";

/** The last `cseq` of each stream (`null`: broadcasts). */
export class ChannelCursors {
  #at = new Map<string | null, number>();
  /** The current socket negotiated channel sequences. */
  on = false;

  /** The upgrade's `cseq` parameter: the broadcast cursor, empty when there is none. */
  param(): string {
    const b = this.#at.get(null);
    return b === undefined ? "" : String(b);
  }

  /** A handshake: on when granted; broadcasts continue after `cseq` (none: any number). */
  started(capabilities: readonly string[], cseq: number | undefined): void {
    this.on = capabilities.includes(CAP_CHANNEL_SEQ);
    if (this.on && cseq !== undefined) this.#at.set(null, cseq);
    else this.#at.delete(null);
  }

  /** A numbered stream message: `true` to deliver it, `false` for a duplicate. */
  accept(ch: string | null, cseq: number): boolean {
    const at = this.#at.get(ch);
    if (at !== undefined && cseq <= at) return false;
    this.#at.set(ch, cseq);
    return true;
  }

  /** The re-subscribe's cursor field for `channel` (none when nothing was received). */
  after(channel: string): { after?: number } {
    const at = this.on ? this.#at.get(channel) : undefined;
    return at === undefined ? {} : { after: at };
  }

  /** A subscribe reply: the stream's number then (the replay, if any, came before it). */
  replied(channel: string, cseq: unknown): void {
    if (typeof cseq !== "number") return;
    const at = this.#at.get(channel);
    if (at === undefined || cseq > at) this.#at.set(channel, cseq);
  }

  /** A stream's gap: what follows is numbered anew (the cursor may be another incarnation's). */
  gap(ch: string | null): void {
    this.#at.delete(ch);
  }

  /** The channel was left: its cursor goes. */
  forget(channel: string): void {
    this.#at.delete(channel);
  }
}
