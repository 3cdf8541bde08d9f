// This module is browser compatible.
/**
 * What a stream sends: a `Uint8Array`, a `Blob` or a `ReadableStream<Uint8Array>`, read one
 * piece at a time and only when the sender has credit (so a slow receiver slows the pulls). A
 * `Uint8Array` or a `Blob` can be read again from any offset (that is what makes resume work); a
 * `ReadableStream` is one-shot.
 *
 * @module
 */

/** A stream's body, as the application gives it. */
export type StreamBody = ReadableStream<Uint8Array> | Blob | Uint8Array;

/** A body being read. */
export interface BodySource {
  /** The size, when the body knows it (`Uint8Array`, `Blob`). */
  readonly size: number | undefined;
  /**
   * The next piece (at most `maxBytes` for the bodies that can choose), or `null` at the end. A
   * read still pending when {@linkcode BodySource.seek} is called is stale: ignore its result.
   * The piece may be a view of a buffer the source reuses: it is valid until the next read.
   */
  read(maxBytes: number): Promise<Uint8Array | null>;
  /** Moves to `offset` for the next read; `false` when the body cannot (a one-shot stream). */
  seek(offset: number): boolean;
  /** Stops reading and releases the body. */
  cancel(reason: unknown): void;
}

/** A source for `body`. */
export function bodySource(body: StreamBody): BodySource {
  if (body instanceof Uint8Array) return new BytesSource(body);
  if (typeof Blob !== "undefined" && body instanceof Blob) return new BlobSource(body);
  if (body instanceof ReadableStream) return new OneShotSource(body);
  throw new TypeError("a stream body is a ReadableStream<Uint8Array>, a Blob or a Uint8Array");
}

class BytesSource implements BodySource {
  readonly size: number;
  #bytes: Uint8Array;
  #at = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.size = bytes.byteLength;
  }
  read(maxBytes: number): Promise<Uint8Array | null> {
    if (this.#at >= this.size) return Promise.resolve(null);
    const piece = this.#bytes.subarray(this.#at, this.#at + maxBytes);
    this.#at += piece.byteLength;
    return Promise.resolve(piece);
  }
  seek(offset: number): boolean {
    this.#at = offset;
    return true;
  }
  cancel(): void {
    this.#bytes = new Uint8Array(0);
  }
}

/**
 * Reads a `ReadableStream` piece by piece. A byte stream (`type: "bytes"`, e.g. a file's) is read
 * with a BYOB reader into one buffer that is reused from read to read, so a long stream makes no
 * garbage per piece (a slow reader's sender stays flat without a GC); any other stream is read
 * chunk by chunk as it gives them.
 */
class PieceReader {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #chunks: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The reused buffer; `undefined` while a read holds it (a BYOB read transfers it). */
  #buffer: ArrayBuffer | undefined;
  constructor(stream: ReadableStream<Uint8Array>) {
    try {
      this.#byob = stream.getReader({ mode: "byob" });
    } catch {
      this.#chunks = stream.getReader(); // not a byte stream
    }
  }
  async read(maxBytes: number): Promise<Uint8Array | null> {
    if (this.#chunks) {
      const { done, value } = await this.#chunks.read();
      if (done) return null;
      if (!(value instanceof Uint8Array)) {
        throw new TypeError("a stream body must yield Uint8Array chunks");
      }
      return value;
    }
    const buffer = this.#buffer ?? new ArrayBuffer(maxBytes);
    this.#buffer = undefined;
    const size = Math.min(maxBytes, buffer.byteLength);
    const { done, value } = await this.#byob!.read(new Uint8Array(buffer, 0, size));
    if (value) this.#buffer = value.buffer as ArrayBuffer;
    return done || !value ? null : value;
  }
  cancel(reason?: unknown): void {
    (this.#byob ?? this.#chunks)!.cancel(reason).catch(() => {});
  }
}

class BlobSource implements BodySource {
  readonly size: number;
  readonly #blob: Blob;
  #at = 0;
  #reader: PieceReader | undefined;
  constructor(blob: Blob) {
    this.#blob = blob;
    this.size = blob.size;
  }
  async read(maxBytes: number): Promise<Uint8Array | null> {
    const reader = this.#reader ??= new PieceReader(this.#blob.slice(this.#at).stream());
    const value = await reader.read(maxBytes);
    // A seek while this read was pending made it stale: its bytes are from the old position.
    if (value === null || reader !== this.#reader) return null;
    this.#at += value.byteLength;
    return value;
  }
  seek(offset: number): boolean {
    if (offset !== this.#at || !this.#reader) {
      this.#reader?.cancel();
      this.#reader = undefined;
      this.#at = offset;
    }
    return true;
  }
  cancel(): void {
    this.#reader?.cancel();
  }
}

class OneShotSource implements BodySource {
  readonly size: undefined = undefined;
  readonly #reader: PieceReader;
  #at = 0;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = new PieceReader(stream);
  }
  async read(maxBytes: number): Promise<Uint8Array | null> {
    const value = await this.#reader.read(maxBytes);
    if (value === null) return null;
    this.#at += value.byteLength;
    return value;
  }
  seek(offset: number): boolean {
    return offset === this.#at;
  }
  cancel(reason: unknown): void {
    this.#reader.cancel(reason);
  }
}
