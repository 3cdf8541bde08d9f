// This module is browser compatible.
/**
 * The parts of one client that its concerns (connection, send paths, inbound routing) share:
 * made once by `Client`, never replaced.
 *
 * @module
 */
import { ChannelCursors } from "./channel_cursors.ts";
import { ClientHandlers } from "./handlers.ts";
import type { ResolvedClientOptions } from "./options.ts";
import { PendingRequests } from "./requests.ts";
import type { ClientTelemetryScope } from "./transforms.ts";
import type { ClientStats } from "./types.ts";

/** What a client's concerns share. */
export interface ClientParts {
  /** The resolved options. */
  readonly options: ResolvedClientOptions;
  /** The client's id (sent as `client-id`). */
  readonly clientId: string;
  /** The counters, updated in place. */
  readonly stats: ClientStats;
  /** The requests waiting for a reply. */
  readonly requests: PendingRequests;
  /** Push handlers and server→client request handlers. */
  readonly handlers: ClientHandlers;
  /** Cursors in the server's channel streams (capability `"channel-seq"`). */
  readonly cursors: ChannelCursors;
  /** The client's telemetry. */
  readonly tel: ClientTelemetryScope;
}

/**
 * The parts of a new client with `options`: counters at zero, no requests, no handlers; server
 * requests are answered through `send`.
 */
export function clientParts(
  options: ResolvedClientOptions,
  send: (value: unknown) => void,
): ClientParts {
  return {
    options,
    clientId: options.clientId,
    stats: {
      messagesIn: 0,
      messagesOut: 0,
      lateReplies: 0,
      attempts: 0,
      reconnects: 0,
      duplicatesDropped: 0,
      resent: 0,
    },
    requests: new PendingRequests(options.clock),
    handlers: new ClientHandlers((error) => options.onError(error), send),
    cursors: new ChannelCursors(),
    tel: options.telemetry.scope("sente-lite.client"),
  };
}
