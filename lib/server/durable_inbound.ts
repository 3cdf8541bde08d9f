/**
 * The client→server side of durable delivery (docs/scaling.md, "at least once across a crash"):
 * numbered client events (`sente-lite/msg`) of a connection resuming from the backplane's store
 * are deduplicated against its session's `inAck`, and recorded in the store (`markInbound`, then
 * acknowledged to the client) once their handlers ran:
 *
 * - **After, never before.** A record written before the handler ran would make a node's death
 *   lose the event; written after, the death can only make it run again (with the same
 *   `msg.delivery.key` on the next node).
 * - **Async handlers are waited for** (at most {@linkcode HANDLER_WAIT_MS}): the record of an event
 *   whose handler returned a promise is written once it settled, and records stay in seq order,
 *   since the store's mark is a high-water mark.
 * - **One at a time.** A record made at once is in the Redis client's next write; the connection's
 *   next events wait for that write (`unwritten`, used by lib/server/inbound.ts), so a SIGKILL
 *   finds at most one event per connection handled and unrecorded.
 *
 * @module
 */
import { unref } from "../util/clock.ts";
import type { DeliveryStore } from "../backplane/backplane.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";

/**
 * How long the record of a numbered event waits for its async handler: a handler that never
 * settles must not stop its connection's records (and acknowledgements) for good. Past it, the
 * event counts as handled.
 */
export const HANDLER_WAIT_MS = 30_000;

/** The inbound state of one resume session on this node. */
interface State {
  /** The session's connection on this node (the newest), which gets the acknowledgements. */
  conn: Connection;
  readonly uid: string;
  readonly sessionId: string;
  /** The highest client seq accepted. */
  inAck: number;
  /** A record was made at once since the last `unwritten` call. */
  recorded: boolean;
  /** Events whose records wait for their handlers (or for earlier ones that do). */
  waiting: number;
  /** The records waiting, in seq order. */
  chain: Promise<void>;
}

/** Inbound dedup and records of one Hub's resuming connections. */
export class InboundRecords {
  readonly #ctx: ServerContext;
  readonly #store: DeliveryStore;
  readonly #failed: (e: unknown) => false;
  readonly #states = new Map<Connection, State>();
  /**
   * Every state by session id, also of sessions whose connection left while records still waited
   * for handlers: the session's next connection on this node takes the state over, so events
   * accepted here are not run again and its records stay behind the waiting ones.
   */
  readonly #bySession = new Map<string, State>();

  /** Records in `store`; reports store errors to `failed`. */
  constructor(ctx: ServerContext, store: DeliveryStore, failed: (e: unknown) => false) {
    this.#ctx = ctx;
    this.#store = store;
    this.#failed = failed;
  }

  /** A connection resumed the session `sessionId`, which accepted client seqs through `inAck`. */
  attach(conn: Connection, uid: string, sessionId: string, inAck: number): void {
    let s = this.#bySession.get(sessionId);
    if (s !== undefined && s.uid === uid) {
      s.conn = conn;
      s.inAck = Math.max(s.inAck, inAck);
    } else {
      s = { conn, uid, sessionId, inAck, recorded: false, waiting: 0, chain: Promise.resolve() };
      this.#bySession.set(sessionId, s);
    }
    this.#states.set(conn, s);
  }

  /** The connection closed (records still waiting for handlers are still written). */
  detach(conn: Connection): void {
    const s = this.#states.get(conn);
    this.#states.delete(conn);
    if (s !== undefined && s.conn === conn && s.waiting === 0) this.#forget(s);
  }

  #forget(s: State): void {
    if (this.#bySession.get(s.sessionId) === s) this.#bySession.delete(s.sessionId);
  }

  /** `sente-lite/msg` seq from a client: `false` for a duplicate (recorded after its handlers). */
  received(conn: Connection, seq: number): boolean {
    const s = this.#states.get(conn);
    if (!s) return true;
    if (seq <= s.inAck) return false;
    s.inAck = seq;
    return true;
  }

  /**
   * The handlers of the accepted event `seq` ran; `settled` is their promise when one is async.
   * Records it now, or once it settled and every earlier event is recorded.
   */
  handled(conn: Connection, seq: number, settled: Promise<unknown> | undefined): void {
    const s = this.#states.get(conn);
    if (!s) return;
    if (settled === undefined && s.waiting === 0) {
      this.#record(s, seq);
      s.recorded = true;
      return;
    }
    s.waiting++;
    const done = settled === undefined ? undefined : this.#bounded(settled);
    s.chain = s.chain.then(() => done).then(() => {
      s.waiting--;
      this.#record(s, seq);
      if (s.waiting === 0 && !this.#states.has(s.conn)) this.#forget(s);
    });
  }

  /**
   * After `conn`'s event was routed: when a record was made at once, resolves once it is written
   * to the store's connection (the connection's next events wait for it); else `null`.
   */
  unwritten(conn: Connection): Promise<void> | null {
    const s = this.#states.get(conn);
    if (!s?.recorded) return null;
    s.recorded = false;
    return this.#store.written?.() ?? null;
  }

  #record(s: State, seq: number): void {
    this.#store.markInbound(s.uid, s.sessionId, seq).then(
      (mark) => void s.conn.send({ type: "push", events: [["sente-lite/ack", { seq: mark }]] }),
      (e) => this.#failed(e),
    );
  }

  /** Resolves once `p` settled, or after {@linkcode HANDLER_WAIT_MS}. */
  #bounded(p: Promise<unknown>): Promise<void> {
    const clock = this.#ctx.clock;
    return new Promise<void>((resolve) => {
      const timer = unref(clock, clock.setTimeout(resolve, HANDLER_WAIT_MS));
      const settle = () => {
        clock.clearTimeout(timer);
        resolve();
      };
      p.then(settle, settle);
    });
  }
}
