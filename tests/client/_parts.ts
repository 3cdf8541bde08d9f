/** The shared parts of one client (lib/client/parts.ts) on a fake socket in virtual time. */
import { ChannelCursors } from "../../lib/client/channel_cursors.ts";
import { ClientHandlers } from "../../lib/client/handlers.ts";
import {
  type ClientOptions,
  resolveClientOptions,
  type WebSocketConstructor,
} from "../../lib/client/options.ts";
import type { ClientParts } from "../../lib/client/parts.ts";
import { PendingRequests } from "../../lib/client/requests.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { FakeWebSocket } from "./_fake_socket.ts";

/** The parts, their clock, what `onError` got, and what the handlers' replies sent. */
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
  const parts: ClientParts = {
    options: resolved,
    clientId: resolved.clientId,
    stats: {
      messagesIn: 0,
      messagesOut: 0,
      lateReplies: 0,
      attempts: 0,
      reconnects: 0,
      duplicatesDropped: 0,
      resent: 0,
    },
    requests: new PendingRequests(clock),
    handlers: new ClientHandlers((e) => errors.push(e), (value) => replies.push(value)),
    cursors: new ChannelCursors(),
    tel: resolved.telemetry.scope("test"),
  };
  return { parts, clock, errors, replies };
}

/** An open fake socket. */
export function openSocket(): FakeWebSocket {
  const ws = new FakeWebSocket("ws://h.test/chsk");
  ws.readyState = 1;
  return ws;
}
