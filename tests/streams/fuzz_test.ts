/**
 * A hostile peer sending random and half-valid stream frames: `receive` never throws, and the
 * mux never holds more than its bounds (streams, unread bytes per stream).
 */
import assert from "node:assert/strict";
import {
  encodeCancel,
  encodeCredit,
  encodeData,
  encodeEnd,
  encodeOpen,
  encodeResume,
} from "../../lib/streams/frames.ts";
import type { IncomingStream } from "../../lib/streams/incoming.ts";
import { StreamMux } from "../../lib/streams/mux.ts";
import { StreamBudget } from "../../lib/streams/options.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { bytes } from "./_pair.ts";

function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

Deno.test("StreamMux.receive() survives 20 000 random frames within its bounds", () => {
  const windowBytes = 4096;
  const maxIncomingStreams = 4;
  const budget = new StreamBudget(3);
  const clock = new VirtualClock();
  const streams: IncomingStream[] = [];
  const errors: unknown[] = [];
  const mux = new StreamMux({
    side: "server",
    windowBytes,
    maxIncomingStreams,
    maxStreamBytes: 50_000,
    budget,
    clock,
    idleTimeoutMs: 500,
    onStream: (s) => {
      streams.push(s);
      s.accept();
    },
    onError: (e) => errors.push(e),
  });
  let out = 0;
  mux.attach({ send: () => void out++, bufferedAmount: 0 });
  const own = new StreamMux({ side: "server" }); // outgoing streams get hostile credit too
  own.attach({ send: () => {}, bufferedAmount: 0 });
  const outgoing = [0, 1, 2].map(() => own.open("a/b", bytes(100_000)));
  const rnd = prng(42);
  const int = (n: number) => Math.floor(rnd() * n);
  const big = () => [0, 1, 4096, 2 ** 32, 2 ** 53 - 1][int(5)] + int(3);
  for (let i = 0; i < 20_000; i++) {
    const id = 1 + 2 * int(12);
    let frame: Uint8Array;
    switch (int(8)) {
      case 0:
        frame = encodeOpen(id, "x/y", rnd() < 0.5 ? undefined : big(), rnd() < 0.3, bytes(int(8)));
        break;
      case 1:
      case 2:
        frame = encodeData(id, rnd() < 0.7 ? int(4) * 1024 : big(), bytes(int(2048)));
        break;
      case 3:
        frame = encodeEnd(id, big(), rnd() < 0.5 ? bytes(32) : undefined);
        break;
      case 4:
        frame = encodeCancel(id, "stream-cancelled", "x");
        break;
      case 5:
        frame = encodeResume(id, big(), int(100), big() + 100);
        break;
      case 6:
        frame = encodeCredit(2 * int(4), int(10), big() + 10);
        break;
      default: {
        frame = bytes(1 + int(40), i);
        frame[0] = 0x10 + int(7);
      }
    }
    mux.receive(frame);
    own.receive(frame);
    if (i % 500 === 0) clock.tick(600);
    const stats = mux.stats();
    assert.ok(stats.incoming <= Math.min(maxIncomingStreams, budget.maxStreams));
    assert.ok(budget.active <= budget.maxStreams && budget.active >= 0);
  }
  for (const s of streams) assert.ok(s.maxQueued <= windowBytes, `${s.maxQueued}`);
  assert.ok(mux.stats().protocolErrors > 0 && out > 0 && streams.length > 0);
  assert.ok(outgoing.every((o) => o.state === "failed"), "hostile credit failed our streams");
  mux.close();
  assert.equal(budget.active, 0, "every slot came back");
});
