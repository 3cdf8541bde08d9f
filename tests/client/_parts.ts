/** The shared parts of one client (lib/client/parts.ts) on a fake socket in virtual time. */
import {
  type ClientOptions,
  resolveClientOptions,
  type WebSocketConstructor,
} from "../../lib/client/options.ts";
import { type ClientParts, clientParts } from "../../lib/client/parts.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { FakeWebSocket } from "./_fake_socket.ts";

/** The parts, their clock, what `onError` got, and what server requests were answered. */
export interface TestParts {
  parts: ClientParts;
  clock: VirtualClock;
  errors: Error[];
  replies: unknown[];
}

/** Parts resolved from `options` (fake sockets, a virtual clock, errors recorded). */
export function testParts(options: ClientOptions = {}): TestParts {
  const clock = new VirtualClock();
  const errors: Error[] = [];
  const replies: unknown[] = [];
  const resolved = resolveClientOptions({
    WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
    clock,
    onError: (e) => errors.push(e),
    ...options,
  });
  const parts = clientParts(resolved, (value) => replies.push(value));
  return { parts, clock, errors, replies };
}

/** An open fake socket. */
export function openSocket(): FakeWebSocket {
  const ws = new FakeWebSocket("ws://h.test/chsk");
  ws.readyState = 1;
  return ws;
}
