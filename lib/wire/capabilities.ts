// This module is browser compatible.
/**
 * Negotiation of the frame transforms, per connection.
 *
 * The server speaks first, so the client states what it accepts in the upgrade URL:
 *
 * ```
 * GET /chsk?client-id=…&packer=json&wire=batching,compression:deflate-raw,compression:gzip,chunking
 * ```
 *
 * The server turns each feature on only when both sides want it, and announces the result in the
 * handshake: the names `"batching"`, `"compression"`, `"chunking"` join the `capabilities` list, and
 * a `"wire"` entry beside them gives the chosen format and limits. A client that sent no `wire`
 * parameter (an older sente-lite client, a Sente peer) gets no new capability and plain frames.
 *
 * @example
 * ```ts
 * import { negotiate, wireQueryValue } from "./capabilities.ts";
 * const offer = wireQueryValue({ batching: true, compression: ["deflate-raw"], chunking: true });
 * const settings = negotiate({ batching: true, compression: ["gzip", "deflate-raw"], chunking: false }, offer);
 * console.assert(settings.batching && settings.compression === "deflate-raw" && !settings.chunking);
 * console.assert(negotiate({ batching: true, compression: ["gzip"], chunking: true }, null).compression === null);
 * ```
 *
 * @module
 */
import { COMPRESSION_FORMATS } from "./compression.ts";
import type { CompressionFormat } from "./compression.ts";

/** The upgrade query parameter that carries the client's offer. */
export const WIRE_PARAM = "wire";
/** The capability name of batching. */
export const CAP_BATCHING = "batching";
/** The capability name of compression. */
export const CAP_COMPRESSION = "compression";
/** The capability name of chunking. */
export const CAP_CHUNKING = "chunking";
/** The key of the negotiated settings in the handshake's `"sente-lite"` entry. */
export const WIRE_HANDSHAKE_KEY = "wire";

/** What one side is willing to do. */
export interface WireFeatures {
  /** Batch outgoing events. */
  batching: boolean;
  /** Formats accepted, best first; empty (or `false`) for no compression. */
  compression: readonly CompressionFormat[] | false;
  /** Split large messages into chunks. */
  chunking: boolean;
}

/** What one connection does: each feature is on only when both sides wanted it. */
export interface WireSettings {
  /** Batching is on. */
  batching: boolean;
  /** The compression format in use, or `null` for none. */
  compression: CompressionFormat | null;
  /** Chunking is on. */
  chunking: boolean;
}

/** Everything off: plain frames. */
export const PLAIN: Readonly<WireSettings> = Object.freeze({
  batching: false,
  compression: null,
  chunking: false,
});

/** Every feature, every format. */
export const ALL_FEATURES: Readonly<WireFeatures> = Object.freeze({
  batching: true,
  compression: COMPRESSION_FORMATS,
  chunking: true,
});

/** `true` when any binary-frame transform is on (then binary frames carry a flag byte). */
export function usesFlags(settings: WireSettings): boolean {
  return settings.compression !== null || settings.chunking;
}

/** The `wire` query value for a client's features, or `null` when it wants none. */
export function wireQueryValue(features: WireFeatures): string | null {
  const parts: string[] = [];
  if (features.batching) parts.push(CAP_BATCHING);
  for (const format of features.compression || []) parts.push(`${CAP_COMPRESSION}:${format}`);
  if (features.chunking) parts.push(CAP_CHUNKING);
  return parts.length ? parts.join(",") : null;
}

/**
 * Reads a `wire` query value. Unknown items are ignored (a newer client may offer more); a bare
 * `compression` means every format. Never throws.
 */
export function parseWireQuery(value: string | null | undefined): WireFeatures {
  const features = { batching: false, compression: [] as CompressionFormat[], chunking: false };
  if (!value) return { ...features, compression: false };
  for (const raw of value.split(",")) {
    const item = raw.trim();
    if (item === CAP_BATCHING) features.batching = true;
    else if (item === CAP_CHUNKING) features.chunking = true;
    else if (item === CAP_COMPRESSION) features.compression.push(...COMPRESSION_FORMATS);
    else if (item.startsWith(`${CAP_COMPRESSION}:`)) {
      const format = item.slice(CAP_COMPRESSION.length + 1) as CompressionFormat;
      if (COMPRESSION_FORMATS.includes(format)) features.compression.push(format);
    }
  }
  return {
    ...features,
    compression: features.compression.length ? [...new Set(features.compression)] : false,
  };
}

/**
 * The settings of one connection: the server's features met with the client's offer (the raw
 * `wire` query value, `null` when absent). The format is the client's first choice the server
 * accepts.
 */
export function negotiate(server: WireFeatures, clientOffer: string | null): WireSettings {
  const client = parseWireQuery(clientOffer);
  const serverFormats = server.compression || [];
  const format = (client.compression || []).find((f) => serverFormats.includes(f)) ?? null;
  return {
    batching: server.batching && client.batching,
    compression: format,
    chunking: server.chunking && client.chunking,
  };
}

/** The capability names to add to the handshake's list for `settings`. */
export function capabilityNames(settings: WireSettings): string[] {
  const names: string[] = [];
  if (settings.batching) names.push(CAP_BATCHING);
  if (settings.compression) names.push(CAP_COMPRESSION);
  if (settings.chunking) names.push(CAP_CHUNKING);
  return names;
}

/** The limits a receiver announces with its settings. */
export interface WireLimits {
  /** Payloads of at least this many bytes are compressed. */
  compressThreshold: number;
  /** Largest chunk body. */
  chunkSize: number;
  /** Most chunks per message. */
  maxChunks: number;
  /** Largest reassembled or decompressed message. */
  maxAssembledBytes: number;
}

/**
 * The `"wire"` entry of the handshake (beside `capabilities` in the `"sente-lite"` entry), or
 * `null` when nothing was negotiated (then the handshake carries no entry, as before).
 */
export function wireHandshakeEntry(
  settings: WireSettings,
  limits: WireLimits,
): Record<string, unknown> | null {
  if (!settings.batching && !usesFlags(settings)) return null;
  return {
    "compression": settings.compression,
    "compress-threshold": limits.compressThreshold,
    "chunk-size": limits.chunkSize,
    "max-chunks": limits.maxChunks,
    "max-assembled-bytes": limits.maxAssembledBytes,
  };
}

/**
 * The settings a client reads from the handshake: the capability list and the `"wire"` entry (both
 * from the `"sente-lite"` entry; `null`/absent from a server that negotiated nothing or is Sente).
 * A feature the client did not offer stays off even if announced.
 */
export function settingsFromHandshake(
  offered: WireFeatures,
  capabilities: readonly string[],
  entry: unknown,
): WireSettings {
  const e = entry !== null && typeof entry === "object" ? entry as Record<string, unknown> : {};
  const format = e["compression"] as CompressionFormat;
  const formats = offered.compression || [];
  return {
    batching: offered.batching && capabilities.includes(CAP_BATCHING),
    compression: capabilities.includes(CAP_COMPRESSION) && formats.includes(format) ? format : null,
    chunking: offered.chunking && capabilities.includes(CAP_CHUNKING),
  };
}
