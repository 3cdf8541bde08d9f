// This module is browser compatible.
/**
 * Opt-in streams for the client (docs/streaming.md): `client.upload()`, `client.download()` and
 * `client.onStream()` with credit-based flow control, progress, cancel and resume. The core client
 * (`./client`) carries none of this code; pass `clientStreams()` as its `streams` option.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 * import { clientStreams } from "@sente-lite/sente-lite/client/streams";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk", { streams: clientStreams() });
 * const reply = await client.upload("app/upload", new Uint8Array(8 << 20), {
 *   onProgress: (p) => console.log(p.percentage),
 * });
 * const body = await client.download("app/download", { name: "x" });
 * ```
 *
 * @module
 */
export { clientStreams, type ClientStreamsOptions } from "./lib/client/streams.ts";
export type {
  BidiStream,
  ClientStreamHandler,
  ClientStreamIo,
  ClientStreams,
  ClientStreamSocket,
  DownloadOptions,
  DownloadStream,
  OpenBidiOptions,
  StreamBodyLike,
  StreamProgressInfo,
  UploadOptions,
} from "./lib/client/transforms.ts";
export { STREAM_ERRORS, StreamError } from "./lib/streams/errors.ts";
export type { StreamErrorSpec } from "./lib/streams/errors.ts";
export type { StreamMuxOptions } from "./lib/streams/options.ts";
export type { StreamBudget, StreamSlots } from "./lib/streams/options.ts";
export type { AcceptStreamOptions, IncomingStream } from "./lib/streams/incoming.ts";
export type { StreamState } from "./lib/streams/state.ts";
export type { StreamErrorCode } from "./lib/streams/errors.ts";
export type { HashFactory, IncrementalHash } from "./lib/streams/sha256.ts";
export type { Clock, TimerHandle } from "./lib/util/clock.ts";
