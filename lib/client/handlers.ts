// This module is browser compatible.
/**
 * The client's handlers of what arrives: push handlers by event id (and `"*"` for every
 * application push), and one server→client request handler per event id.
 *
 * Guarantees:
 * - A handler that throws is reported to `onError` and never stops delivery to other handlers.
 * - Every server request is answered once: with the handler's value, or an error
 *   (`no-handler`, `handler-error`).
 *
 * @module
 */
import { clientEventEnvelope } from "../protocol/envelope.ts";
import { ServerError } from "../protocol/errors.ts";
import { assertEventId, type Event } from "../protocol/event.ts";
import { toError } from "../util/to_error.ts";
import type { PushHandler, RequestHandler } from "./types.ts";

/** The handlers of one client. */
export class ClientHandlers {
  #handlers = new Map<string, Set<PushHandler>>();
  #any = new Set<PushHandler>();
  #requestHandlers = new Map<string, RequestHandler>();
  #onError: (error: Error) => void;
  #send: (value: unknown) => void;

  /** Reports handler errors to `onError`; answers server requests with `send` (an envelope). */
  constructor(onError: (error: Error) => void, send: (value: unknown) => void) {
    this.#onError = onError;
    this.#send = send;
  }

  /** Adds a push handler for `id` (or `"*"`); returns the function that removes it. */
  on(id: string, handler: PushHandler): () => void {
    if (typeof handler !== "function") throw new TypeError("handler must be a function");
    if (id === "*") {
      this.#any.add(handler);
      return () => void this.#any.delete(handler);
    }
    assertEventId(id);
    let set = this.#handlers.get(id);
    if (!set) this.#handlers.set(id, set = new Set());
    set.add(handler);
    return () => void set.delete(handler);
  }

  /** `true` when a handler of `id` itself (not `"*"`) listens. */
  has(id: string): boolean {
    return !!this.#handlers.get(id)?.size;
  }

  /** Delivers a push to the handlers of `id`, and of `"*"` unless `id` is a protocol event. */
  emit(id: string, data: unknown): void {
    const ctx = { id, event: [id, data] as Event };
    for (const h of this.#handlers.get(id) ?? []) this.#call(() => h(data, ctx));
    if (!id.startsWith("chsk/") && !id.startsWith("sente-lite/")) {
      for (const h of this.#any) this.#call(() => h(data, ctx));
    }
  }

  /** Sets the request handler of `id`; returns the function that removes it. */
  onRequest(id: string, handler: RequestHandler): () => void {
    assertEventId(id);
    if (typeof handler !== "function") throw new TypeError("handler must be a function");
    this.#requestHandlers.set(id, handler);
    return () => {
      if (this.#requestHandlers.get(id) === handler) this.#requestHandlers.delete(id);
    };
  }

  /** Answers a `sente-lite/request` push with its handler's value or an error. */
  answer(data: unknown): void {
    const d = (data ?? {}) as Record<string, unknown>;
    const cb = d["cb-id"];
    const event = d.event;
    if (typeof cb !== "string" || !Array.isArray(event) || typeof event[0] !== "string") {
      this.#onError(new ServerError("bad-request", "malformed sente-lite/request"));
      return;
    }
    const [id, payload] = event as [string, unknown];
    const answer = (body: Record<string, unknown>) =>
      this.#send(clientEventEnvelope("sente-lite/reply", { "cb-id": cb, ...body }, null));
    const handler = this.#requestHandlers.get(id);
    if (!handler) {
      answer({ error: { code: "no-handler", message: `no request handler for ${id}` } });
      return;
    }
    const fail = (e: unknown) => {
      this.#onError(toError(e));
      answer({ error: { code: "handler-error", message: `request handler for ${id} failed` } });
    };
    try {
      Promise.resolve(handler(payload, { id, event: [id, payload] })).then(
        (value) => answer({ value: value ?? null }),
        fail,
      );
    } catch (e) {
      fail(e);
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#onError(toError(e));
    }
  }
}
