// This module is browser compatible.
/**
 * The client's connection: the state machine of `session.ts` driven by socket events, timers and
 * calls, the connection attempts (providers, upgrade, connect timeout), reconnects with backoff,
 * liveness, and what a handshake, a drop and the final stop do to the rest of the client.
 *
 * Guarantees:
 * - Every state change follows the table in `session.ts` and is announced once as `chsk/state`.
 * - Events are handled one at a time to completion: one raised by an effect or a handler (a
 *   `close()` inside a state handler) waits until the current one is done.
 * - An attempt superseded by a newer one (or by `close()`) never touches the client again: its
 *   socket's events and its providers' results are dropped.
 * - After an unexpected close the client reconnects with jittered exponential backoff, calls the
 *   URL provider again, re-subscribes its channels and flushes its queue; only `close()`, a
 *   terminal close code or `maxAttempts` stop it.
 *
 * @module
 */
import { classifyClose, CLOSE_HEARTBEAT_TIMEOUT } from "../protocol/close_codes.ts";
import { clientEventEnvelope } from "../protocol/envelope.ts";
import { ClosedError } from "../protocol/errors.ts";
import { parseHandshakeData } from "../protocol/handshake.ts";
import type { TimerHandle } from "../util/clock.ts";
import { callbackId } from "../util/ids.ts";
import { Liveness } from "../util/liveness.ts";
import { toError } from "../util/to_error.ts";
import { InboundAcks } from "./acks.ts";
import { backoffDelay } from "./backoff.ts";
import type { ClientChannels } from "./channels.ts";
import { clientInbound } from "./inbound.ts";
import type { UrlProvider } from "./options.ts";
import { ClientOutbound } from "./outbound.ts";
import type { ClientParts } from "./parts.ts";
import { runProviders } from "./providers.ts";
import { type ConnectionState, type SessionEvent, transition } from "./session.ts";
import { socketSink, upgradeProtocols, upgradeUrl } from "./socket.ts";
import { type Handshake, HANDSHAKE_EVENT, STATE_EVENT, type StateChange } from "./types.ts";
import { wakeWatch } from "./wake.ts";

/** How long `close()` waits for the server's close frame before counting the socket as closed. */
const CLOSE_TIMEOUT_MS = 2000;

function closeEvent(code: number): SessionEvent {
  return `close:${classifyClose(code)}`;
}

/** The connection of one client: its state, its socket and its attempts. */
export interface ClientConnection {
  /**
   * Resolves with the first handshake; rejects if the client ends in `closed` or `failed` before
   * one arrives (failed attempts in between only retry).
   */
  readonly ready: Promise<Handshake>;
  /** The send paths, writing to this connection's socket. */
  readonly out: ClientOutbound;
  /** The current state. */
  readonly state: ConnectionState;
  /** The last handshake, or `null` before the first. */
  readonly handshake: Handshake | null;
  /** Closes with `code` (checked by the caller) and stops reconnecting. */
  close(code: number, reason: string): void;
  /** Connects again now, from any state, without backoff; `reason` goes into the state change. */
  reconnect(reason: string): void;
}

/**
 * The connection of the client of `parts` to `url` (not started: call `reconnect`). A closure
 * rather than a class: its state lives in local variables, which the browser bundle shortens to
 * one letter each (the client's size budget, tests/bundle/).
 */
