/**
 * `rateLimit.upgradesPerIp`: WebSocket upgrades (handshakes) per client IP. Nothing else bounds how
 * often one address reconnects, and each reconnect costs a handshake (tens of µs of CPU, store
 * calls on a cluster) and, for a resumed session, a replay of up to `delivery.maxReplayBytes`.
 * Counted per IP (IPv6 by its /64) in an {@linkcode IpBudget}: a table bounded in IPs whose
 * entries are dropped once refilled, so idle addresses do not accumulate. A refused upgrade is
 * answered 429 with `Retry-After` before any WebSocket work (no slot, no `authenticate`).
 *
 * @module
 */
import type { ServerContext } from "./context.ts";
import { IpBudget, ipKey } from "./ip_budget.ts";

/** The upgrade budget of one server. */
export class UpgradeRate {
  readonly #ctx: ServerContext;
  readonly #budget: IpBudget | null;
  #lastReport = -Infinity;

  /** Reads `ctx.options.rateLimit.upgradesPerIp`. */
  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    const rate = ctx.options.rateLimit ? ctx.options.rateLimit.upgradesPerIp : false;
    this.#budget = rate ? new IpBudget(rate, ctx.clock) : null;
  }

  /**
   * Takes one upgrade from `remoteIp`'s budget: `0` when allowed, else the seconds until the next
   * one is (for `Retry-After`), counted `too-many-upgrades`. Unknown addresses are not limited.
   */
  take(remoteIp: string | null): number {
    const budget = this.#budget;
    if (budget === null || remoteIp === null) return 0;
    const ip = ipKey(remoteIp);
    const now = this.#ctx.clock.now();
    const tokens = budget.tokens(ip, now);
    if (tokens >= 1) {
      budget.charge(ip, 1, now);
      return 0;
    }
    return this.#refused(remoteIp, tokens, now);
  }

  #refused(remoteIp: string, tokens: number, now: number): number {
    const ctx = this.#ctx;
    const retryAfter = Math.max(1, Math.ceil((1 - tokens) / this.#budget!.rate.perSecond));
    ctx.count("too-many-upgrades");
    if (now - this.#lastReport >= 1000) { // at most once a second under a flood
      this.#lastReport = now;
      ctx.tel.event("sente-lite/upgrade-rate-limited", {
        level: "info",
        data: () => ({ remoteIp, retryAfter, rate: this.#budget!.rate }),
      });
    }
    return retryAfter;
  }
}
