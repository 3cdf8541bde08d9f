/**
 * Accepting an upgrade: path, upgrade header, origin, a connection slot (admission), dialect and
 * packer, `authenticate`, the uid's connection cap, handshake data, wire negotiation, the resume
 * parameter and token — and the answers to refused upgrades.
 *
 * @module
 */
import type { Packer } from "../packers/packer.ts";
import { selectDialect } from "../dialects/select.ts";
import { senteLiteDialect } from "../dialects/sente_lite.ts";
import { readResumeToken } from "../protocol/resume_token.ts";
import { readStreamSession } from "../protocol/stream_session.ts";
import { offeredProtocols, SUBPROTOCOL } from "../protocol/token.ts";
import { PLAIN, WIRE_PARAM } from "../wire/capabilities.ts";
import type { AdmissionSlot as Slot, Refusal } from "./admission.ts";
import type { ServerContext } from "./context.ts";
import { parseResumeParam, RESUME_PARAM } from "./delivery.ts";
import { CHANNEL_SEQ_PARAM, parseChannelSeqParam } from "./channel_seq.ts";
import { originAllowed } from "./origin.ts";
import { NIL_UID } from "./auth.ts";
import type { PendingUpgrade } from "./socket.ts";
import type { Route } from "./operations_route.ts";
import { Rejection } from "./rejection.ts";
import type { ServerDialect } from "../dialects/dialect.ts";
import { negotiateWire } from "./wire.ts";
import { parseQuery, type QueryParams } from "./query.ts";
import { STREAMS_PARAM } from "./streams_api.ts";
import { ownCopy } from "../util/own_copy.ts";
import { resolveClientIp } from "./client_ip.ts";

