/**
 * The inbound path of every connection: a frame arrives → size limit, large-message report, rate
 * limit → the wire receiver (decompression, reassembly) → unpack → client batch → dialect decode
 * → the router. Also puts the negotiated wire transforms between a connection and its socket.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import { senteDialect } from "../dialects/sente.ts";
import { senteLiteDialect } from "../dialects/sente_lite.ts";
import { isCbId } from "../protocol/envelope.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { MAX_EVENT_ID_LENGTH } from "../protocol/event.ts";
import { frameByteLength } from "../util/utf8.ts";
import { decodeClientBatch } from "../wire/batch_frame.ts";
import type { WireSettings } from "../wire/capabilities.ts";
import { ReassemblyBudget } from "../wire/chunking.ts";
import { InflationLimiter } from "../wire/inflation.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { InboundRecords } from "./durable_inbound.ts";
import { ipKey } from "./ip_budget.ts";
import { rateViolation } from "./rate_violation.ts";
import type { Router } from "./router.ts";
import type { ServerSocket } from "./socket.ts";
import { ConnectionWire, reassemblyBytesPerIp, type WireTotals } from "./wire.ts";

/** Refused frames up to this size are unpacked to answer with their cbId; larger ones are not. */
const CBID_READ_MAX_BYTES = 16 * 1024;

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a connection received while its last numbered event's record was being written. */
interface Held {
  readonly values: unknown[];
  /** The next one to route. */
  next: number;
}

/** Reads, checks and routes what connections receive. */
export class Inbound {
  readonly #ctx: ServerContext;
  readonly #router: Router;
  /** Reassembly memory shared by every connection (chunked messages in flight). */
  readonly #reassemblyBudget: ReassemblyBudget | undefined;
  /** `wire.maxReassemblyBytesPerIp`: what one address may reserve of it. */
  readonly #reassemblyPerIp: number = Infinity;
  /** Bounds concurrent inflations of compressed frames across every connection. */
  readonly #inflation: InflationLimiter | undefined;
  /** The inbound records of a node of a cluster, else `null`. */
  readonly #durable: InboundRecords | null;
  /** What connections received while their last numbered event's record was being written. */
  readonly #held = new Map<Connection, Held>();

