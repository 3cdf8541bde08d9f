/**
 * The boundary between the Hub and the runtime adapters (Deno.serve, Bun.serve): the neutral
 * socket the Hub talks to, the sink an adapter forwards its socket's events to, and
 * {@linkcode UpgradeTarget}, the part of the Hub an adapter uses. Adapters import this module,
 * never the Hub, so lib/adapters and lib/server do not import each other.
 *
 * @module
 */
import type { Frame, Packer } from "../packers/packer.ts";
import type { ServerDialect } from "../dialects/dialect.ts";
import type { WireSettings } from "../wire/capabilities.ts";
import type { AdmissionSlot as Slot } from "./admission.ts";
import type { ResolvedServerOptions } from "./options.ts";

/** The outbound half of a server-side WebSocket, as the Hub sees it. */
export interface ServerSocket {
  /**
   * Sends one frame; text for strings, binary for bytes. The bytes are copied (or written) before
   * it returns, as `WebSocket.send` does in Deno and Bun: callers may reuse the buffer (streams do).
   */
  send(frame: Frame): void;
  /** Closes the socket with a code and reason. */
  close(code?: number, reason?: string): void;
  /**
   * Drops the connection without a close handshake, where the runtime can (Bun's
   * `ws.terminate()`; Deno has none for server sockets). Used when a close is never answered.
   */
  terminate?(): void;
  /** Bytes queued in the runtime and not yet written to the network. */
  readonly bufferedAmount: number;
  /**
   * Optional fast path (native topics, e.g. Bun's `ws.subscribe`): joins `topic`. The Hub uses
   * topics only when `subscribe`, `unsubscribe` and `publish` are all present.
   */
  subscribe?(topic: string): void;
  /** Optional fast path: leaves `topic`. */
  unsubscribe?(topic: string): void;
  /**
   * Optional fast path: sends `frame` to every socket of this server subscribed to `topic`, in
   * the order of the sends each socket gets (e.g. Bun's `server.publish`).
   */
  publish?(topic: string, frame: Frame): void;
}

/** The inbound half: what an adapter calls when its socket receives a frame or closes. */
export interface ConnectionSink {
  /** One frame arrived. */
  received(frame: Frame): void;
  /** The socket closed (for any reason, exactly once). */
  socketClosed(code: number, reason: string): void;
  /**
   * Optional: the sink is also the listener of an EventTarget socket's `message` and `close`
   * events ({@linkcode socketEvent}), so an adapter needs no object of its own per connection.
   */
  handleEvent?(e: Event): void;
}

/**
 * A `message` or `close` event of an EventTarget WebSocket (Deno's, `binaryType`
 * `"arraybuffer"`) told to `sink`.
 */
export function socketEvent(sink: ConnectionSink, e: Event): void {
  if (e.type === "message") {
    const data = (e as MessageEvent).data;
    sink.received(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  } else if (e.type === "close") {
    const { code, reason } = e as CloseEvent;
    // Deno reports an abnormal close (no close frame) as code 0; RFC 6455 calls it 1006.
    sink.socketClosed(code || 1006, reason);
  }
}

/** An upgrade that passed every check and waits for the runtime to open the socket. */
export interface PendingUpgrade {
  /** The client id from the query. */
  readonly clientId: string;
  /** The authenticated uid. */
  readonly uid: string;
  /** The negotiated packer. */
  readonly packer: Packer;
  /** The dialect of this peer. */
  readonly dialect: ServerDialect;
  /** The upgrade request. */
  readonly request: Request;
  /** Application handshake data. */
  readonly handshakeData: Record<string, unknown> | undefined;
  /** The subprotocol to select in the upgrade response, if the client offered one. */
  readonly protocol: string | undefined;
  /** The peer's IP address, when the adapter knows it. */
  readonly remoteIp: string | null;
  /** Batching, compression and chunking as negotiated with the `wire` parameter. */
  readonly wire: WireSettings;
  /** The client's last server seq when it asked to resume (`resume` parameter), else `null`. */
  readonly resume?: number | null;
  /** The resume token the client offered (subprotocol `sente-lite.resume.<token>`), else `null`. */
  readonly resumeToken?: string | null;
  /**
   * With resume: the client's broadcast cursor when it offered channel sequences (`cseq`
   * parameter; `null`: offered without a cursor), else `undefined`.
   */
  readonly channelSeq?: number | null;
  /**
   * The streams session the client named (subprotocol `sente-lite.streams.<name>`, else the
   * deprecated `streams` parameter; `null`: none). `undefined` when
   * the upgrade was not prepared by the Hub: the request's URL is read then.
   */
  readonly streams?: string | null;
  /** Its place in the connection counts, taken before `authenticate` (lib/server/admission.ts). */
  readonly slot?: Slot;
  /** Set when `authenticate` rejected it: the socket is closed with this at once (lib/server/rejection.ts). */
  readonly rejection?: { readonly code: number; readonly reason: string };
}

/** The options an adapter reads. */
export type UpgradeTargetOptions = Pick<
  ResolvedServerOptions,
  "path" | "clock" | "maxMessageBytes" | "handshakeTimeoutMs" | "telemetry" | "onError"
>;

/** What a runtime adapter needs of the server; the Hub has it. */
export interface UpgradeTarget {
  /** The options in force. */
  readonly options: UpgradeTargetOptions;
  /**
   * Checks an upgrade request: a `Response` to send instead, or the upgrade to perform; a
   * promise only when an application hook returned one.
   */
  prepareNow(
    request: Request,
    remoteIp: string | null,
  ): Response | PendingUpgrade | Promise<Response | PendingUpgrade>;
  /** The socket of an upgrade opened: returns where its events go. */
  open(pending: PendingUpgrade, socket: ServerSocket): ConnectionSink;
  /** Closes every connection (shutdown). */
  closeAll(): number;
}
