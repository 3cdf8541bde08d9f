// This module is browser compatible.
/**
 * Wake-ups for a reconnecting client: in a browser, coming back online or the page becoming
 * visible is a reason to try again now instead of waiting out the backoff. Elsewhere (no
 * `addEventListener` on the global) it does nothing.
 *
 * @module
 */

/** The parts of `globalThis` the watch uses (all optional: absent outside browsers). */
export interface WakeTarget {
  /** The window's listeners (for `online`). */
  addEventListener?: (type: string, fn: () => void) => void;
  /** Removes a window listener. */
  removeEventListener?: (type: string, fn: () => void) => void;
  /** The page (for `visibilitychange`). */
  document?: {
    /** The page's visibility. */
    visibilityState?: string;
    /** The page's listeners. */
    addEventListener?: (type: string, fn: () => void) => void;
    /** Removes a page listener. */
    removeEventListener?: (type: string, fn: () => void) => void;
  };
}

/**
 * Makes a switch that starts (`true`) or stops (`false`) calling `wake` with `"online"` or
 * `"page visible"`; switching to the current setting does nothing.
 */
export function wakeWatch(
  wake: (reason: string) => void,
  g: WakeTarget = globalThis as WakeTarget,
): (on: boolean) => void {
  let listening = false;
  const onOnline = () => wake("online");
  const onVisibility = () => {
    if (g.document?.visibilityState === "visible") wake("page visible");
  };
  return (on) => {
    if (on === listening) return;
    listening = on;
    if (on) {
      g.addEventListener?.("online", onOnline);
      g.document?.addEventListener?.("visibilitychange", onVisibility);
    } else {
      g.removeEventListener?.("online", onOnline);
      g.document?.removeEventListener?.("visibilitychange", onVisibility);
    }
  };
}
