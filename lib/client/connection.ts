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
import { ClientInbound } from "./inbound.ts";
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
export class ClientConnection {
  /**
   * Resolves with the first handshake; rejects if the client ends in `closed` or `failed` before
   * one arrives (failed attempts in between only retry).
   */
  readonly ready: Promise<Handshake>;
  /** The send paths, writing to this connection's socket. */
  readonly out: ClientOutbound;
  #parts: ClientParts;
  /** Speaking to a Clojure Sente server: Sente's query only, no channels, no server requests. */
  #isSente: boolean;
  #url: UrlProvider;
  #channels: ClientChannels;
  #inbound: ClientInbound;
  #state: ConnectionState = "closed";
  #handshake: Handshake | null = null;
  #everOpened = false;
  /** The highest server seq received, and its acknowledgements. */
  #acks: InboundAcks;
  #readyResolve!: (h: Handshake) => void;
  #readyReject!: (e: Error) => void;
  #generation = 0;
  #attemptActive = false;
  #attempts = 0;
  #openSince: number | null = null;
  #retryTimer: TimerHandle | undefined;
  #connectTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;
  #liveness: Liveness;
  #inbox: { event: SessionEvent; reason: string; code?: number; handshake?: Handshake }[] = [];
  #dispatching = false;
  #closeCode = 1000;
  #closeReason = "client closed";
  /** Reconnect at once when the browser comes online or the page becomes visible. */
  #listen = wakeWatch((reason) => this.#dispatch("wake", reason));

