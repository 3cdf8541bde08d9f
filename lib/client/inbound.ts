// This module is browser compatible.
/**
 * The client's inbound path: a frame from the server is decoded and routed to a reply, a
 * handshake, a ping or pushes; pushes go to the channels, the server→client requests, resume's
 * numbering and the push handlers.
 *
 * Guarantees:
 * - A frame that does not decode is reported to `onError` (and to telemetry) and dropped.
 * - A numbered push (resume) is delivered once and in order, and acknowledged in batches; a
 *   channel's own numbers (`cseq`) are deduplicated per channel and not acknowledged.
 * - A reply settles its request once; one that comes too late is counted, never delivered.
 *
 * @module
 */
import type { Frame } from "../packers/packer.ts";
import {
  clientEventEnvelope,
  decodeServerEnvelope,
  MAX_CB_ID_LENGTH,
} from "../protocol/envelope.ts";
import { ServerError } from "../protocol/errors.ts";
import type { Liveness } from "../util/liveness.ts";
import { toError } from "../util/to_error.ts";
import type { InboundAcks } from "./acks.ts";
import type { ClientChannels } from "./channels.ts";
import type { ClientOutbound } from "./outbound.ts";
import type { ClientParts } from "./parts.ts";
import type { ConnectionState } from "./session.ts";

/** Decodes and routes the frames of one client. */
export class ClientInbound {
  #parts: ClientParts;
  #channels: ClientChannels;
  #acks: InboundAcks;
  #out: ClientOutbound;
  #liveness: Liveness;
  #pingCb: string;
  #handshake: (uid: string, data: unknown) => void;
  #state: () => ConnectionState;

  /**
   * Routes to `parts` and `channels`, acknowledges numbered pushes with `acks` through `out`,
   * tells `liveness` of every frame, ignores the reply to the liveness ping `pingCb`, and hands
   * handshakes to `handshake`; `state()` is the client's state.
   */
  constructor(
    parts: ClientParts,
    channels: ClientChannels,
    acks: InboundAcks,
    out: ClientOutbound,
    liveness: Liveness,
    pingCb: string,
    handshake: (uid: string, data: unknown) => void,
    state: () => ConnectionState,
  ) {
    this.#parts = parts;
    this.#channels = channels;
    this.#acks = acks;
    this.#out = out;
    this.#liveness = liveness;
    this.#pingCb = pingCb;
    this.#handshake = handshake;
    this.#state = state;
  }

  /** A frame from the server (after the wire transforms, if any). */
  receive(frame: Frame): void {
    const parts = this.#parts;
    parts.stats.messagesIn++;
    this.#liveness.seen();
    let msg;
    try {
      const value = parts.options.packer.unpack(frame);
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
      parts.tel.event("sente-lite/protocol-error", {
        level: "warn",
        data: () => ({ clientId: parts.clientId, code: error.code, message: error.message }),
      });
      parts.options.onError(error);
      return;
    }
    if (msg === null) return; // a reply, answered above
    switch (msg.type) {
      case "handshake":
        return this.#handshake(msg.uid, msg.data);
      case "ping":
        this.#out.sendValue(clientEventEnvelope("chsk/ws-pong", undefined, null));
        return;
      case "reply":
        return this.#onReply(msg.cbId, msg.value);
      case "push":
        for (const [id, data] of msg.events) this.#onPush(id, data);
    }
  }

  #onReply(cbId: string, value: unknown): void {
    if (cbId === this.#pingCb) return; // our liveness ping: receiving it was the point
    if (!this.#parts.requests.settle(cbId, value)) this.#parts.stats.lateReplies++;
  }

  #onPush(id: string, data: unknown): void {
    const { handlers, requests } = this.#parts;
    switch (id) {
      case "sente-lite/msg":
        this.#onSequenced(data);
        return;
      case "sente-lite/ack":
        this.#out.acked(data);
        return;
      case "sente-lite/error": {
        const d = (data ?? {}) as Record<string, unknown>;
        const error = new ServerError(String(d.code ?? "error"), String(d.message ?? ""));
        const cb = d["cb-id"];
        const p = typeof cb === "string" ? requests.get(cb) : undefined;
        if (p) {
          requests.reject(p, error);
          return;
        }
        if (!handlers.has(id)) this.#parts.options.onError(error);
        break;
      }
      case "sente-lite/request":
        handlers.answer(data);
        return;
      case "sente-lite/channel-msg":
        this.#channels.deliver(data);
        break;
      case "sente-lite/gap":
        if (data !== null && typeof data === "object" && "ch" in data) {
          this.#parts.cursors.gap((data as { ch: string | null }).ch);
        }
        break;
      case "sente-lite/subscribed":
        this.#channels.joined(data);
        break;
      case "sente-lite/unsubscribed":
        this.#channels.left(data);
        break;
    }
    handlers.emit(id, data);
  }

  /** A numbered push: delivered once and in order, acknowledged in batches. */
  #onSequenced(data: unknown): void {
    const d = data as { seq?: unknown; event?: unknown; ch?: unknown; cseq?: unknown } | null;
    const cseq = d?.cseq;
    const streamed = typeof cseq === "number" && (typeof d!.ch === "string" || d!.ch === null);
    const seq = streamed ? cseq : d?.seq;
    const ev = d?.event;
    const { options, stats } = this.#parts;
    if (
      typeof seq !== "number" || !Array.isArray(ev) || typeof ev[0] !== "string" ||
      ev[0] === "sente-lite/msg"
    ) {
      options.onError(new ServerError("bad-request", "malformed sente-lite/msg"));
      return;
    }
    if (streamed) {
      // A channel's (or the broadcasts') own number: deduplicated per stream, not acknowledged.
      if (this.#parts.cursors.accept(d!.ch as string | null, seq)) this.#onPush(ev[0], ev[1]);
      else stats.duplicatesDropped++;
      return;
    }
    if (!this.#acks.received(seq)) {
      stats.duplicatesDropped++;
      return;
    }
    this.#onPush(ev[0], ev[1]);
    const r = options.resume;
    if (!r || this.#state() !== "open") return; // a handler may have closed the client
    this.#acks.schedule(r);
  }
}
