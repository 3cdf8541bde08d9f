// This module is browser compatible.
/**
 * Opt-in wire transforms for the client: batching, compression (deflate-raw, gzip) and chunking
 * (docs/wire.md). The core client (`./client`) sends plain frames and carries none of this code;
 * pass `wireTransforms()` as its `wire` option to offer these to the server, which turns on what
 * it also wants.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 * import { wireTransforms } from "@sente-lite/sente-lite/client/wire";
 *
 * // Compression and chunking (the server's defaults), and batching of client→server events.
 * const client = connect("ws://127.0.0.1:3000/chsk", { wire: wireTransforms({ batching: true }) });
 * console.log((await client.ready).server?.capabilities); // [..., "batching", "compression", "chunking"]
 * client.close();
 * ```
 *
 * @module
 */
export { type ClientWireOptions, wireTransforms } from "./lib/client/wire.ts";
export type { WireTransforms } from "./lib/client/transforms.ts";
export type { CompressionFormat } from "./lib/wire/compression.ts";
export type { BatcherOptions } from "./lib/wire/batcher.ts";
export type { WireOptions } from "./lib/wire/pipeline.ts";
