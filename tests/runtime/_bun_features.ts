/**
 * The Bun side of `bun_features_test.ts`: under Bun, `server.serve()` serves the client bundle
 * (built with Bun.build) with its ETag and 304, the operations endpoints, rejects an upgrade with
 * 4001, and runs `server.join` and presence with the real client. Prints one JSON line, exits 0.
 */
import process from "node:process";
import { connect, onPresence, presence } from "../../client.ts";
import { createServer, reject } from "../../server.ts";

const watchdog = setTimeout(() => {
  console.error("_bun_features: no result within 20 s");
  process.exit(3);
}, 20_000);

try {
  const server = createServer({
    onError: () => {},
    operations: true,
    presence: ["room"],
    authenticate: (req) => new URL(req.url).searchParams.get("uid") ?? reject(4001, "who are you"),
  });
  const handle = await server.serve({ port: 0 });
  const http = `http://127.0.0.1:${handle.port}`;
  const script = await fetch(`${http}/chsk/client.js`);
  const code = await script.text();
  const etag = script.headers.get("etag");
  const revalidated = await fetch(`${http}/chsk/client.js`, {
    headers: { "if-none-match": etag ?? "" },
  });
  const health = await fetch(`${http}/health`);
  const rejected = await new Promise<{ code: number; reason: string }>((resolve) => {
    const ws = new WebSocket(`${handle.url}?client-id=x`);
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  const a = connect(handle.url, { params: { uid: "alice" }, onError: () => {} });
  const b = connect(handle.url, { params: { uid: "bob" }, onError: () => {} });
  await Promise.all([a.ready, b.ready]);
  const joined = new Promise((r) => a.on("sente-lite/subscribed", r));
  server.join({ uid: "alice" }, "room");
  await joined;
  const heard = new Promise((r) => onPresence(a, "room", r));
  await b.subscribe("room", () => {});
  const join = await heard;
  const members = (await presence(b, "room")).map((m) => m.uid).sort();
  console.log(JSON.stringify({
    runtime: "bun",
    script: { status: script.status, bytes: code.length, etag, revalidated: revalidated.status },
    health: health.status,
    rejected,
    channels: a.channels(),
    join,
    members,
  }));
  a.close();
  b.close();
  await handle.close();
  clearTimeout(watchdog);
  process.exit(0);
} catch (e) {
  console.error(e);
  process.exit(1);
}
