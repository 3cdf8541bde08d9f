// This module is browser compatible.
/**
 * The `sente-lite` entry of the handshake data: protocol version, limits and capabilities.
 *
 * The handshake is Sente's `[uid, null, handshakeData]`; sente-lite puts its own facts under the
 * `"sente-lite"` key of `handshakeData` so a plain Sente client simply carries them along.
 *
 * @module
 */

/** The wire protocol version this implementation speaks. */
export const PROTOCOL_VERSION = 1;

/** The key of sente-lite's entry inside the handshake data. */
export const HANDSHAKE_KEY = "sente-lite";

/** What a sente-lite server announces about itself. */
export interface ServerInfo {
  /** Protocol version. */
  version: number;
  /** This connection's id on the server. */
  connId: string;
  /** Largest frame the server accepts, in bytes. */
  maxMessageBytes: number;
  /** Extensions this server speaks for this connection (e.g. `"channels"`, `"server-requests"`). */
  capabilities: string[];
  /** The negotiated wire settings and limits (docs/wire.md), when any feature is on. */
  wire?: Record<string, unknown> | null;
}

/** Builds the handshake data: the application's data plus the `sente-lite` entry. */
export function buildHandshakeData(
  appData: Record<string, unknown> | undefined,
  info: ServerInfo,
): Record<string, unknown> {
  return {
    ...appData,
    [HANDSHAKE_KEY]: {
      "version": info.version,
      "conn-id": info.connId,
      "max-message-bytes": info.maxMessageBytes,
      "capabilities": info.capabilities,
      ...(info.wire ? { "wire": info.wire } : {}),
    },
  };
}

/**
 * Splits handshake data into the application's part and the server info; `info` is `null` when
 * the server is not sente-lite (a plain Sente server).
 */
export function parseHandshakeData(
  data: unknown,
): { app: Record<string, unknown> | null; info: ServerInfo | null } {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return { app: null, info: null };
  }
  const { [HANDSHAKE_KEY]: raw, ...app } = data as Record<string, unknown>;
  if (raw === null || typeof raw !== "object") return { app, info: null };
  const r = raw as Record<string, unknown>;
  return {
    app,
    info: {
      version: Number(r["version"]),
      connId: String(r["conn-id"] ?? ""),
      maxMessageBytes: Number(r["max-message-bytes"] ?? 0),
      capabilities: Array.isArray(r["capabilities"]) ? r["capabilities"].map(String) : [],
      wire: r["wire"] !== null && typeof r["wire"] === "object"
        ? r["wire"] as Record<string, unknown>
        : null,
    },
  };
}
