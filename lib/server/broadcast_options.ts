/**
 * The options of sends to many connections (`Hub.broadcast`, `Hub.publish`) and how each reads
 * them: the connection ids in `except` are read once, at the call, into what its fan-out takes.
 *
 * @module
 */

/** Options of broadcasts. */
export interface BroadcastOptions {
  /** Connection ids that do not receive it. */
  except?: Iterable<string>;
}

/** The ids `options` leaves out, as a set (`undefined`: none), for a broadcast. */
export function exceptSet(options: BroadcastOptions | undefined): Set<string> | undefined {
  const except = options?.except;
  return except ? new Set(except) : undefined;
}

/** The ids `options` leaves out, as a list (empty: none), for a publish to a channel. */
export function exceptList(options: BroadcastOptions | undefined): string[] {
  const except = options?.except;
  return except ? [...except] : [];
}
