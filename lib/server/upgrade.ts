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
import { offeredProtocols, SUBPROTOCOL } from "../protocol/token.ts";
import { PLAIN, WIRE_PARAM } from "../wire/capabilities.ts";
import type { AdmissionSlot as Slot, Refusal } from "./admission.ts";
import type { ServerContext } from "./context.ts";
import { parseResumeParam, RESUME_PARAM } from "./delivery.ts";
import { originAllowed } from "./origin.ts";
import { NIL_UID } from "./options.ts";
import type { PendingUpgrade } from "./socket.ts";
import type { Route } from "./operations_route.ts";
import { Rejection } from "./rejection.ts";
import { negotiateWire } from "./wire.ts";

function textResponse(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
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

  /** Checks upgrades against `ctx`'s options; `resumable` when delivery is on. */
  constructor(ctx: ServerContext, resumable: boolean) {
    this.#ctx = ctx;
    this.#packers = new Map(ctx.options.packers.map((p) => [p.name, p]));
    this.#resumable = resumable;
  }

  /** Runs every check before an upgrade (see `Hub.prepare`). */
  async prepare(
    request: Request,
    remoteIp: string | null,
  ): Promise<Response | PendingUpgrade> {
    const clock = this.#ctx.clock;
    // The slot is taken synchronously before `authenticate` is awaited, so concurrent upgrades
    // count; every way out but a successful upgrade gives it back.
    const admit: { slot?: Slot } = {};
    let result: Response | PendingUpgrade;
    try {
      result = await this.#prepare(request, remoteIp, admit);
    } catch (e) {
      admit.slot?.release(clock);
      throw e;
    }
    const slot = admit.slot;
    if (slot === undefined) return result;
    if (result instanceof Response) slot.release(clock);
    else if (!slot.pending) return textResponse(503, "Upgrade took too long: try again later");
    return result;
  }

  async #prepare(
    request: Request,
    remoteIp: string | null,
    admit: { slot?: Slot },
  ): Promise<Response | PendingUpgrade> {
    const ctx = this.#ctx;
    const options = ctx.options;
    const url = new URL(request.url);
    if (url.pathname !== options.path) {
      for (const route of this.routes) {
        const answer = route(request);
        if (answer) return await answer;
      }
      return options.fallback ? await options.fallback(request) : textResponse(404, "Not found");
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return textResponse(426, `${options.path} is a WebSocket endpoint: upgrade required`);
    }
    if (!originAllowed(request, options.allowedOrigins)) {
      ctx.count("bad-origin");
      return textResponse(403, "Unauthorized origin");
    }
    const slot = ctx.admission.reserve(remoteIp, () => this.#handshakeExpired(remoteIp));
    if (typeof slot === "string") return this.#refuse(slot);
    admit.slot = slot;
    const selected = selectDialect(url.searchParams, options.dialects);
    if (selected === null) {
      return textResponse(
        400,
        "Bad request: the query parameter client-id is required (a non-blank string of at most 128 characters)",
      );
    }
    const packerName = url.searchParams.get("packer") ?? options.packers[0].name;
    const { clientId, dialect } = selected;
    const packer = selected.packer ?? this.#packers.get(packerName);
    if (!packer) {
      return textResponse(
        400,
        `Bad request: unknown packer ${JSON.stringify(packerName)}; this server speaks ${
          [...this.#packers.keys()].join(", ")
        }`,
      );
    }
    // A Rejection upgrades, then closes at once with its code: clients understand 4001/4003.
    const rejected = (r: Rejection): PendingUpgrade => ({
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
    });
    let uid: string;
    let handshakeData: Record<string, unknown> | undefined;
    const offered = offeredProtocols(request);
    const protocol = offered.includes(SUBPROTOCOL) ? SUBPROTOCOL : undefined;
    try {
      const auth = await options.authenticate(request, { clientId });
      if (auth instanceof Response) return auth;
      if (auth instanceof Rejection) return rejected(auth);
      uid = auth === null || auth === undefined || auth === "" ? NIL_UID : String(auth);
      if (uid !== NIL_UID && ctx.uids.connections(uid).size >= options.maxConnectionsPerUid) {
        ctx.count("too-many-connections");
        return textResponse(429, "Too many connections for this user");
      }
      handshakeData = await options.handshakeData(request, uid);
    } catch (e) {
      if (e instanceof Rejection) return rejected(e);
      options.onError(e, { where: "authenticate/handshakeData" });
      return textResponse(500, "Internal error while authenticating the connection");
    }
    // Only our own dialect speaks the wire transforms; Sente and original peers get plain frames.
    const wire = dialect === senteLiteDialect
      ? negotiateWire(options.wire, url.searchParams.get(WIRE_PARAM))
      : PLAIN;
    // Only our own dialect resumes; an unreadable value means no resume, as for older clients.
    const resume = dialect === senteLiteDialect && this.#resumable
      ? parseResumeParam(url.searchParams.get(RESUME_PARAM))
      : null;
    // The token, not the client id, is what resumes a session (a client id is no credential).
    const resumeToken = resume !== null ? readResumeToken(offered) : null;
    return {
      wire,
      resume,
      resumeToken,
      clientId,
      uid,
      packer,
      dialect,
      request,
      handshakeData,
      protocol,
      remoteIp,
      slot,
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
