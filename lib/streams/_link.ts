// This module is browser compatible.
/**
 * What a stream needs from its {@linkcode StreamMux} (internal).
 *
 * @module
 */
import type { Clock } from "../util/clock.ts";
import type { StreamLimits } from "./options.ts";
import type { HashFactory } from "./sha256.ts";

/** The mux, as its streams see it. */
export interface StreamLink {
  readonly limits: StreamLimits;
  readonly clock: Clock;
  readonly hash: HashFactory;
  /** Writes a control frame now; dropped while no transport is attached (resume covers it). */
  control(frame: Uint8Array): void;
  /** The stream may have a frame to send. */
  wake(stream: object): void;
  /** The stream reached a final state. */
  finished(stream: object): void;
}
