/** A client on fake sockets in virtual time, recording its state changes and errors. */
import { type Client, connect } from "../../lib/client/client.ts";
import { STATE_EVENT, type StateChange } from "../../lib/client/types.ts";
import type { ClientOptions, UrlProvider, WebSocketConstructor } from "../../lib/client/options.ts";
import { VirtualClock } from "../../lib/util/clock.ts";
import { FakeWebSocket } from "./_fake_socket.ts";

export interface Harness {
  client: Client;
  clock: VirtualClock;
  changes: StateChange[];
  errors: Error[];
  /** `from→to` of every change so far. */
  path(): string[];
}

export function setup(options: ClientOptions = {}, url: UrlProvider = "ws://h.test/chsk"): Harness {
  FakeWebSocket.reset();
  const clock = new VirtualClock();
  const errors: Error[] = [];
  const client = connect(url, {
    WebSocket: FakeWebSocket as unknown as WebSocketConstructor,
    clock,
    onError: (e) => errors.push(e),
    ...options,
    reconnect: options.reconnect === false ? false : { jitter: 0, ...options.reconnect },
  });
  const changes: StateChange[] = [];
  client.on(STATE_EVENT, (c) => void changes.push(c as StateChange));
  return {
    client,
    clock,
    changes,
    errors,
    path: () => changes.map((c) => `${c.from}→${c.to}`),
  };
}

export { FakeWebSocket };
