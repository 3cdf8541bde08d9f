// This module is browser compatible.
/**
 * The seam between the core client and its opt-in parts, as types only: the core client imports
 * no wire transform and no telemetry code, so an app that does not use them does not ship them.
 * `wireTransforms()` (`./client/wire`) implements {@linkcode WireTransforms}; a `Telemetry`
 * (`./telemetry`) is a {@linkcode ClientTelemetry}.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import type { ServerInfo } from "../protocol/handshake.ts";
import type { Clock } from "../util/clock.ts";

/** The transforms of one socket, built after its handshake. */
export interface ClientWirePipeline {
  /** `true` when inbound frames must go through {@linkcode ClientWirePipeline.receive}. */
  readonly receives: boolean;
  /** Sends one packed frame; `urgent` ones (pings, pongs, replies) are not held back. */
  send(frame: Frame, urgent?: boolean): void;
  /** Takes one inbound WebSocket frame; logical frames go to the `frame` callback. */
  receive(frame: Frame): void;
  /** Stops everything; what still waits is dropped (the socket is gone). */
  close(): void;
}

/** What a pipeline talks to: the socket, and the client for decoded frames and errors. */
export interface ClientWireIo {
  /** The WebSocket, for writes and `bufferedAmount`. */
  socket: { send(frame: Frame): void; readonly bufferedAmount: number };
  /** A decoded inbound frame. */
  frame(frame: Frame): void;
  /** A transform error (reported through the client's `onError`). */
  error(error: Error): void;
  /** The client's clock. */
  clock: Clock;
}

/**
 * Batching, compression and chunking for the client, as one opt-in value: make it with
 * `wireTransforms()` from `@sente-lite/sente-lite/client/wire` and pass it as
 * `connect(url, { wire })`.
 */
export interface WireTransforms {
  /**
   * The upgrade's `wire` parameter for a client using the packer `packerName`, or `null`.
   * @ignore
   */
  offer(packerName: string): string | null;
  /**
   * The pipeline of a socket whose handshake announced `server`, or `null` when the server agreed
   * to nothing (plain frames).
   * @ignore
   */
  open(server: ServerInfo, packerName: string, io: ClientWireIo): ClientWirePipeline | null;
}

/** Where the client reports itself: a `Telemetry` from `./telemetry`, or anything shaped like it. */
export interface ClientTelemetry {
  /** A child for namespace `ns`. */
  scope(ns: string): ClientTelemetryScope;
}

/** The one signal creator the client calls. */
export interface ClientTelemetryScope {
  /** Records an event signal; `data` is only called when a handler wants the signal. */
  event(id: string, options: { level: "debug" | "info" | "warn"; data: () => unknown }): void;
}
