/**
 * The {@linkcode EventMessage} a handler receives, as a class: `reply` and `send` are methods
 * shared by every message (bound only when a handler reads them off the message), so routing an
 * event makes one object and no closures.
 *
 * @module
 */
import { ProtocolError } from "../protocol/errors.ts";
import { assertEventId, type Event } from "../protocol/event.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import type { Resume } from "./resume.ts";
import type { ConnectionInfo, EventDelivery, EventMessage } from "./types.ts";

/** What every message of one Hub shares. */
export interface MessageHost {
  /** The Hub's shared state. */
  readonly ctx: ServerContext;
  /** Where pushes to the sender go (numbered when it resumes). */
  readonly resume: Resume;
}

/** One inbound event as its handlers see it. */
export class InboundMessage implements EventMessage {
  readonly #host: MessageHost;
  readonly #conn: Connection;
  readonly #cbId: string | null;
  /** Set from the clock when the frame arrived. */
  readonly #receivedAt: number;
  #replied = false;
  #event: Event | undefined;
  #reply: ((value: unknown) => boolean) | undefined;
  #send: ((id: string, data?: unknown) => boolean) | undefined;
  /** The client seq of a numbered event (`sente-lite/msg`), 0 for a plain one. */
  readonly #seq: number;
  #delivery: EventDelivery | undefined;

  /**
   * One event `[id, data]` from `conn`, with its callback id when the client asked a reply and
   * its client seq (`seq > 0`) when it came numbered in the connection's resume session.
   */
  constructor(
    host: MessageHost,
    conn: Connection,
    readonly id: string,
    readonly data: unknown,
    cbId: string | null,
    seq = 0,
  ) {
    this.#host = host;
    this.#conn = conn;
    this.#cbId = cbId;
    this.#receivedAt = conn.lastSeen;
    this.#seq = seq;
  }

  /**
   * The event's idempotency key (made once, when read): the session's id (the token's lookup
   * half, never its secret, which the session keeps in a private field) and the client seq.
   */
  get delivery(): EventDelivery | undefined {
    if (this.#delivery !== undefined || this.#seq === 0) return this.#delivery;
    const session = this.#conn.session?.id;
    if (session === undefined) return undefined;
    return this.#delivery = Object.freeze({
      key: `${session}:${this.#seq}`,
      session,
      seq: this.#seq,
    });
  }

  /** `[id, data]` (made once, when read). */
  get event(): Event {
    return this.#event ??= [this.id, this.data];
  }

  /** The sender's uid. */
  get uid(): string {
    return this.#conn.uid;
  }

  /** The sender's client id. */
  get clientId(): string {
    return this.#conn.clientId;
  }

  /** The sender's connection id. */
  get connId(): string {
    return this.#conn.id;
  }

  /** The sender's connection. */
  get connection(): ConnectionInfo {
    return this.#conn;
  }

  /** `true` when the client asked for a reply. */
  get wantsReply(): boolean {
    return this.#cbId !== null;
  }

  /** Replies to a request (absent without a callback id); bound, so it can be passed around. */
  get reply(): ((value: unknown) => boolean) | undefined {
    if (this.#cbId === null) return undefined;
    return this.#reply ??= (value: unknown) => this.answer(value);
  }

  /** Pushes an event to the sender's connection; bound, so it can be passed around. */
  get send(): (id: string, data?: unknown) => boolean {
    return this.#send ??= (id: string, data?: unknown) => this.push(id, data);
  }

  /** Pushes `[id, data]` to the sender (what `send` does, unbound). */
  push(id: string, data?: unknown): boolean {
    assertEventId(id, "id");
    return this.#host.resume.push(this.#conn, [id, data]);
  }

  /** Sends the reply (what `reply` does, unbound); `false` if replied already or none asked. */
  answer(value: unknown): boolean {
    const cbId = this.#cbId;
    if (cbId === null) return false;
    const ctx = this.#host.ctx;
    if (this.#replied) {
      ctx.stats.repliesIgnored++;
      return false;
    }
    this.#replied = true;
    const conn = this.#conn;
    if (ctx.observers.length > 0) {
      const latencyMs = ctx.clock.now() - this.#receivedAt;
      ctx.observe((o) => o.reply?.(conn, this.id, latencyMs));
    }
    try {
      // A body (download) on a connection with streams is streamed; the reply names it. Bodies
      // are objects: other values skip the lookup of the connection's streams.
      if (ctx.streams && typeof value === "object" && value !== null) {
        value = ctx.streams.replyValue(conn, this.id, value);
      }
      return conn.sendReply(cbId, value);
    } catch (e) {
      // The value could not be packed (a BigInt in JSON, a cycle…): the caller still learns.
      ctx.options.onError(e, { where: `reply to ${this.id}` });
      ctx.sendError(
        conn,
        new ProtocolError("handler-error", `the reply to ${this.id} could not be packed`, cbId),
      );
      return false;
    }
  }
}
