/**
 * `ServerOptions.backplane`: its check, and the private in-process default of a server alone.
 *
 * @module
 */
import type { Backplane } from "../backplane/backplane.ts";
import { localBackplane } from "../backplane/local.ts";

/** The in-process backplanes made as defaults: each is a cluster of one nobody else can join. */
const PRIVATE_BACKPLANES = new WeakSet<Backplane>();

/** `true` for the default backplane of a server alone (no other node can reach it). */
export function isPrivateBackplane(backplane: Backplane): boolean {
  return PRIVATE_BACKPLANES.has(backplane);
}

/** Checks a given backplane, or makes the private default. */
export function resolveBackplane(backplane: Backplane | undefined): Backplane {
  if (backplane === undefined) {
    const own = localBackplane();
    PRIVATE_BACKPLANES.add(own);
    return own;
  }
  const b = backplane as Partial<Backplane> | null;
  if (
    typeof b !== "object" || b === null || typeof b.nodeId !== "string" ||
    typeof b.publish !== "function" || typeof b.subscribe !== "function" || !b.presence
  ) {
    throw new TypeError(`ServerOptions.backplane must be a Backplane, got ${backplane}`);
  }
  if (b.nodeId === "") throw new RangeError(`ServerOptions.backplane.nodeId must not be empty`);
  return backplane;
}
