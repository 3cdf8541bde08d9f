/**
 * Chat example: rooms, presence, a typing indicator and the last 50 messages of a room on join.
 *
 * Run it with `deno task example:chat` and open http://127.0.0.1:3000/ in two windows.
 *
 * - The name typed on the page is the uid: the page connects with `?name=…` and `authenticate`
 *   takes it (a real app would check a password, a session cookie or a token here).
 * - A room is the channel `room:<name>`. Pages subscribe to it; only the server publishes there
 *   (chat/say and chat/typing go through the server, which stamps the sender's uid and keeps the
 *   history).
 * - Presence is kept here, by the example: the library has no presence API yet, and a server
 *   handler does not see subscribes and unsubscribes, so a page says `chat/join` after it
 *   subscribed and `chat/leave` before it unsubscribes, and `onClose` removes closed connections.
 *
 * @module
 */
import { createServer, NIL_UID, type Server } from "../../server.ts";
import { bundleAtStartup, html, notFound, runExample, script } from "../_shared/serve.ts";

/** Messages a room keeps and sends to a page that joins. */
export const HISTORY_SIZE = 50;

/** One chat message, as stored and as published. */
export interface ChatMessage {
  uid: string;
  text: string;
  at: number;
}

const NAME = /^[\p{L}\p{N} _.-]{1,32}$/u;

/** Makes the chat server (not listening yet). */
export function createChatServer(): Server {
  const page = bundleAtStartup(new URL("./page.ts", import.meta.url));
  const history = new Map<string, ChatMessage[]>(); // room → its last HISTORY_SIZE messages
  const members = new Map<string, Map<string, string>>(); // room → connection id → uid

  /** Who is in `room`: each uid once, however many tabs it has open there. */
  const who = (room: string) => [...new Set(members.get(room)?.values())].sort();
  const announce = (room: string) => server.publish(`room:${room}`, { presence: who(room) });
  const leave = (room: string, connId: string) => {
    if (members.get(room)?.delete(connId)) announce(room);
  };

  const server = createServer({
    authenticate: (request) => {
      const name = new URL(request.url).searchParams.get("name")?.trim() ?? "";
      return NAME.test(name) ? name : null; // null: anonymous (NIL_UID), who may not chat
    },
    // Pages may subscribe to rooms; publishing is the server's job (see chat/say).
    authorizeChannel: ({ action, channel, connection }) =>
      action === "subscribe" && channel.startsWith("room:") && connection.uid !== NIL_UID,
    onClose: (connection) => {
      for (const room of members.keys()) leave(room, connection.id);
    },
    fallback: (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return Promise.resolve(html(PAGE));
      if (pathname === "/page.js") return script(page);
      return Promise.resolve(notFound(request));
    },
  });

  /** The room a request is about, if the sender is subscribed to it. */
  const roomOf = (data: unknown, connId: string): string | null => {
    const room = (data as { room?: unknown } | null)?.room;
    if (typeof room !== "string" || room === "") return null;
    return server.subscribers(`room:${room}`).includes(connId) ? room : null;
  };

  server.on("chat/join", (msg) => {
    const room = roomOf(msg.data, msg.connId);
    if (room === null) return { error: "subscribe to the room first" };
    if (!members.has(room)) members.set(room, new Map());
    members.get(room)!.set(msg.connId, msg.uid);
    announce(room);
    return { history: history.get(room) ?? [], presence: who(room) };
  });

  server.on("chat/leave", (msg) => {
    const room = (msg.data as { room?: unknown } | null)?.room;
    if (typeof room === "string") leave(room, msg.connId);
    return { ok: true };
  });

  server.on("chat/say", (msg) => {
    const room = roomOf(msg.data, msg.connId);
    const text = String((msg.data as { text?: unknown }).text ?? "").slice(0, 2000);
    if (room === null || text.trim() === "") return { error: "join a room and say something" };
    const message: ChatMessage = { uid: msg.uid, text, at: Date.now() };
    const kept = history.get(room) ?? [];
    kept.push(message);
    history.set(room, kept.slice(-HISTORY_SIZE));
    server.publish(`room:${room}`, { message });
    return { ok: true };
  });

  server.on("chat/typing", (msg) => {
    const room = roomOf(msg.data, msg.connId);
    if (room !== null) {
      server.publish(`room:${room}`, { typing: msg.uid }, { except: [msg.connId] });
    }
  });

  return server;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sente-lite chat</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; }
  #chat { display: none; grid-template-columns: 1fr 10rem; gap: 1rem; }
  #messages { list-style: none; padding: 0; height: 20rem; overflow-y: auto; border: 1px solid #ccc; }
  #messages li { padding: .2rem .5rem; } #members { padding-left: 1rem; }
  #typing { color: #888; min-height: 1.2em; }
</style></head>
<body>
  <h1>sente-lite chat</h1>
  <form id="login">Your name <input id="name" required maxlength="32" autofocus>
    Room <input id="room" value="lobby" required> <button>Join</button></form>
  <div id="chat">
    <div>
      <h2 id="title"></h2>
      <ul id="messages"></ul>
      <div id="typing"></div>
      <form id="say"><input id="text" autocomplete="off" size="50"> <button>Send</button></form>
    </div>
    <div><h3>In the room</h3><ul id="members"></ul><p>Connection: <b id="state">-</b></p></div>
  </div>
  <script type="module" src="/page.js"></script>
</body></html>
`;

if (import.meta.main) await runExample("chat", createChatServer());
