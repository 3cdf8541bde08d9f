// This module is browser compatible.
/**
 * The sente-lite client: one WebSocket to a sente-lite (or Sente) server with events,
 * request/reply, server pushes, server→client requests and channels, kept alive across drops.
 *
 * Guarantees:
 * - Frames go out in the order of the calls that made them, queued ones included.
 * - A request settles exactly once: with the reply, or a `TimeoutError`, `ClosedError`,
 *   `ServerError` or the abort reason.
 * - Handlers that throw are reported to `onError` and never stop delivery to other handlers.
 * - Every state change follows the table in `session.ts` and is announced once as `chsk/state`.
 * - After an unexpected close the client reconnects with jittered exponential backoff, calls the
 *   URL provider again, re-subscribes its channels and flushes its queue; only `close()`, a
 *   terminal close code or `maxAttempts` stop it.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import { decodeServerEnvelope, MAX_CB_ID_LENGTH } from "../protocol/envelope.ts";
import { clientEventEnvelope, eventValue } from "../protocol/envelope.ts";
import { classifyClose, CLOSE_HEARTBEAT_TIMEOUT } from "../protocol/close_codes.ts";
import { ClosedError, ServerError } from "../protocol/errors.ts";
import { assertEventId } from "../protocol/event.ts";
import type {
  AnyEvents,
  ChannelData,
  ChannelId,
  EventData,
  EventId,
  EventMap,
  EventReply,
  PushStreamId,
  PushStreamMeta,
  StreamId,
  StreamMeta,
  StreamReply,
} from "../protocol/event_map.ts";
import { parseHandshakeData, type ResumeGap, type ServerInfo } from "../protocol/handshake.ts";
import type { TimerHandle } from "../util/clock.ts";
import { callbackId } from "../util/ids.ts";
import { parseResumeToken } from "../protocol/resume_token.ts";
import type {
  BidiStream,
  ClientStreamHandler,
  ClientStreams,
  ClientTelemetryScope,
  ClientWirePipeline,
  DownloadOptions,
  DownloadStream,
  OpenBidiOptions,
  StreamBodyLike,
  UploadOptions,
} from "./transforms.ts";
import { backoffDelay } from "./backoff.ts";
import { Liveness } from "../util/liveness.ts";
import { ClientChannels } from "./channels.ts";
import { ChannelCursors } from "./channel_cursors.ts";
import { type ClientOptions, resolveClientOptions, type ResolvedClientOptions } from "./options.ts";
import type { UrlProvider } from "./options.ts";
import { type ConnectionState, type SessionEvent, transition } from "./session.ts";
import { enqueue, type Queued, requeue } from "./outbox.ts";
import { noSettler, Pending, PendingRequests, promiseOf } from "./requests.ts";
import { toError } from "../util/to_error.ts";
import { checkUrl, socketSink, upgradeProtocols, upgradeUrl } from "./socket.ts";
import { wakeWatch } from "./wake.ts";
import { ClientHandlers } from "./handlers.ts";
import { runProviders } from "./providers.ts";
import { InboundAcks } from "./acks.ts";

import {
  type ChannelHandler,
  type ClientRequestOptions,
  type ClientStats,
  type Handshake,
  HANDSHAKE_EVENT,
  type PushData,
  type PushHandler,
  type RequestHandler,
  type RESUBSCRIBE_FAILED_EVENT,
  type SendResult,
  STATE_EVENT,
  type StateChange,
} from "./types.ts";

export type { ConnectionState } from "./session.ts";

/** `request()` without options (not a new object per call). */
const NO_REQUEST_OPTIONS: ClientRequestOptions = Object.freeze({});

/** How long `close()` waits for the server's close frame before counting the socket as closed. */
const CLOSE_TIMEOUT_MS = 2000;

function closeEvent(code: number): SessionEvent {
  return `close:${classifyClose(code)}`;
}

