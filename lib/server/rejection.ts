/**
 * Refusing an upgrade in a way clients understand: `authenticate` returns (or throws) a
 * {@linkcode Rejection}; the library accepts the upgrade, then closes the socket at once with the
 * rejection's code (4001 unauthenticated, 4003 forbidden, or another 4000–4499 code) and reason.
 * Browsers see an HTTP 401 only as close code 1006 and keep retrying; a 4001/4003 close is
 * terminal for sente-lite clients (lib/protocol/close_codes.ts), so they stop.
 *
 * A rejected socket never becomes a connection (no handshake, no uid, no events); it holds its
 * admission slot only until its close completes, at most `closeTimeoutMs` where the runtime can
 * terminate sockets (Bun), else until the peer lets go (Deno), like any other close.
 *
 * @module
 */
import type { AdmissionSlot } from "./admission.ts";
import type { ServerContext } from "./context.ts";
import type { ConnectionSink, ServerSocket } from "./socket.ts";

/** The close code of a missing, invalid or expired credential (like HTTP 401). */
export const CLOSE_UNAUTHENTICATED = 4001;
/** The close code of a user who may not use this endpoint (like HTTP 403). */
export const CLOSE_FORBIDDEN = 4003;

/** Longest close reason in UTF-8 bytes (RFC 6455: 125 bytes of payload minus the code). */
const MAX_REASON_BYTES = 123;

function clip(reason: string): string {
  const encoder = new TextEncoder();
  let r = reason;
  while (encoder.encode(r).length > MAX_REASON_BYTES) r = r.slice(0, -1);
  return r;
}

/**
 * A refusal `authenticate` returns or throws; make one with {@linkcode reject}.
 *
 * @example Refuse an expired token
 * ```ts
 * import { createServer, reject } from "@sente-lite/sente-lite/server";
 * const server = createServer({
 *   authenticate: (req) => req.headers.get("cookie")?.includes("session=") ? "alice" : reject(4001, "login required"),
 * });
 * ```
 */
export class Rejection extends Error {
  /** The close code (4000–4499: terminal for sente-lite clients). */
  readonly code: number;
  /** The close reason (at most 123 UTF-8 bytes; longer ones are cut). */
  readonly reason: string;

  /** Use {@linkcode reject}. */
  constructor(code: number, reason: string) {
    if (!Number.isInteger(code) || code < 4000 || code > 4499) {
      throw new RangeError(`a rejection's close code must be in 4000–4499, got ${code}`);
    }
    const clipped = clip(String(reason));
    super(`upgrade rejected with ${code}: ${clipped}`);
    this.name = "Rejection";
    this.code = code;
    this.reason = clipped;
  }
}

/**
 * Makes a {@linkcode Rejection} for `authenticate` to return or throw: the client gets close
 * `code` (default 4001) with `reason` right after the upgrade, and stops reconnecting.
 *
 * @example
 * ```ts
 * import { reject } from "@sente-lite/sente-lite/server";
 * const auth = (token: string | null) => token === "secret" ? "alice" : reject(4001, "token expired");
 * ```
 */
export function reject(code: number = CLOSE_UNAUTHENTICATED, reason: string = ""): Rejection {
  return new Rejection(code, reason);
}

/** The close a rejected upgrade gets once its socket is open. */
export interface RejectedUpgrade {
  /** The close code. */
  readonly code: number;
  /** The close reason. */
  readonly reason: string;
}

/**
 * The socket of a rejected upgrade opened: closes it with the rejection and gives the slot back
 * when the close completes (or, where the socket can be terminated, after `closeTimeoutMs`).
 */
export function openRejected(
  ctx: ServerContext,
  slot: AdmissionSlot,
  socket: ServerSocket,
  rejection: RejectedUpgrade,
): ConnectionSink {
  ctx.count("rejected-upgrade");
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    ctx.clock.clearTimeout(timer);
    slot.release(ctx.clock);
  };
  const timer = ctx.clock.setTimeout(() => {
    // The peer did not answer the close frame: drop it where the runtime can (Bun); under Deno
    // the runtime keeps the descriptor until the peer goes, so the slot stays counted till then.
    if (!socket.terminate) return;
    try {
      socket.terminate();
    } catch {
      // Already gone.
    }
    release();
  }, ctx.options.closeTimeoutMs);
  try {
    socket.close(rejection.code, rejection.reason);
  } catch {
    release();
  }
  return { received: () => {}, socketClosed: release };
}
