// This module is browser compatible.
/**
 * The subset of transit-js 0.8.874 the Transit packer uses, typed. transit-js ships no type
 * declarations; `lib/packers/transit.ts` casts the module to {@linkcode TransitModule} once.
 *
 * @module
 */

/** Writes one type: its tag, its representation, and its string form when used as a map key. */
export interface TransitWriteHandler<T = never> {
  /** The tag, e.g. `":"` for a keyword or `"set"`. */
  tag(value: T): string;
  /** The representation, written in place of the value. */
  rep(value: T): unknown;
  /** The representation as a string, or `null` when there is none. */
  stringRep(value: T): string | null;
}

/** Options of `transit.writer`. */
export interface TransitWriterOptions {
  /** Write handlers keyed by constructor (a `Map` works: transit-js only calls `forEach`). */
  handlers?: Map<unknown, TransitWriteHandler<never>>;
  /** Applied to every value (map keys included) before its handler is looked up. */
  transform?: (value: unknown) => unknown;
  /** `false` writes no `^N` cache codes (any other value is taken as a cache object). */
  cache?: false;
}

/** A Transit-JSON writer; its cache restarts on every `write`. */
export interface TransitWriter {
  /** Writes one top-level value as Transit-JSON text. */
  write(value: unknown): string;
}

/** Builds a collection while reading, without transit-js's own map types. */
export interface TransitBuilder<A = unknown[]> {
  /** Starts an empty accumulator. */
  init(node: unknown): A;
  /** Adds one decoded element (for maps, a key and a value). */
  add(acc: A, keyOrItem: unknown, value: unknown, node: unknown): A;
  /** Turns the accumulator into the result. */
  finalize(acc: A, node: unknown): unknown;
  /** Builds a small collection from decoded elements (for maps, alternating keys and values). */
  fromArray(items: unknown[], node: unknown): unknown;
}

/** The read cache that resolves `^N` codes; transit-js calls `clear` after each read. */
export interface TransitReadCache {
  /** The next write position; transit-js rewinds it when it decodes a value twice. */
  idx: number;
  /** Records a cacheable value as it is read; returns it. */
  write(value: unknown, asMapKey: boolean): unknown;
  /** Resolves a cache code such as `"^0"`. */
  read(code: string, asMapKey: boolean): unknown;
  /** Forgets every entry. */
  clear(): void;
}

/** Options of `transit.reader`. */
export interface TransitReaderOptions {
  /** The read cache to use instead of transit-js's own. */
  cache?: TransitReadCache;
  /** Read handlers by tag, called with the decoded representation. */
  handlers?: Record<string, (rep: unknown) => unknown>;
  /** Called for tags without a handler. */
  defaultHandler?: (tag: string, rep: unknown) => unknown;
  /** Builds maps. */
  mapBuilder?: TransitBuilder;
  /** Builds arrays. */
  arrayBuilder?: TransitBuilder;
  /** `false` reads binary as `Uint8Array` instead of Node's `Buffer`. */
  preferBuffers?: boolean;
}

/** A Transit-JSON reader. */
export interface TransitReader {
  /** Reads one Transit-JSON text. */
  read(text: string): unknown;
}

/** A 64-bit integer as transit-js reads integers beyond `Number.MAX_SAFE_INTEGER`. */
export interface TransitLong {
  /** Decimal text. */
  toString(): string;
}

/** A value read under a tag without a read handler. */
export interface TransitTaggedValue {
  /** The tag, e.g. `"point"` for `["~#point", …]`. */
  tag: string;
  /** The decoded representation. */
  rep: unknown;
}

/** The transit-js module. */
export interface TransitModule {
  /** Makes a writer; only `"json"` is used here. */
  writer(type: "json", options?: TransitWriterOptions): TransitWriter;
  /** Makes a reader; only `"json"` is used here. */
  reader(type: "json", options?: TransitReaderOptions): TransitReader;
  /** Whether `value` is an integer number or a 64-bit `Long`. */
  isInteger(value: unknown): boolean;
  /** Whether `value` is a value with a tag transit-js has no read handler for. */
  isTaggedValue(value: unknown): value is TransitTaggedValue;
}
