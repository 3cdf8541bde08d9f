// This module is browser compatible.
/**
 * The sending end of one stream. Made by {@linkcode StreamMux.open}.
 *
 * Guarantees:
 * - The body is read only while the stream has credit (bytes below the receiver's `limit`) and
 *   the mux writes DATA only while the socket's `bufferedAmount` is low, so a slow receiver slows
 *   the body's pulls, and even absurd credit makes the sender hold no more than the piece of the
 *   body being sent: the bytes in flight are the receiver's to bound, and it granted them.
 * - Bytes leave in order, each exactly once per transport; after a resume the stream continues
 *   from the receiver's offset (re-reading a `Uint8Array`/`Blob` body; a `ReadableStream` body
 *   only when nothing was lost, else `stream-resume-failed`).
 * - `done` settles once: it resolves when the receiver confirmed `END` (total and digest checked
 *   there), and rejects with a {@linkcode StreamError} on cancel or failure on either side.
 *
 * @module
 */
import { IdleWatch } from "./_idle.ts";
import type { StreamLink } from "./_link.ts";
import { bodySource } from "./body.ts";
import type { BodySource, StreamBody } from "./body.ts";
import { StreamError } from "./errors.ts";
import type { StreamErrorCode } from "./errors.ts";
import {
  encodeCancel,
  encodeData,
  encodeDataInto,
  encodeEnd,
  encodeOpen,
  encodeResume,
} from "./frames.ts";
import { ProgressMeter } from "./progress.ts";
import type { StreamProgress } from "./progress.ts";
import type { IncrementalHash } from "./sha256.ts";
import { isFinal, streamTransition } from "./state.ts";
import type { StreamEvent, StreamState } from "./state.ts";
import type { TimerHandle } from "../util/clock.ts";

/** Options of {@linkcode StreamMux.open}. */
export interface OpenStreamOptions {
  /** Metadata for the receiver (packed by the caller). @default {empty} */
  meta?: Uint8Array;
  /** The total to announce. @default {the size of a Uint8Array or Blob body; none for a ReadableStream} */
  total?: number;
  /** Send the SHA-256 of the bytes in `END`; the receiver checks it. @default {false} */
  integrity?: boolean;
  /** Aborting cancels the stream on both sides. @default {undefined} */
  signal?: AbortSignal;
  /** Progress of the bytes sent, at most every `progressIntervalMs`. @default {undefined} */
  onProgress?: (progress: StreamProgress) => void;
}

/** The sending end of one stream. See the module doc for guarantees. */
export class OutgoingStream {
  /** The stream id. */
  readonly id: number;
  /** The stream's name (an event id such as `app/upload`). */
  readonly name: string;
  /** The announced total, when there is one. */
  readonly total: number | undefined;
  /** Settles when the stream ends: resolves once the receiver confirmed every byte. */
  readonly done: Promise<void>;
  readonly #link: StreamLink;
  readonly #source: BodySource;
  readonly #meta: Uint8Array;
  readonly #hash: IncrementalHash | undefined;
  readonly #progress: ProgressMeter | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.cancel(this.#signal?.reason);
  #resolve!: () => void;
  #reject!: (error: StreamError) => void;
  #state: StreamState = "opening";
  #error: StreamError | undefined;
  #accepted = false;
  #sent = 0;
  #readEnd = 0;
  #consumed = 0;
  #limit = 0;
  #pending: Uint8Array | null = null;
  #reading = false;
  #generation = 0;
  #eof = false;
  #endSent = false;
  #awaitingResume = false;
  #hashed = 0;
  #digest: Uint8Array | undefined;
  #resumeTimer: TimerHandle | undefined;
  #maxInFlight = 0;
  readonly #idle: IdleWatch;

