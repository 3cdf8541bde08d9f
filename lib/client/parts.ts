// This module is browser compatible.
/**
 * The parts of one client that its concerns (connection, send paths, inbound routing) share:
 * made once by `Client`, never replaced.
 *
 * @module
 */
import type { ChannelCursors } from "./channel_cursors.ts";
import type { ClientHandlers } from "./handlers.ts";
import type { ResolvedClientOptions } from "./options.ts";
import type { PendingRequests } from "./requests.ts";
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
