/**
 * An in-memory transport pair for stream muxes: frames are queued and delivered on a later
 * macrotask (like a socket), `bufferedAmount` counts what is queued, and the pair can be cut
 * (queued frames are lost) and joined again with fresh transports.
 */
import type { StreamMux, StreamTransport } from "../../lib/streams/mux.ts";

/** One direction of the pair. */
export class MemoryTransport implements StreamTransport {
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #scheduled = false;
  dead = false;
  /** The largest `bufferedAmount` seen right after a send. */
  maxBuffered = 0;
  /** Every frame sent, when recording. */
  readonly sent: Uint8Array[] = [];
  record = false;
  /** Rewrites (or drops, with `null`) a frame before delivery. */
  tamper: ((frame: Uint8Array) => Uint8Array | null) | undefined;
  /** Frames delivered per macrotask (a slow network delivers few). */
  perTurn = Infinity;

  constructor(readonly target: (frame: Uint8Array) => void) {}

  get bufferedAmount(): number {
    return this.#buffered;
  }

  send(frame: Uint8Array): void {
    if (this.dead) return;
    if (this.record) this.sent.push(frame);
    this.#queue.push(frame);
    this.#buffered += frame.byteLength;
    this.maxBuffered = Math.max(this.maxBuffered, this.#buffered);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      const batch = this.#queue.splice(0, this.perTurn);
      for (const frame of batch) {
        this.#buffered -= frame.byteLength;
        if (this.dead) continue;
        const f = this.tamper ? this.tamper(frame) : frame;
        if (f) this.target(f);
      }
      if (this.#queue.length > 0) this.#schedule();
    }, 0);
  }

  /** Cuts this direction: queued frames are lost. */
  kill(): void {
    this.dead = true;
    this.#queue = [];
    this.#buffered = 0;
  }
}

/** Two muxes joined by a pair of memory transports. */
export interface Joined {
  /** a → b. */
  ab: MemoryTransport;
  /** b → a. */
  ba: MemoryTransport;
  /** Cuts both directions and detaches both muxes. */
  cut(): void;
}

/** Joins two muxes (attaching both) with fresh transports. */
export function join(a: StreamMux, b: StreamMux): Joined {
  const ab = new MemoryTransport((f) => b.receive(f));
  const ba = new MemoryTransport((f) => a.receive(f));
  a.attach(ab);
  b.attach(ba);
  return {
    ab,
    ba,
    cut() {
      ab.kill();
      ba.kill();
      a.detach();
      b.detach();
    },
  };
}

/** Deterministic bytes. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Reads a whole stream into one buffer. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(readable).arrayBuffer());
}

/** A macrotask turn. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
