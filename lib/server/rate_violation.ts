/**
 * One refusal by `rateLimit.messages` (or the byte rate) on a connection: remembered for the
 * back-off rule and counted toward `rateLimit.maxViolations`, past which the connection is closed
 * 4029 (`rate-limit-exceeded`). Shared by event frames (lib/server/inbound.ts) and stream OPENs
 * (lib/server/streams.ts), so both escalate alike.
 *
 * @module
 */
import { ProtocolError } from "../protocol/errors.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";

/** Records a refusal on `conn`; returns `true` when it closed the connection (too many). */
export function rateViolation(ctx: ServerContext, conn: Connection): boolean {
  const limits = ctx.options.rateLimit as { maxViolations: number };
  conn.lastViolationAt = ctx.clock.now();
  if (++conn.violations <= limits.maxViolations) return false;
  ctx.fatal(
    conn,
    new ProtocolError("rate-limit-exceeded", `over the rate for ${limits.maxViolations} frames`),
  );
  return true;
}
