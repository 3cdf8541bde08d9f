// This module is browser compatible.
/**
 * The receiving end of one stream, handed to `StreamMuxOptions.onStream`.
 *
 * Guarantees:
 * - No byte is accepted before {@linkcode IncomingStream.accept}: the first credit goes out then,
 *   and DATA beyond the granted credit is a `stream-protocol` failure.
 * - Memory: unread bytes stay below `windowBytes`. Credit follows the consumer: `readable` hands
 *   out bytes only on reads (its high-water mark is 0), and a new credit of `windowBytes` past
 *   what was read goes out once less than half the window is left. `readable` is a byte stream:
 *   a BYOB reader gets the bytes copied into its buffer and each frame's buffer is freed at once
 *   (no garbage per frame); a default reader gets each payload without a copy.
 * - Bytes reach `readable` in order, exactly once, also across a resume; `readable` closes only
 *   after `END` with the right total (and SHA-256, when announced); every failure errors it with
 *   a {@linkcode StreamError}.
 *
 * @module
 */
import { IdleWatch } from "./_idle.ts";
import type { StreamLink } from "./_link.ts";
import { StreamError } from "./errors.ts";
import type { StreamErrorCode } from "./errors.ts";
import { encodeCancel, encodeCredit, encodeEnd, encodeResume } from "./frames.ts";
import { ownsBuffer, release } from "./_owned.ts";
import { ProgressMeter } from "./progress.ts";
import type { StreamProgress } from "./progress.ts";
import { digestsEqual, toHex } from "./sha256.ts";
import type { IncrementalHash } from "./sha256.ts";
import { isFinal, streamTransition } from "./state.ts";
import type { StreamEvent, StreamState } from "./state.ts";
import type { TimerHandle } from "../util/clock.ts";

/** Options of {@linkcode IncomingStream.accept}. */
export interface AcceptStreamOptions {
  /** Progress of the bytes received, at most every `progressIntervalMs`. @default {undefined} */
  onProgress?: (progress: StreamProgress) => void;
}

/** The receiving end of one stream. See the module doc for guarantees. */
export class IncomingStream {
  /** The stream id. */
  readonly id: number;
  /** The stream's name (an event id such as `app/upload`). */
  readonly name: string;
  /** The sender's metadata, as it packed it. */
  readonly meta: Uint8Array;
  /** The announced total, when there is one (already checked against `maxStreamBytes`). */
  readonly total: number | undefined;
  /** Whether `END` will carry a SHA-256 that is checked. */
  readonly integrity: boolean;
  /** The bytes. Cancelling it cancels the stream on both sides. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Resolves when every byte was read, rejects with the stream's error. */
  readonly done: Promise<void>;
  /**
   * The checked SHA-256 of the bytes, lowercase hex: resolves once `END` arrived and its digest
   * matched what was received (before the last bytes are read, possibly), so a receiver that
   * wants the digest need not hash the bytes again. Resolves with `undefined` at `END` for a
   * stream without integrity; rejects with the stream's error when it fails before `END`.
   *
   * @example
   * ```ts ignore
   * for await (const chunk of incoming.readable) await file.write(chunk);
   * const sha256 = await incoming.sha256; // "e3b0c442…" (or undefined without integrity)
   * ```
   */
  readonly sha256: Promise<string | undefined>;
  readonly #link: StreamLink;
  readonly #hash: IncrementalHash | undefined;
  #resolve!: () => void;
  #reject!: (error: StreamError) => void;
  #resolveSha!: (hex: string | undefined) => void;
  #rejectSha!: (error: StreamError) => void;
  #controller!: ReadableByteStreamController;
  #waiting: (() => void) | null = null;
  #state: StreamState = "opening";
  #error: StreamError | undefined;
  #accepted = false;
  #received = 0;
  #consumed = 0;
  #limit = 0;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #maxQueued = 0;
  #progress: ProgressMeter | undefined;
  #resumeTimer: TimerHandle | undefined;
  #resumeSent = false;
  readonly #idle: IdleWatch;