/** A connection to a sente-lite server. Make one with {@linkcode connect}. */
export class Client<E extends EventMap = AnyEvents> {
  /** This client's id (sent as `client-id`). */
  readonly clientId: string;
  /**
   * Resolves with the first handshake; rejects if the client ends in `closed` or `failed` before
   * one arrives (failed attempts in between only retry).
   */
  readonly ready: Promise<Handshake>;
  #options: ResolvedClientOptions;
  /** Speaking to a Clojure Sente server: Sente's query only, no channels, no server requests. */
  #isSente: boolean;
  #url: UrlProvider;
  #ws: WebSocket | null = null;
  #tel: ClientTelemetryScope;
  /** The negotiated transforms of the current socket, if any. */
  #wire: ClientWirePipeline | null = null;
  #state: ConnectionState = "closed";
  #handshake: Handshake | null = null;
  #everOpened = false;
  #queue: Queued[] = [];
  // Resume (docs/delivery.md)
  /** The current socket negotiated resume. */
  #resumeOn = false;
  /** The newest resume token from a handshake: the secret that resumes this client's session. */
  #resumeToken: string | null = null;
  /** The last client seq given to a `send()`. */
  #outSeq = 0;
  /** Numbered sends written to the current socket and not yet acknowledged, in seq order. */
  #outbox: Queued[] = [];
  /** The highest server seq received, and its acknowledgements. */
  #acks: InboundAcks;
  #written = 0;
  #requests: PendingRequests;
  /** The event id `request` checked last (a valid one). */
  #checkedId = "";
  /** Push handlers and server→client request handlers. */
  #handlers = new ClientHandlers(
    (error) => this.#options.onError(error),
    (value) => this.#sendValue(value),
  );
  #channels: ClientChannels;
  /** Cursors in the server's channel streams (capability `"channel-seq"`). */
  #cursors = new ChannelCursors();
  #stats: ClientStats = {
    messagesIn: 0,
    messagesOut: 0,
    lateReplies: 0,
    attempts: 0,
    reconnects: 0,
    duplicatesDropped: 0,
    resent: 0,
  };
  #readyResolve!: (h: Handshake) => void;
  #readyReject!: (e: Error) => void;
  // Connection management
  #generation = 0;
  #attemptActive = false;
  #attempts = 0;
  #openSince: number | null = null;
  #retryTimer: TimerHandle | undefined;
  #connectTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;
  #liveness: Liveness;
  // "~" is outside base 36, so the liveness ping never collides with a request's callback id.
  #pingCb = `~${callbackId()}`;
  #inbox: { event: SessionEvent; reason: string; code?: number; handshake?: Handshake }[] = [];
  #dispatching = false;
  #closeCode = 1000;
  #closeReason = "client closed";
  /** Reconnect at once when the browser comes online or the page becomes visible. */
  #listen = wakeWatch((reason) => this.#dispatch("wake", reason));

  /** Use {@linkcode connect}. */
  constructor(url: UrlProvider, options?: ClientOptions) {
    this.#options = resolveClientOptions(options ?? {});
    this.clientId = this.#options.clientId;
    this.#isSente = this.#options.dialect === "sente";
    this.#tel = this.#options.telemetry.scope("sente-lite.client");
    this.#requests = new PendingRequests(this.#options.clock);
    this.#acks = new InboundAcks(this.#options.clock, (value) => this.#sendValue(value));
    this.#channels = new ClientChannels({
      request: (id, data, options) => this.#request(id, data, options ?? {}),
      state: () => this.#state,
      onError: (error) => this.#options.onError(error),
      emit: (id, data) => this.#handlers.emit(id, data),
      cursors: this.#cursors,
    });
    checkUrl(url);
    this.#url = url;
    this.ready = new Promise<Handshake>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    // Callers who never await `ready` must not get an unhandled rejection.
    this.ready.catch(() => {});
    const { heartbeat } = this.#options;
    this.#liveness = new Liveness(this.#options.clock, heartbeat, {
      ping: () => this.#sendValue(clientEventEnvelope("chsk/ws-ping", undefined, this.#pingCb)),
      dead: () =>
        this.#dispatch("heartbeat-timeout", `no frame for ${heartbeat.timeoutMs} ms (heartbeat)`),
    });
    this.#options.streams?.bind({
      request: (id, data, o) => this.#request(id, data, o),
      on: (id, handler) => this.#handlers.on(id, handler as PushHandler),
      send: (id, data) => (this as unknown as Client<AnyEvents>).send(id, data),
      packer: this.#options.packer,
      clock: this.#options.clock,
    });
    this.#dispatch("reconnect()", "connect");
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The last handshake, or `null` before the first. */
  get handshake(): Handshake | null {
    return this.#handshake;
  }

  /**
   * A snapshot of the counters.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * console.log(client.stats().reconnects);
   * ```
   */
  stats(): ClientStats {
    return { ...this.#stats };
  }

  /**
   * Closes the connection (code 1000 by default) and stops reconnecting; pending requests and
   * queued sends reject with `ClosedError`. Call {@linkcode Client.reconnect} to start again.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * client.close(); // 1000 "client closed"
   * client.close(4000, "signed out"); // or an application code (3000–4999)
   * ```
   */
  close(code?: number, reason?: string): void {
    code ??= 1000;
    reason ??= "client closed";
    // Browsers throw on any other code a client may not send; fail early and the same everywhere.
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new RangeError(`close code must be 1000 or 3000–4999, got ${code}`);
    }
    this.#closeCode = code;
    this.#closeReason = reason;
    // Acknowledge what arrived, so the server does not count it as lost when the session expires.
    if (this.#state === "open") this.#acks.flush();
    this.#dispatch("close()", "close() called");
  }

  /**
   * Connects again now, from any state: drops the current connection or attempt, resets the
   * attempt counter and skips the backoff. From `failed` or `closed` this is the way back.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * globalThis.addEventListener("online", () => client.reconnect());
   * ```
   */
  reconnect(): void {
    this.#dispatch("reconnect()", "reconnect() called");
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
          const { intervalMs, timeoutMs } = this.#options.heartbeat;
          if (intervalMs > 0 && timeoutMs > 0) this.#liveness.probe(timeoutMs - intervalMs);
        } else if (!this.#attemptActive) {
          this.#options.clock.clearTimeout(this.#retryTimer);
          this.#startAttempt();
        }
        break;
      case "close()":
        if (to === "closing") {
          this.#liveness.stop();
          try {
            this.#ws?.close(this.#closeCode, this.#closeReason);
          } catch {
            this.#ws?.close();
          }
          this.#closeTimer = this.#options.clock.setTimeout(
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
      this.#handlers.emit(STATE_EVENT, change);
    }
    after?.();
  }

  /** Starts one connection attempt; its events come back through `#dispatch`. */
  #startAttempt(): void {
    const generation = ++this.#generation;
    this.#attemptActive = true;
    this.#stats.attempts++;
    const clock = this.#options.clock;
    this.#connectTimer = clock.setTimeout(() => {
      if (generation === this.#generation) {
        this.#dispatch(
          "heartbeat-timeout",
          `no handshake within ${this.#options.connectTimeoutMs} ms`,
        );
      }
    }, this.#options.connectTimeoutMs);
    const open = (raw: string | URL, csrfToken?: string, token?: string | null) => {
      if (generation !== this.#generation) return; // superseded while the provider ran
      let ws: WebSocket;
      let href = String(raw);
      try {
        const o = this.#options;
        href = upgradeUrl(raw, o, this.clientId, csrfToken, this.#acks.seq, this.#cursors).href;
        const protocols = upgradeProtocols(
          token,
          this.#isSente || !o.resume ? null : this.#resumeToken,
          this.#isSente || !o.streams ? null : o.streams.offer(),
        );
        ws = protocols.length > 1
          ? new this.#options.WebSocket(href, protocols)
          : new this.#options.WebSocket(href);
      } catch (e) {
        this.#dispatch("error", `cannot open ${href}: ${toError(e).message}`);
        return;
      }
      ws.binaryType = "arraybuffer";
      this.#ws = ws;
      ws.onopen = () => {
        if (this.#ws === ws) this.#dispatch("open", "socket open");
      };
      ws.onmessage = (e: MessageEvent) => {
        if (this.#ws !== ws) return;
        const data = e.data; // a getter with a brand check in the runtimes: read it once
        const frame = typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer);
        if (typeof frame !== "string" && this.#options.streams?.receive(frame)) return;
        // After the handshake, negotiated transforms decode frames (and call #receive).
        if (this.#wire?.receives) this.#wire.receive(frame);
        else this.#receive(frame);
      };
      ws.onclose = (e: CloseEvent) => {
        if (this.#ws !== ws) return;
        this.#ws = null;
        this.#dropWire();
        this.#options.streams?.drop();
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
      this.#isSente ? this.#options.csrfToken : undefined,
      this.#isSente ? undefined : this.#options.token,
      () => generation === this.#generation,
      open,
      (message) => this.#dispatch("error", message),
    );
  }

  /** Drops the current socket or attempt and every connection timer. */
  #teardown(code: number, reason: string): void {
    this.#generation++;
    this.#attemptActive = false;
    const clock = this.#options.clock;
    clock.clearTimeout(this.#retryTimer);
    clock.clearTimeout(this.#connectTimer);
    clock.clearTimeout(this.#closeTimer);
    this.#acks.stop();
    this.#resumeOn = false;
    this.#liveness.stop();
    const ws = this.#ws;
    this.#ws = null;
    this.#dropWire();
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
    const clock = this.#options.clock;
    const opts = this.#options.reconnect;
    this.#teardown(
      event === "heartbeat-timeout" ? CLOSE_HEARTBEAT_TIMEOUT : 1000,
      event === "heartbeat-timeout" ? "heartbeat timeout" : "lost",
    );
    if (this.#openSince !== null && clock.now() - this.#openSince >= opts.minUptimeMs) {
      this.#attempts = 0;
    }
    this.#openSince = null;
    this.#requeueInFlight(new ClosedError(`connection lost (${reason})`));
    if (this.#attempts >= opts.maxAttempts) {
      this.#dispatch("exhausted", `${this.#attempts} reconnect attempts failed`);
      return;
    }
    const delay = backoffDelay(
      this.#attempts,
      opts,
      event === "close:rate-limited",
      this.#options.random,
    );
    this.#attempts++;
    change.retryInMs = delay;
    change.attempt = this.#attempts;
    this.#retryTimer = clock.setTimeout(
      () => this.#dispatch("retry", `attempt ${change.attempt}`),
      delay,
    );
  }

  /** Requests sent on the lost socket: back to the queue front if they retry, else rejected. */
  #requeueInFlight(error: ClosedError): void {
    const again = this.#requests.lost(error);
    // Unacknowledged numbered sends go again too, in call order with retried requests.
    this.#queue = requeue(again, this.#outbox, this.#queue);
    this.#outbox = [];
  }

  /** Final stop (`closed` or `failed`): reject everything and stop listening for wake-ups. */
  #shutdown(error: Error): void {
    this.#openSince = null;
    this.#listen(false);
    this.#requests.rejectAll(error);
    this.#queue = [];
    this.#outbox = [];
    this.#options.streams?.close();
    if (!this.#everOpened) this.#readyReject(error);
  }

  /** The handshake arrived: start liveness, re-subscribe, flush. Returns what runs after the state event. */
  #opened(handshake: Handshake): () => void {
    const clock = this.#options.clock;
    clock.clearTimeout(this.#connectTimer);
    this.#openSince = clock.now();
    this.#liveness.start();
    if (!handshake.first) this.#stats.reconnects++;
    this.#handshake = handshake;
    const gap = this.#startResume(handshake);
    this.#channels.resubscribeAll();
    const queued = this.#queue;
    this.#queue = [];
    for (const entry of queued) this.#sendEntry(entry);
    return () => {
      this.#handlers.emit(HANDSHAKE_EVENT, handshake);
      if (gap) this.#handlers.emit("sente-lite/gap", gap);
      this.#readyResolve(handshake);
    };
  }

  // ------------------------------------------------------------ inbound

  /**
   * The client reports itself: connecting, open (handshake), closes with their codes and
   * reconnect attempts with their delays. Free while no telemetry handler listens.
   */
  #report(change: StateChange): void {
    const level = change.to === "failed" ? "warn" : change.to === "reconnecting" ? "info" : "debug";
    this.#tel.event(`sente-lite/client-${change.to}`, {
      level,
      data: () => ({ clientId: this.clientId, ...change }),
    });
  }

  #receive(frame: Frame): void {
    this.#stats.messagesIn++;
    this.#liveness.seen();
    let msg;
    try {
      const value = this.#options.packer.unpack(frame);
      // The common frame, a reply `[value, cbId]`, is answered without the decoder's message
      // object; the decoder's rules hold (a handshake or a ping is never read as a reply).
      if (Array.isArray(value) && value.length === 2) {
        const cb = value[1];
        const payload = value[0];
        if (
          typeof cb === "string" && cb.length > 0 && cb.length <= MAX_CB_ID_LENGTH &&
          payload !== "chsk/ws-ping" && !(Array.isArray(payload) && payload[0] === "chsk/handshake")
        ) {
          msg = null;
          this.#onReply(cb, payload);
        }
      }
      if (msg === undefined) msg = decodeServerEnvelope(value);
    } catch (e) {
      const error = new ServerError(
        "unpack-failed",
        `bad frame from server: ${toError(e).message}`,
      );
      this.#tel.event("sente-lite/protocol-error", {
        level: "warn",
        data: () => ({ clientId: this.clientId, code: error.code, message: error.message }),
      });
      this.#options.onError(error);
      return;
    }
    if (msg === null) return; // a reply, answered above
    switch (msg.type) {
      case "handshake":
        return this.#onHandshake(msg.uid, msg.data);
      case "ping":
        this.#sendValue(clientEventEnvelope("chsk/ws-pong", undefined, null));
        return;
      case "reply":
        return this.#onReply(msg.cbId, msg.value);
      case "push":
        for (const [id, data] of msg.events) this.#onPush(id, data);
    }
  }

  #onHandshake(uid: string, raw: unknown): void {
    const { app, info } = parseHandshakeData(raw);
    this.#startWire(info);
    const ws = this.#ws;
    if (ws && !this.#isSente) {
      this.#options.streams?.open(info, socketSink(ws));
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

  #onReply(cbId: string, value: unknown): void {
    if (cbId === this.#pingCb) return; // our liveness ping: receiving it was the point
    if (!this.#requests.settle(cbId, value)) this.#stats.lateReplies++;
  }

  #onPush(id: string, data: unknown): void {
    switch (id) {
      case "sente-lite/msg":
        this.#onSequenced(data);
        return;
      case "sente-lite/ack":
        this.#onAck(data);
        return;
      case "sente-lite/error": {
        const d = (data ?? {}) as Record<string, unknown>;
        const error = new ServerError(String(d.code ?? "error"), String(d.message ?? ""));
        const cb = d["cb-id"];
        const p = typeof cb === "string" ? this.#requests.get(cb) : undefined;
        if (p) {
          this.#requests.reject(p, error);
          return;
        }
        if (!this.#handlers.has(id)) this.#options.onError(error);
        break;
      }
      case "sente-lite/request":
        this.#handlers.answer(data);
        return;
      case "sente-lite/channel-msg":
        this.#channels.deliver(data);
        break;
      case "sente-lite/gap":
        if (data !== null && typeof data === "object" && "ch" in data) {
          this.#cursors.gap((data as { ch: string | null }).ch);
        }
        break;
      case "sente-lite/subscribed":
        this.#channels.joined(data);
        break;
      case "sente-lite/unsubscribed":
        this.#channels.left(data);
        break;
    }
    this.#handlers.emit(id, data);
  }

  // ------------------------------------------------------------ resume (docs/delivery.md)

  /**
   * Sets resume up for the socket that just handshook: continue the server's numbering, drop the
   * sends the server already has, or fall back to plain frames. Returns the gap to report.
   */
  #startResume(handshake: Handshake): ResumeGap | null {
    // Left over by reconnect(), which drops the socket without requeueing.
    this.#queue = requeue([], this.#outbox, this.#queue);
    this.#outbox = [];
    const state = handshake.server?.resume;
    if (!this.#options.resume) return null;
    // Only the newest token resumes for long: the server replaces it on every handshake. A
    // malformed one is dropped (it would make every upgrade throw).
    const token = state?.token;
    this.#resumeToken = token && parseResumeToken(token) ? token : null;
    this.#cursors.started(handshake.server?.capabilities ?? [], state?.cseq);
    if (state && handshake.server!.capabilities.includes("resume")) {
      this.#resumeOn = true;
      this.#acks.reset(state.seq);
      const ack = state.ack;
      this.#queue = this.#queue.filter((e) => {
        if (e.seq === undefined || e.seq > ack) {
          if (e.order !== undefined && e.seq !== undefined) this.#stats.resent++;
          return true;
        }
        return false;
      });
      return state.gap;
    }
    for (const e of this.#queue) {
      if (e.seq === undefined || !e.event) continue;
      e.frame = this.#options.packer.pack(clientEventEnvelope(e.event[0], e.event[1], null));
      e.seq = undefined;
    }
    return null;
  }

  /** A numbered push: delivered once and in order, acknowledged in batches. */
  #onSequenced(data: unknown): void {
    const d = data as { seq?: unknown; event?: unknown; ch?: unknown; cseq?: unknown } | null;
    const cseq = d?.cseq;
    const streamed = typeof cseq === "number" && (typeof d!.ch === "string" || d!.ch === null);
    const seq = streamed ? cseq : d?.seq;
    const ev = d?.event;
    if (
      typeof seq !== "number" || !Array.isArray(ev) || typeof ev[0] !== "string" ||
      ev[0] === "sente-lite/msg"
    ) {
      this.#options.onError(new ServerError("bad-request", "malformed sente-lite/msg"));
      return;
    }
    if (streamed) {
      // A channel's (or the broadcasts') own number: deduplicated per stream, not acknowledged.
      if (this.#cursors.accept(d!.ch as string | null, seq)) this.#onPush(ev[0], ev[1]);
      else this.#stats.duplicatesDropped++;
      return;
    }
    if (!this.#acks.received(seq)) {
      this.#stats.duplicatesDropped++;
      return;
    }
    this.#onPush(ev[0], ev[1]);
    this.#scheduleAck();
  }

  #scheduleAck(): void {
    const r = this.#options.resume;
    if (!r || this.#state !== "open") return; // a handler may have closed the client
    this.#acks.schedule(r);
  }

  /** The server has every numbered send up to `seq`. */
  #onAck(data: unknown): void {
    const seq = (data as { seq?: unknown } | null)?.seq;
    if (typeof seq !== "number") return;
    const box = this.#outbox;
    let i = 0;
    while (i < box.length && box[i].seq! <= seq) i++;
    if (i > 0) this.#outbox = i === box.length ? [] : box.slice(i);
  }

  // ------------------------------------------------------------ outbound

  /** Sends now when the socket is really open; `false` when the frame must wait. */
  #sendEntry(entry: Queued): boolean {
    if (entry.cancelled) return true;
    const ws = this.#ws;
    // The close event may still be on its way: a socket that is no longer OPEN keeps the frame.
    if (this.#state !== "open" || !ws || ws.readyState !== 1) {
      this.#queue.push(entry);
      return false;
    }
    if (this.#wire) this.#wire.send(entry.frame);
    else ws.send(entry.frame as string);
    this.#stats.messagesOut++;
    if (entry.cb !== undefined) {
      if (entry instanceof Pending) entry.sent = true;
      entry.order = this.#written++;
    } else if (entry.seq !== undefined) {
      entry.order = this.#written++;
      this.#outbox.push(entry);
    }
    return true;
  }

  #sendValue(value: unknown): void {
    const ws = this.#ws;
    if (this.#state === "open" && ws && ws.readyState === 1) {
      const frame = this.#options.packer.pack(value);
      if (this.#wire) this.#wire.send(frame, true);
      else ws.send(frame as string);
      this.#stats.messagesOut++;
    }
  }

  /** Builds this socket's transforms from what the handshake says the server agreed to. */
  #startWire(info: ServerInfo | null): void {
    this.#dropWire();
    const ws = this.#ws;
    const transforms = this.#options.wire;
    if (!info || !ws || this.#isSente || !transforms) return;
    this.#wire = transforms.open(info, this.#options.packer.name, {
      socket: socketSink(ws),
      frame: (frame) => {
        if (this.#ws === ws) this.#receive(frame);
      },
      error: (error) => this.#options.onError(error),
      clock: this.#options.clock,
    });
  }

  #dropWire(): void {
    this.#wire?.close();
    this.#wire = null;
  }

  /**
   * Sends the entry now, or queues it while connecting/reconnecting.
   * @throws {QueueFullError} when the queue is full; {@linkcode ClosedError} when not connecting.
   */
  #sendOrQueue(entry: Queued): SendResult {
    const state = this.#state;
    if (state === "open") return this.#sendEntry(entry) ? "sent" : "queued";
    return enqueue(this.#queue, entry, state, this.#options.maxQueuedMessages);
  }

  /**
   * Registers a handler for pushes of one event id, or `"*"` for every application push (ids
   * outside `chsk/` and `sente-lite/`). `"chsk/handshake"` and `"chsk/state"` deliver lifecycle
   * events. Returns an unsubscribe function.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * const off = client.on("chat/said", (data) => console.log(data));
   * client.on("chsk/state", ({ from, to, reason }) => console.log(from, "→", to, reason));
   * off();
   * ```
   */
  on<
    K extends
      | EventId<E, "serverToClient">
      | "*"
      | typeof HANDSHAKE_EVENT
      | typeof STATE_EVENT
      | typeof RESUBSCRIBE_FAILED_EVENT
      | "sente-lite/gap",
  >(id: K, handler: PushHandler<PushData<E, K>>): () => void {
    return this.#handlers.on(id, handler as PushHandler);
  }

  /**
   * Answers server→client requests for `id`; one handler per id. Returns an unsubscribe function.
   * Unused in the `"sente"` dialect: Sente servers never send requests.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * client.onRequest("app/confirm", (question) => globalThis.confirm(String(question)));
   * ```
   */
  onRequest<K extends EventId<E, "serverToClient">>(
    id: K,
    handler: RequestHandler<EventData<E, "serverToClient", K>, EventReply<E, "serverToClient", K>>,
  ): () => void {
    return this.#handlers.onRequest(id, handler as RequestHandler);
  }

  /**
   * Uploads `body` as a stream named `id` (needs `connect(url, { streams: clientStreams() })`);
   * resolves with the reply of the server's `onStream(id, …)` handler. Memory stays bounded by
   * the credit window whatever the size; rejects with a `StreamError` (cancel, limits, errors).
   */
  upload<K extends StreamId<E>>(
    id: K,
    body: StreamBodyLike,
    options?: UploadOptions & { meta?: StreamMeta<E, K> },
  ): Promise<StreamReply<E, K>> {
    assertEventId(id);
    return this.#streams().upload(id, body, options) as Promise<StreamReply<E, K>>;
  }

  /**
   * Asks the server's handler of `id` for a body (it returns a `ReadableStream`, `Blob` or
   * `Uint8Array`) and resolves with it as a `ReadableStream`, read as the bytes arrive.
   */
  download<K extends EventId<E, "clientToServer">>(
    id: K,
    data?: EventData<E, "clientToServer", K>,
    options?: DownloadOptions,
  ): Promise<DownloadStream> {
    assertEventId(id);
    return this.#streams().download(id, data, options);
  }

  /** Receives the server's push streams named `id` (`server.streamTo()`); one handler per id. */
  onStream<K extends PushStreamId<E>>(
    id: K,
    handler: (stream: ReadableStream<Uint8Array>, meta: PushStreamMeta<E, K>) => void,
  ): () => void {
    assertEventId(id);
    return this.#streams().onStream(id, handler as ClientStreamHandler);
  }

  /**
   * Opens a bidirectional stream named `id`: bytes written to `writable` reach the server's
   * `onStream(id, …)` handler as `msg.stream`, the body the handler returns arrives on `readable`,
   * and control messages go both ways (`send`/`onControl` here, `msg.send`/`msg.onControl` there).
   */
  openStream<K extends StreamId<E>>(
    id: K,
    options?: OpenBidiOptions & { meta?: StreamMeta<E, K> },
  ): BidiStream {
    assertEventId(id);
    return this.#streams().openStream(id, options);
  }

  #streams(): ClientStreams {
    const streams = this.#options.streams;
    if (!streams) throw new TypeError("streams need connect(url, { streams: clientStreams() })");
    return streams;
  }

  /**
   * Sends an event without asking for a reply.
   * @returns `"sent"`, or `"queued"` while connecting or reconnecting (sent after the handshake).
   * @throws {QueueFullError} when not open and `maxQueuedMessages` are already queued.
   * @throws {ClosedError} when `closed`, `closing` or `failed` (or queueing is off).
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * client.send("chat/typing", { room: "lobby" }); // "sent", or "queued" until connected
   * ```
   */
  send<K extends EventId<E, "clientToServer">>(
    id: K,
    data?: EventData<E, "clientToServer", K>,
  ): SendResult {
    assertEventId(id);
    // Numbered when resuming, or while it is not yet known whether the next socket will.
    if (this.#options.resume && (this.#resumeOn || this.#state !== "open")) {
      const seq = ++this.#outSeq;
      const body = { seq, event: eventValue(id, data) };
      const frame = this.#options.packer.pack(clientEventEnvelope("sente-lite/msg", body, null));
      return this.#sendOrQueue({ frame, cancelled: false, seq, event: [id, data] });
    }
    const frame = this.#options.packer.pack(clientEventEnvelope(id, data, null));
    return this.#sendOrQueue({ frame, cancelled: false });
  }

  /**
   * Sends a request and resolves with the server's reply.
   * @throws {TimeoutError} after `timeoutMs`.
   * @throws {ClosedError} when closed, or the connection drops while waiting (unless `retry`).
   * @throws {QueueFullError} when not open and the queue is full.
   * @throws {ServerError} when the server answers with an error (no handler, handler failed…).
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * const reply = await client.request("demo/echo", { hello: "world" }, { timeoutMs: 5000 });
   * console.log(reply);
   * ```
   */
  request<K extends EventId<E, "clientToServer">>(
    id: K,
    data?: EventData<E, "clientToServer", K>,
    options?: ClientRequestOptions,
  ): Promise<EventReply<E, "clientToServer", K>> {
    options ??= NO_REQUEST_OPTIONS;
    return this.#request(id, data, options) as Promise<EventReply<E, "clientToServer", K>>;
  }

  #request(id: string, data: unknown, options: ClientRequestOptions): Promise<unknown> {
    // The id checked last is not checked again (one compare instead of a regular expression).
    if (id !== this.#checkedId) {
      assertEventId(id);
      this.#checkedId = id;
    }
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const key = this.#requests.next();
    const cb = key.toString(36);
    const frame = this.#options.packer.pack(clientEventEnvelope(id, data, cb));
    const retry = options.retry ?? this.#options.retryRequests;
    const signal = options.signal;
    const deadline = this.#options.clock.now() + timeoutMs;
    const p = new Pending(
      frame,
      cb,
      key,
      id,
      timeoutMs,
      deadline,
      retry,
      signal,
      noSettler,
      noSettler,
    );
    const promise = promiseOf(p);
    try {
      this.#requests.add(p);
      this.#sendOrQueue(p);
    } catch (e) {
      this.#requests.reject(p, e);
    }
    return promise;
  }

  // ------------------------------------------------------------ channels

  /** Channels are a sente-lite extension: a Sente server would answer `:chsk/error` or nothing. */
  #assertChannels(method: string): void {
    if (this.#isSente) {
      throw new TypeError(
        `${method}() needs the sente-lite dialect: Sente servers have no channels`,
      );
    }
  }

  /**
   * Subscribes to a channel; `handler` gets its messages. Rejects with `ServerError` (code
   * `forbidden`, `max-subscriptions-per-conn`…) when the server refuses, and with `TypeError`
   * in the `"sente"` dialect.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * await client.subscribe("room/42", (data, { from }) => console.log(from, data));
   * ```
   */
  async subscribe<C extends ChannelId<E>>(
    channel: C,
    handler: ChannelHandler<ChannelData<E, C>>,
  ): Promise<void> {
    this.#assertChannels("subscribe");
    return await this.#channels.subscribe(channel, handler as ChannelHandler);
  }

  /**
   * Unsubscribes from a channel and drops its handlers; it is no longer re-subscribed after
   * reconnects. When `closed`, `closing` or `failed` the server has forgotten it already, so
   * this resolves at once. Rejects with `TypeError` in the `"sente"` dialect.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * await client.unsubscribe("room/42");
   * ```
   */
  async unsubscribe(channel: string): Promise<void> {
    this.#assertChannels("unsubscribe");
    return await this.#channels.unsubscribe(channel);
  }

  /**
   * Publishes to a channel; resolves with the number of subscribers it reached.
   * @throws {ServerError} `forbidden` when the server refuses.
   * @throws {TypeError} in the `"sente"` dialect.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * const reached = await client.publish("room/42", { text: "hi" }, { excludeSender: true });
   * console.log(reached);
   * ```
   */
  async publish<C extends ChannelId<E>>(
    channel: C,
    data?: ChannelData<E, C>,
    options?: { excludeSender?: boolean },
  ): Promise<number> {
    options ??= {};
    this.#assertChannels("publish");
    return await this.#channels.publish(channel, data, options.excludeSender ?? false);
  }

  /**
   * The channels this client is subscribed to.
   *
   * @example
   * ```ts ignore
   * import { connect } from "@sente-lite/sente-lite/client";
   *
   * const client = connect("ws://127.0.0.1:3000/chsk");
   * console.log(client.channels()); // e.g. ["room/42"]
   * ```
   */
  channels(): string[] {
    return this.#channels.list();
  }
}

