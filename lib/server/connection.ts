/**
 * One server-side connection: its identity, socket, packer and per-connection state.
 * All per-connection state lives here, so closing it cleans everything up in one place.
 *
 * @module
 */
import type { ServerDialect } from "../dialects/dialect.ts";
import { senteDialect } from "../dialects/sente.ts";
import { senteLiteDialect } from "../dialects/sente_lite.ts";
import type { Frame, Packer } from "../packers/packer.ts";
import type { ServerMessage } from "../protocol/envelope.ts";
import { frameByteLength } from "../util/utf8.ts";
import { keepUrl, urlOf } from "./upgrade_url.ts";
import { connIdOf, type ConnKey, connKey } from "./conn_key.ts";
import { type ConnectionSink, type ServerSocket, socketEvent } from "./socket.ts";
import type { TokenBucket } from "./rate_limit.ts";
import {
  gateClose,
  type GatePolicy,
  gateSend,
  type GateState,
  type Held,
  NONE_HELD,
} from "./backpressure.ts";
import type { ConnectionWire } from "./wire.ts";
import type { SharedFrame } from "../wire/compression.ts";
import type { ConnectionInfo, ServerStats } from "./types.ts";
import type { Session } from "./delivery.ts";
import type { ConnStreams } from "./channel_seq.ts";
import type { AdmissionSlot } from "./admission.ts";
import {
  type ConnectionHost,
  type FanOutBacklog,
  type PendingRequest,
  Rare,
} from "./connection_host.ts";

/** The longest a close waits for queued wire output (compression is asynchronous), in ms. */
const CLOSE_FLUSH_MS = 5000;

export type { ConnectionHost, FanOutBacklog, PendingRequest } from "./connection_host.ts";

/**
 * `delivering` is `true` while the fan-out queue itself sends: then a send does not first settle
 * what the connection is owed (the queue sends in order).
 */
export const FANOUT: { delivering: boolean } = { delivering: false };

/** The channels of a connection with none (shared: never mutated). */
const NO_CHANNELS: ReadonlySet<string> = new Set();
/** What {@linkcode Connection.takePending} returns with no request in flight (never written). */
const NO_REQUESTS: PendingRequest[] = [];

/**
 * A live connection; also where its adapter reports its socket's events (no object for that).
 * Idle, it holds its identity, socket, counters and the few references every connection needs;
 * everything else is made on first use (see `Rare`) or shared through `host`.
 */
export class Connection implements ConnectionInfo, GateState, ConnectionSink {
  #rare: Rare | null = null;
  /** Clock time of the last received frame. */
  lastSeen: number;
  /** Heartbeat bookkeeping (lib/server/heartbeat.ts): next look, last ping, heap index. */
  hbAt = 0;
  /** See `hbAt`. */
  hbPingedAt = -Infinity;
  /** See `hbAt`. */
  hbIndex = -1;
  /** `true` once the socket closed or close was requested. */
  closed = false;
  /** Inbound message rate limit, when enabled. */
  messageBucket: TokenBucket | null = null;
  /** Its IP's inbound message rate (`rateLimit.messagesPerIp`), shared by the IP's connections. */
  ipMessageBucket: TokenBucket | null = null;
  /** Inbound byte rate limit, when enabled. */
  byteBucket: TokenBucket | null = null;

