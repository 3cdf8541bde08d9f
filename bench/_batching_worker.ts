/// <reference lib="deno.worker" />
/**
 * The client side of bench/batching.ts, in its own thread: connects with or without batching,
 * then either sends `total` 64-byte events in bursts (c2s) or counts pushes until `total` (s2c).
 */
import { connect } from "../client.ts";
import { wireTransforms } from "../client_wire.ts";
import { turn } from "./_turn.ts";

self.onmessage = async (e: MessageEvent) => {
  const { url, batching, direction, total, burst } = e.data as {
    url: string;
    batching: boolean;
    direction: "c2s" | "s2c";
    total: number;
    burst: number;
  };
  const client = connect(url, {
    wire: batching
      ? wireTransforms({ batching: true, compression: false, chunking: false })
      : false,
    resume: false,
    onError: () => {},
  });
  await client.ready;
  if (direction === "s2c") {
    let got = 0;
    client.on("bench/e", () => {
      if (++got === total) self.postMessage({ done: true });
    });
    self.postMessage({ ready: true });
    return;
  }
  self.postMessage({ ready: true });
  const data = { t: "x".repeat(24), n: 1 };
  for (let sent = 0; sent < total; sent += burst) {
    for (let i = 0; i < burst; i++) client.send("bench/e", data);
    await turn(); // a burst, then the event loop turns
  }
};
