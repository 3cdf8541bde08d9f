// This module is browser compatible.
/**
 * The signal: one structured record made by a signal creator (`log`, `event`, `error`, `trace`,
 * `spy`), plus its JSON form and a serializer that never throws.
 *
 * @module
 */

import type { Level } from "./levels.ts";
import { spanIdOf } from "./ids.ts";

/** Built-in signal kinds; any other string is allowed for app-defined kinds. */
export type SignalKind =
  | "log"
  | "event"
  | "error"
  | "trace"
  | "spy"
  | (string & Record<never, never>);

/** A reference to a trace signal: its callsite id and its instance uid. */
export interface TraceRef {
  /** The trace signal's id (callsite id). */
  readonly id: string | undefined;
  /** The trace signal's uid: 32 hex for a root (the trace id), else 16 hex (a span id). */
  readonly uid: string;
}

/**
 * One signal. Every field is always present (possibly `undefined`) so all signals share one shape.
 */
export interface Signal {
  /** Creation time, epoch milliseconds. */
  time: number;
  /** Namespace, e.g. `"app.db"` (from a scope or the `ns` option). */
  ns: string | undefined;
  /** Signal kind. */
  kind: SignalKind;
  /** Level name. */
  level: Level;
  /** Callsite id, e.g. `"auth/login"`; shared by every signal from that callsite. */
  id: string | undefined;
  /** Message. */
  msg: string | undefined;
  /** Arbitrary data (a data thunk has already been evaluated). */
  data: unknown;
  /** The error, for `error()` signals and failed traces. */
  error: unknown;
  /** Context in effect when the signal was made. */
  ctx: unknown;
  /** Instance id; set on trace and spy signals (root: 32-hex trace id, nested: 16-hex span id). */
  uid: string | undefined;
  /** The enclosing trace signal, if any. */
  parent: TraceRef | undefined;
  /** The outermost trace signal, if any; its uid is the trace id. */
  root: TraceRef | undefined;
  /** Run time of a traced or spied function, nanoseconds. */
  runNs: number | undefined;
  /** Value returned (or resolved) by a traced or spied function. */
  runValue: unknown;
  /** Combined sample rate (call × handler) the signal passed; 1 when not sampled. */
  sample: number;
}

/** An error as plain JSON. */
export interface SerializedError {
  /** Error name, e.g. `"TypeError"`. */
  name: string;
  /** Error message. */
  message: string;
  /** Stack trace, when available. */
  stack?: string;
  /** The serialized `cause`, when present. */
  cause?: unknown;
}

/** Serializes an error (or any thrown value) to `{name, message, stack, cause}`. */
export function serializeError(error: unknown, depth?: number): SerializedError {
  depth ??= 0;
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.stack !== undefined) out.stack = error.stack;
    if (error.cause !== undefined) {
      out.cause = depth < 4 ? serializeError(error.cause, depth + 1) : String(error.cause);
    }
    return out;
  }
  if (error !== null && typeof error === "object") {
    const e = error as { name?: unknown; message?: unknown };
    return {
      name: typeof e.name === "string" ? e.name : "Error",
      message: typeof e.message === "string" ? e.message : safeStringify(error),
    };
  }
  return { name: "Error", message: String(error) };
}

/**
 * A JSON-safe copy of `value`: cycles become `"[Circular]"`, `bigint` a decimal string, errors
 * `{name, message, stack}`, `Map` an object, `Set` an array, functions and symbols are dropped,
 * and nesting deeper than `maxDepth` becomes `"[Truncated]"`.
 */
export function jsonSafe(value: unknown, maxDepth?: number): unknown {
  maxDepth ??= 10;
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        return Number.isFinite(v) ? v : String(v);
      case "bigint":
        return v.toString();
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
    }
    if (v === null) return null;
    const o = v as object;
    if (seen.has(o)) return "[Circular]";
    if (depth >= maxDepth) return "[Truncated]";
    if (o instanceof Error) return serializeError(o);
    if (o instanceof Date) return isNaN(o.getTime()) ? null : o.toISOString();
    seen.add(o);
    try {
      if (Array.isArray(o)) return o.map((x) => walk(x, depth + 1) ?? null);
      if (o instanceof Set) return [...o].map((x) => walk(x, depth + 1) ?? null);
      const entries: Iterable<[unknown, unknown]> = o instanceof Map
        ? o.entries()
        : Object.entries(o);
      const out: Record<string, unknown> = {};
      for (const [k, x] of entries) {
        const w = walk(x, depth + 1);
        if (w !== undefined) out[String(k)] = w;
      }
      return out;
    } finally {
      seen.delete(o);
    }
  };
  return walk(value, 0);
}

/** `JSON.stringify` that never throws: on failure (cycles, `bigint`) it stringifies `jsonSafe(value)`. */
export function safeStringify(value: unknown): string {
  try {
    const s = JSON.stringify(value);
    if (s !== undefined) return s;
  } catch {
    // fall through to the safe path
  }
  return JSON.stringify(jsonSafe(value)) ?? "null";
}

let lastIsoMs = NaN;
let lastIso = "";

/** `new Date(ms).toISOString()`, cached for repeated timestamps (bursts share a millisecond). */
export function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIsoMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** The JSON record of a signal: what the file and remote handlers write. */
export interface SignalRecord {
  /** ISO-8601 creation time. */
  time: string;
  /** Level name. */
  level: Level;
  /** Signal kind. */
  kind: string;
  /** Namespace. */
  ns?: string;
  /** Callsite id. */
  id?: string;
  /** Instance id. */
  uid?: string;
  /** Message. */
  msg?: string;
  /** Data. */
  data?: unknown;
  /** Serialized error. */
  error?: SerializedError;
  /** Context. */
  ctx?: unknown;
  /** Enclosing trace signal. */
  parent?: TraceRef;
  /** Outermost trace signal. */
  root?: TraceRef;
  /** Run time, nanoseconds. */
  runNs?: number;
  /** Run value. */
  runValue?: unknown;
  /** Sample rate, when below 1. */
  sample?: number;
  /** OpenTelemetry trace id (the root uid), when inside a trace. */
  trace_id?: string;
  /** OpenTelemetry span id of the signal (or of its parent when it has no uid of its own). */
  span_id?: string;
}

/** Converts a signal to its JSON record, omitting absent fields and adding OTel `trace_id`/`span_id`. */
export function toRecord(s: Signal): SignalRecord {
  const r: SignalRecord = { time: isoTime(s.time), level: s.level, kind: s.kind };
  if (s.ns !== undefined) r.ns = s.ns;
  if (s.id !== undefined) r.id = s.id;
  if (s.uid !== undefined) r.uid = s.uid;
  if (s.msg !== undefined) r.msg = s.msg;
  if (s.data !== undefined) r.data = s.data;
  if (s.error !== undefined) r.error = serializeError(s.error);
  if (s.ctx !== undefined) r.ctx = s.ctx;
  if (s.parent !== undefined) r.parent = s.parent;
  if (s.root !== undefined) {
    r.root = s.root;
    r.trace_id = s.root.uid;
    const span = s.uid ?? s.parent?.uid;
    if (span !== undefined) r.span_id = spanIdOf(span);
  }
  if (s.runNs !== undefined) r.runNs = s.runNs;
  if (s.runValue !== undefined) r.runValue = s.runValue;
  if (s.sample !== 1) r.sample = s.sample;
  return r;
}

/** One JSON line (without the newline) for a signal; never throws. */
export function toJsonLine(s: Signal): string {
  return safeStringify(toRecord(s));
}