  /**
   * Takes `n` messages from the connection's rate and its IP's: `false` (the message is refused)
   * when either has too few. `true` without rate limits.
   */
  takeMessages(n: number, now?: number): boolean {
    if (this.messageBucket === null) return true;
    if (!this.messageBucket.take(n, now)) return false;
    return this.ipMessageBucket === null || this.ipMessageBucket.take(n, now);
  }
  /** The client's address (`clientIp`'s answer), when the runtime knows it (`ConnectionInfo`). */
  remoteIp: string | null = null;
  /**
   * The outbound bound (backpressure), when enabled: the server's shared policy; the gate's state
   * is this connection's own (`gateSinceCheck`, `gateHeld`), so there is no gate object per
   * connection.
   */
  gate: GatePolicy | null = null;
  /** Bytes sent since the gate last looked at `bufferedAmount` (lib/server/backpressure.ts). */
  gateSinceCheck = 0;
  /** Batching, compression and chunking, when negotiated. */
  wire: ConnectionWire | null = null;
  /**
   * Its place in the connection counts (lib/server/admission.ts), until released; `true`: an
   * opened slot of the Hub's own admission for `remoteIp`, kept as this flag instead of the slot
   * (~64 B per idle connection on Bun).
   */
  slot: AdmissionSlot | true | null = null;
  /** The Hub's shared answers (slow consumer, close timeout); `null` outside a Hub. */
  host: ConnectionHost | null = null;
  /** The server's fan-out queue (lib/server/fanout.ts); `null` outside a Hub. */
  fanOuts: FanOutBacklog | null = null;
  /** Fan-outs numbered up to this one were made before it opened: not for it. */
  openSeq = 0;
  /** Fan-outs numbered up to this one were sent to it (or were not for it). */
  servedSeq = 0;
  /**
   * Its frame variant (dialect × packer) when its frames are everyone's and the socket has
   * native topics: it is subscribed to the variant's topics (lib/server/fanout.ts).
   */
  variant: string | null = null;
  /** Its place among its variant's native subscribers (lib/server/native_group.ts), -1: none. */
  nativeAt = -1;
  /** The resume session of this client id, when resume was negotiated (docs/delivery.md). */
  session: Session<Connection> | null = null;
  /** Its channel streams, when it negotiated `"channel-seq"` (lib/server/channel_seq.ts). */
  cseq: ConnStreams | null = null;
  /** The Hub's connection added before it (lib/server/connection_map.ts keeps it). */
  prevConn: Connection | null = null;
  /** The Hub's connection added after it (lib/server/connection_map.ts keeps it). */
  nextConn: Connection | null = null;

  /** Makes a connection over an adapter's socket. */
  constructor(
    id: string,
    readonly uid: string,
    readonly clientId: string,
    request: Request,
    readonly packerImpl: Packer,
    readonly dialect: ServerDialect,
    readonly socket: ServerSocket,
    readonly openedAt: number,
    readonly stats: ServerStats,
  ) {
    this.lastSeen = openedAt;
    this.key = connKey(id);
    // Not the Request itself: it holds the runtime's upgrade state for the connection's life.
    // Nor its own copy of the URL: the parts around the client id, shared (upgrade_url.ts).
    const kept = keepUrl(request.url, clientId);
    this.#urlHead = kept.head;
    this.#urlTail = kept.tail;
  }

  /** The upgrade URL as kept (lib/server/upgrade_url.ts): the text before the client id. */
  readonly #urlHead: string;
  /** The text after the client id; `null`: `#urlHead` is the whole URL. */
  readonly #urlTail: string | null;

  /** The upgrade request's URL. */
  get #url(): string {
    return urlOf(this.#urlHead, this.#urlTail, this.clientId);
  }

  /** Its id as kept (lib/server/conn_key.ts): the key of the Hub's connection map. */
  readonly key: ConnKey;

  /** The id's text, once read (an idle connection keeps none). */
  #idText: string | null = null;

  /**
   * The connection id, written out from `key` when first read and kept from then on (fan-outs
   * with `except` read every recipient's): an idle connection whose id nobody reads keeps no
   * string for it.
   */
  get id(): string {
    return this.#idText ??= connIdOf(this.key);
  }