  /** Opens a stream (internal: use {@linkcode StreamMux.open}). */
  constructor(
    link: StreamLink,
    id: number,
    name: string,
    body: StreamBody,
    options: OpenStreamOptions,
  ) {
    this.#link = link;
    this.id = id;
    this.name = name;
    this.#source = bodySource(body);
    this.total = options.total ?? this.#source.size;
    if (this.total !== undefined && !(Number.isSafeInteger(this.total) && this.total >= 0)) {
      throw new RangeError(`total must be a safe integer ≥ 0, got ${this.total}`);
    }
    if (
      this.total !== undefined && this.#source.size !== undefined &&
      this.total !== this.#source.size
    ) {
      throw new RangeError(`total ${this.total} differs from the body's size ${this.#source.size}`);
    }
    this.#meta = options.meta ?? new Uint8Array(0);
    this.#hash = options.integrity ? link.hash() : undefined;
    this.#eof = this.#source.size === 0;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(() => {}); // the caller may never look; the error is in `done` for those who do
    if (options.onProgress) {
      this.#progress = new ProgressMeter(
        link.clock,
        options.onProgress,
        link.limits.progressIntervalMs,
        this.total,
      );
    }
    this.#idle = new IdleWatch(
      link.clock,
      link.limits.idleTimeoutMs,
      () => this.#waitingOnPeer(),
      () =>
        this.#fail("stream-idle", `no credit or confirmation for ${link.limits.idleTimeoutMs} ms`),
    );
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The current state. */
  get state(): StreamState {
    return this.#state;
  }

  /** Why the stream was cancelled or failed (`undefined` while live or once completed). */
  get error(): StreamError | undefined {
    return this.#error;
  }

  /** Bytes sent (the next offset). */
  get sent(): number {
    return this.#sent;
  }

  /** Bytes the receiver's consumer has read, as its last credit said. */
  get acknowledged(): number {
    return this.#consumed;
  }

  /** The most bytes that were ever in flight (sent, not yet read by the receiver's consumer). */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** The OPEN frame (internal). */
  openFrame(): Uint8Array {
    return encodeOpen(this.id, this.name, this.total, this.#hash !== undefined, this.#meta);
  }

  /** Starts: sends OPEN, or cancels at once when the signal is already aborted (internal). */
  start(attached: boolean): void {
    if (this.#signal?.aborted) return this.cancel(this.#signal.reason);
    if (attached) {
      this.#idle.touch();
      this.#link.control(this.openFrame());
    } else this.transportLost();
  }

  /** Whether the peer holds the stream up: no accept, no credit for ready bytes, no confirmation. */
  #waitingOnPeer(): boolean {
    if (this.#state === "opening" || this.#state === "half-closed-local") return true;
    if (this.#state !== "open" || this.#endSent) return false;
    return this.#awaitingResume ||
      (this.#allowance() <= 0 && (this.#pending !== null || !this.#eof));
  }

  #allowance(): number {
    return this.#limit - this.#sent;
  }

  /** Whether the scheduler should visit this stream (internal). */
  get ready(): boolean {
    // After a resume, a stream that had sent END may have to send data and END again.
    const sending = this.#state === "open" || this.#state === "half-closed-local";
    if (!sending || this.#awaitingResume || this.#endSent) return false;
    if (this.#pending !== null) return this.#allowance() > 0;
    return this.#eof || (!this.#reading && this.#allowance() > 0);
  }

  /**
   * The next DATA frame of at most `maxBytes`, or `null`; may start a read or send END. The frame
   * is built in `into` when given (it must hold the header plus `maxBytes`), else in a new buffer
   * (internal).
   */
  next(maxBytes: number, into?: Uint8Array): Uint8Array | null {
    if (!this.ready) return null;
    const pending = this.#pending;
    if (pending === null) {
      if (this.#eof) this.#end();
      else this.#read();
      return null;
    }
    const n = Math.min(this.#allowance(), maxBytes, pending.byteLength);
    const piece = pending.subarray(0, n);
    this.#pending = n === pending.byteLength ? null : pending.subarray(n);
    if (this.#hash && this.#sent + n > this.#hashed) {
      this.#hash.update(piece.subarray(this.#hashed - this.#sent));
      this.#hashed = this.#sent + n;
    }
    const frame = into
      ? encodeDataInto(into, this.id, this.#sent, piece)
      : encodeData(this.id, this.#sent, piece);
    this.#idle.touch();
    this.#sent += n;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#sent - this.#consumed);
    this.#progress?.set(this.#sent);
    return frame;
  }

  #read(): void {
    this.#reading = true;
    const generation = this.#generation;
    this.#source.read(this.#link.limits.frameBytes * 4).then(
      (piece) => {
        if (generation !== this.#generation || isFinal(this.#state)) return;
        this.#reading = false;
        if (piece === null) {
          if (this.total !== undefined && this.#readEnd !== this.total) {
            return this.#fail(
              "stream-source-failed",
              `the body ended after ${this.#readEnd} bytes; ${this.total} were announced`,
            );
          }
          this.#eof = true;
        } else if (piece.byteLength > 0) {
          this.#readEnd += piece.byteLength;
          if (this.total !== undefined && this.#readEnd > this.total) {
            return this.#fail(
              "stream-source-failed",
              `the body runs past the ${this.total} bytes announced`,
            );
          }
          this.#pending = piece;
          if (this.#source.size !== undefined && this.#readEnd >= this.#source.size) {
            this.#eof = true;
          }
        }
        this.#link.wake(this);
      },
      (error) => {
        if (generation !== this.#generation) return;
        this.#fail("stream-source-failed", `the body failed: ${error}`, error);
      },
    );
  }

  #end(): void {
    if (this.#hash) this.#digest ??= this.#hash.digest();
    this.#endSent = true;
    this.#to("end-sent"); // first: a synchronous transport may bring the confirmation at once
    this.#link.control(encodeEnd(this.id, this.#sent, this.#digest));
  }

  /** A CREDIT frame arrived (internal). */
  onCredit(consumed: number, limit: number): void {
    if (isFinal(this.#state)) return;
    if (this.#awaitingResume) {
      if (this.#accepted) return; // the RESUME will say where we are
      this.#awaitingResume = false;
    }
    if (consumed > this.#sent || consumed < this.#consumed || limit < this.#limit) {
      return this.#fail(
        "stream-protocol",
        `a CREDIT (consumed ${consumed}, limit ${limit}) after sending ${this.#sent} with consumed ${this.#consumed}, limit ${this.#limit}`,
      );
    }
    this.#consumed = consumed;
    this.#limit = limit;
    this.#idle.touch();
    if (!this.#accepted) {
      this.#accepted = true;
      this.#to("accepted");
    }
    this.#link.wake(this);
  }

  /** The receiver's confirming END arrived (internal). */
  onConfirm(total: number): void {
    if (this.#state !== "half-closed-local") {
      if (isFinal(this.#state) || this.#awaitingResume) return;
      return this.#fail("stream-protocol", "an END confirmation before END");
    }
    if (total !== this.#sent) {
      return this.#fail("stream-protocol", `END confirmed ${total} bytes; ${this.#sent} were sent`);
    }
    this.#to("confirmed");
    this.#progress?.finish();
    this.#resolve();
    this.#settle();
  }

  /** The receiver's RESUME arrived: continue from `received` (internal). */
  onResume(received: number, consumed: number, limit: number): void {
    if (isFinal(this.#state)) return;
    if (!this.#awaitingResume || received > this.#sent) {
      return this.#fail("stream-protocol", `an unexpected RESUME at ${received}`);
    }
    if (received < this.#sent) {
      this.#generation++;
      this.#reading = false;
      this.#pending = null;
      if (!this.#source.seek(received)) {
        return this.#fail(
          "stream-resume-failed",
          `the receiver has ${received} of ${this.#sent} bytes sent, and a ReadableStream body cannot be read again`,
        );
      }
      this.#readEnd = received;
      this.#eof = this.#source.size !== undefined && received >= this.#source.size;
    }
    this.#sent = received;
    this.#consumed = consumed;
    this.#limit = limit;
    this.#endSent = false;
    this.#accepted = true;
    this.#awaitingResume = false;
    this.#idle.touch();
    this.#progress?.set(received);
    this.#link.wake(this);
  }

  /** The peer's CANCEL arrived (internal). */
  onCancel(code: StreamErrorCode, reason: string): void {
    const error = new StreamError(code, reason, { streamId: this.id, remote: true });
    this.#finish(code === "stream-cancelled" ? "cancel" : "error", error);
  }

  /** Cancels the stream on both sides with `reason`. */
  cancel(reason?: unknown): void {
    if (isFinal(this.#state)) return;
    const text = reason === undefined ? "cancelled by the sender" : String(reason);
    this.#link.control(encodeCancel(this.id, "stream-cancelled", text));
    this.#finish("cancel", new StreamError("stream-cancelled", text, { streamId: this.id }));
  }

  /** Fails the stream here and tells the peer (internal, also used by the mux). */
  fail(error: StreamError): void {
    if (isFinal(this.#state)) return;
    this.#link.control(encodeCancel(this.id, error.streamCode, error.message));
    this.#finish("error", error);
  }

  #fail(code: StreamErrorCode, message: string, cause?: unknown): void {
    this.fail(new StreamError(code, message, { streamId: this.id, cause }));
  }

  /** The transport dropped (internal). */
  transportLost(): void {
    if (!this.#to("transport-lost")) return;
    this.#idle.stop();
    this.#resumeTimer = this.#link.clock.setTimeout(() => {
      this.#resumeTimer = undefined;
      this.#finish(
        "error",
        new StreamError(
          "stream-resume-failed",
          `no transport within ${this.#link.limits.resumeTimeoutMs} ms`,
          { streamId: this.id },
        ),
      );
    }, this.#link.limits.resumeTimeoutMs);
  }

  /** A new transport is attached: ask the receiver where it is (internal). */
  resumed(): void {
    if (!this.#to("resumed")) return;
    this.#clearTimer();
    this.#idle.touch();
    this.#awaitingResume = true;
    if (this.#endSent) this.#to("end-sent"); // back to waiting for the confirmation
    // A receiver that never saw OPEN gets it again; one that did answers with RESUME (and ignores
    // the second OPEN). A receiver that completed answers the probe with its END confirmation.
    if (!this.#accepted) this.#link.control(this.openFrame());
    else this.#link.control(encodeResume(this.id, this.#sent, 0, 0));
  }

  #to(event: StreamEvent): boolean {
    const next = streamTransition(this.#state, event);
    if (next === null) return false;
    this.#state = next;
    return true;
  }

  #finish(event: "cancel" | "error", error: StreamError): void {
    if (!this.#to(event)) return;
    this.#error = error;
    this.#generation++;
    this.#pending = null;
    this.#source.cancel(error);
    this.#reject(error);
    this.#settle();
  }

  #settle(): void {
    this.#clearTimer();
    this.#idle.stop();
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#link.finished(this);
  }

  #clearTimer(): void {
    if (this.#resumeTimer !== undefined) this.#link.clock.clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
  }
}
