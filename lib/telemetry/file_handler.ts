/**
 * JSON-lines files for Deno, Bun and Node: a buffered {@linkcode JsonlWriter} with size-based
 * rotation and flush on exit, and {@linkcode fileHandler}, a handler writing one signal per line.
 *
 * Not browser compatible: it reaches the file system through `process.getBuiltinModule("node:fs")`
 * (present in Deno, Bun and Node) at construction time, so merely importing this module is safe
 * everywhere, but constructing a writer outside a server runtime throws.
 *
 * @module
 */

import { type Clock, realClock, type TimerHandle } from "../util/clock.ts";
import type { HandlerObject } from "./handler.ts";
import { type Signal, toJsonLine } from "./signal.ts";

/** The subset of `node:fs` the writer uses. */
interface Fs {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number;
  closeSync(fd: number): void;
  fstatSync(fd: number): { size: number };
  renameSync(from: string, to: string): void;
  existsSync(path: string): boolean;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { recursive: boolean }): unknown;
}

interface ProcessLike {
  getBuiltinModule?(id: string): unknown;
  on?(event: string, fn: () => void): unknown;
}

function nodeFs(): Fs {
  const proc = (globalThis as { process?: ProcessLike }).process;
  const fs = proc?.getBuiltinModule?.("node:fs") as Fs | undefined;
  if (fs === undefined) {
    throw new TypeError("JSON-lines files need a server runtime (Deno, Bun or Node 22+)");
  }
  return fs;
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

// Writers still open at exit get a final synchronous flush.
const openWriters = new Set<JsonlWriter>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const flushAll = () => {
    for (const w of openWriters) {
      try {
        w.flush();
      } catch {
        // best effort at exit
      }
    }
  };
  const g = globalThis as { Deno?: unknown; addEventListener?: (t: string, f: () => void) => void };
  if (g.Deno !== undefined && typeof g.addEventListener === "function") {
    g.addEventListener("unload", flushAll);
  } else {
    (globalThis as { process?: ProcessLike }).process?.on?.("exit", flushAll);
  }
}

function unrefTimer(handle: TimerHandle): void {
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof handle === "number" && deno?.unrefTimer) deno.unrefTimer(handle);
  else (handle as { unref?: () => void } | undefined)?.unref?.();
}

/** Options for {@linkcode JsonlWriter}. */
export interface JsonlWriterOptions {
  /** Characters buffered before a write.
   * @default {65_536} */
  bufferSize?: number;
  /** Longest time buffered lines wait for a write, milliseconds.
   * @default {1000} */
  flushIntervalMs?: number;
  /** Rotate when the file would grow beyond this many bytes; `0` never rotates.
   * @default {52_428_800} (50 MiB) */
  maxBytes?: number;
  /** Rotated files kept (`path.1` newest … `path.N` oldest).
   * @default {5} */
  maxFiles?: number;
  /** Create the parent directory if missing.
   * @default {true} */
  mkdir?: boolean;
  /** Flush synchronously when the process exits.
   * @default {true} */
  flushOnExit?: boolean;
  /** Time source for the flush interval.
   * @default {realClock} */
  clock?: Clock;
}

const WRITER_DEFAULTS: Required<JsonlWriterOptions> = {
  bufferSize: 65_536,
  flushIntervalMs: 1000,
  maxBytes: 50 * 1024 * 1024,
  maxFiles: 5,
  mkdir: true,
  flushOnExit: true,
  clock: realClock,
};

/**
 * An append-only line writer.
 *
 * - Lines are buffered and written with one synchronous `write` per `bufferSize` characters, on
 *   `flush()`, after `flushIntervalMs`, and at process exit.
 * - When a write would push the file past `maxBytes`, the file is rotated first: `path` becomes
 *   `path.1`, `path.1` becomes `path.2`, and so on; the oldest beyond `maxFiles` is deleted.
 * - No fsync: data reaches the OS on every write, the disk when the OS decides.
 */
export class JsonlWriter {
  /** The file path. */
  readonly path: string;
  readonly #o: Required<JsonlWriterOptions>;
  readonly #fs: Fs;
  readonly #encoder = new TextEncoder();
  #fd: number;
  #size: number;
  #buf = "";
  #timer: TimerHandle | undefined;
  #closed = false;
  #rotations = 0;

