/**
 * Test helpers: sockets with fake native topics (as Bun's `ws.subscribe` and `server.publish`)
 * and a Hub whose connections are opened over them.
 */
import assert from "node:assert/strict";
import type { Frame } from "../../lib/packers/packer.ts";
import type { ServerSocket } from "../../lib/server/socket.ts";
import type { Hub, PendingUpgrade } from "../../lib/server/hub.ts";
import { Connection } from "../../lib/server/connection.ts";
import type { ServerContext } from "../../lib/server/context.ts";
import type { FanOutQueue } from "../../lib/server/fanout.ts";
import { jsonPacker } from "../../lib/packers/json.ts";
import { senteLiteDialect } from "../../lib/dialects/sente_lite.ts";

/** A socket with fake native topics: records publishes, delivers to subscribers. */
export class TopicSocket implements ServerSocket {
  sent: string[] = [];
  topics = new Set<string>();
  /** How often `bufferedAmount` was read. */
  reads = 0;
  #buffered = 0;
  closedWith: number | null = null;
  constructor(readonly registry: Set<TopicSocket>, readonly publishes: string[]) {
    registry.add(this);
  }
  get bufferedAmount(): number {
    this.reads++;
    return this.#buffered;
  }
  set bufferedAmount(n: number) {
    this.#buffered = n;
  }
  send(frame: Frame): void {
    this.sent.push(String(frame));
  }
  close(code?: number): void {
    this.closedWith = code ?? 1005;
  }
  subscribe(topic: string): void {
    this.topics.add(topic);
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }
  publish(topic: string, frame: Frame): void {
    this.publishes.push(topic);
    for (const s of this.registry) if (s.topics.has(topic)) s.sent.push(String(frame));
  }
}

/** Opens connections on `hub` over TopicSockets sharing one registry (native topics) and publish log. */
export function topicHub(hub: Hub) {
  const registry = new Set<TopicSocket>();
  const publishes: string[] = [];
  const open = async (query: string) => {
    const req = new Request(`http://127.0.0.1/chsk?${query}`, {
      headers: { upgrade: "websocket" },
    });
    const pending = await hub.prepare(req);
    assert.ok(!(pending instanceof Response));
    const socket = new TopicSocket(registry, publishes);
    const sink = hub.open(pending as PendingUpgrade, socket);
    socket.sent.length = 0; // the handshake
    return { socket, sink };
  };
  return { publishes, open };
}

/** A JSON connection `c1` over a TopicSocket of its own, opened on `queue`. */
export function topicConn(ctx: ServerContext, queue: FanOutQueue) {
  const publishes: string[] = [];
  const socket = new TopicSocket(new Set(), publishes);
  const c = openOn(ctx, queue, socket, "c1");
  return { c, socket, publishes };
}

/** A JSON connection `id` over `socket`, opened on `queue`. */
export function openOn(
  ctx: ServerContext,
  queue: FanOutQueue,
  socket: ServerSocket,
  id: string,
): Connection {
  const request = new Request("http://localhost/chsk");
  const c = new Connection(
    id,
    "u",
    id,
    request,
    jsonPacker,
    senteLiteDialect,
    socket,
    0,
    ctx.stats,
  );
  queue.opened(c);
  return c;
}