  /** A connection to `url` (not started: see {@linkcode ClientConnection.reconnect}). */
  constructor(url: UrlProvider, parts: ClientParts, channels: ClientChannels) {
    const options = parts.options;
    this.#parts = parts;
    this.#url = url;
    this.#channels = channels;
    this.#isSente = options.dialect === "sente";
    const out = this.out = new ClientOutbound(parts, () => this.#state);
    this.#acks = new InboundAcks(options.clock, (value) => out.sendValue(value));
    this.ready = new Promise<Handshake>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    // Callers who never await `ready` must not get an unhandled rejection.
    this.ready.catch(() => {});
    const { heartbeat } = options;
    // "~" is outside base 36, so the liveness ping never collides with a request's callback id.
    const pingCb = `~${callbackId()}`;
    this.#liveness = new Liveness(options.clock, heartbeat, {
      ping: () => out.sendValue(clientEventEnvelope("chsk/ws-ping", undefined, pingCb)),
      dead: () =>
        this.#dispatch("heartbeat-timeout", `no frame for ${heartbeat.timeoutMs} ms (heartbeat)`),
    });
    this.#inbound = new ClientInbound(
      parts,
      channels,
      this.#acks,
      out,
      this.#liveness,
      pingCb,
      (uid, data) => this.#onHandshake(uid, data),
      () => this.#state,
    );
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The last handshake, or `null` before the first. */
  get handshake(): Handshake | null {
    return this.#handshake;
  }

  /** Closes with `code` (checked by the caller) and stops reconnecting. */
  close(code: number, reason: string): void {
    this.#closeCode = code;
    this.#closeReason = reason;
    // Acknowledge what arrived, so the server does not count it as lost when the session expires.
    if (this.#state === "open") this.#acks.flush();
    this.#dispatch("close()", "close() called");
  }

  /** Connects again now, from any state, without backoff; `reason` goes into the state change. */
  reconnect(reason: string): void {
    this.#dispatch("reconnect()", reason);
  }

  // ------------------------------------------------------------ state machine

  #dispatch(event: SessionEvent, reason: string, code?: number, handshake?: Handshake): void {
    this.#inbox.push({ event, reason, code, handshake });
    // Run to completion: events raised by effects or by handlers (a `close()` inside a state
    // handler) wait until the current one is fully done.
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let next = this.#inbox.shift(); next; next = this.#inbox.shift()) {
        this.#step(next.event, next.reason, next.code, next.handshake);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  #step(event: SessionEvent, reason: string, code?: number, handshake?: Handshake): void {
    const from = this.#state;
    const to = transition(from, event);
    if (to === null) return;
    this.#state = to;
    const change: { -readonly [K in keyof StateChange]: StateChange[K] } = { from, to, reason };
    if (code !== undefined) change.code = code;
    const { options, handlers } = this.#parts;
    let after: (() => void) | undefined;
    switch (event) {
      case "reconnect()":
        this.#teardown(1000, "reconnecting");
        this.#attempts = 0;
        this.#listen(true);
        this.#startAttempt();
        break;
      case "open":
        break;
      case "handshake":
        after = this.#opened(handshake!);
        break;
      case "retry":
        this.#startAttempt();
        break;
      case "wake":
        if (to === "open") {
          const { intervalMs, timeoutMs } = options.heartbeat;
          if (intervalMs > 0 && timeoutMs > 0) this.#liveness.probe(timeoutMs - intervalMs);
        } else if (!this.#attemptActive) {
          options.clock.clearTimeout(this.#retryTimer);
          this.#startAttempt();
        }
        break;
      case "close()":
        if (to === "closing") {
          this.#liveness.stop();
          const ws = this.out.ws;
          try {
            ws?.close(this.#closeCode, this.#closeReason);
          } catch {
            ws?.close();
          }
          this.#closeTimer = options.clock.setTimeout(
            () => this.#dispatch("heartbeat-timeout", "no close frame from the server"),
            CLOSE_TIMEOUT_MS,
          );
        } else this.#teardown(this.#closeCode, this.#closeReason);
        this.#shutdown(new ClosedError("client closed"));
        break;
      case "exhausted":
        this.#teardown(1000, "giving up");
        this.#shutdown(new ClosedError(`connection lost; gave up (${reason})`));
        break;
      default:
        // error, close:*, heartbeat-timeout
        if (to === "closed") this.#teardown(1000, "closed");
        else if (to === "failed") {
          this.#teardown(1000, "failed");
          this.#shutdown(new ClosedError(`connection closed (${reason}); not reconnecting`));
        } else this.#lost(event, reason, change);
    }
    if (from !== to || change.retryInMs !== undefined) {
      this.#report(change);
      handlers.emit(STATE_EVENT, change);
    }
    after?.();
  }

  /**
   * The client reports itself: connecting, open (handshake), closes with their codes and
   * reconnect attempts with their delays. Free while no telemetry handler listens.
   */
  #report(change: StateChange): void {
    const level = change.to === "failed" ? "warn" : change.to === "reconnecting" ? "info" : "debug";
    const clientId = this.#parts.clientId;
    this.#parts.tel.event(`sente-lite/client-${change.to}`, {
      level,
      data: () => ({ clientId, ...change }),
    });
  }

  // ------------------------------------------------------------ attempts

  /** Starts one connection attempt; its events come back through `#dispatch`. */
  #startAttempt(): void {
    const generation = ++this.#generation;
    this.#attemptActive = true;
    const { options: o, stats, clientId } = this.#parts;
    stats.attempts++;
    const out = this.out;
    this.#connectTimer = o.clock.setTimeout(() => {
      if (generation === this.#generation) {
        this.#dispatch("heartbeat-timeout", `no handshake within ${o.connectTimeoutMs} ms`);
      }
    }, o.connectTimeoutMs);
    const open = (raw: string | URL, csrfToken?: string, token?: string | null) => {
      if (generation !== this.#generation) return; // superseded while the provider ran
      let ws: WebSocket;
      let href = String(raw);
      try {
        href = upgradeUrl(raw, o, clientId, csrfToken, this.#acks.seq, this.#parts.cursors).href;
        const protocols = upgradeProtocols(
          token,
          this.#isSente || !o.resume ? null : out.resumeToken,
          this.#isSente || !o.streams ? null : o.streams.offer(),
        );
        ws = protocols.length > 1 ? new o.WebSocket(href, protocols) : new o.WebSocket(href);
      } catch (e) {
        this.#dispatch("error", `cannot open ${href}: ${toError(e).message}`);
        return;
      }
      ws.binaryType = "arraybuffer";
      out.ws = ws;
      ws.onopen = () => {
        if (out.ws === ws) this.#dispatch("open", "socket open");
      };
      ws.onmessage = (e: MessageEvent) => {
        if (out.ws !== ws) return;
        const data = e.data; // a getter with a brand check in the runtimes: read it once
        const frame = typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer);
        if (typeof frame !== "string" && o.streams?.receive(frame)) return;
        // After the handshake, negotiated transforms decode frames (and call receive).
        if (out.wire?.receives) out.wire.receive(frame);
        else this.#inbound.receive(frame);
      };
      ws.onclose = (e: CloseEvent) => {
        if (out.ws !== ws) return;
        out.ws = null;
        out.dropWire();
        o.streams?.drop();
        this.#attemptActive = false;
        const why = `close ${e.code}${e.reason ? ` ${e.reason}` : ""}`;
        this.#dispatch(closeEvent(e.code), why, e.code);
      };
      // An error is always followed by a close event, which does the work.
      ws.onerror = () => {};
    };
    // Token providers (Sente's `?csrf-token-or-fn`, our `token`) are asked on every attempt.
    runProviders(
      this.#url,
      this.#isSente ? o.csrfToken : undefined,
      this.#isSente ? undefined : o.token,
      () => generation === this.#generation,
      open,
      (message) => this.#dispatch("error", message),
    );
  }

  /** Drops the current socket or attempt and every connection timer. */
  #teardown(code: number, reason: string): void {
    this.#generation++;
    this.#attemptActive = false;
    const clock = this.#parts.options.clock;
    clock.clearTimeout(this.#retryTimer);
    clock.clearTimeout(this.#connectTimer);
    clock.clearTimeout(this.#closeTimer);
    this.#acks.stop();
    const out = this.out;
    out.resumeOn = false;
    this.#liveness.stop();
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
  #lost(
    event: SessionEvent,
    reason: string,
    change: { retryInMs?: number; attempt?: number },
  ): void {
    const options = this.#parts.options;
    const clock = options.clock;
    const opts = options.reconnect;
    this.#teardown(
      event === "heartbeat-timeout" ? CLOSE_HEARTBEAT_TIMEOUT : 1000,
      event === "heartbeat-timeout" ? "heartbeat timeout" : "lost",
    );
    if (this.#openSince !== null && clock.now() - this.#openSince >= opts.minUptimeMs) {
      this.#attempts = 0;
    }
    this.#openSince = null;
    this.out.lost(new ClosedError(`connection lost (${reason})`));
    if (this.#attempts >= opts.maxAttempts) {
      this.#dispatch("exhausted", `${this.#attempts} reconnect attempts failed`);
      return;
    }
    const delay = backoffDelay(
      this.#attempts,
      opts,
      event === "close:rate-limited",
      options.random,
    );
    this.#attempts++;
    change.retryInMs = delay;
    change.attempt = this.#attempts;
    this.#retryTimer = clock.setTimeout(
      () => this.#dispatch("retry", `attempt ${change.attempt}`),
      delay,
    );
  }

  /** Final stop (`closed` or `failed`): reject everything and stop listening for wake-ups. */
  #shutdown(error: Error): void {
    this.#openSince = null;
    this.#listen(false);
    this.#parts.requests.rejectAll(error);
    this.out.clear();
    this.#parts.options.streams?.close();
    if (!this.#everOpened) this.#readyReject(error);
  }

  // ------------------------------------------------------------ handshake

  #onHandshake(uid: string, raw: unknown): void {
    const { app, info } = parseHandshakeData(raw);
    const out = this.out;
    out.startWire(info, (frame) => this.#inbound.receive(frame));
    const ws = out.ws;
    if (ws && !this.#isSente) {
      this.#parts.options.streams?.open(info, socketSink(ws));
    }
    const handshake: Handshake = { uid, data: app, server: info, first: !this.#everOpened };
    if (this.#state === "connecting" || this.#state === "reconnecting") this.#everOpened = true;
    this.#dispatch(
      "handshake",
      handshake.first ? "handshake" : "handshake (reconnect)",
      undefined,
      handshake,
    );
  }

  /** The handshake arrived: start liveness, re-subscribe, flush. Returns what runs after the state event. */
  #opened(handshake: Handshake): () => void {
    const { options, stats, handlers } = this.#parts;
    const clock = options.clock;
    clock.clearTimeout(this.#connectTimer);
    this.#openSince = clock.now();
    this.#liveness.start();
    if (!handshake.first) stats.reconnects++;
    this.#handshake = handshake;
    const gap = this.out.resumed(handshake, this.#acks);
    this.#channels.resubscribeAll();
    this.out.flush();
    return () => {
      handlers.emit(HANDSHAKE_EVENT, handshake);
      if (gap) handlers.emit("sente-lite/gap", gap);
      this.#readyResolve(handshake);
    };
  }
}
