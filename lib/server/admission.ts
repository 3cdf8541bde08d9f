/**
 * Admission: the server-wide connection cap and the per-IP limit, both counting upgrades in
 * progress (a slot is taken before `authenticate` is awaited) as well as open connections, and
 * the handshake timeout that frees the slot of an upgrade whose socket never opens.
 *
 * A slot goes `pending` → `open` → `released`, or `pending` → `released` (refused, failed or
 * timed out). Releasing is idempotent, so every path may release without bookkeeping.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { type Clock, type TimerHandle, unref } from "../util/clock.ts";
import { ipKey } from "./ip_budget.ts";

/** Why an upgrade was not admitted: the server (HTTP 503) or the IP address (HTTP 429) is full. */
export type Refusal = "server-full" | "ip-full";

/** The limits admission enforces. */
export interface AdmissionLimits {
  /** Open plus pending connections of the whole server. */
  readonly maxConnections: number;
  /** Open plus pending connections of one IP address (IPv6: of its /64, see `ipKey`). */
  readonly maxConnectionsPerIp: number;
  /** How long a slot may stay pending, in ms. */
  readonly handshakeTimeoutMs: number;
}

/** One admitted upgrade's place in the connection counts (see `PendingUpgrade.slot`). */
export interface AdmissionSlot {
  /** `true` while the upgrade is in progress (neither opened nor released). */
  readonly pending: boolean;
  /** The socket opened: the slot now counts an open connection. `false` if it was released. */
  open(clock: Clock): boolean;
  /** Gives the slot back (idempotent). */
  release(clock: Clock): void;
}

/** One admitted upgrade's place in the counts. */
export class Slot implements AdmissionSlot {
  #state: "pending" | "open" | "released" = "pending";
  /** Clock time its handshake times out (while pending). */
  deadline = 0;
  /** @internal Runs when it timed out (it is released by then). */
  expired: ((ip: string | null) => void) | null = null;

  /** Made by {@linkcode Admission.reserve} only. */
  constructor(
    readonly ip: string | null,
    private readonly admission: Admission,
  ) {}

  /** `true` while the upgrade is in progress (neither opened nor released). */
  get pending(): boolean {
    return this.#state === "pending";
  }