  /** Routes what arrives to `router`; `durable` when the node is part of a cluster. */
  constructor(ctx: ServerContext, router: Router, durable?: InboundRecords) {
    this.#ctx = ctx;
    this.#router = router;
    this.#durable = durable ?? null;
    const wire = ctx.options.wire;
    if (wire && wire.chunking !== false) {
      this.#reassemblyBudget = new ReassemblyBudget(wire.totalReassemblyBytes);
      this.#reassemblyPerIp = reassemblyBytesPerIp(wire);
    }
    if (wire && wire.compression !== false) {
      this.#inflation = new InflationLimiter({
        maxConcurrent: wire.maxConcurrentInflations,
        bytesPerSecond: wire.inflateBytesPerSecond,
      }); // on real time: its pauses are real timers
    }
  }

  /** Puts the inflation figures (server-wide) into `wire`. */
  addInflationStats(wire: WireTotals): void {
    if (!this.#inflation) return;
    const inflation = this.#inflation.stats();
    wire.inflateBound = inflation.maxConcurrent;
    wire.inflatePeak = inflation.peakActive;
    wire.inflateWaitingPeak = inflation.peakWaiting;
    wire.inflations = inflation.started;
    wire.inflatedBytes = inflation.inflatedBytes;
    wire.inflateThrottledMs = inflation.throttledMs;
  }

  /** Puts the negotiated transforms between the connection and its socket. */
  attachWire(conn: Connection, settings: WireSettings, socket: ServerSocket): void {
    const ctx = this.#ctx;
    conn.wire = new ConnectionWire(settings, ctx.options.wire, {
      socket,
      frame: (frame) => {
        try {
          if (!conn.closed) this.#receiveLogical(conn, frame);
        } catch (e) {
          ctx.options.onError(e, { where: "receive" });
          conn.close(1011, "internal error");
        }
      },
      error: (error) => {
        if (conn.closed) return;
        if (error.code === "inflate-rate-limited") this.#rateLimited(conn, null);
        else if (error.fatal) ctx.fatal(conn, error as unknown as ProtocolError);
        else ctx.protocolError(conn, error as unknown as ProtocolError);
      },
      flushPushes: (events) => conn.sendNow({ type: "push", events }),
      clock: ctx.clock,
      budget: this.#reassemblyBudget?.forKey(
        conn.remoteIp === null ? null : ipKey(conn.remoteIp),
        this.#reassemblyPerIp,
      ),
      inflation: this.#inflation,
      maxMessageBytes: ctx.options.maxMessageBytes,
      // Inflated bytes count against the byte rate, so amplification cannot outrun it. They are
      // charged even into debt: until it is paid back every frame is refused before inflating.
      charge: (bytes) => !conn.byteBucket || conn.byteBucket.charge(bytes),
    });
  }

  /** One frame from the socket. */
  receive(conn: Connection, frame: Frame): void {
    const ctx = this.#ctx;
    const bytes = frameByteLength(frame);
    ctx.stats.messagesIn++;
    ctx.stats.bytesIn += bytes;
    const now = ctx.clock.now();
    conn.lastSeen = now;
    if (conn.closed) return;
    if (bytes > ctx.options.maxMessageBytes) {
      ctx.fatal(
        conn,
        new ProtocolError("too-large", `frame of ${bytes} bytes is over the limit`),
      );
      return;
    }
    if (bytes >= ctx.options.largeMessageBytes) {
      ctx.stats.largeMessages++;
      ctx.tel.event("sente-lite/large-message", {
        level: "info",
        data: () => ({ connId: conn.id, uid: conn.uid, bytes }),
      });
      ctx.hook(
        "onLargeMessage",
        () => ctx.options.onLargeMessage?.({ connection: conn, bytes }),
      );
    }
    // Stream frames skip the rate limit and the wire pipeline: credit bounds them, and an OPEN
    // takes its message from the rate in streams.ts.
    if (typeof frame !== "string" && ctx.streams?.receive(conn, frame)) return;
    if (
      conn.messageBucket && !(conn.takeMessages(1, now) && conn.byteBucket!.take(bytes, now))
    ) {
      this.#rateLimited(conn, frame);
      return;
    }
    if (conn.wire?.receiver) conn.wire.receiver.receive(frame); // delivers to #receiveLogical
    else this.#receiveLogical(conn, frame);
  }

  /** One logical frame (after decompression and reassembly): unpack, decode, route. */
  #receiveLogical(conn: Connection, frame: Frame): void {
    // Reset here, not when the frame arrives: a compressed frame may still be refused as over the
    // byte rate once inflated. Only a peer that backed off is forgiven: one sending at full speed
    // gets a frame through per refill and must not reset its count with it.
    if (conn.violations > 0) {
      const limits = this.#ctx.options.rateLimit as { backoffMs: number };
      if (this.#ctx.clock.now() - conn.lastViolationAt >= limits.backoffMs) conn.violations = 0;
    }
    let value: unknown;
    try {
      value = conn.packerImpl.unpack(frame);
    } catch (e) {
      this.#ctx.protocolError(
        conn,
        new ProtocolError(
          "unpack-failed",
          `the ${conn.packer} packer could not read the frame: ${errorMessage(e)}`,
        ),
      );
      return;
    }
    if (conn.wire?.settings.batching) {
      let batch: unknown[] | null;
      try {
        batch = decodeClientBatch(value);
      } catch (e) {
        this.#ctx.protocolError(conn, e as ProtocolError);
        return;
      }
      if (batch) {
        // A batch counts as its entries against the message rate (the frame paid for one): else
        // one frame of 1000 entries would route 1000 events for one token (docs/security.md).
        if (batch.length > 1 && !conn.takeMessages(batch.length - 1)) {
          this.#rateLimited(conn, null);
          return;
        }
        for (const envelope of batch) this.#decodeAndRoute(conn, envelope);
        return;
      }
    }
    this.#decodeAndRoute(conn, value);
  }

  #decodeAndRoute(conn: Connection, value: unknown): void {
    if (this.#durable !== null) {
      const held = this.#held.get(conn);
      if (held !== undefined) return void held.values.push(value);
    }
    const written = this.#route(conn, value);
    if (written) this.#hold(conn, { values: [], next: 0 }, written);
  }

  /** Decodes and routes; returns the record to wait for (see {@linkcode InboundRecords.unwritten}). */
  #route(conn: Connection, value: unknown): Promise<void> | null | undefined {
    if (
      (conn.dialect === senteLiteDialect || conn.dialect === senteDialect) &&
      this.#routeKnown(conn, value)
    ) {
      return this.#durable?.unwritten(conn);
    }
    let ev;
    try {
      ev = conn.dialect.decode(value);
    } catch (e) {
      this.#ctx.protocolError(conn, e as ProtocolError);
      return null;
    }
    this.#router.route(conn, ev.id, ev.data, ev.cbId);
    return this.#durable?.unwritten(conn);
  }

  /**
   * The common frame of the envelope dialects, `[[id, data], cbId]` with handlers registered for
   * `id`, routed without the decoder's event object and without checking the id's form again
   * (`on` did). Anything else returns `false` for the decoder, whose rules and errors apply.
   */
  #routeKnown(conn: Connection, value: unknown): boolean {
    if (!Array.isArray(value) || value.length !== 2) return false;
    const ev = value[0], cb = value[1];
    if (!Array.isArray(ev) || (ev.length !== 1 && ev.length !== 2)) return false;
    const id = ev[0];
    // Registered ids are no longer than the limit: a longer one is not looked up (nor kept).
    if (typeof id !== "string" || id.length > MAX_EVENT_ID_LENGTH || !this.#router.handles(id)) {
      return false;
    }
    if (cb !== null && !isCbId(cb)) return false;
    this.#router.route(conn, id, ev[1], cb);
    return true;
  }

  /**
   * A numbered event's handler ran: what `conn` sends next waits (in order) until its record is
   * written, so a SIGKILL finds at most that one handled and unrecorded (docs/scaling.md).
   */
  #hold(conn: Connection, held: Held, written: Promise<void>): void {
    this.#held.set(conn, held);
    if (held.next >= 1024) {
      held.values.splice(0, held.next); // a client sending without pause: routed ones go
      held.next = 0;
    }
    written.then(() => {
      while (held.next < held.values.length && !conn.closed) {
        const next = this.#route(conn, held.values[held.next++]);
        if (next) return this.#hold(conn, held, next);
      }
      this.#held.delete(conn);
    }).catch((e) => {
      this.#held.delete(conn);
      this.#ctx.options.onError(e, { where: "receive" });
      if (!conn.closed) conn.close(1011, "internal error");
    });
  }

  /** Answers a frame over the rate (with its cbId when readable), closing after maxViolations. */
  #rateLimited(conn: Connection, frame: Frame | null): void {
    const ctx = this.#ctx;
    if (rateViolation(ctx, conn)) return;
    let cbId: string | null = null;
    try {
      // A refused frame is read for its cbId only when small: refusals must stay cheap.
      if (frame !== null && frameByteLength(frame) <= CBID_READ_MAX_BYTES) {
        cbId = conn.dialect.decode(conn.packerImpl.unpack(frame)).cbId;
      }
    } catch {
      // Unreadable frames are answered without a cbId.
    }
    ctx.count("rate-limited");
    ctx.sendError(
      conn,
      new ProtocolError("rate-limited", "slow down: frame not processed", cbId),
    );
  }
}