  /** Made by the mux for an OPEN frame (internal). */
  constructor(
    link: StreamLink,
    id: number,
    name: string,
    total: number | undefined,
    integrity: boolean,
    meta: Uint8Array,
  ) {
    this.#link = link;
    this.id = id;
    this.name = name;
    this.total = total;
    this.integrity = integrity;
    this.meta = meta;
    this.#hash = integrity ? link.hash() : undefined;
    this.#idle = new IdleWatch(
      link.clock,
      link.limits.idleTimeoutMs,
      // the sender holds it up when it has credit and sends nothing
      () => this.#state === "open" && this.#accepted && this.#received < this.#limit,
      () => this.#fail("stream-idle", `no DATA for ${link.limits.idleTimeoutMs} ms`),
    );
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(() => {});
    this.sha256 = new Promise<string | undefined>((resolve, reject) => {
      this.#resolveSha = resolve;
      this.#rejectSha = reject;
    });
    this.sha256.catch(() => {});
    // A byte stream: a BYOB reader has the bytes copied into its own buffer, and the message's
    // buffer is then freed at once instead of waiting for a GC (see #hand).
    this.readable = new ReadableStream({
      type: "bytes",
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => this.#pull(),
      cancel: (reason) => this.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /** The current state. */
  get state(): StreamState {
    return this.#state;
  }

  /** Why the stream was cancelled or failed (`undefined` while live or once completed). */
  get error(): StreamError | undefined {
    return this.#error;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** The most unread bytes this stream ever held. */
  get maxQueued(): number {
    return this.#maxQueued;
  }

  /** Accepts the stream: grants the first credit, so bytes start to flow. */
  accept(options: AcceptStreamOptions = {}): void {
    if (this.#accepted || isFinal(this.#state)) return;
    this.#accepted = true;
    if (options.onProgress) {
      this.#progress = new ProgressMeter(
        this.#link.clock,
        options.onProgress,
        this.#link.limits.progressIntervalMs,
        this.total,
      );
    }
    this.#limit = this.#link.limits.windowBytes;
    this.#idle.touch();
    if (this.#state === "opening") {
      this.#to("accepted");
      this.#link.control(encodeCredit(this.id, 0, this.#limit));
    } else if (this.#state === "open") {
      // resumed before it was accepted: the RESUME carried no credit
      this.#link.control(encodeCredit(this.id, this.#consumed, this.#limit));
    }
  }

  /** Refuses the stream (an authorization hook said no); the sender's `done` rejects. */
  refuse(reason = "refused", code: StreamErrorCode = "stream-refused"): void {
    this.fail(new StreamError(code, reason, { streamId: this.id }));
  }

  /** Cancels the stream on both sides (also what cancelling `readable` does). */
  cancel(reason?: unknown): void {
    if (isFinal(this.#state)) return;
    const text = reason === undefined ? "cancelled by the receiver" : String(reason);
    this.#link.control(encodeCancel(this.id, "stream-cancelled", text));
    this.#finish("cancel", new StreamError("stream-cancelled", text, { streamId: this.id }));
  }

  /** Fails the stream here and tells the peer (internal, also used by the mux). */
  fail(error: StreamError): void {
    if (isFinal(this.#state)) return;
    this.#link.control(encodeCancel(this.id, error.streamCode, error.message));
    this.#finish("error", error);
  }

  #fail(code: StreamErrorCode, message: string): void {
    this.fail(new StreamError(code, message, { streamId: this.id }));
  }

  /** A DATA frame arrived (internal). */
  onData(offset: number, data: Uint8Array): void {
    if (isFinal(this.#state)) return;
    if (this.#state !== "open") {
      return this.#fail("stream-protocol", `DATA in state ${this.#state}`);
    }
    const end = this.#received + data.byteLength;
    if (offset !== this.#received) {
      return this.#fail("stream-protocol", `DATA at offset ${offset}; expected ${this.#received}`);
    }
    if (end > this.#link.limits.maxStreamBytes) {
      return this.#fail(
        "stream-too-large",
        `over maxStreamBytes ${this.#link.limits.maxStreamBytes}`,
      );
    }
    if (this.total !== undefined && end > this.total) {
      return this.#fail("stream-too-large", `DATA past the announced total ${this.total}`);
    }
    if (end > this.#limit) {
      return this.#fail("stream-protocol", `DATA up to ${end} beyond the credit ${this.#limit}`);
    }
    this.#hash?.update(data);
    this.#received = end;
    this.#idle.touch();
    if (data.byteLength > 0) {
      // Queued payloads own their buffers (the reader may take or free them): a frame that is a
      // view of a larger buffer holding other bytes is copied.
      this.#queue.push(ownsBuffer(data) ? data : data.slice());
      this.#queued += data.byteLength;
      this.#maxQueued = Math.max(this.#maxQueued, this.#queued);
    }
    this.#progress?.set(end);
    this.#deliver();
  }

  /** The sender's END arrived (internal). */
  onEnd(total: number, sha256: Uint8Array | undefined): void {
    if (this.#state === "half-closed-remote") {
      // our confirmation was lost in a transport drop: confirm again
      if (total === this.#received) this.#link.control(encodeEnd(this.id, total));
      return;
    }
    if (isFinal(this.#state)) return;
    if (this.#state !== "open" || total !== this.#received) {
      return this.#fail("stream-protocol", `END of ${total} bytes after ${this.#received}`);
    }
    let checked: string | undefined;
    if (this.#hash) {
      const digest = this.#hash.digest();
      if (!sha256 || !digestsEqual(digest, sha256)) {
        return this.#fail("stream-integrity", "the SHA-256 of the bytes differs from END's");
      }
      checked = toHex(digest);
    }
    this.#to("end-received");
    this.#resolveSha(checked);
    this.#link.control(encodeEnd(this.id, total));
    this.#progress?.finish();
    this.#deliver();
  }

  /** The peer's CANCEL arrived (internal). */
  onCancel(code: StreamErrorCode, reason: string): void {
    const error = new StreamError(code, reason, { streamId: this.id, remote: true });
    this.#finish(code === "stream-cancelled" ? "cancel" : "error", error);
  }

  /** The sender asks where we are after a resume (internal). */
  onProbe(): void {
    if (this.#state === "half-closed-remote") {
      this.#link.control(encodeEnd(this.id, this.#received));
    } else if (this.#state === "open" && !this.#resumeSent) this.#sendResume();
  }

  /** The transport dropped (internal). */
  transportLost(): void {
    this.#resumeSent = false;
    if (!this.#to("transport-lost")) return;
    this.#idle.stop();
    this.#resumeTimer = this.#link.clock.setTimeout(() => {
      this.#resumeTimer = undefined;
      this.fail(
        new StreamError(
          "stream-resume-failed",
          `no transport within ${this.#link.limits.resumeTimeoutMs} ms`,
          { streamId: this.id },
        ),
      );
    }, this.#link.limits.resumeTimeoutMs);
  }

  /** A new transport is attached: tell the sender where to continue (internal). */
  resumed(): void {
    if (!this.#to("resumed")) return;
    this.#clearTimer();
    if (this.#accepted) this.#idle.touch();
    this.#sendResume();
  }

  #sendResume(): void {
    this.#resumeSent = true;
    if (this.#accepted) {
      this.#limit = Math.max(this.#limit, this.#consumed + this.#link.limits.windowBytes);
    }
    this.#link.control(encodeResume(this.id, this.#received, this.#consumed, this.#limit));
  }

  #pull(): Promise<void> | void {
    if (this.#queue.length > 0 || this.#state === "half-closed-remote") return this.#hand();
    if (isFinal(this.#state)) return;
    return new Promise((resolve) => this.#waiting = resolve);
  }

  /** Bytes or the end arrived: answer a read that waits for them. */
  #deliver(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    if (this.#queue.length === 0 && this.#state !== "half-closed-remote") return;
    this.#waiting = null;
    this.#hand();
    waiting();
  }

  /**
   * Answers one read (it was asked for); closes `readable` after the last byte. A BYOB read gets
   * the bytes copied into its view, and a payload copied whole has its buffer (the transport's
   * message) detached, which frees it now: a receiver that reads into one buffer leaves no
   * garbage per frame. A default read gets the payload itself (its buffer moves to the reader).
   */
  #hand(): void {
    const request = this.#controller.byobRequest;
    if (this.#queue.length > 0) {
      const chunk = this.#queue[0];
      let n = chunk.byteLength;
      if (request?.view) {
        const view = request.view;
        n = Math.min(n, view.byteLength);
        new Uint8Array(view.buffer, view.byteOffset, n).set(chunk.subarray(0, n));
        if (n === chunk.byteLength) {
          this.#queue.shift();
          release(chunk);
        } else this.#queue[0] = chunk.subarray(n);
        request.respond(n);
      } else {
        this.#queue.shift();
        this.#controller.enqueue(chunk as Uint8Array<ArrayBuffer>);
      }
      this.#queued -= n;
      this.#consumed += n;
      this.#grant();
    }
    if (this.#queue.length === 0 && this.#state === "half-closed-remote") {
      this.#controller.close();
      // a BYOB read still waiting is answered with `done`
      this.#controller.byobRequest?.respond(0);
      this.#to("drained");
      this.#resolve();
      this.#settle();
    }
  }

  #grant(): void {
    if (this.#state !== "open") return;
    const window = this.#link.limits.windowBytes;
    if (this.#limit - this.#consumed > window / 2) return;
    this.#limit = this.#consumed + window;
    this.#idle.touch(); // the sender's clock starts with the credit
    this.#link.control(encodeCredit(this.id, this.#consumed, this.#limit));
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
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#controller.error(error);
    } catch { /* already closed or errored */ }
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.();
    this.#reject(error);
    this.#rejectSha(error); // no effect once END was checked
    this.#settle();
  }

  #settle(): void {
    this.#clearTimer();
    this.#idle.stop();
    this.#link.finished(this);
  }

  #clearTimer(): void {
    if (this.#resumeTimer !== undefined) this.#link.clock.clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
  }
}
