/**
 * Chooses a connection's dialect from its upgrade query, before the handshake (the server speaks
 * first, so nothing the client sends later can decide it):
 *
 * | Query                          | Dialect                                    | Packer                        |
 * | ------------------------------ | ------------------------------------------ | ----------------------------- |
 * | no `client-id`                 | original sente-lite, if enabled (else 400) | EDN, bare events              |
 * | `client-id`, no `packer`       | Sente 1.21, if enabled                     | `dialects.sente.packer`       |
 * | `client-id` and `packer`       | sente-lite                                 | the named one (or 400)        |
 *
 * A `client-id` that is blank or longer than 128 characters is always a 400. With the Sente
 * dialect off, `client-id` without `packer` is sente-lite with the server's first packer.
 *
 * @module
 */
import type { Packer } from "../packers/packer.ts";
import { randomHex } from "../util/ids.ts";
import type { ServerDialect } from "./dialect.ts";
import { originalDialect, originalPacker } from "./original.ts";
import { senteDialect } from "./sente.ts";
import { senteLiteDialect } from "./sente_lite.ts";

/** Longest accepted `client-id`. */
export const MAX_CLIENT_ID_LENGTH = 128;

/** The dialects a server speaks besides sente-lite, with defaults filled in. */
export interface DialectConfig {
  /** The Sente 1.21 dialect and its packer, or `false` when off. */
  readonly sente: { readonly packer: Packer } | false;
  /** Whether upgrades without `client-id` are served in the original sente-lite dialect. */
  readonly original: boolean;
}

/** The outcome of {@linkcode selectDialect} for an acceptable upgrade. */
export interface DialectSelection {
  /** The dialect of the connection. */
  readonly dialect: ServerDialect;
  /** The client id: the query's, or a made one (`original-<hex>`) for original clients. */
  readonly clientId: string;
  /** The dialect's own packer, or `null` to pick the server packer named by `packer`. */
  readonly packer: Packer | null;
}

/** Makes the client id of an original connection, which sends none. */
export function originalClientId(): string {
  return `original-${randomHex(16)}`;
}

/**
 * Chooses the dialect for an upgrade query; `null` means the `client-id` is missing (with the
 * original dialect off) or invalid, to be answered with HTTP 400.
 */
export function selectDialect(
  query: Pick<URLSearchParams, "get" | "has">,
  config: DialectConfig,
  makeClientId: () => string = originalClientId,
): DialectSelection | null {
  const raw = query.get("client-id");
  if (raw === null) {
    return config.original
      ? { dialect: originalDialect, clientId: makeClientId(), packer: originalPacker }
      : null;
  }
  const clientId = raw.trim();
  if (clientId === "" || clientId.length > MAX_CLIENT_ID_LENGTH) return null;
  if (!query.has("packer") && config.sente) {
    return { dialect: senteDialect, clientId, packer: config.sente.packer };
  }
  return { dialect: senteLiteDialect, clientId, packer: null };
}
