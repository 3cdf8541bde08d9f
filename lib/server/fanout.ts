/**
 * Local fan-out: one message to many connections of this process, encoded and packed once per
 * dialect and packer, compressed once per frame for every recipient that compresses, taken into
 * the batch of batching recipients, and handed to resume (numbered, kept) for resuming ones.
 *
 * Nothing else lives here, so the runtime fast paths (native topics, yielding slices) can grow
 * in this module alone.
 *
 * @module
 */
import type { Frame, Packer } from "../packers/packer.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import type { Event } from "../protocol/event.ts";
import type { ServerDialect } from "../dialects/dialect.ts";
import { SharedFrame } from "../wire/compression.ts";
import type { Connection } from "./connection.ts";
import { estimateBytes, type Session } from "./delivery.ts";
import type { ResolvedServerOptions } from "./options.ts";

/** Where the pushes to a resuming connection go (lib/server/resume.ts). */
export interface Sequencer {
  /** Numbers and keeps `event` in the session, sends it if open; `true` when the client gets it. */
  sequenced(conn: Connection, session: Session<Connection>, event: Event, bytes: number): boolean;
}

/** The cached frames of a dialect and packer that could not write a fan-out's message. */
const UNPACKABLE: Frame[] = [];

/**
 * Sends a message to many connections, encoding and packing once per dialect and packer.
 * Recipients whose packer cannot write it (a Transit peer's binary for an EDN peer) are skipped
 * and reported to `onError`; it throws only when no recipient could be sent it.
 */
export function fanOut(
  options: ResolvedServerOptions,
  sequencer: Sequencer,
  conns: Iterable<Connection>,
  message: ServerMessage,
  except?: ReadonlySet<string>,
): number {
  let cache: Map<ServerDialect, Map<Packer, Frame[]>> | undefined;
  // One SharedFrame per packed frame: compressed once for every recipient that compresses.
  let shared: Map<Frame, SharedFrame> | undefined;
  let n = 0;
  let bytes = -1; // size estimate of a sequenced push, made once for every resuming recipient
  let unpackable: { error: unknown; skipped: number } | undefined;
  for (const conn of conns) {
    if (except?.has(conn.id)) continue;
    if (conn.session !== null && message.type === "push") {
      // A resuming connection numbers its pushes: its frames are its own.
      let ok = true;
      for (const event of message.events) {
        if (bytes < 0) bytes = estimateBytes(event);
        ok = sequencer.sequenced(conn, conn.session, event, bytes) && ok;
      }
      if (ok) n++;
      continue;
    }
    cache ??= new Map();
    let byPacker = cache.get(conn.dialect);
    if (!byPacker) cache.set(conn.dialect, byPacker = new Map());
    let frames = byPacker.get(conn.packerImpl);
    if (!frames) {
      try {
        frames = conn.frames(message);
      } catch (error) {
        unpackable ??= { error, skipped: 0 };
        frames = UNPACKABLE; // tried once per dialect and packer, as a success is
      }
      byPacker.set(conn.packerImpl, frames);
    }
    if (frames === UNPACKABLE) {
      unpackable!.skipped++;
      continue;
    }
    let ok = true;
    if (conn.wire?.batcher && message.type === "push") {
      // A batching connection takes the events into its batch (its frames are its own).
      ok = conn.send(message);
    } else if (conn.wire?.sender && conn.wire.settings.compression) {
      shared ??= new Map();
      for (const frame of frames) {
        let s = shared.get(frame);
        if (!s) shared.set(frame, s = new SharedFrame(frame));
        ok = conn.sendShared(s) && ok;
      }
    } else {
      conn.wire?.batcher?.flush(); // keep order with pushes waiting in its batch
      for (const frame of frames) ok = conn.sendFrame(frame) && ok;
    }
    if (ok) n++;
  }
  if (unpackable) {
    if (n === 0) throw unpackable.error;
    options.onError(unpackable.error, {
      where: `fan-out: skipped ${unpackable.skipped} recipient(s) whose packer cannot write it`,
    });
  }
  return n;
}
