/**
 * One message on its way to many connections (lib/server/fanout.ts): encoded and packed once per
 * frame variant (dialect × packer, and channel sequences), its UTF-8 length counted once per
 * frame, compressed once per frame for every recipient that compresses, taken into the batch of
 * batching recipients, and handed to resume (numbered, kept) for resuming ones.
 *
 * @module
 */
import type { Frame, Packer } from "../packers/packer.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import type { Event } from "../protocol/event.ts";
import type { ServerDialect } from "../dialects/dialect.ts";
import { frameByteLength } from "../util/utf8.ts";
import { SharedFrame } from "../wire/compression.ts";
import type { Connection } from "./connection.ts";
import { estimateBytes, type Session } from "./delivery.ts";
import { streamEvent } from "./channel_seq.ts";
import type { ResolvedServerOptions } from "./options.ts";

/** Where the pushes to a resuming connection go (lib/server/resume.ts). */
export interface Sequencer {
  /** Numbers and keeps `event` in the session, sends it if open; `true` when the client gets it. */
  sequenced(conn: Connection, session: Session<Connection>, event: Event, bytes: number): boolean;
}

/** The packed frames of one variant and their UTF-8 lengths. */
export interface Packed {
  frames: Frame[];
  bytes: number[];
}

/** The cached frames of a dialect and packer that could not write a fan-out's message. */
const UNPACKABLE: Packed = { frames: [], bytes: [] };

/** The native topic of a frame variant's broadcast, or of one of its channels. */
export function topicOf(variant: string, channel: string | null): string {
  return channel === null ? variant : `${variant}\n${channel}`;
}

/** A publish's place in its channel (or broadcast) stream: `"channel-seq"` recipients' frames. */
export interface StreamRef {
  /** The stream: a channel id, `""` for broadcasts. */
  readonly key: string;
  /** Its number in the stream. */
  readonly cseq: number;
}

/** One message on its way to many connections: frames made once, delivered per recipient. */
export class FanOutJob {
  #cache: Map<ServerDialect, Map<Packer, Packed>> | undefined;
  /** The frames of channel-seq recipients (the stream's message), by dialect and packer. */
  #streamCache: Map<ServerDialect, Map<Packer, Packed>> | undefined;
  #streamMessage: ServerMessage | undefined;
  // One SharedFrame per packed frame: compressed once for every recipient that compresses.
  #shared: Map<Frame, SharedFrame> | undefined;
  #bytes = -1; // size estimate of a sequenced push, made once for every resuming recipient
  /** The first packing error and how many recipients it skipped. */
  unpackable: { error: unknown; skipped: number } | undefined;

  /** `stream`: the publish's number for recipients with channel sequences (`null`: none). */
  constructor(
    readonly sequencer: Sequencer,
    readonly message: ServerMessage,
    readonly stream: StreamRef | null = null,
  ) {}

  /**
   * Whether `conn` gets its variant's frames (a native topic may carry them): not when its
   * session numbers this message (a broadcast on a node of a cluster, where broadcasts are not
   * numbered per stream).
   */
  sharedBy(conn: Connection): boolean {
    return conn.session === null || this.message.type !== "push" || this.#streamed(conn);
  }

  /** Whether `conn` gets the stream's frames (the same for all of its variant). */
  #streamed(conn: Connection): boolean {
    return this.stream !== null && conn.cseq !== null;
  }

  /** The message `conn` gets: the stream's for channel-seq recipients, else the plain one. */
  #messageFor(streamed: boolean): ServerMessage {
    if (!streamed) return this.message;
    if (this.#streamMessage === undefined) {
      const { key, cseq } = this.stream!;
      const event = (this.message as { events: Event[] }).events[0];
      this.#streamMessage = { type: "push", events: [streamEvent(key, cseq, event)] };
    }
    return this.#streamMessage;
  }

  /** The frames of `conn`'s variant (made once per dialect, packer and stream numbering). */
  packed(conn: Connection): Packed {
    const streamed = this.#streamed(conn);
    const cache = streamed ? (this.#streamCache ??= new Map()) : (this.#cache ??= new Map());
    let byPacker = cache.get(conn.dialect);
    if (!byPacker) cache.set(conn.dialect, byPacker = new Map());
    let packed = byPacker.get(conn.packerImpl);
    if (!packed) {
      try {
        const frames = conn.frames(this.#messageFor(streamed));
        packed = { frames, bytes: frames.map(frameByteLength) };
      } catch (error) {
        this.unpackable ??= { error, skipped: 0 };
        packed = UNPACKABLE; // tried once per dialect and packer, as a success is
      }
      byPacker.set(conn.packerImpl, packed);
    }
    return packed;
  }

  /** Sends the message to one connection; `true` when it got it. */
  deliverTo(conn: Connection): boolean {
    const message = this.message;
    const streamed = this.#streamed(conn);
    if (!streamed && conn.session !== null && message.type === "push") {
      // A resuming connection numbers its pushes: its frames are its own.
      let ok = true;
      for (const event of message.events) {
        if (this.#bytes < 0) this.#bytes = estimateBytes(event);
        ok = this.sequencer.sequenced(conn, conn.session, event, this.#bytes) && ok;
      }
      return ok;
    }
    const packed = this.packed(conn);
    if (packed === UNPACKABLE) {
      this.unpackable!.skipped++;
      return false;
    }
    const { frames, bytes } = packed;
    let ok = true;
    if (conn.wire?.batcher && message.type === "push") {
      // A batching connection takes the events into its batch (its frames are its own).
      ok = conn.send(this.#messageFor(streamed));
    } else if (conn.wire?.sender && conn.wire.settings.compression) {
      this.#shared ??= new Map();
      for (let i = 0; i < frames.length; i++) {
        let s = this.#shared.get(frames[i]);
        if (!s) this.#shared.set(frames[i], s = new SharedFrame(frames[i]));
        ok = conn.sendShared(s, bytes[i]) && ok;
      }
    } else {
      conn.wire?.batcher?.flush(); // keep order with pushes waiting in its batch
      for (let i = 0; i < frames.length; i++) ok = conn.sendFrame(frames[i], bytes[i]) && ok;
    }
    return ok;
  }
}

/**
 * Sends a message to many connections at once (no slices, no native topics): the plain path,
 * kept for callers outside a Hub and for tests.
 */
export function fanOut(
  options: ResolvedServerOptions,
  sequencer: Sequencer,
  conns: Iterable<Connection>,
  message: ServerMessage,
  except?: ReadonlySet<string>,
): number {
  const job = new FanOutJob(sequencer, message);
  let n = 0;
  for (const conn of conns) {
    if (except?.has(conn.id)) continue;
    if (job.deliverTo(conn)) n++;
  }
  if (job.unpackable) {
    if (n === 0) throw job.unpackable.error;
    options.onError(job.unpackable.error, {
      where: `fan-out: skipped ${job.unpackable.skipped} recipient(s) whose packer cannot write it`,
    });
  }
  return n;
}
