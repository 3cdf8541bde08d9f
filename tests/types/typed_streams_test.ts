/**
 * Typed streams: the `streams` section of an `EventMap` types `client.upload()`,
 * `client.openStream()` and `server.onStream()` (metadata and reply); downloads take the
 * `clientToServer` ids. Every `@ts-expect-error` line must be a type error (the suite type-checks
 * this file); the test at the end runs one typed upload over a real socket.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "../../server.ts";
import { type Client, connect } from "../../client.ts";
import { clientStreams } from "../../client_streams.ts";
import type { EventMap, PushStreamId, PushStreamMeta, StreamMeta, StreamReply } from "../../mod.ts";

interface Files extends EventMap {
  clientToServer: {
    "files/download": { data: { id: string } };
  };
  streams: {
    "files/upload": { meta: { name: string }; reply: { id: string; bytes: number } };
    "files/raw": { reply: number };
  };
  pushStreams: {
    "logs/tail": { meta: { file: string; lines: number } };
    "logs/raw": Record<never, never>;
  };
}

/** Only type-checked: never called. */
function _server(server: Server<Files>): void {
  server.onStream("files/upload", (msg) => {
    const name: string = msg.meta.name;
    return { id: name, bytes: 0 };
  });
  server.onStream("files/upload", () => Promise.resolve({ id: "x", bytes: 1 }));
  server.onStream("files/raw", () => 1);
  // @ts-expect-error the reply is { id; bytes }
  server.onStream("files/upload", () => "done");
  // @ts-expect-error meta.name is a string
  server.onStream("files/upload", (msg) => msg.meta.name.toFixed());
  // @ts-expect-error not a stream
  server.onStream("files/download", () => {});
}

/** Only type-checked: never called. Push streams: `streamTo`, `streamToChannel`, `onStream`. */
async function _push(server: Server<Files>, client: Client<Files>): Promise<void> {
  const body = new Uint8Array(1);
  await server.streamTo("c1", "logs/tail", body, { meta: { file: "a.log", lines: 2 } });
  await server.streamTo("c1", "logs/raw", body, { meta: "anything" });
  await server.streamToChannel("room/1", "logs/tail", body, { meta: { file: "a", lines: 1 } });
  // @ts-expect-error meta.lines is a number
  await server.streamTo("c1", "logs/tail", body, { meta: { file: "a.log", lines: "2" } });
  // @ts-expect-error not a push stream (an upload's id)
  await server.streamTo("c1", "files/upload", body);
  // @ts-expect-error meta.file is a string
  await server.streamToChannel("room/1", "logs/tail", body, { meta: { file: 1, lines: 1 } });
  // @ts-expect-error not a push stream
  await server.streamToChannel("room/1", "logs/nope", body);
  client.onStream("logs/tail", (stream, meta) => {
    const file: string = meta.file;
    const lines: number = meta.lines;
    void stream.pipeTo(new WritableStream()), file, lines;
  });
  client.onStream("logs/raw", (_stream, meta) => meta satisfies unknown);
  // @ts-expect-error meta.file is a string
  client.onStream("logs/tail", (_stream, meta) => meta.file.toFixed());
  // @ts-expect-error not a push stream (an upload's id)
  client.onStream("files/upload", () => {});
}

/** Only type-checked: never called. */
async function _client(client: Client<Files>): Promise<void> {
  const body = new Uint8Array(1);
  const reply: { id: string; bytes: number } = await client.upload("files/upload", body, {
    meta: { name: "a.txt" },
  });
  const n: number = await client.upload("files/raw", body);
  // @ts-expect-error meta.name is a string
  await client.upload("files/upload", body, { meta: { name: 1 } });
  // @ts-expect-error the reply is { id; bytes }
  const bad: string = await client.upload("files/upload", body);
  // @ts-expect-error not a stream
  await client.upload("files/download", body);
  client.openStream("files/upload", { meta: { name: "b" } });
  // @ts-expect-error not a stream
  client.openStream("files/nope");
  const readable: ReadableStream<Uint8Array> = await client.download("files/download", { id: "x" });
  // @ts-expect-error data is { id: string }
  await client.download("files/download", { id: 1 });
  // @ts-expect-error not a client→server event
  await client.download("files/upload");
  void reply, n, bad, readable;
}

/** Untyped use: any id, `unknown` metadata and replies. */
async function _untyped(): Promise<void> {
  const server = createServer();
  server.onStream("any/id", (msg) => msg.meta satisfies unknown);
  const client = connect("ws://127.0.0.1:1/chsk", { streams: clientStreams() });
  const reply: unknown = await client.upload("any/id", new Uint8Array(1), { meta: 42 });
  // @ts-expect-error the reply is unknown
  (await client.upload("any/id", new Uint8Array(1))).ok;
  const meta: StreamMeta<Files, "files/raw"> = "anything";
  const r: StreamReply<Files, "files/raw"> = 1;
  await server.streamTo("c1", "any/id", new Uint8Array(1), { meta: { any: 1 } });
  client.onStream("any/id", (_stream, pushMeta) => pushMeta satisfies unknown);
  // @ts-expect-error untyped push metadata is unknown
  client.onStream("any/id", (_stream, pushMeta) => pushMeta.file);
  const pushed: PushStreamMeta<Files, "logs/tail"> = { file: "a", lines: 1 };
  const pushId: PushStreamId<Files> = "logs/raw";
  // @ts-expect-error not a push stream id
  const badId: PushStreamId<Files> = "files/upload";
  void reply, meta, r, pushed, pushId, badId;
}
void _server, _client, _push, _untyped;

Deno.test("typed streams: a typed upload's metadata and reply over a real socket", async () => {
  const server = createServer<Files>({ onError: () => {} });
  server.onStream("files/upload", async (msg) => {
    let bytes = 0;
    for await (const chunk of msg.stream) bytes += chunk.byteLength;
    return { id: msg.meta.name, bytes };
  });
  const handle = await server.serve({ port: 0 });
  const client = connect<Files>(handle.url, { streams: clientStreams() });
  try {
    await client.ready;
    const reply = await client.upload("files/upload", new Uint8Array(100_000), {
      meta: { name: "a.txt" },
    });
    assert.deepEqual(reply, { id: "a.txt", bytes: 100_000 });
    // A typed push stream: the metadata arrives as sent.
    const pushed = new Promise<[number, { file: string; lines: number }]>((resolve) => {
      client.onStream("logs/tail", async (stream, meta) => {
        resolve([(await new Response(stream).arrayBuffer()).byteLength, meta]);
      });
    });
    const connId = server.connections()[0]?.id;
    assert.ok(connId);
    await server.streamTo(connId, "logs/tail", new Uint8Array(5000), {
      meta: { file: "a.log", lines: 3 },
    });
    assert.deepEqual(await pushed, [5000, { file: "a.log", lines: 3 }]);
  } finally {
    client.close();
    await handle.close();
  }
});
