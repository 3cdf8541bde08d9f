/**
 * An in-memory transport pair for stream muxes: frames are queued and delivered on a later
 * macrotask (like a socket), `bufferedAmount` counts what is queued, and the pair can be cut
 * (queued frames are lost) and joined again with fresh transports.
 */
import { StreamMux } from "../../lib/streams/mux.ts";
import type { StreamTransport } from "../../lib/streams/mux.ts";
import type { StreamMuxOptions } from "../../lib/streams/options.ts";
import type { IncomingStream } from "../../lib/streams/incoming.ts";

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
  /** Copy each frame in `send`, as a WebSocket does (the mux may then reuse its buffer). */
  copiesOnSend = false;
  /** With `copiesOnSend`: the buffers of the frames `send` was given. */
  readonly sentBuffers = new Set<ArrayBufferLike>();

  constructor(readonly target: (frame: Uint8Array) => void) {}

  get bufferedAmount(): number {
    return this.#buffered;
  }

  send(frame: Uint8Array): void {
    if (this.dead) return;
    if (this.copiesOnSend) {
      this.sentBuffers.add(frame.buffer);
      frame = frame.slice();
    }
    if (this.record) {
      // The receiving mux takes a frame's buffer (it may move or detach it): keep our own.
      this.sent.push(frame);
      frame = frame.slice();
    }
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
export function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
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

/** A client and a server mux; the server's incoming streams are pushed to `incoming`. */
export function pair(
  options: Partial<StreamMuxOptions> = {},
  accept: (s: IncomingStream) => void = (s) => s.accept(),
) {
  const incoming: IncomingStream[] = [];
  const waiters: (() => void)[] = [];
  const server = new StreamMux({
    ...options,
    side: "server",
    onStream: (s) => {
      accept(s);
      incoming.push(s);
      for (const w of waiters.splice(0)) w();
    },
  });
  const client = new StreamMux({ ...options, side: "client" });
  const joined = join(client, server);
  const next = async (n = 1): Promise<IncomingStream> => {
    while (incoming.length < n) await new Promise<void>((r) => waiters.push(r));
    return incoming[n - 1];
  };
  return { client, server, joined, incoming, next };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A ReadableStream of `total` bytes in `chunk`-byte pieces that counts what was pulled. */
export function counted(total: number, chunk: number) {
  const data = bytes(total, 3);
  const seen = { pulled: 0, cancelled: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (seen.pulled >= total) return c.close();
      const piece = data.slice(seen.pulled, seen.pulled + chunk);
      seen.pulled += piece.byteLength;
      c.enqueue(piece);
    },
    cancel(reason) {
      seen.cancelled = reason;
    },
  });
  return { data, stream, seen };
}
