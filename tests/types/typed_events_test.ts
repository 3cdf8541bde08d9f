/**
 * Typed events: the suite type-checks this file (`deno test` checks local files), so every
 * `@ts-expect-error` line must be a type error or the check fails ("unused directive"). The
 * test at the end runs one typed round trip in both directions over a real socket.
 */
import assert from "node:assert/strict";
import { createServer, type EventMessage, type Server } from "../../server.ts";
import { type Client, connect, type StateChange } from "../../client.ts";
import type { EventMap } from "../../mod.ts";

interface Chat extends EventMap {
  clientToServer: {
    "chat/say": { data: { room: string; text: string }; reply: { ok: boolean } };
    "chat/ping": { reply: string };
  };
  serverToClient: {
    "chat/notice": { data: string };
    "chat/confirm": { data: { question: string }; reply: boolean };
  };
  channels: {
    lobby: { count: number };
    [room: `room/${string}`]: { from: string; text: string };
  };
}

/** Only type-checked: never called. */
function _server(server: Server<Chat>): void {
  server.on("chat/say", (msg) => {
    const text: string = msg.data.text;
    msg.reply?.({ ok: text !== "" });
    return { ok: true };
  });
  server.on("chat/ping", () => "pong");
  // @ts-expect-error the reply must be { ok: boolean }
  server.on("chat/say", () => ({ ok: "yes" }));
  // @ts-expect-error data.text is a string
  server.on("chat/say", (msg) => msg.data.text.toFixed());
  // @ts-expect-error not a client→server event
  server.on("chat/unknown", () => {});
  server.on("*", (msg) => console.log(msg.data));
  server.on("chsk/uidport-open", (msg: EventMessage) => console.log(msg.uid));

  server.send("alice", "chat/notice", "hello");
  server.sendTo("conn-1", "chat/notice", "hello");
  server.broadcast("chat/notice", "hello", { except: ["conn-1"] });
  // @ts-expect-error notices are strings
  server.send("alice", "chat/notice", 42);
  // @ts-expect-error not a server→client event
  server.broadcast("chat/say", { room: "r", text: "t" });
  const answer: Promise<boolean> = server.request("conn-1", "chat/confirm", { question: "ok?" });
  // @ts-expect-error the reply is a boolean
  const wrong: Promise<string> = server.request("conn-1", "chat/confirm", { question: "ok?" });

  server.publish("lobby", { count: 3 });
  server.publish("room/42", { from: "bob", text: "hi" });
  // @ts-expect-error room messages have `from` and `text`
  server.publish("room/42", { count: 3 });
  // @ts-expect-error no such channel
  server.publish("elsewhere", {});
  void answer, wrong;
}

/** Only type-checked: never called. */
async function _client(client: Client<Chat>): Promise<void> {
  const reply: { ok: boolean } = await client.request("chat/say", { room: "r", text: "hi" });
  const pong: string = await client.request("chat/ping");
  // @ts-expect-error text is missing
  await client.request("chat/say", { room: "r" });
  // @ts-expect-error the reply is { ok: boolean }
  const bad: string = await client.request("chat/say", { room: "r", text: "hi" });
  client.send("chat/say", { room: "r", text: "hi" });
  // @ts-expect-error not a client→server event
  client.send("chat/notice", "x");

  client.on("chat/notice", (text) => console.log(text.toUpperCase()));
  // @ts-expect-error notices are strings
  client.on("chat/notice", (text: number) => console.log(text));
  // @ts-expect-error not a server→client event
  client.on("chat/say", () => {});
  client.on("chsk/state", (change) => console.log(change.to satisfies StateChange["to"]));
  client.on("*", (data) => console.log(data));
  client.onRequest("chat/confirm", ({ question }) => question.length > 0);
  // @ts-expect-error the reply is a boolean
  client.onRequest("chat/confirm", () => "yes");

  await client.subscribe("room/1", ({ from, text }) => console.log(from, text));
  await client.subscribe("lobby", ({ count }) => console.log(count + 1));
  // @ts-expect-error no such channel
  await client.subscribe("elsewhere", () => {});
  await client.publish("room/1", { from: "me", text: "hi" });
  // @ts-expect-error lobby data is { count: number }
  await client.publish("lobby", { text: "hi" });
  void reply, pong, bad;
}

/** Untyped use keeps today's types: any id, `unknown` data and replies. */
async function _untyped(): Promise<void> {
  const server = createServer();
  server.on("anything", (msg) => {
    const data: unknown = msg.data;
    // @ts-expect-error data is unknown
    msg.data.text;
    return data;
  });
  server.send("alice", "any/id", { anything: true });
  server.publish("any-channel", 1);
  const client = connect("ws://127.0.0.1:1/chsk");
  const reply: unknown = await client.request("any/id", 1);
  // @ts-expect-error the reply is unknown
  (await client.request("any/id")).ok;
  client.on("any/id", (data: unknown) => console.log(data));
  await client.subscribe("any", (data) => console.log(data satisfies unknown));
  void reply;
}
void _server, _client, _untyped;

Deno.test("typed events: a typed request in each direction and a typed channel", async () => {
  const server = createServer<Chat>({ onError: () => {} });
  server.on("chat/say", (msg) => ({ ok: msg.data.text === "hi" }));
  const handle = await server.serve({ port: 0 });
  const client = connect<Chat>(handle.url);
  try {
    await client.ready;
    client.onRequest("chat/confirm", ({ question }) => question === "ok?");
    const reply = await client.request("chat/say", { room: "r", text: "hi" });
    assert.deepEqual(reply, { ok: true });
    const got = Promise.withResolvers<{ from: string; text: string }>();
    await client.subscribe("room/1", (data) => got.resolve(data));
    server.publish("room/1", { from: "server", text: "welcome" });
    assert.deepEqual(await got.promise, { from: "server", text: "welcome" });
    const [conn] = server.connections();
    assert.equal(await server.request(conn.id, "chat/confirm", { question: "ok?" }), true);
  } finally {
    client.close();
    await handle.close();
  }
});