function textResponse(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** An upgrade past the checks that need no hook. */
interface Accepted {
  readonly request: Request;
  readonly remoteIp: string | null;
  readonly slot: Slot;
  readonly query: QueryParams;
  readonly clientId: string;
  readonly dialect: ServerDialect;
  readonly packer: Packer;
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * The path and query of an absolute request URL, without `new URL` (the common upgrade URL is
 * plain ASCII). A path with `%` or a dot segment goes through `URL` to be normalized as before.
 */
export function splitUrl(url: string): { path: string; query: string } {
  const scheme = url.indexOf("://");
  let start = scheme < 0 ? 0 : url.indexOf("/", scheme + 3);
  if (start < 0) start = url.length;
  let end = url.length;
  const hash = url.indexOf("#", start);
  if (hash >= 0) end = hash;
  const q = url.indexOf("?", start);
  const pathEnd = q >= 0 && q < end ? q : end;
  const path = start === pathEnd ? "/" : url.slice(start, pathEnd);
  const query = q >= 0 && q < end ? url.slice(q + 1, end) : "";
  if (path.includes("%") || path.includes("/.") || path.includes("\\")) {
    const parsed = new URL(url);
    return { path: parsed.pathname, query: parsed.search.slice(1) };
  }
  return { path, query };
}

/** The upgrade checks of one Hub. */
export class Upgrades {
  readonly #ctx: ServerContext;
  readonly #packers: Map<string, Packer>;
  /** Whether resume is offered (delivery on). */
  readonly #resumable: boolean;
  #lastFullReport = -Infinity;
  /** Plain HTTP routes tried before `fallback` (client bundle, operations; set by the Hub). */
  routes: Route[] = [];
  /** What a handshake timeout does (one function for every upgrade). */
  readonly #expired = (ip: string | null): void => this.#handshakeExpired(ip);

  /** Checks upgrades against `ctx`'s options; `resumable` when delivery is on. */
  constructor(ctx: ServerContext, resumable: boolean) {
    this.#ctx = ctx;
    this.#packers = new Map(ctx.options.packers.map((p) => [p.name, p]));
    this.#resumable = resumable;
  }

  /**
   * Runs every check before an upgrade (see `Hub.prepare`). Synchronous unless a hook
   * (`fallback`, `authenticate`, `handshakeData`) returns a promise: the common path (no hook,
   * or synchronous ones) answers in the same turn, with no promise made.
   */
  prepare(
    request: Request,
    remoteIp: string | null,
  ): Response | PendingUpgrade | Promise<Response | PendingUpgrade> {
    // The slot is taken synchronously before `authenticate` is called, so concurrent upgrades
    // count; every way out but a successful upgrade gives it back.
    const admit: { slot?: Slot } = {};
    let result: Response | PendingUpgrade | Promise<Response | PendingUpgrade>;
    try {
      result = this.#prepare(request, remoteIp, admit);
    } catch (e) {
      admit.slot?.release(this.#ctx.clock);
      throw e;
    }
    if (!(result instanceof Promise)) return this.#settle(result, admit);
    return result.then((r) => this.#settle(r, admit), (e) => {
      admit.slot?.release(this.#ctx.clock);
      throw e;
    });
  }

  #settle(result: Response | PendingUpgrade, admit: { slot?: Slot }): Response | PendingUpgrade {
    const slot = admit.slot;
    if (slot === undefined) return result;
    if (result instanceof Response) slot.release(this.#ctx.clock);
    else if (!slot.pending) return textResponse(503, "Upgrade took too long: try again later");
    return result;
  }

  #prepare(
    request: Request,
    remoteIp: string | null,
    admit: { slot?: Slot },
  ): Response | PendingUpgrade | Promise<Response | PendingUpgrade> {
    const ctx = this.#ctx;
    const options = ctx.options;
    const target = splitUrl(request.url);
    if (target.path !== options.path) {
      for (const route of this.routes) {
        const answer = route(request);
        if (answer) return answer;
      }
      if (!options.fallback) return textResponse(404, "Not found");
      const answer = options.fallback(request);
      return isThenable(answer) ? Promise.resolve(answer) : answer;
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return textResponse(426, `${options.path} is a WebSocket endpoint: upgrade required`);
    }
    if (options.clientIp) {
      remoteIp = resolveClientIp(options.clientIp, request, remoteIp, options.onError);
    }
    const retryAfter = ctx.upgradeRate.take(remoteIp);
    if (retryAfter > 0) {
      return new Response("Too many connection attempts from this address: try again later\n", {
        status: 429,
        headers: { "content-type": "text/plain; charset=utf-8", "retry-after": String(retryAfter) },
      });
    }
    if (!originAllowed(request, options.allowedOrigins)) {
      ctx.count("bad-origin");
      return textResponse(403, "Unauthorized origin");
    }
    const slot = ctx.admission.reserve(remoteIp, this.#expired);
    if (typeof slot === "string") return this.#refuse(slot);
    admit.slot = slot;
    const query = parseQuery(target.query);
    const selected = selectDialect(query, options.dialects);
    if (selected === null) {
      return textResponse(
        400,
        "Bad request: the query parameter client-id is required (a non-blank string of at most 128 characters)",
      );
    }
    const packerName = query.get("packer") ?? options.packers[0].name;
    const { dialect } = selected;
    // Its own copy: a value of a plain query is a slice that would keep the whole URL alive.
    const clientId = ownCopy(selected.clientId);
    const packer = selected.packer ?? this.#packers.get(packerName);
    if (!packer) {
      return textResponse(
        400,
        `Bad request: unknown packer ${JSON.stringify(packerName)}; this server speaks ${
          [...this.#packers.keys()].join(", ")
        }`,
      );
    }
    // The slot's copy of the address: one string per IP however many connections it has.
    const accepted: Accepted = {
      request,
      remoteIp: slot.ip,
      slot,
      query,
      clientId,
      dialect,
      packer,
    };
    let auth;
    try {
      auth = options.authenticate(request, { clientId });
    } catch (e) {
      if (e instanceof Rejection) return this.#rejected(accepted, e);
      return this.#authFailed(e);
    }
    if (isThenable(auth)) {
      return Promise.resolve(auth).then(
        (a) => this.#authenticated(accepted, a),
        (e) => e instanceof Rejection ? this.#rejected(accepted, e) : this.#authFailed(e),
      );
    }
    return this.#authenticated(accepted, auth);
  }

  /** `authenticate` answered: the uid's cap, then `handshakeData`. */
  #authenticated(
    accepted: Accepted,
    auth: string | null | undefined | Response | Rejection,
  ): Response | PendingUpgrade | Promise<Response | PendingUpgrade> {
    const ctx = this.#ctx;
    const options = ctx.options;
    if (auth instanceof Response) return auth;
    // A Rejection upgrades, then closes at once with its code: clients understand 4001/4003.
    if (auth instanceof Rejection) return this.#rejected(accepted, auth);
    const uid = auth === null || auth === undefined || auth === "" ? NIL_UID : String(auth);
    if (uid !== NIL_UID && ctx.uids.count(uid) >= options.maxConnectionsPerUid) {
      ctx.count("too-many-connections");
      return textResponse(429, "Too many connections for this user");
    }
    let data;
    try {
      data = options.handshakeData(accepted.request, uid);
    } catch (e) {
      if (e instanceof Rejection) return this.#rejected(accepted, e);
      return this.#authFailed(e);
    }
    if (isThenable(data)) {
      return Promise.resolve(data).then(
        (d) => this.#pending(accepted, uid, d),
        (e) => e instanceof Rejection ? this.#rejected(accepted, e) : this.#authFailed(e),
      );
    }
    return this.#pending(accepted, uid, data);
  }

  /** A rejected upgrade: accepted by the runtime, then closed at once with the rejection's code. */
  #rejected(accepted: Accepted, r: Rejection): PendingUpgrade {
    const { request, remoteIp, slot, clientId, dialect, packer } = accepted;
    const protocol = offeredProtocols(request).includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
    return {
      wire: PLAIN,
      clientId,
      uid: NIL_UID,
      packer,
      dialect,
      request,
      handshakeData: undefined,
      protocol,
      remoteIp,
      slot,
      rejection: { code: r.code, reason: r.reason },
    };
  }

  #authFailed(e: unknown): Response {
    this.#ctx.options.onError(e, { where: "authenticate/handshakeData" });
    return textResponse(500, "Internal error while authenticating the connection");
  }

  /** Every check passed: the upgrade to perform. */
  #pending(
    accepted: Accepted,
    uid: string,
    handshakeData: Record<string, unknown> | undefined,
  ): PendingUpgrade {
    const { request, query, dialect } = accepted;
    const options = this.#ctx.options;
    const offered = offeredProtocols(request);
    const protocol = offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
    // Only our own dialect speaks the wire transforms; Sente and original peers get plain frames.
    const wire = dialect === senteLiteDialect
      ? negotiateWire(options.wire, query.get(WIRE_PARAM))
      : PLAIN;
    // Only our own dialect resumes; an unreadable value means no resume, as for older clients.
    const resume = dialect === senteLiteDialect && this.#resumable
      ? parseResumeParam(query.get(RESUME_PARAM))
      : null;
    // The token, not the client id, is what resumes a session (a client id is no credential).
    const resumeToken = resume !== null ? readResumeToken(offered) : null;
    const channelSeq = resume !== null
      ? parseChannelSeqParam(query.get(CHANNEL_SEQ_PARAM))
      : undefined;
    return {
      wire,
      resume,
      resumeToken,
      channelSeq,
      // The subprotocol first; the `streams` parameter of older clients is deprecated (it lands in URLs).
      streams: readStreamSession(offered) ?? query.get(STREAMS_PARAM),
      clientId: accepted.clientId,
      uid,
      packer: accepted.packer,
      dialect,
      request,
      handshakeData,
      protocol,
      remoteIp: accepted.remoteIp,
      slot: accepted.slot,
    };
  }

  /** Answers an upgrade that admission refused: 503 when the server is full, 429 for the IP. */
  #refuse(refusal: Refusal): Response {
    const ctx = this.#ctx;
    if (refusal === "ip-full") {
      ctx.count("too-many-connections");
      return textResponse(429, "Too many connections from this address");
    }
    ctx.count("server-full");
    const now = ctx.clock.now();
    if (now - this.#lastFullReport >= 1000) { // at most once a second under a flood
      this.#lastFullReport = now;
      const { total, pending } = ctx.admission;
      ctx.tel.event("sente-lite/server-full", {
        level: "warn",
        data: () => ({ connections: total, pending, max: ctx.options.maxConnections }),
      });
    }
    return textResponse(503, "Server at its connection limit: try again later");
  }

  /** An admitted upgrade did not open its socket within `handshakeTimeoutMs`. */
  #handshakeExpired(remoteIp: string | null): void {
    this.#ctx.count("handshake-timeout");
    this.#ctx.tel.event("sente-lite/slow-upgrade", {
      level: "info",
      data: () => ({ remoteIp, timeoutMs: this.#ctx.options.handshakeTimeoutMs }),
    });
  }
}
