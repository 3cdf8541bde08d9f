/**
 * The server component's drain waits for resuming clients to acknowledge their numbered pushes
 * before the 1001 close, so no `sente-lite/ack` crosses the close frame (on Deno a data frame
 * that reaches a closing server socket drops the TCP connection, and the client then sees an
 * abnormal close instead of 1001).
 */
import assert from "node:assert/strict";
import { connect } from "../../client.ts";
import { serverComponent, type ServerInstance, startSystem } from "../../lifecycle.ts";
import { until } from "../_server.ts";
import { withTimeout } from "../_util.ts";

const PUSHES = 3;

/** A system whose `test/push` handler pushes three numbered events to its sender. */
async function pushingSystem(closes: number[]) {
  const system = await startSystem({
    server: serverComponent({
      server: { onError: () => {}, onClose: (_conn, code) => void closes.push(code) },
      setup: (server) => {
        server.on("test/push", (msg) => {
          for (let i = 0; i < PUSHES; i++) msg.send("test/seq", i);
          return "pushed";
        });
      },
    }),
  });
  return { system, instance: system.instance<ServerInstance>("server") };
}

/** A client that records its pushes and its socket's close code. */
function recordingClient(url: string, ackDelayMs: number) {
  const seen: number[] = [];
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((r) => resolveClosed = r);
  class RecordingWebSocket extends WebSocket {
    constructor(u: string, protocols?: string | string[]) {
      super(u, protocols);
      this.addEventListener("close", (e) => resolveClosed(e.code));
    }
  }
  const client = connect(url, {
    WebSocket: RecordingWebSocket,
    reconnect: false,
    resume: { ackEvery: 1000, ackDelayMs },
    onError: () => {},
  });
  client.on("test/seq", (i) => void seen.push(i as number));
  return { client, seen, closed };
}

Deno.test("drain waits for the clients' acknowledgements, then closes with 1001 on both sides", async () => {
  const closes: number[] = [];
  const { system, instance } = await pushingSystem(closes);
  const { client, seen, closed } = recordingClient(instance.url, 50);
  try {
    await withTimeout(client.ready, 5000, "the handshake");
    assert.equal(await client.request("test/push", null), "pushed");
    const report = await withTimeout(instance.drain(5000), 6000, "the drain");
    assert.equal(report.timedOut, false);
    assert.equal(report.unacknowledgedLeft, 0);
    assert.equal(await withTimeout(closed, 5000, "the client's close"), 1001);
    assert.deepEqual(seen, [0, 1, 2]);
    // The server saw the client's close frame, not a dropped socket (1006).
    await until(() => closes.length === 1, "the server-side close");
    assert.deepEqual(closes, [1001]);
  } finally {
    client.close();
    await system.stop();
  }
});

Deno.test("drain gives up waiting for acknowledgements after its timeout and still closes with 1001", async () => {
  const closes: number[] = [];
  const { system, instance } = await pushingSystem(closes);
  // Its ack would come after a minute: the drain's timeout ends the wait.
  const { client, closed } = recordingClient(instance.url, 60_000);
  try {
    await withTimeout(client.ready, 5000, "the handshake");
    assert.equal(await client.request("test/push", null), "pushed");
    const report = await withTimeout(instance.drain(100), 5000, "the drain");
    assert.equal(report.timedOut, true);
    assert.equal(report.unacknowledgedLeft, PUSHES);
    assert.equal(await withTimeout(closed, 5000, "the client's close"), 1001);
  } finally {
    client.close();
    await system.stop();
  }
});
