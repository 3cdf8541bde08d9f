/**
 * `rateLimit.presenceJoinsPerIp`: subscriptions to presence channels per client IP. A join and
 * the leave after it are each one push to every other subscriber of the channel (on every node),
 * so subscribe/unsubscribe in a loop made the server push `frames × subscribers`; the frame rate
 * limit alone allowed 2000 of them per second per connection. Counted per IP (IPv6 by its /64) in
 * an {@linkcode IpBudget}, so new connections buy no fresh budget.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import { IpBudget, ipKey } from "./ip_budget.ts";
import { presenceMatcher } from "./presence.ts";

/** The presence-join budget of one server. */
export class PresenceJoins {
  readonly #budget: IpBudget | null;
  readonly #enabled: (channel: string) => boolean;

  /** Reads `ctx.options.rateLimit.presenceJoinsPerIp` and `ctx.options.presence`. */
  constructor(ctx: ServerContext) {
    const rate = ctx.options.rateLimit ? ctx.options.rateLimit.presenceJoinsPerIp : false;
    this.#enabled = presenceMatcher(ctx.options.presence);
    this.#budget = rate && ctx.options.presence !== undefined
      ? new IpBudget(rate, ctx.clock)
      : null;
  }

  /** Whether `conn` may join `channel` now (a join to a presence channel takes one token). */
  allowed(conn: Connection, channel: string): boolean {
    const budget = this.#budget;
    if (budget === null || conn.remoteIp === null) return true;
    let presence: boolean;
    try {
      presence = this.#enabled(channel) === true;
    } catch {
      return true; // reported by Presence.enabled when it runs
    }
    if (!presence) return true;
    const ip = ipKey(conn.remoteIp);
    if (budget.tokens(ip) < 1) return false;
    budget.charge(ip, 1);
    return true;
  }
}