  /** The socket opened: the slot now counts an open connection. `false` if it was released. */
  open(_clock?: Clock): boolean {
    if (this.#state !== "pending") return false;
    this.#state = "open";
    this.expired = null;
    this.admission.opened();
    return true;
  }

  /**
   * Hands an opened slot of `admission` for `ip` over to its connection, which then keeps only a
   * flag and gives the place back with `admission.released(ip, false)`: `true` when it did (the
   * slot itself is done: releasing it does nothing), `false` when the slot is not that.
   */
  handOver(admission: Admission, ip: string | null): boolean {
    if (this.#state !== "open" || this.admission !== admission || this.ip !== ip) return false;
    this.#state = "released";
    return true;
  }

  /** Gives the slot back (idempotent). */
  release(_clock?: Clock): void {
    if (this.#state === "released") return;
    const wasPending = this.#state === "pending";
    this.#state = "released";
    this.expired = null;
    this.admission.released(this.ip, wasPending);
  }
}

/** Counts connections, open and in progress, against the server's and the IP's limits. */
export class Admission {
  #total = 0;
  #pending = 0;
  /**
   * Per IP address (`ipKey`: an IPv6 one by its /64, as every other per-IP limit, else one host
   * would have 2^64 fresh limits): its count and one copy of the first address, which every slot
   * of that address shares (the runtime hands out a new string per request; each kept one costs
   * an idle connection ~0.15 KB).
   */
  #ips = new Map<string, { ip: string; n: number }>();
  /**
   * Pending slots in the order taken, so by deadline (one timeout for all): ONE timer, armed for
   * the first pending one, instead of a timer per upgrade. Opened and released slots are skipped
   * when the timer comes. With no slot pending the list is dropped but the timer is left to run
   * out (unref'd: it keeps no process alive): on Deno each socket opens a turn after its upgrade,
   * so the count of pending slots falls to 0 after nearly every connection, and clearing the timer
   * there set and cleared one timer per connection (3 % of a connection's server CPU). A timer
   * that fires early is harmless: it re-arms for the first slot still pending.
   */
  #waiting: Slot[] = [];
  #head = 0;
  #timer: TimerHandle | null = null;
  #expiring = false;
  /**
   * The timer is armed at the end of the turn that took a slot, and only if a slot is still
   * pending then: on Bun the socket opens inside `server.upgrade`, in the same turn, so a churn of
   * connections sets (and clears) no timer at all.
   */
  #armQueued = false;
  #armIfPending = (): void => {
    this.#armQueued = false;
    if (this.#pending === 0 || this.#timer !== null || this.#expiring) return;
    this.#arm(this.#waiting[this.#head].deadline - this.clock.now());
  };

  /** Admission under `limits`, timing pending slots with `clock`. */
  constructor(readonly limits: AdmissionLimits, private readonly clock: Clock) {}

  /** Open plus pending connections. */
  get total(): number {
    return this.#total;
  }

  /** Upgrades admitted whose socket has not opened yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Connections (open and pending) of one IP address (IPv6: of its /64). */
  perIp(ip: string): number {
    return this.#ips.get(ipKey(ip))?.n ?? 0;
  }

  /**
   * Takes a slot synchronously, or says why not. `expired` runs when the slot is still pending
   * after the handshake timeout (it is released by then).
   */
  reserve(ip: string | null, expired?: (ip: string | null) => void): Slot | Refusal {
    if (this.#total >= this.limits.maxConnections) return "server-full";
    if (ip !== null && this.perIp(ip) >= this.limits.maxConnectionsPerIp) return "ip-full";
    return this.#take(ip, expired);
  }

  /** Takes a slot without checking the limits (an upgrade made outside `Hub.prepare`). */
  adopt(ip: string | null): Slot {
    return this.#take(ip, undefined);
  }

  #take(ip: string | null, expired: ((ip: string | null) => void) | undefined): Slot {
    this.#total++;
    this.#pending++;
    if (ip !== null) {
      const key = ipKey(ip);
      const entry = this.#ips.get(key);
      if (entry === undefined) this.#ips.set(key, { ip, n: 1 });
      else {
        entry.n++;
        if (entry.ip === ip) ip = entry.ip;
      }
    }
    const slot = new Slot(ip, this);
    slot.deadline = this.clock.now() + this.limits.handshakeTimeoutMs;
    slot.expired = expired ?? null;
    this.#waiting.push(slot);
    if (this.#timer === null && !this.#armQueued) {
      this.#armQueued = true;
      queueMicrotask(this.#armIfPending);
    }
    return slot;
  }

  #arm(ms: number): void {
    this.#timer = unref(this.clock, this.clock.setTimeout(this.#fire, Math.max(0, ms)));
  }

  #fire = (): void => {
    this.#timer = null;
    this.#expire();
  };

  /** Frees the slots past their deadline; re-arms for the next pending one. */
  #expire(): void {
    const now = this.clock.now();
    const waiting = this.#waiting;
    this.#expiring = true;
    try {
      while (this.#head < waiting.length) {
        const slot = waiting[this.#head];
        if (slot.pending && slot.deadline > now) break;
        this.#head++;
        if (!slot.pending) continue;
        const expired = slot.expired;
        slot.release(this.clock);
        expired?.(slot.ip);
      }
    } finally {
      this.#expiring = false;
    }
    if (this.#pending === 0) return this.#idle();
    this.#compact();
    if (this.#head < waiting.length && this.#timer === null) {
      this.#arm(waiting[this.#head].deadline - now);
    }
  }

  #compact(): void {
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }

  /** No slot pending: no slot kept (an armed timer runs out, see `#waiting`). */
  #idle(): void {
    if (this.#pending > 0 || this.#expiring) return;
    this.#waiting = [];
    this.#head = 0;
  }

  /** @internal A pending slot opened. */
  opened(): void {
    this.#pending--;
    this.#idle();
  }

  /** @internal A slot was given back. */
  released(ip: string | null, wasPending: boolean): void {
    this.#total--;
    if (wasPending) {
      this.#pending--;
      this.#idle();
    }
    if (ip === null) return;
    const key = ipKey(ip);
    const entry = this.#ips.get(key);
    if (entry !== undefined && --entry.n <= 0) this.#ips.delete(key);
  }
}

// ------------------------------------------------------------------ the default connection cap

/** The connection cap where the open-file limit is unknown (not Linux, or no read permission). */
export const FALLBACK_MAX_CONNECTIONS = 4096;

/**
 * The soft "Max open files" limit from the text of `/proc/self/limits`, or `null` when absent or
 * unlimited.
 */
export function parseOpenFileLimit(text: string): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith("Max open files")) continue;
    const soft = line.slice("Max open files".length).trim().split(/\s+/)[0];
    if (!/^\d+$/.test(soft ?? "")) return null; // "unlimited"
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  }
  return null;
}

/**
 * The connection cap for an open-file limit: the limit minus headroom for the listening socket,
 * files, telemetry sinks and connections still in the HTTP phase (10 %, at least 64); at least 1.
 */
export function maxConnectionsFor(openFileLimit: number | null): number {
  if (openFileLimit === null) return FALLBACK_MAX_CONNECTIONS;
  const headroom = Math.max(64, Math.ceil(openFileLimit / 10));
  return Math.max(1, openFileLimit - headroom);
}

/** Reads the soft open-file limit of this process where the runtime tells it, else `null`. */
export function openFileLimit(): number | null {
  const path = "/proc/self/limits";
  try {
    const deno = (globalThis as { Deno?: typeof Deno }).Deno;
    if (deno && !("Bun" in globalThis)) {
      if (deno.build.os !== "linux") return null;
      // Never prompt for a permission just to pick a default.
      if (deno.permissions.querySync({ name: "read", path }).state !== "granted") return null;
    }
    return parseOpenFileLimit(readFileSync(path, "utf8"));
  } catch {
    return null; // not Linux, no /proc, or not allowed
  }
}