export function clientConnection(
  url: UrlProvider,
  parts: ClientParts,
  channels: ClientChannels,
): ClientConnection {
  const options = parts.options;
  /** Speaking to a Clojure Sente server: Sente's query only, no channels, no server requests. */
  const isSente = options.dialect === "sente";
  let state: ConnectionState = "closed";
  let lastHandshake: Handshake | null = null;
  let everOpened = false;
  let generation = 0;
  let attemptActive = false;
  let attempts = 0;
  let openSince: number | null = null;
  let retryTimer: TimerHandle | undefined;
  let connectTimer: TimerHandle | undefined;
  let closeTimer: TimerHandle | undefined;
  const inbox: { event: SessionEvent; reason: string; code?: number; handshake?: Handshake }[] = [];
  let dispatching = false;
  let closeCode = 1000;
  let closeReason = "client closed";
  const out = new ClientOutbound(parts, () => state);
  /** The highest server seq received, and its acknowledgements. */
  const acks = new InboundAcks(options.clock, (value) => out.sendValue(value));
  let readyResolve!: (h: Handshake) => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<Handshake>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  // Callers who never await `ready` must not get an unhandled rejection.
  ready.catch(() => {});
  const { heartbeat } = options;
  // "~" is outside base 36, so the liveness ping never collides with a request's callback id.
  const pingCb = `~${callbackId()}`;
  const liveness = new Liveness(options.clock, heartbeat, {
    ping: () => out.sendValue(clientEventEnvelope("chsk/ws-ping", undefined, pingCb)),
    dead: () => dispatch("heartbeat-timeout", `no frame for ${heartbeat.timeoutMs} ms (heartbeat)`),
  });
  const receive = clientInbound(
    parts,
    channels,
    acks,
    out,
    liveness,
    pingCb,
    (uid, data) => onHandshake(uid, data),
    () => state,
  );
  /** Reconnect at once when the browser comes online or the page becomes visible. */
  const listen = wakeWatch((reason) => dispatch("wake", reason));

  // ------------------------------------------------------------ state machine

  function dispatch(
    event: SessionEvent,
    reason: string,
    code?: number,
    handshake?: Handshake,
  ): void {
    inbox.push({ event, reason, code, handshake });
    // Run to completion: events raised by effects or by handlers (a `close()` inside a state
    // handler) wait until the current one is fully done.
    if (dispatching) return;
    dispatching = true;
    try {
      for (let next = inbox.shift(); next; next = inbox.shift()) {
        step(next.event, next.reason, next.code, next.handshake);
      }
    } finally {
      dispatching = false;
    }
  }

  function step(event: SessionEvent, reason: string, code?: number, handshake?: Handshake): void {
    const from = state;
    const to = transition(from, event);
    if (to === null) return;
    state = to;
    const change: { -readonly [K in keyof StateChange]: StateChange[K] } = { from, to, reason };
    if (code !== undefined) change.code = code;
    let after: (() => void) | undefined;
    switch (event) {
      case "reconnect()":
        teardown(1000, "reconnecting");
        attempts = 0;
        listen(true);
        startAttempt();
        break;
      case "open":
        break;
      case "handshake":
        after = opened(handshake!);
        break;
      case "retry":
        startAttempt();
        break;
      case "wake":
        if (to === "open") {
          const { intervalMs, timeoutMs } = options.heartbeat;
          if (intervalMs > 0 && timeoutMs > 0) liveness.probe(timeoutMs - intervalMs);
        } else if (!attemptActive) {
          options.clock.clearTimeout(retryTimer);
          startAttempt();
        }
        break;
      case "close()":
        if (to === "closing") {
          liveness.stop();
          const ws = out.ws;
          try {
            ws?.close(closeCode, closeReason);
          } catch {
            ws?.close();
          }
          closeTimer = options.clock.setTimeout(
            () => dispatch("heartbeat-timeout", "no close frame from the server"),
            CLOSE_TIMEOUT_MS,
          );
        } else teardown(closeCode, closeReason);
        shutdown(new ClosedError("client closed"));
        break;
      case "exhausted":
        teardown(1000, "giving up");
        shutdown(new ClosedError(`connection lost; gave up (${reason})`));
        break;
      default:
        // error, close:*, heartbeat-timeout
        if (to === "closed") teardown(1000, "closed");
        else if (to === "failed") {
          teardown(1000, "failed");
          shutdown(new ClosedError(`connection closed (${reason}); not reconnecting`));
        } else lost(event, reason, change);
    }
    if (from !== to || change.retryInMs !== undefined) {
      report(change);
      parts.handlers.emit(STATE_EVENT, change);
    }
    after?.();
  }

  /**
   * The client reports itself: connecting, open (handshake), closes with their codes and
   * reconnect attempts with their delays. Free while no telemetry handler listens.
   */
  function report(change: StateChange): void {
    const level = change.to === "failed" ? "warn" : change.to === "reconnecting" ? "info" : "debug";
    const clientId = parts.clientId;
    parts.tel.event(`sente-lite/client-${change.to}`, {
      level,
      data: () => ({ clientId, ...change }),
    });
  }

  // ------------------------------------------------------------ attempts

  /** Starts one connection attempt; its events come back through `dispatch`. */
  function startAttempt(): void {
    const attempt = ++generation;
    attemptActive = true;
    const clientId = parts.clientId;
    parts.stats.attempts++;
    connectTimer = options.clock.setTimeout(() => {
      if (attempt === generation) {
        dispatch("heartbeat-timeout", `no handshake within ${options.connectTimeoutMs} ms`);
      }
    }, options.connectTimeoutMs);
    const open = (raw: string | URL, csrfToken?: string, token?: string | null) => {
      if (attempt !== generation) return; // superseded while the provider ran
      let ws: WebSocket;
      let href = String(raw);
      try {
        href = upgradeUrl(raw, options, clientId, csrfToken, acks.seq, parts.cursors).href;
        const protocols = upgradeProtocols(
          token,
          isSente || !options.resume ? null : out.resumeToken,
          isSente || !options.streams ? null : options.streams.offer(),
        );
        ws = protocols.length > 1
          ? new options.WebSocket(href, protocols)
          : new options.WebSocket(href);
      } catch (e) {
        dispatch("error", `cannot open ${href}: ${toError(e).message}`);
        return;
      }
      ws.binaryType = "arraybuffer";
      out.ws = ws;
      ws.onopen = () => {
        if (out.ws === ws) dispatch("open", "socket open");
      };
      ws.onmessage = (e: MessageEvent) => {
        if (out.ws !== ws) return;
        const data = e.data; // a getter with a brand check in the runtimes: read it once
        const frame = typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer);
        if (typeof frame !== "string" && options.streams?.receive(frame)) return;
        // After the handshake, negotiated transforms decode frames (and call receive).
        if (out.wire?.receives) out.wire.receive(frame);
        else receive(frame);
      };
      ws.onclose = (e: CloseEvent) => {
        if (out.ws !== ws) return;
        out.ws = null;
        out.dropWire();
        options.streams?.drop();
        attemptActive = false;
        const why = `close ${e.code}${e.reason ? ` ${e.reason}` : ""}`;
        dispatch(closeEvent(e.code), why, e.code);
      };
      // An error is always followed by a close event, which does the work.
      ws.onerror = () => {};
    };
    // Token providers (Sente's `?csrf-token-or-fn`, our `token`) are asked on every attempt.
    runProviders(
      url,
      isSente ? options.csrfToken : undefined,
      isSente ? undefined : options.token,
      () => attempt === generation,
      open,
      (message) => dispatch("error", message),
    );
  }

  /** Drops the current socket or attempt and every connection timer. */
  function teardown(code: number, reason: string): void {
    generation++;
    attemptActive = false;
    const clock = options.clock;
    clock.clearTimeout(retryTimer);
    clock.clearTimeout(connectTimer);
    clock.clearTimeout(closeTimer);
    acks.stop();
    out.resumeOn = false;
    liveness.stop();
    const ws = out.ws;
    out.ws = null;
    out.dropWire();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // The runtime may still report a late error on a socket we left; it must go nowhere.
    ws.onerror = () => {};
    try {
      ws.close(code, reason);
    } catch {
      try {
        ws.close();
      } catch {
        // already closed
      }
    }
  }

  /** The connection or attempt was lost: fail or keep in-flight requests, schedule the next try. */
  function lost(
    event: SessionEvent,
    reason: string,
    change: { retryInMs?: number; attempt?: number },
  ): void {
    const clock = options.clock;
    const opts = options.reconnect;
    teardown(
      event === "heartbeat-timeout" ? CLOSE_HEARTBEAT_TIMEOUT : 1000,
      event === "heartbeat-timeout" ? "heartbeat timeout" : "lost",
    );
    if (openSince !== null && clock.now() - openSince >= opts.minUptimeMs) {
      attempts = 0;
    }
    openSince = null;
    out.lost(new ClosedError(`connection lost (${reason})`));
    if (attempts >= opts.maxAttempts) {
      dispatch("exhausted", `${attempts} reconnect attempts failed`);
      return;
    }
    const delay = backoffDelay(
      attempts,
      opts,
      event === "close:rate-limited",
      options.random,
    );
    attempts++;
    change.retryInMs = delay;
    change.attempt = attempts;
    retryTimer = clock.setTimeout(
      () => dispatch("retry", `attempt ${change.attempt}`),
      delay,
    );
  }

  /** Final stop (`closed` or `failed`): reject everything and stop listening for wake-ups. */
  function shutdown(error: Error): void {
    openSince = null;
    listen(false);
    parts.requests.rejectAll(error);
    out.clear();
    options.streams?.close();
    if (!everOpened) readyReject(error);
  }

  // ------------------------------------------------------------ handshake

  function onHandshake(uid: string, raw: unknown): void {
    const { app, info } = parseHandshakeData(raw);
    out.startWire(info, (frame) => receive(frame));
    const ws = out.ws;
    if (ws && !isSente) {
      options.streams?.open(info, socketSink(ws));
    }
    const handshake: Handshake = { uid, data: app, server: info, first: !everOpened };
    if (state === "connecting" || state === "reconnecting") everOpened = true;
    dispatch(
      "handshake",
      handshake.first ? "handshake" : "handshake (reconnect)",
      undefined,
      handshake,
    );
  }

  /** The handshake arrived: start liveness, re-subscribe, flush. Returns what runs after the state event. */
  function opened(handshake: Handshake): () => void {
    const { stats, handlers } = parts;
    const clock = options.clock;
    clock.clearTimeout(connectTimer);
    openSince = clock.now();
    liveness.start();
    if (!handshake.first) stats.reconnects++;
    lastHandshake = handshake;
    const gap = out.resumed(handshake, acks);
    channels.resubscribeAll();
    out.flush();
    return () => {
      handlers.emit(HANDSHAKE_EVENT, handshake);
      if (gap) handlers.emit("sente-lite/gap", gap);
      readyResolve(handshake);
    };
  }

  return {
    ready,
    out,
    get state(): ConnectionState {
      return state;
    },
    get handshake(): Handshake | null {
      return lastHandshake;
    },
    close(code: number, reason: string): void {
      closeCode = code;
      closeReason = reason;
      // Acknowledge what arrived, so the server does not count it as lost when it expires.
      if (state === "open") acks.flush();
      dispatch("close()", "close() called");
    },
    reconnect(reason: string): void {
      dispatch("reconnect()", reason);
    },
  };
}
