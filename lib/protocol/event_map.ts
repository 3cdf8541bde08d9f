// This module is browser compatible.
/**
 * Typed events: one {@linkcode EventMap} type names every event each side sends, its data and
 * its reply, and every channel with the data published on it. Pass it to `createServer<Events>()`
 * and `connect<Events>()`; without one every id is a `string` and all data is `unknown`.
 *
 * These are types only: nothing is checked at run time.
 *
 * @module
 */

/**
 * The shape of an application's event map (every section is optional; a missing section stays
 * untyped):
 *
 * - `clientToServer`: events the client sends (`send`, `request`) and the server handles (`on`),
 *   each `{ data; reply }` (`reply` only for requests; a missing `data` means "no data").
 * - `serverToClient`: events the server pushes (`send`, `sendTo`, `broadcast`) or asks
 *   (`request`), and the client handles (`on`, `onRequest`); same `{ data; reply }` shape.
 * - `channels`: channel ids or patterns (template literal keys such as `` [room: `room/${string}`] ``)
 *   with the data published on them.
 * - `streams`: streams the client opens (`upload`, `openStream`) and the server handles
 *   (`onStream`), each `{ meta; reply }` (the client's metadata and the handler's reply).
 *   Downloads are `clientToServer` events (`download(id, data)` is a request whose reply streams).
 * - `pushStreams`: streams the server opens (`streamTo`, `streamToChannel`) and the client
 *   handles (`client.onStream`), each `{ meta }` (the server's metadata).
 *
 * @example A chat application
 * ```ts
 * import type { EventMap } from "@sente-lite/sente-lite";
 *
 * interface ChatEvents extends EventMap {
 *   clientToServer: {
 *     "chat/say": { data: { room: string; text: string }; reply: { ok: boolean } };
 *   };
 *   serverToClient: {
 *     "chat/notice": { data: string };
 *     "chat/confirm": { data: { question: string }; reply: boolean };
 *   };
 *   channels: {
 *     [room: `room/${string}`]: { from: string; text: string };
 *   };
 * }
 * ```
 */
export interface EventMap {
  /** Events the client sends and the server handles: id → `{ data; reply }`. */
  clientToServer?: object;
  /** Events the server sends and the client handles: id → `{ data; reply }`. */
  serverToClient?: object;
  /** Channel id or template-literal pattern → the data published on it. */
  channels?: object;
  /** Streams the client opens and the server handles: id → `{ meta; reply }`. */
  streams?: object;
  /** Streams the server opens and the client handles: id → `{ meta }`. */
  pushStreams?: object;
}

/**
 * The default event map: any event id, any channel, `unknown` data and replies (the untyped API).
 *
 * @example
 * ```ts
 * import type { AnyEvents, EventData } from "@sente-lite/sente-lite";
 *
 * const data: EventData<AnyEvents, "clientToServer", "any/id"> = 42; // unknown: anything goes
 * console.log(data);
 * ```
 */
export interface AnyEvents {
  /** Any id, any data, any reply. */
  clientToServer: Record<string, { data: unknown; reply: unknown }>;
  /** Any id, any data, any reply. */
  serverToClient: Record<string, { data: unknown; reply: unknown }>;
  /** Any channel, any data. */
  channels: Record<string, unknown>;
  /** Any stream id, any metadata, any reply. */
  streams: Record<string, { meta: unknown; reply: unknown }>;
  /** Any push stream id, any metadata. */
  pushStreams: Record<string, { meta: unknown }>;
}

/** A direction of an {@linkcode EventMap}: `"clientToServer"` or `"serverToClient"`. */
export type Direction = "clientToServer" | "serverToClient";

/**
 * The section `S` of the event map `E`, or the untyped one of {@linkcode AnyEvents} when `E`
 * leaves it out (so a map may type only the events of one direction).
 *
 * @example
 * ```ts
 * import type { EventSection } from "@sente-lite/sente-lite";
 *
 * type Events = { serverToClient: { "chat/notice": { data: string } } };
 * const notices: EventSection<Events, "serverToClient"> = { "chat/notice": { data: "hi" } };
 * const anyChannel: EventSection<Events, "channels"> = { lobby: 1 }; // untyped
 * console.log(notices, anyChannel);
 * ```
 */
export type EventSection<E, S extends keyof AnyEvents> = E extends { [P in S]: infer T } ? T
  : AnyEvents[S];

/**
 * The event ids of one direction of `E` (`string` when untyped).
 *
 * @example
 * ```ts
 * import type { EventId } from "@sente-lite/sente-lite";
 *
 * type Events = { clientToServer: { "chat/say": { data: string } } };
 * const id: EventId<Events, "clientToServer"> = "chat/say";
 * console.log(id);
 * ```
 */
export type EventId<E, D extends Direction> = keyof EventSection<E, D> & string;

/**
 * The data of event `K` in direction `D` of `E` (`undefined` when the event declares no `data`,
 * `unknown` for ids outside the map).
 *
 * @example
 * ```ts
 * import type { EventData } from "@sente-lite/sente-lite";
 *
 * type Events = { clientToServer: { "chat/say": { data: { text: string } } } };
 * const data: EventData<Events, "clientToServer", "chat/say"> = { text: "hi" };
 * console.log(data);
 * ```
 */
