/**
 * The streams build every DATA frame in one reused buffer (`copiesOnSend`), which relies on
 * `WebSocket.send` having copied the bytes when it returns. This checks it on Deno's client and
 * server sockets with a backlog (frames still queued when the buffer is overwritten); Bun's are
 * covered by `streams_bun_test.ts` (SHA-256 checked both ways with the reuse on).
 */
import assert from "node:assert/strict";

const FRAMES = 64;
const SIZE = 256 * 1024;

/** Sends FRAMES frames from one buffer, refilled with the frame's index after each send. */
function sendAll(socket: WebSocket): void {
  const buffer = new Uint8Array(SIZE);
  for (let i = 0; i < FRAMES; i++) {
    buffer.fill(i);
    socket.send(buffer);
  }
}

/** Resolves with the indexes of frames whose bytes are not all their index. */
function receiveAll(socket: WebSocket): Promise<number[]> {
  const bad: number[] = [];
  let n = 0;
  return new Promise((resolve) => {
    socket.onmessage = (e) => {
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      if (bytes.byteLength !== SIZE || bytes.some((b) => b !== n)) bad.push(n);
      if (++n === FRAMES) resolve(bad);
    };
  });
}

Deno.test("WebSocket.send copies the bytes on Deno, client and server side, with a backlog", async () => {
  let fromClient!: Promise<number[]>;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    fromClient = receiveAll(socket);
    socket.onopen = () => sendAll(socket);
    return response;
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
  ws.binaryType = "arraybuffer";
  const fromServer = receiveAll(ws);
  await new Promise((r) => ws.onopen = r);
  sendAll(ws);
  assert.ok(ws.bufferedAmount > SIZE, "frames were still queued when the buffer was refilled");
  assert.deepEqual(await fromServer, []);
  assert.deepEqual(await fromClient, []);
  const closed = new Promise((r) => ws.onclose = r);
  ws.close();
  await closed;
  await server.shutdown();
});