/**
 * Connects to a sente-lite server, or with `{ dialect: "sente", packer: ednPacker() }` to a
 * Clojure Sente 1.21 server. The client connects in the background; await
 * {@linkcode Client.ready} for the handshake. Pass an `EventMap` as `E` to type `send`,
 * `request`, `on`, `onRequest`, `subscribe` and `publish`.
 *
 * @example Untyped
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 *
 * const client = connect("ws://127.0.0.1:3000/chsk");
 * console.log(await client.request("demo/echo", { hello: "world" })); // unknown
 * client.close();
 * ```
 *
 * @example Typed
 * ```ts ignore
 * import { connect } from "@sente-lite/sente-lite/client";
 *
 * interface Events {
 *   clientToServer: { "chat/say": { data: { text: string }; reply: { ok: boolean } } };
 *   serverToClient: { "chat/said": { data: { uid: string; text: string } } };
 * }
 * const client = connect<Events>("ws://127.0.0.1:3000/chsk");
 * client.on("chat/said", ({ uid, text }) => console.log(uid, text));
 * const { ok } = await client.request("chat/say", { text: "hi" });
 * ```
 */
export function connect<E extends EventMap = AnyEvents>(
  url: UrlProvider,
  options?: ClientOptions,
): Client<E> {
  options ??= {};
  return new Client<E>(url, options);
}