  #more(): Rare {
    return this.#rare ??= new Rare();
  }

  /** Frames its gate holds while the socket is full (`"drop-oldest"`); rare, so kept in `Rare`. */
  get gateHeld(): Held {
    return this.#rare?.held ?? NONE_HELD;
  }
  set gateHeld(held: Held) {
    if (held !== NONE_HELD || this.#rare !== null) this.#more().held = held;
  }

  /** Bytes its gate holds (not yet given to the runtime). */
  get queuedBytes(): number {
    return this.gateHeld.bytes;
  }

  /** Drops what its gate holds and stops the gate's drain timer (closed). */
  closeGate(): void {
    if (this.gate !== null) gateClose(this.gate, this);
  }

  /** Bad frames seen so far. */
  get protocolErrors(): number {
    return this.#rare?.protocolErrors ?? 0;
  }
  set protocolErrors(n: number) {
    this.#more().protocolErrors = n;
  }

  /** The code the server closed this connection with, if it did. */
  get closeCode(): number | null {
    return this.#rare?.closeCode ?? null;
  }
  set closeCode(code: number | null) {
    this.#more().closeCode = code;
  }

  /** The next server→client request id (base 36). */
  get nextCbId(): number {
    return this.#rare?.nextCbId ?? 1;
  }
  set nextCbId(n: number) {
    this.#more().nextCbId = n;
  }

  /** Rate-limited frames in a row. */
  get violations(): number {
    return this.#rare?.violations ?? 0;
  }
  set violations(n: number) {
    this.#more().violations = n;
  }

  /** Clock time of the last rate-limited frame (the refusal count resets after `backoffMs`). */
  get lastViolationAt(): number {
    return this.#rare?.lastViolationAt ?? 0;
  }
  set lastViolationAt(t: number) {
    this.#more().lastViolationAt = t;
  }

  /** A frame arrived on the socket (the adapter calls it; `ConnectionSink`). */
  received(frame: Frame): void {
    this.host?.received(this, frame);
  }

  /** The socket closed (the adapter calls it once; `ConnectionSink`). */
  socketClosed(code: number, reason: string): void {
    this.host?.socketClosed(this, code, reason);
  }

  /**
   * Its socket's `message` and `close` events, where the socket is an EventTarget (Deno): the
   * connection is their listener itself, with no adapter object per connection.
   */
  handleEvent(e: Event): void {
    socketEvent(this, e);
  }

  /**
   * The upgrade request's URL as a Request (GET, no headers, no body), made when read: the
   * runtime's own Request is not kept (Deno cannot read its headers after the upgrade anyway).
   * Read headers (cookies…) in `authenticate` or `handshakeData`.
   */
  get request(): Request {
    return new Request(this.#url);
  }

  /** Channels this connection is subscribed to. */
  get channels(): ReadonlySet<string> {
    return this.#rare?.channels ?? NO_CHANNELS;
  }

  /** Records a subscription; `false` when it was there. */
  subscribe(channel: string): boolean {
    const set = this.#more().channels ??= new Set();
    if (set.has(channel)) return false;
    set.add(channel);
    this.cseq?.joined(channel);
    this.fanOuts?.channelJoined(this, channel);
    if (this.variant !== null) this.#native("subscribe", `${this.variant}\n${channel}`);
    return true;
  }

  /** Forgets a subscription. */
  unsubscribe(channel: string): void {
    if (!this.#rare?.channels?.delete(channel)) return;
    this.cseq?.left(channel);
    this.fanOuts?.channelLeft(this, channel, this.variant);
    if (this.variant !== null) this.#native("unsubscribe", `${this.variant}\n${channel}`);
  }

  /** Joins its variant's broadcast topic (its frames are everyone's: lib/server/fanout.ts). */
  joinTopics(variant: string): void {
    if (this.fanOuts?.deferJoin(this, variant)) return; // after the queued publishes
    this.variant = variant;
    this.#native("subscribe", variant);
    this.fanOuts?.nativeJoined(this);
    for (const channel of this.channels) this.#native("subscribe", `${variant}\n${channel}`);
  }

  /** Leaves every native topic (closing: nothing more may reach it that way). */
  leaveTopics(): void {
    const variant = this.variant;
    if (variant === null) return;
    this.variant = null;
    this.fanOuts?.nativeLeft(this, variant);
    this.#native("unsubscribe", variant);
    for (const channel of this.channels) this.#native("unsubscribe", `${variant}\n${channel}`);
  }

  #native(op: "subscribe" | "unsubscribe", topic: string): void {
    try {
      this.socket[op]?.(topic);
    } catch {
      // A closing socket: its topics go with it.
    }
  }

  /** Sends what queued fan-outs still owe this connection, before anything else. */
  settleOwed(): void {
    const q = this.fanOuts;
    if (q !== null && q.lastSeq > this.servedSeq) q.settle(this);
  }

  /** Forgets every subscription (closed). */
  clearChannels(): void {
    this.cseq?.cleared(this.channels);
    for (const channel of this.channels) this.fanOuts?.channelLeft(this, channel, this.variant);
    if (this.#rare !== null) this.#rare.channels = null;
  }

  /** The server→client request waiting under `cb`. */
  pendingRequest(cb: string): PendingRequest | undefined {
    return this.#rare?.pending?.get(cb);
  }

  /** Records a server→client request in flight. */
  addPending(cb: string, request: PendingRequest): void {
    (this.#more().pending ??= new Map()).set(cb, request);
  }

  /** Forgets a settled server→client request. */
  deletePending(cb: string): void {
    this.#rare?.pending?.delete(cb);
  }

  /** Takes every server→client request in flight (closed). */
  takePending(): PendingRequest[] {
    const pending = this.#rare?.pending;
    if (!pending) return NO_REQUESTS;
    this.#rare!.pending = null;
    return [...pending.values()];
  }

  /** Bytes the runtime holds for the socket (the gate reads it). */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** The frame telling the client `dropped` frames were lost (the gate sends it). */
  gapFrame(dropped: number): Frame | undefined {
    return this.frames({ type: "push", events: [["sente-lite/gap", { dropped }]] })[0];
  }

  /** Closes as a slow consumer (the gate calls it). */
  closeSlow(): void {
    if (!this.closed) this.host?.closeSlow(this);
  }

  /** Counts frames the gate dropped. */
  dropped(n: number): void {
    this.stats.droppedFrames += n;
  }

  /** The packer name. */
  get packer(): string {
    return this.packerImpl.name;
  }

  /**
   * Sends an already packed frame through the backpressure gate; returns `false` when closed,
   * refused as a slow consumer, or the runtime refused it.
   */
  sendFrame(frame: Frame, bytes: number = frameByteLength(frame)): boolean {
    if (this.closed) return false;
    if (!FANOUT.delivering) this.settleOwed();
    return this.gate ? gateSend(this.gate, this, frame, bytes) : this.write(frame, bytes);
  }

  /** Writes a frame to the socket now, bypassing the gate. */
  write(frame: Frame, bytes: number): boolean {
    if (this.closed) return false;
    try {
      if (this.wire?.sender) this.wire.sender.send(frame);
      else this.socket.send(frame);
    } catch {
      return false;
    }
    this.stats.messagesOut++;
    this.stats.bytesOut += bytes;
    return true;
  }

  /**
   * Encodes (dialect), packs (packer) and sends one message. With batching negotiated, pushes
   * join the batch; anything else flushes the batch first, so order is kept.
   */
  send(message: ServerMessage): boolean {
    if (this.closed) return false;
    if (!FANOUT.delivering) this.settleOwed();
    const batcher = this.wire?.batcher;
    if (batcher) {
      if (message.type === "push") {
        for (const event of message.events) batcher.add(event);
        return true;
      }
      batcher.flush();
    }
    return this.sendNow(message);
  }

  /**
   * Sends the reply `[value, cbId]`. In the envelope dialects (sente-lite, Sente) without
   * batching it is packed as that envelope directly, with no message object or dialect arrays
   * per request: the same bytes `send({ type: "reply", cbId, value })` writes.
   */
  sendReply(cbId: string, value: unknown): boolean {
    const dialect = this.dialect;
    if ((dialect !== senteLiteDialect && dialect !== senteDialect) || this.wire?.batcher) {
      return this.send({ type: "reply", cbId, value });
    }
    if (this.closed) return false;
    if (!FANOUT.delivering) this.settleOwed();
    return this.sendFrame(this.packerImpl.pack([value === undefined ? null : value, cbId]));
  }

  /** Sends a frame shared with other connections (a broadcast), reusing its compression. */
  sendShared(shared: SharedFrame, bytes: number = frameByteLength(shared.frame)): boolean {
    if (this.closed) return false;
    if (!FANOUT.delivering) this.settleOwed();
    this.wire?.batcher?.flush();
    const sender = this.wire?.sender;
    // A full socket goes through the backpressure gate with the plain frame instead.
    if (!sender || (this.gate && this.socket.bufferedAmount > this.gate.options.maxBufferedBytes)) {
      return this.sendFrame(shared.frame, bytes);
    }
    sender.sendShared(shared);
    this.stats.messagesOut++;
    this.stats.bytesOut += bytes;
    return true;
  }

  /** Encodes, packs and sends `message` now, bypassing the batch. */
  sendNow(message: ServerMessage): boolean {
    if (this.closed) return false;
    if (!FANOUT.delivering) this.settleOwed();
    // Indexed, not for-of: no array iterator per message (one handshake per connection).
    const values = this.dialect.encode(message);
    let ok = true;
    for (let i = 0; i < values.length; i++) {
      ok = this.sendFrame(this.packerImpl.pack(values[i])) && ok;
    }
    return ok;
  }

  /** The packed frames of `message` for this connection's dialect and packer. */
  frames(message: ServerMessage): Frame[] {
    return this.dialect.encode(message).map((v) => this.packerImpl.pack(v));
  }

  /**
   * Closes the socket; cleanup happens when the adapter reports the close, or when the close
   * is not done within `closeTimeoutMs` (then the socket is terminated where the runtime can,
   * and `onCloseTimeout` runs).
   */
  close(code: number, reason: string): void {
    if (this.closed) return;
    // What was sent before the close goes out before it: queued fan-outs, the batch, then the
    // wire sender's queue (compression is asynchronous), bounded for a peer that stopped reading.
    if (!FANOUT.delivering) this.settleOwed();
    this.leaveTopics();
    this.wire?.batcher?.flush();
    this.closed = true;
    this.closeCode = code;
    let socketClosed = false;
    const closeSocket = () => {
      if (socketClosed) return;
      socketClosed = true;
      try {
        this.socket.close(code, reason);
      } catch {
        // Already closing at the runtime level: the close event still comes.
      }
    };
    const host = this.host;
    const clock = host?.clock ?? null;
    if (host) {
      // A peer that never reads never answers the close frame: the whole close is bounded.
      const rare = this.#more();
      rare.closeTimer = host.clock.setTimeout(() => {
        rare.closeTimer = null;
        closeSocket();
        try {
          this.socket.terminate?.();
        } catch {
          // Already gone.
        }
        host.closeTimedOut(this);
      }, host.closeTimeoutMs);
    }
    const sender = this.wire?.sender;
    if (!sender || sender.stats().queued === 0 || !clock) return closeSocket();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      closeSocket();
    };
    // Half the close timeout for the flush leaves the other half for the close handshake.
    const closeTimeoutMs = host?.closeTimeoutMs ?? CLOSE_FLUSH_MS;
    const flushMs = Math.min(CLOSE_FLUSH_MS, Math.max(1, Math.floor(closeTimeoutMs / 2)));
    const timer = clock.setTimeout(finish, flushMs);
    void sender.idle().then(finish);
  }

  /** The close completed (the adapter reported it, or it timed out): stops the close timer. */
  closeDone(): void {
    const rare = this.#rare;
    if (rare === null || rare.closeTimer === null) return;
    this.host?.clock.clearTimeout(rare.closeTimer);
    rare.closeTimer = null;
  }

  /** A plain snapshot for applications. */
  info(): ConnectionInfo {
    const url = this.#url;
    return {
      id: this.id,
      uid: this.uid,
      clientId: this.clientId,
      packer: this.packer,
      openedAt: this.openedAt,
      remoteIp: this.remoteIp,
      get request(): Request {
        return new Request(url);
      },
    };
  }
}