export type EventData<E, D extends Direction, K extends string> = K extends keyof EventSection<E, D>
  ? "data" extends keyof EventSection<E, D>[K] ? EventSection<E, D>[K]["data"] : undefined
  : unknown;

/**
 * The reply to event `K` in direction `D` of `E` sent as a request (`unknown` when the event
 * declares no `reply`).
 *
 * @example
 * ```ts
 * import type { EventReply } from "@sente-lite/sente-lite";
 *
 * type Events = { clientToServer: { "chat/say": { data: string; reply: { ok: boolean } } } };
 * const reply: EventReply<Events, "clientToServer", "chat/say"> = { ok: true };
 * console.log(reply);
 * ```
 */
export type EventReply<E, D extends Direction, K extends string> = K extends
  keyof EventSection<E, D>
  ? "reply" extends keyof EventSection<E, D>[K] ? EventSection<E, D>[K]["reply"] : unknown
  : unknown;

/**
 * The channel ids and patterns of `E` (`string` when untyped).
 *
 * @example
 * ```ts
 * import type { ChannelId } from "@sente-lite/sente-lite";
 *
 * type Events = { channels: { lobby: string; [room: `room/${string}`]: string } };
 * const ids: ChannelId<Events>[] = ["lobby", "room/42"];
 * console.log(ids);
 * ```
 */
export type ChannelId<E> = keyof EventSection<E, "channels"> & string;

/**
 * The data published on channel `C` of `E` (`unknown` when untyped).
 *
 * @example
 * ```ts
 * import type { ChannelData } from "@sente-lite/sente-lite";
 *
 * type Events = { channels: { [room: `room/${string}`]: { text: string } } };
 * const data: ChannelData<Events, "room/42"> = { text: "hi" };
 * console.log(data);
 * ```
 */
export type ChannelData<E, C extends string> = C extends keyof EventSection<E, "channels">
  ? EventSection<E, "channels">[C]
  : unknown;

/**
 * The stream ids of `E` (`string` when untyped): what `client.upload()`, `client.openStream()`
 * and `server.onStream()` take.
 *
 * @example
 * ```ts
 * import type { StreamId } from "@sente-lite/sente-lite";
 *
 * type Events = { streams: { "files/upload": { meta: { name: string }; reply: string } } };
 * const id: StreamId<Events> = "files/upload";
 * console.log(id);
 * ```
 */
export type StreamId<E> = keyof EventSection<E, "streams"> & string;

/**
 * The metadata of stream `K` of `E` (`unknown` when the stream declares no `meta` or is untyped).
 *
 * @example
 * ```ts
 * import type { StreamMeta } from "@sente-lite/sente-lite";
 *
 * type Events = { streams: { "files/upload": { meta: { name: string } } } };
 * const meta: StreamMeta<Events, "files/upload"> = { name: "a.txt" };
 * console.log(meta);
 * ```
 */
export type StreamMeta<E, K extends string> = K extends keyof EventSection<E, "streams">
  ? "meta" extends keyof EventSection<E, "streams">[K] ? EventSection<E, "streams">[K]["meta"]
  : unknown
  : unknown;

/**
 * The reply of the server's handler of stream `K` of `E`, which `client.upload()` resolves with
 * (`unknown` when the stream declares no `reply` or is untyped).
 *
 * @example
 * ```ts
 * import type { StreamReply } from "@sente-lite/sente-lite";
 *
 * type Events = { streams: { "files/upload": { reply: { sha256: string } } } };
 * const reply: StreamReply<Events, "files/upload"> = { sha256: "…" };
 * console.log(reply);
 * ```
 */
export type StreamReply<E, K extends string> = K extends keyof EventSection<E, "streams">
  ? "reply" extends keyof EventSection<E, "streams">[K] ? EventSection<E, "streams">[K]["reply"]
  : unknown
  : unknown;

/**
 * The push stream ids of `E` (`string` when untyped): what `server.streamTo()`,
 * `server.streamToChannel()` and `client.onStream()` take.
 *
 * @example
 * ```ts
 * import type { PushStreamId } from "@sente-lite/sente-lite";
 *
 * type Events = { pushStreams: { "logs/tail": { meta: { file: string } } } };
 * const id: PushStreamId<Events> = "logs/tail";
 * console.log(id);
 * ```
 */
export type PushStreamId<E> = keyof EventSection<E, "pushStreams"> & string;

/**
 * The metadata of push stream `K` of `E`, which `server.streamTo()` sends and the client's
 * `onStream()` handler gets (`unknown` when the stream declares no `meta` or is untyped).
 *
 * @example
 * ```ts
 * import type { PushStreamMeta } from "@sente-lite/sente-lite";
 *
 * type Events = { pushStreams: { "logs/tail": { meta: { file: string } } } };
 * const meta: PushStreamMeta<Events, "logs/tail"> = { file: "app.log" };
 * console.log(meta);
 * ```
 */
export type PushStreamMeta<E, K extends string> = K extends keyof EventSection<E, "pushStreams">
  ? "meta" extends keyof EventSection<E, "pushStreams">[K]
    ? EventSection<E, "pushStreams">[K]["meta"]
  : unknown
  : unknown;
