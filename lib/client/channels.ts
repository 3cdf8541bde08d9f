// This module is browser compatible.
/**
 * The client's channels: subscriptions with their handlers, publishing, delivery of
 * `sente-lite/channel-msg` pushes, and re-subscription after every reconnect.
 *
 * Guarantees:
 * - A channel the server confirmed once is re-subscribed after every handshake until
 *   `unsubscribe()`; a refused re-subscribe drops it and is reported (`chsk/resubscribe-failed`).
 * - A handler that throws is reported and never stops delivery to other handlers.
 *
 * @module
 */
import { ClosedError, ServerError } from "../protocol/errors.ts";
import type { ChannelCursors } from "./channel_cursors.ts";
import { toError } from "../util/to_error.ts";
import type { ConnectionState } from "./session.ts";
import type { ClientRequestOptions } from "./types.ts";
import {
  type ChannelContext,
  type ChannelHandler,
  RESUBSCRIBE_FAILED_EVENT,
  type ResubscribeFailure,
} from "./types.ts";

/** What the channels need from their client. */
export interface ChannelsHost {
  /** Sends a request (with the client's queueing and retry). */
  request(
    id: string,
    data: unknown,
    options?: ClientRequestOptions & { retry?: boolean },
  ): Promise<unknown>;
  /** The client's state now. */
  state(): ConnectionState;
  /** Reports an error to the application. */
  onError(error: Error): void;
  /** Emits a lifecycle event to `on()` handlers. */
  emit(id: string, data: unknown): void;
  /** The cursors of channel sequences (docs/PROTOCOL.md §8). */
  readonly cursors?: ChannelCursors;
}

function refused(reply: unknown, what: string): void {
  const r = (reply ?? {}) as Record<string, unknown>;
  if (r.success !== true) throw new ServerError(String(r.error ?? "refused"), `${what} refused`);
}

/** A client's channel subscriptions. */
export class ClientChannels {
  #handlers = new Map<string, Set<ChannelHandler>>();
  /** Channels the server confirmed at least once: re-subscribed after every reconnect. */
  #confirmed = new Set<string>();

  /** Makes the channels of one client. */
  constructor(readonly host: ChannelsHost) {}

  /** Subscribes `handler` to `channel`; rejects with `ServerError` when the server refuses. */
  async subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    if (typeof channel !== "string" || channel === "") {
      throw new TypeError(`channel must be a non-empty string, got ${JSON.stringify(channel)}`);
    }
    let set = this.#handlers.get(channel);
    if (!set) this.#handlers.set(channel, set = new Set());
    set.add(handler);
    // A channel the server already confirmed (or joined) stays when this request fails.
    const member = this.#confirmed.has(channel);
    try {
      // Subscribing is idempotent on the server, so a drop mid-request simply retries.
      const reply = await this.host.request("sente-lite/subscribe", this.#body(channel), {
        retry: true,
      });
      refused(reply, `subscribe to ${channel}`);
      this.host.cursors?.replied(channel, (reply as Record<string, unknown>).cseq);
      if (this.#handlers.get(channel) === set) this.#confirmed.add(channel);
    } catch (e) {
      set.delete(handler);
      if (!member && set.size === 0 && this.#handlers.get(channel) === set) {
        this.#handlers.delete(channel);
        this.#confirmed.delete(channel);
      }
      throw e;
    }
  }

  /** Unsubscribes and drops the channel's handlers. */
  async unsubscribe(channel: string): Promise<void> {
    this.#handlers.delete(channel);
    this.#confirmed.delete(channel);
    this.host.cursors?.forget(channel);
    const state = this.host.state();
    // When closed the server has forgotten the subscription already.
    if (state === "closed" || state === "closing" || state === "failed") return;
    await this.host.request("sente-lite/unsubscribe", { "channel-id": channel });
  }

  /** Publishes; resolves with the number of subscribers reached. */
  async publish(channel: string, data: unknown, excludeSender: boolean): Promise<number> {
    const reply = await this.host.request("sente-lite/publish", {
      "channel-id": channel,
      data: data ?? null,
      "exclude-sender?": excludeSender,
    });
    refused(reply, `publish to ${channel}`);
    return Number((reply as Record<string, unknown>).delivered ?? 0);
  }

  /** The subscribed channels. */
  list(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Hands a `sente-lite/channel-msg` push to its channel's handlers. */
  deliver(data: unknown): void {
    const d = (data ?? {}) as Record<string, unknown>;
    const channel = String(d["channel-id"]);
    const ctx: ChannelContext = { channel, from: (d.from as string | null) ?? null };
    for (const handler of this.#handlers.get(channel) ?? []) {
      try {
        handler(d.data, ctx);
      } catch (e) {
        this.host.onError(toError(e));
      }
    }
  }

  /**
   * The server subscribed this client (`server.join`, a `sente-lite/subscribed` push with
   * `"server": true`): listed and re-subscribed after reconnects like the client's own.
   */
  joined(data: unknown): void {
    const d = (data ?? {}) as Record<string, unknown>;
    const channel = d["channel-id"];
    if (d.server !== true || d.success !== true || typeof channel !== "string" || !channel) return;
    if (!this.#handlers.has(channel)) this.#handlers.set(channel, new Set());
    this.#confirmed.add(channel);
    this.host.cursors?.replied(channel, d.cseq);
  }

  /** The server unsubscribed this client (`server.leave`): the channel and its handlers go. */
  left(data: unknown): void {
    const d = (data ?? {}) as Record<string, unknown>;
    const channel = d["channel-id"];
    if (d.server !== true || typeof channel !== "string") return;
    this.#handlers.delete(channel);
    this.#confirmed.delete(channel);
    this.host.cursors?.forget(channel);
  }

  /** After a handshake: subscribes again to every confirmed channel. */
  resubscribeAll(): void {
    for (const channel of this.#confirmed) this.#resubscribe(channel);
  }

  /** A subscribe's body: with the channel's cursor when the client has one. */
  #body(channel: string): Record<string, unknown> {
    return { "channel-id": channel, ...this.host.cursors?.after(channel) };
  }

  #resubscribe(channel: string): void {
    this.host.request("sente-lite/subscribe", this.#body(channel), { retry: false }).then(
      (reply) => {
        refused(reply, `re-subscribe to ${channel}`);
        this.host.cursors?.replied(channel, (reply as Record<string, unknown>).cseq);
      },
    ).catch((e) => {
      // A drop while re-subscribing is retried by the next handshake.
      if (e instanceof ClosedError || !this.#confirmed.has(channel)) return;
      this.#confirmed.delete(channel);
      this.#handlers.delete(channel);
      const error = toError(e);
      this.host.onError(error);
      this.host.emit(RESUBSCRIBE_FAILED_EVENT, { channel, error } satisfies ResubscribeFailure);
    });
  }
}
