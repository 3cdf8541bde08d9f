/**
 * The backplane's link state as a pure table (like the client's `lib/client/session.ts`): every
 * state × every event gives the next state, or `null` when the event is ignored there. A backplane
 * looks every event up here and only then reports, so `/ready`, `/metrics` and telemetry see only
 * transitions the table allows. {@linkcode LinkTracker} adds the clock and the gap rule.
 *
 * @module
 */

/**
 * The states of a backplane's link to its shared engine.
 * - `connecting`: started, not yet usable.
 * - `up`: every connection it needs is ready; cross-node traffic flows.
 * - `degraded`: some connections are ready, others are reconnecting (e.g. publishing works but
 *   the subscriber is down): cross-node traffic may be lost.
 * - `down`: no connection is ready; the node serves its local traffic only and reconnects with
 *   backoff.
 * - `closed`: `close()` was called; final.
 */
export type LinkState = "connecting" | "up" | "degraded" | "down" | "closed";

/** Every link state, in the order the docs list them. */
export const LINK_STATES: readonly LinkState[] = ["connecting", "up", "degraded", "down", "closed"];

/**
 * What can happen to a link.
 * - `ready`: every connection is ready (again).
 * - `partial`: some connections are ready, some are not.
 * - `lost`: no connection is ready.
 * - `close()`: the owner closed the backplane.
 */
export type LinkEvent = "ready" | "partial" | "lost" | "close()";

/** Every link event, in the order the docs list them. */
export const LINK_EVENTS: readonly LinkEvent[] = ["ready", "partial", "lost", "close()"];

/** The transition table; `null` = the event is ignored in that state. */
export const LINK_TRANSITIONS: Readonly<
  Record<LinkState, Readonly<Record<LinkEvent, LinkState | null>>>
> = {
  connecting: { "ready": "up", "partial": null, "lost": "down", "close()": "closed" },
  up: { "ready": null, "partial": "degraded", "lost": "down", "close()": "closed" },
  degraded: { "ready": "up", "partial": null, "lost": "down", "close()": "closed" },
  down: { "ready": "up", "partial": "degraded", "lost": null, "close()": "closed" },
  closed: { "ready": null, "partial": null, "lost": null, "close()": null },
};

/**
 * The next state after `event` in `state`, or `null` when the event is ignored there.
 *
 * @example
 * ```ts
 * import { linkTransition } from "@sente-lite/sente-lite/redis";
 *
 * console.log(linkTransition("up", "lost")); // "down"
 * console.log(linkTransition("closed", "ready")); // null: ignored
 * ```
 */
export function linkTransition(state: LinkState, event: LinkEvent): LinkState | null {
  return LINK_TRANSITIONS[state][event];
}

/**
 * Messages that may have been lost while the link was not `up`: cross-node publishes are
 * at-most-once, so every outage after the link was first up is announced as one gap.
 */
export interface LinkGap {
  /** When the link left `up` (clock ms). */
  readonly since: number;
  /** How long it was not `up`, in ms. */
  readonly durationMs: number;
  /** Publishes this node dropped (not sent) during the outage. */
  readonly dropped: number;
}

/** One transition, as reported to watchers. */
export interface LinkChange {
  /** The state before. */
  readonly from: LinkState;
  /** The state after. */
  readonly to: LinkState;
  /** The event that caused it. */
  readonly event: LinkEvent;
  /** When (clock ms). */
  readonly at: number;
  /** Set on the return to `up` after an outage: what may have been lost meanwhile. */
  readonly gap?: LinkGap;
}

/** A read-only, observable view of a link's state. */
export interface LinkStatus {
  /** The current state. */
  readonly state: LinkState;
  /** Calls `listener` after every transition; returns an unsubscribe function. */
  watch(listener: (change: LinkChange) => void): () => void;
}

/** Applies link events through the table and tells watchers; counts drops for the next gap. */
export class LinkTracker implements LinkStatus {
  #state: LinkState;
  #listeners = new Set<(change: LinkChange) => void>();
  #wasUp = false;
  #since = 0;
  #dropped = 0;

  /** Starts in `initial` (`connecting` for a remote link, `up` for an in-process one). */
  constructor(initial: LinkState = "connecting", readonly now: () => number = Date.now) {
    this.#state = initial;
    this.#wasUp = initial === "up";
    this.#since = now();
  }

  /** The current state. */
  get state(): LinkState {
    return this.#state;
  }

  /** Watches transitions; returns an unsubscribe function. */
  watch(listener: (change: LinkChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Counts a publish dropped while not `up` (reported in the next gap). */
  dropped(): void {
    this.#dropped++;
  }

  /** Applies `event`; returns the change, or `null` when the table ignores it. */
  apply(event: LinkEvent): LinkChange | null {
    const from = this.#state;
    const to = linkTransition(from, event);
    if (to === null || to === from) return null;
    const at = this.now();
    let gap: LinkGap | undefined;
    if (from === "up") this.#since = at;
    if (to === "up") {
      if (this.#wasUp || this.#dropped > 0) {
        gap = { since: this.#since, durationMs: at - this.#since, dropped: this.#dropped };
      }
      this.#wasUp = true;
      this.#dropped = 0;
    }
    this.#state = to;
    const change: LinkChange = gap ? { from, to, event, at, gap } : { from, to, event, at };
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (e) {
        console.error("sente-lite: backplane link listener threw:", e);
      }
    }
    return change;
  }
}
