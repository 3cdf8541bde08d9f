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
  /** The outcome of the client's resume request (capability `"resume"`), else absent. */
  resume?: ResumeState | null;
}

/** Messages a client missed and will not get (`docs/delivery.md`). */
export interface ResumeGap {
  /** `"overflow"` (buffer full), `"expired"` (TTL) or `"unknown"` (evicted, server restarted). */
  reason: string;
  /** How many, or `null` when the server cannot know. */
  dropped: number | null;
}

/** What the handshake says about a resumed session (`docs/delivery.md`). */
export interface ResumeState {
  /** `true` when the client gets every message it missed, in order, without duplicates. */
  resumed: boolean;
  /** What was lost, or `null`. */
  gap: ResumeGap | null;
  /** The highest client message seq the server has: the client re-sends only later ones. */
  ack: number;
  /** The server seq after which this connection's messages continue. */
  seq: number;
  /**
   * The secret the client offers to resume this session next time (`lib/protocol/resume_token.ts`),
   * new in every handshake; `null` from a server that issues none.
   */
  token: string | null;
  /**
   * With channel sequences (capability `"channel-seq"`): the broadcast number after which this
   * connection's broadcasts continue; absent otherwise.
   */
  cseq?: number;
}

/**
 * Builds the handshake data: the application's data plus the `sente-lite` entry.
 *
 * @example
 * ```ts
 * import { buildHandshakeData, parseHandshakeData } from "@sente-lite/sente-lite";
 *
 * const data = buildHandshakeData({ room: "lobby" }, {
 *   version: 1,
 *   connId: "c1",
 *   maxMessageBytes: 1048576,
 *   capabilities: [],
 * });
 * console.log(parseHandshakeData(data));
 * ```
 */
export function buildHandshakeData(
  appData: Record<string, unknown> | undefined,
  info: ServerInfo,
): Record<string, unknown> {
  // Assignments, not spreads: one of these is built per handshake (bench/connrate.ts).
  const entry: Record<string, unknown> = {
    "version": info.version,
    "conn-id": info.connId,
    "max-message-bytes": info.maxMessageBytes,
    "capabilities": info.capabilities,
  };
  if (info.wire) entry["wire"] = info.wire;
  if (info.resume) entry["resume"] = info.resume;
  const data: Record<string, unknown> = appData === undefined ? {} : { ...appData };
  data[HANDSHAKE_KEY] = entry;
  return data;
}

/**
 * Splits handshake data into the application's part and the server info; `info` is `null` when
 * the server is not sente-lite (a plain Sente server).
 *
 * @example
 * ```ts
 * import { parseHandshakeData } from "@sente-lite/sente-lite";
 *
 * console.log(parseHandshakeData({ room: "lobby" })); // app data, and no sente-lite server facts
 * ```
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
      resume: parseResume(r["resume"]),
    },
  };
}

function parseResume(raw: unknown): ResumeState | null {
  if (raw === null || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  const g = r["gap"] as Record<string, unknown> | null | undefined;
  const gap = g !== null && typeof g === "object"
    ? {
      reason: String(g["reason"]),
      dropped: typeof g["dropped"] === "number" ? g["dropped"] : null,
    }
    : null;
  return {
    resumed: r["resumed"] === true,
    gap,
    ack: Number(r["ack"] ?? 0),
    seq: Number(r["seq"] ?? 0),
    token: typeof r["token"] === "string" ? r["token"] : null,
    ...(typeof r["cseq"] === "number" ? { cseq: r["cseq"] } : {}),
  };
}
