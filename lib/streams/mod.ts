// This module is browser compatible.
/**
 * The streaming core: many one-way streams over one transport with credit-based flow control,
 * progress, cancel, SHA-256 integrity and resume (`docs/streaming.md`, `docs/PROTOCOL.md` §9).
 *
 * @example
 * ```ts
 * import { StreamMux } from "./mod.ts";
 * let server: StreamMux;
 * const client = new StreamMux({ side: "client" });
 * server = new StreamMux({ side: "server", onStream: (s) => s.accept() });
 * client.attach({ send: (f) => server.receive(f), bufferedAmount: 0 });
 * server.attach({ send: (f) => client.receive(f), bufferedAmount: 0 });
 * const out = client.open("app/upload", new Uint8Array(10));
 * console.assert(out.id === 1);
 * ```
 *
 * @module
 */
export { StreamMux } from "./mux.ts";
export type { StreamMuxStats, StreamTransport } from "./mux.ts";
export { emptyMuxStats } from "./mux.ts";
export { STREAM_DEFAULTS, StreamBudget } from "./options.ts";
export type { StreamLimits, StreamMuxOptions, StreamSlots } from "./options.ts";
export { OutgoingStream } from "./outgoing.ts";
export type { OpenStreamOptions } from "./outgoing.ts";
export { IncomingStream } from "./incoming.ts";
export type { AcceptStreamOptions } from "./incoming.ts";
export type { BodySource, StreamBody } from "./body.ts";
export { bodySource } from "./body.ts";
export type { StreamProgress } from "./progress.ts";
export { ProgressMeter } from "./progress.ts";
export { STREAM_ERRORS, StreamError, streamErrorCodeOf } from "./errors.ts";
export type { StreamErrorCode, StreamErrorSpec } from "./errors.ts";
export { isStreamFrame } from "./frames.ts";
export { STREAM_EVENTS, STREAM_STATES, STREAM_TRANSITIONS, streamTransition } from "./state.ts";
export type { StreamEvent, StreamRow, StreamState } from "./state.ts";
export { SenteLiteError } from "../protocol/errors.ts";
export type { Clock, TimerHandle } from "../util/clock.ts";
export { digestsEqual, jsSha256, Sha256, sha256, toHex } from "./sha256.ts";
export { nativeSha256 } from "./native_sha256.ts";
export type { HashFactory, IncrementalHash } from "./sha256.ts";
