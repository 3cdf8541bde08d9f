/**
 * The demo server: the showcase page at `/` (names, rooms with presence, resume, request/reply,
 * a server→client request, the wire savings chart), the admin page at `/admin` when an admin token
 * is set, the client bundles at `/client.js` and `/client-wire.js`, `/health`, and the events the
 * original demo had (`demo/echo`, `demo/broadcast`, open channels for anonymous clients).
 *
 * Who is who: `?name=…` in the upgrade makes the name the uid (a refused name closes with 4001 and
 * a reason the page shows); `?admin=<token>` is the admin page; no parameter is anonymous
 * (`sente/nil-uid`), as the original demo and its tests use it.
 *
 * @module
 */
import { createServer, type Server } from "../server/server.ts";
import { NIL_UID } from "../server/auth.ts";
import type { ServerOptions } from "../server/options.ts";
import { reject } from "../server/rejection.ts";
import { bundleClient, bundleModule } from "./bundle.ts";
import { demoPage } from "./page.ts";
import { adminPage } from "./admin_page.ts";
import { ADMIN_STATS_CHANNEL, DEMO_STATS_CHANNEL, statsFeed } from "./stats_feed.ts";

/** Options of the demo itself (next to the {@linkcode ServerOptions}). */
export interface DemoOptions {
  /**
   * The token of the admin page; without one `/admin` is off (404).
   * @default {undefined}
   */
  adminToken?: string;
}

/** The uid of admin connections (a name cannot contain `/`, so no user can take it). */
export const ADMIN_UID = "sente/admin";

/** A name: 1–24 letters, digits, spaces, `.`, `_` or `-`. */
const NAME = /^[\p{L}\p{N} _.-]{1,24}$/u;
/** A room name (the channel is `room:<name>`). */
const ROOM = /^[\p{L}\p{N}_-]{1,32}$/u;
const WIRE_BUNDLE_ENTRY = new URL("../../client_wire.ts", import.meta.url);

/** Makes the demo server (not listening yet). */
export function createDemoServer(options: ServerOptions = {}, demo: DemoOptions = {}): Server {
  const started = Date.now();
  const adminToken = demo.adminToken || undefined;
  const bundles = new Map<string, Promise<string>>();
  const bundleOf = (name: string, make: () => Promise<string>) => {
    if (!bundles.has(name)) bundles.set(name, make());
    return bundles.get(name)!;
  };
  const js = async (name: string, make: () => Promise<string>) => {
    try {
      return new Response(await bundleOf(name, make), {
        headers: { "content-type": "text/javascript; charset=utf-8" },
      });
    } catch (e) {
      bundles.delete(name);
      return new Response(`bundling ${name} failed: ${e}\n`, { status: 500 });
    }
  };
  const html = (body: string) =>
    new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
  const path = options.path ?? "/chsk";

  const server: Server = createServer({
    ...options,
    dialects: { original: true, ...options.dialects }, // the original sente-lite clients
    presence: options.presence ?? ["room:*"],
    authenticate: (request, context) => {
      const query = new URL(request.url).searchParams;
      const admin = query.get("admin");
      if (admin !== null) {
        if (adminToken === undefined) return reject(4003, "the admin page is off");
        return sameToken(admin, adminToken) ? ADMIN_UID : reject(4001, "wrong admin token");
      }
      const name = query.get("name");
      if (name === null) return options.authenticate?.(request, context) ?? null;
      const trimmed = name.trim();
      if (trimmed === "") return reject(4001, "pick a name first");
      return NAME.test(trimmed)
        ? trimmed
        : reject(4001, "a name is 1–24 letters, digits, spaces, dots, dashes or underscores");
    },
    authorizeChannel: (request) => {
      const { action, channel, uid } = request;
      if (channel.startsWith("admin:")) return action === "subscribe" && uid === ADMIN_UID;
      if (channel.startsWith("demo:")) return action === "subscribe";
      if (channel.startsWith("room:")) {
        // Pages subscribe; messages go through demo/say, which stamps the sender's name.
        return action === "subscribe" && uid !== NIL_UID && ROOM.test(channel.slice(5));
      }
      return options.authorizeChannel?.(request) ?? true;
    },
    onSubscribe: (event) => {
      if (event.channel === DEMO_STATS_CHANNEL || event.channel === ADMIN_STATS_CHANNEL) {
        feed.wake();
      }
      options.onSubscribe?.(event);
    },
    onUnsubscribe: (event) => {
      feed.check();
      options.onUnsubscribe?.(event);
    },
    fallback: async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return html(demoPage(path));
      if (pathname === "/admin" && adminToken !== undefined) return html(adminPage(path));
      if (pathname === "/client.js") return await js("client.js", bundleClient);
      if (pathname === "/client-wire.js") {
        return await js("client-wire.js", () => bundleModule(WIRE_BUNDLE_ENTRY));
      }
      if (pathname === "/health") {
        const s = server.stats();
        return Response.json({
          status: "ok",
          uptimeMs: Date.now() - started,
          connections: s.connections,
          uids: s.uids,
          channels: s.channels,
        });
      }
      return options.fallback?.(request) ?? new Response("Not found\n", { status: 404 });
    },
  });
  const feed = statsFeed(server);

  server.on("demo/echo", (msg) => {
    if (msg.reply) msg.reply(msg.data ?? null);
    else msg.send("demo/echo", msg.data);
  });
  server.on("demo/broadcast", (msg) => {
    server.broadcast("demo/broadcast", msg.data);
    return msg.reply ? { ok: true } : undefined;
  });
  server.on("demo/ping", () => ({ at: Date.now() }));
  server.on("demo/say", (msg) => {
    const { room, text } = (msg.data ?? {}) as { room?: unknown; text?: unknown };
    const channel = `room:${room}`;
    if (msg.uid === NIL_UID || !server.subscribers(channel).includes(msg.connId)) {
      return { error: "join the room first" };
    }
    const said = String(text ?? "").slice(0, 2000);
    if (said.trim() === "") return { error: "say something" };
    server.publish(channel, { uid: msg.uid, text: said, at: Date.now() });
    return { ok: true };
  });
  // A server→client request: the server asks the page, and tells it what it heard and how long
  // the answer took.
  server.on("demo/ask", async (msg) => {
    const asked = Date.now();
    try {
      const answer = await server.request(msg.connId, "demo/question", {
        text: `Hello ${msg.uid}, do you like sente-lite so far?`,
      }, { timeoutMs: 60_000 });
      return { answer, ms: Date.now() - asked };
    } catch (e) {
      // The page went away or never answered: nothing to report to anyone.
      return { answer: null, error: (e as Error).message, ms: Date.now() - asked };
    }
  });
  // Many pushes at once, repetitive enough to compress: the server batches and deflates them.
  server.on("demo/burst", (msg) => {
    const count = 20;
    const text = "sente-lite batches pushes and compresses frames. ".repeat(60);
    for (let i = 1; i <= count; i++) server.sendTo(msg.connId, "demo/burst", { i, count, text });
    return { sent: count };
  });
  return server;
}

/** Compares two tokens in time that does not depend on where they differ. */
function sameToken(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}
