// This module is browser compatible.
/**
 * Trace and span ids in OpenTelemetry format (lowercase hex, 32 characters for a trace id, 16 for
 * a span id, never all zeros) and the W3C `traceparent` header.
 *
 * Random bytes come from `crypto.getRandomValues`, drawn from a pooled buffer so that one id costs
 * a table lookup per byte instead of a system call.
 *
 * @module
 */

const POOL_SIZE = 4096;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const pool = new Uint8Array(POOL_SIZE);
let poolPos = POOL_SIZE;

function hexBytes(n: number): string {
  if (poolPos + n > POOL_SIZE) {
    crypto.getRandomValues(pool);
    poolPos = 0;
  }
  let out = "";
  let zero = true;
  for (let i = 0; i < n; i++) {
    const b = pool[poolPos++];
    if (b !== 0) zero = false;
    out += HEX[b];
  }
  // All-zero ids are invalid in OpenTelemetry; the odds are 2^-64 but the fix is free.
  return zero ? hexBytes(n) : out;
}

/** A new random 32-hex trace id. */
export function traceId(): string {
  return hexBytes(16);
}

/** A new random 16-hex span id. */
export function spanId(): string {
  return hexBytes(8);
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/** Whether `id` is a valid OpenTelemetry trace id: 32 lowercase hex characters, not all zero. */
export function isValidTraceId(id: string): boolean {
  return TRACE_ID.test(id) && id !== "0".repeat(32);
}

/** Whether `id` is a valid OpenTelemetry span id: 16 lowercase hex characters, not all zero. */
export function isValidSpanId(id: string): boolean {
  return SPAN_ID.test(id) && id !== "0".repeat(16);
}

/** The parts of a W3C `traceparent` header. */
export interface TraceParent {
  /** 32-hex trace id. */
  traceId: string;
  /** 16-hex id of the parent span. */
  spanId: string;
  /** Trace flags; bit 0 means sampled. */
  flags: number;
}

/** Formats a W3C `traceparent` header: `00-<trace id>-<span id>-<flags>`. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${HEX[parent.flags & 0xff]}`;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a W3C `traceparent` header; returns `undefined` when it is malformed or invalid. */
export function parseTraceparent(header: string): TraceParent | undefined {
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m || m[1] === "ff" || !isValidTraceId(m[2]) || !isValidSpanId(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], flags: parseInt(m[4], 16) };
}

/**
 * The OpenTelemetry span id of a signal uid. Root trace signals carry the 32-hex trace id as their
 * uid (as Telemere does); their span id is its low 8 bytes.
 */
export function spanIdOf(uid: string): string {
  return uid.length === 32 ? uid.slice(16) : uid;
}