  /**
   * Opens (creating if needed) `path` for appending.
   *
   * @throws {RangeError} if a size option is out of range.
   * @throws {TypeError} outside a server runtime.
   */
  constructor(path: string, options?: JsonlWriterOptions) {
    options ??= {};
    if (typeof path !== "string" || path === "") {
      throw new TypeError(`path must be a non-empty string, got ${String(path)}`);
    }
    const o = { ...WRITER_DEFAULTS, ...options };
    if (!(o.bufferSize >= 0)) throw new RangeError(`bufferSize must be >= 0, got ${o.bufferSize}`);
    if (!(o.flushIntervalMs >= 0)) {
      throw new RangeError(`flushIntervalMs must be >= 0, got ${o.flushIntervalMs}`);
    }
    if (!(o.maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${o.maxBytes}`);
    if (!Number.isInteger(o.maxFiles) || o.maxFiles < 1) {
      throw new RangeError(`maxFiles must be a positive integer, got ${o.maxFiles}`);
    }
    this.path = path;
    this.#o = o;
    this.#fs = nodeFs();
    if (o.mkdir) this.#fs.mkdirSync(dirname(path), { recursive: true });
    this.#fd = this.#fs.openSync(path, "a");
    this.#size = this.#fs.fstatSync(this.#fd).size;
    if (o.flushOnExit) {
      openWriters.add(this);
      installExitHook();
    }
  }

  /**
   * Appends one line (a newline is added).
   *
   * @example
   * ```ts
   * import { fileHandler } from "@sente-lite/sente-lite/telemetry";
   *
   * const { writer } = fileHandler({ path: "logs/app.jsonl" });
   * writer.write(JSON.stringify({ note: "written as one line" }));
   * ```
   */
  write(line: string): void {
    this.append(line + "\n");
  }

  /**
   * Appends text that already ends with a newline (one or more whole lines).
   *
   * @example
   * ```ts
   * import { fileHandler } from "@sente-lite/sente-lite/telemetry";
   *
   * const { writer } = fileHandler({ path: "logs/app.jsonl" });
   * writer.append('{"a":1}\n{"b":2}\n'); // already newline-terminated lines
   * ```
   */
  append(text: string): void {
    if (this.#closed) throw new TypeError(`JsonlWriter for ${this.path} is closed`);
    this.#buf += text;
    if (this.#buf.length >= this.#o.bufferSize) this.flush();
    else if (this.#timer === undefined) {
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = undefined;
        if (!this.#closed) this.flush();
      }, this.#o.flushIntervalMs);
      if (this.#o.clock === realClock) unrefTimer(this.#timer);
    }
  }

  /**
   * Writes everything buffered, synchronously.
   *
   * @example
   * ```ts
   * import { fileHandler } from "@sente-lite/sente-lite/telemetry";
   *
   * const { writer } = fileHandler({ path: "logs/app.jsonl" });
   * writer.flush();
   * ```
   */
  flush(): void {
    if (this.#timer !== undefined) {
      this.#o.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#buf.length === 0 || this.#closed) return;
    const bytes = this.#encoder.encode(this.#buf);
    this.#buf = "";
    const max = this.#o.maxBytes;
    if (max > 0 && this.#size > 0 && this.#size + bytes.length > max) this.#rotate();
    let off = 0;
    while (off < bytes.length) {
      off += this.#fs.writeSync(this.#fd, bytes, off, bytes.length - off);
    }
    this.#size += bytes.length;
  }

  #rotate(): void {
    const fs = this.#fs;
    fs.closeSync(this.#fd);
    const n = this.#o.maxFiles;
    if (fs.existsSync(`${this.path}.${n}`)) fs.unlinkSync(`${this.path}.${n}`);
    for (let i = n - 1; i >= 1; i--) {
      if (fs.existsSync(`${this.path}.${i}`)) {
        fs.renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
    }
    fs.renameSync(this.path, `${this.path}.1`);
    this.#fd = fs.openSync(this.path, "a");
    this.#size = 0;
    this.#rotations++;
  }

  /**
   * Flushes and closes the file; later writes throw. Closing twice is harmless.
   *
   * @example
   * ```ts
   * import { fileHandler } from "@sente-lite/sente-lite/telemetry";
   *
   * const { writer } = fileHandler({ path: "logs/app.jsonl" });
   * writer.close(); // flushes first
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    openWriters.delete(this);
    this.#fs.closeSync(this.#fd);
  }

  /** Size of the current file in bytes, including what is still buffered. */
  get size(): number {
    return this.#size + this.#buf.length;
  }

  /** How many times the file has been rotated. */
  get rotations(): number {
    return this.#rotations;
  }

  /** Whether the writer is closed. */
  get closed(): boolean {
    return this.#closed;
  }
}

/** Options for {@linkcode fileHandler}. */
export interface FileHandlerOptions extends JsonlWriterOptions {
  /** File path.
   * @default {"logs/telemetry.jsonl"} */
  path?: string;
  /** Turns a signal into one line (no newline).
   * @default {toJsonLine} */
  format?: (signal: Signal) => string;
}

/** A JSON-lines file handler: a {@linkcode HandlerObject} that also exposes its writer. */
export interface FileHandler extends HandlerObject {
  /** The underlying writer. */
  readonly writer: JsonlWriter;
  /** Formats a batch and appends it. */
  handleBatch(signals: Signal[]): void;
  /** Writes buffered lines. */
  flush(): void;
  /** Flushes and closes the file. */
  stop(): void;
}

/**
 * Creates a handler appending one JSON line per signal to a file, with rotation (see
 * {@linkcode JsonlWriter}). Serialization happens on the drain side, never on the caller's.
 *
 * @example
 * ```ts
 * import { Telemetry } from "@sente-lite/sente-lite/telemetry";
 *
 * const telemetry = new Telemetry();
 * import { fileHandler } from "@sente-lite/sente-lite/telemetry";
 *
 * telemetry.addHandler("file", fileHandler({ path: "logs/app.jsonl", maxBytes: 10_000_000 }));
 * ```
 */
export function fileHandler(options?: FileHandlerOptions): FileHandler {
  options ??= {};
  const { path = "logs/telemetry.jsonl", format = toJsonLine, ...writerOptions } = options;
  const writer = new JsonlWriter(path, writerOptions);
  return {
    writer,
    handleBatch(signals) {
      let chunk = "";
      for (let i = 0; i < signals.length; i++) chunk += format(signals[i]) + "\n";
      writer.append(chunk);
    },
    flush() {
      writer.flush();
    },
    stop() {
      writer.close();
    },
  };
}
