/**
 * What the server's authentication and authorization hooks are given and answer
 * (`ServerOptions.authenticate`, `ServerOptions.authorizeChannel`).
 *
 * @module
 */
import type { Rejection } from "./rejection.ts";
import type { ConnectionInfo } from "./types.ts";

/** The uid of connections that `authenticate` did not identify, as Sente's `:sente/nil-uid`. */
export const NIL_UID = "sente/nil-uid";

/** What `authorizeChannel` is asked. */
export interface ChannelAuthorization {
  /** `"subscribe"` or `"publish"`. */
  action: "subscribe" | "publish";
  /** The channel id. */
  channel: string;
  /** The asking connection's uid (as `uid` of an {@linkcode EventMessage}). */
  uid: string;
  /** The asking connection's client id (self-declared: not a credential). */
  clientId: string;
  /** The asking connection's id. */
  connId: string;
  /** The asking connection (also holds `uid`, `clientId` and its id, kept for compatibility). */
  connection: ConnectionInfo;
  /** The data being published (for `"publish"`). */
  data?: unknown;
}

/** What `authenticate` answers: a uid, anonymous, a {@linkcode Rejection} or an HTTP response. */
export type AuthResult = string | null | undefined | Rejection | Response;
