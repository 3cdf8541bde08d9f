/**
 * Server options and their defaults, in one place.
 *
 * @module
 */
import type { Packer } from "../packers/packer.ts";
import { jsonPacker } from "../packers/json.ts";
import type { Clock } from "../util/clock.ts";
import { realClock } from "../util/clock.ts";
import type { ConnectionInfo, EventMessage } from "./types.ts";

/** The uid of connections that `authenticate` did not identify, as Sente's `:sente/nil-uid`. */
export const NIL_UID = "sente/nil-uid";

/** What `authorizeChannel` is asked. */
export interface ChannelAuthorization {
  /** `"subscribe"` or `"publish"`. */
  action: "subscribe" | "publish";
  /** The channel id. */
  channel: string;
  /** The asking connection. */
  connection: ConnectionInfo;
  /** The data being published (for `"publish"`). */
  data?: unknown;
}

/** Options of {@linkcode createServer}. */
export interface ServerOptions {
  /**
   * URL path of the WebSocket endpoint.
   * @default {"/chsk"}
   */
  path?: string;
  /**
   * Identifies the user before the upgrade. Return a uid, `null`/`undefined` for anonymous
   * ({@linkcode NIL_UID}), or a `Response` to reject the upgrade with it.
   * @default {anonymous for everyone}
   */
  authenticate?: (
    request: Request,
    context: { clientId: string },
  ) => string | null | undefined | Response | Promise<string | null | undefined | Response>;
  /**
   * Application data for the handshake (Sente's `handshake-data-fn`).
   * @default {none}
   */
  handshakeData?: (
    request: Request,
    uid: string,
  ) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
  /**
   * Packers the server speaks, chosen per connection by the `packer` upgrade parameter.
   * @default {[jsonPacker]}
   */
  packers?: readonly Packer[];
  /**
   * Largest accepted frame in bytes; a larger one closes the connection with 1009.
   * @default {1048576}
   */
  maxMessageBytes?: number;
  /**
   * Frames at least this large are reported to `onLargeMessage`.
   * @default {524288}
   */
  largeMessageBytes?: number;
  /**
   * Called for every inbound frame of at least `largeMessageBytes`.
   * @default {none}
   */
  onLargeMessage?: (info: { connection: ConnectionInfo; bytes: number }) => void;
  /**
   * Bad frames one connection may send before it is closed with 1008.
   * @default {100}
   */
  maxProtocolErrors?: number;
  /**
   * Default timeout of server→client requests, in ms.
   * @default {10000}
   */
  requestTimeoutMs?: number;
  /**
   * Channels one connection may be subscribed to at once.
   * @default {100}
   */
  maxSubscriptionsPerConnection?: number;
  /**
   * Decides channel subscribes and publishes; `false` answers `forbidden`.
   * @default {everything allowed}
   */
  authorizeChannel?: (request: ChannelAuthorization) => boolean | Promise<boolean>;
  /**
   * Called after a connection's handshake was sent.
   * @default {none}
   */
  onOpen?: (connection: ConnectionInfo) => void;
  /**
   * Called once after a connection closed and was cleaned up.
   * @default {none}
   */
  onClose?: (connection: ConnectionInfo, code: number, reason: string) => void;
  /**
   * Called with errors of handlers and hooks (they never crash the server).
   * @default {console.error}
   */
  onError?: (error: unknown, context: { message?: EventMessage; where: string }) => void;
  /**
   * Answers HTTP requests that are not for `path`.
   * @default {404}
   */
  fallback?: (request: Request) => Response | Promise<Response>;
  /**
   * Time source for timeouts.
   * @default {realClock}
   */
  clock?: Clock;
}

/** Options with every default filled in. */
export type ResolvedServerOptions =
  & Required<
    Omit<ServerOptions, "onLargeMessage" | "authorizeChannel" | "onOpen" | "onClose" | "fallback">
  >
  & Pick<ServerOptions, "onLargeMessage" | "authorizeChannel" | "onOpen" | "onClose" | "fallback">;

const DEFAULTS = {
  path: "/chsk",
  authenticate: () => null,
  handshakeData: () => undefined,
  packers: [jsonPacker],
  maxMessageBytes: 1024 * 1024,
  largeMessageBytes: 512 * 1024,
  maxProtocolErrors: 100,
  requestTimeoutMs: 10_000,
  maxSubscriptionsPerConnection: 100,
  onError: (error: unknown, context: { where: string }) =>
    console.error(`sente-lite: error in ${context.where}:`, error),
  clock: realClock,
} satisfies ResolvedServerOptions;

function positiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`ServerOptions.${name} must be a positive integer, got ${value}`);
  }
}

/** Fills in defaults and range-checks. */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const o: ResolvedServerOptions = { ...DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  if (!o.path.startsWith("/")) {
    throw new TypeError(`ServerOptions.path must start with "/", got ${JSON.stringify(o.path)}`);
  }
  if (o.packers.length === 0) throw new RangeError("ServerOptions.packers must not be empty");
  positiveInt("maxMessageBytes", o.maxMessageBytes);
  positiveInt("largeMessageBytes", o.largeMessageBytes);
  positiveInt("maxProtocolErrors", o.maxProtocolErrors);
  positiveInt("requestTimeoutMs", o.requestTimeoutMs);
  positiveInt("maxSubscriptionsPerConnection", o.maxSubscriptionsPerConnection);
  return o;
}
