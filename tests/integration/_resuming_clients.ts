/**
 * Helpers of the resume and delivery tests that run library clients on real sockets: a WebSocket
 * that records the sockets a client made, closing clients, and auditing what arrived.
 */
import type { Client, WebSocketConstructor } from "../../client.ts";
import { until } from "../_server.ts";

/** A WebSocket constructor that pushes every socket it makes onto `sockets` (to drop them). */
export function recordingWebSocket(sockets: WebSocket[]): WebSocketConstructor {
  return class extends WebSocket {
    constructor(u: string | URL, p?: string | string[]) {
      super(u, p);
      sockets.push(this);
    }
  };
}

/** Lost, duplicated and out-of-order counts of a received sequence that should be 1..n. */
export function audit(
  got: number[],
  n: number,
): { lost: number; duplicated: number; reordered: number } {
  const seen = new Set<number>();
  let duplicated = 0;
  let reordered = 0;
  let last = 0;
  for (const x of got) {
    if (seen.has(x)) duplicated++;
    else seen.add(x);
    if (x < last) reordered++;
    last = Math.max(last, x);
  }
  let lost = 0;
  for (let i = 1; i <= n; i++) if (!seen.has(i)) lost++;
  return { lost, duplicated, reordered };
}

/** Closes `clients` and waits until every one is `closed`. */
export async function closeClients(clients: Client[]): Promise<void> {
  for (const c of clients) c.close();
  await until(() => clients.every((c) => c.state === "closed"), "clients closed", 5000);
}
