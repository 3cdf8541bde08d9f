/**
 * The sente-lite server as a component: creates the server, listens, mounts the operations
 * endpoints, reports its metrics and drains gracefully.
 *
 * Draining, in order:
 * 1. New WebSocket upgrades are refused with 503 (and on Bun the listener closes at once; on Deno
 *    it closes at the end, because `Deno.serve`'s shutdown also ends open WebSockets).
 * 2. It waits, up to the drain timeout, until every request in flight has been replied to, every
 *    socket's send queue is empty and every resuming client has acknowledged its numbered pushes
 *    (`stats().unacknowledged`): then clients have nothing left to answer when the close comes.
 * 3. It closes every connection with 1001 ("going away": clients reconnect elsewhere; what was
 *    queued before the close is still delivered first) and waits for the closes.
 *
 * @module
 */
import type { ServeHandle } from "../adapters/types.ts";
import type { ServerOptions } from "../server/options.ts";
import { createServer, type Server } from "../server/server.ts";
import type { Component, HealthCheck, PhaseOptions } from "./component.ts";
import { checkBuckets } from "./metrics.ts";
import {
  operationsHandler,
  type OperationsOptions,
  resolveOperationsOptions,
} from "./operations.ts";
import { listen, type Listener } from "./_runtime.ts";
import { ServerMetrics, type ServerMetricsStats } from "./server_metrics.ts";

/** Options of {@linkcode serverComponent}. */
export interface ServerComponentOptions {
  /**
   * TCP port; 0 picks a free one.
   * @default {0}
   */
  port?: number;
  /**
   * Interface to bind.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Options of the server it creates.
   * @default {no options: every ServerOptions default}
   */
  server?: ServerOptions;
  /**
   * Makes the server from `server` (e.g. `createDemoServer`).
   * @default {createServer}
   */
  create?: (options: ServerOptions) => Server;
  /**
   * Registers handlers on the new server before it listens.
   * @default {none}
   */
  setup?: (server: Server) => void | Promise<void>;
  /**
   * How long `stop()` waits for queues and requests in flight when no drain ran before, in ms.
   * @default {10000}
   */
  drainTimeoutMs?: number;
  /**
   * The operations endpoints on the server's port, or `false` for none.
   * @default {healthPath: "/health", readyPath: "/ready", metricsPath: "/metrics", statsPath: "/stats"}
   */
  operations?: OperationsOptions | false;
  /**
   * Upper bounds (seconds) of the request/reply latency histogram.
   * @default {DEFAULT_LATENCY_BUCKETS (1 ms … 10 s)}
   */
  latencyBuckets?: readonly number[];
}

/** What one drain did. */
export interface DrainReport {
  /** Connections open when the drain began. */
  connections: number;
  /** Milliseconds spent waiting for queues and requests in flight. */
  flushMs: number;
  /** Milliseconds from the 1001 closes until every connection had closed. */
  closeMs: number;
  /** `true` when the timeout ended the wait with work left. */
  timedOut: boolean;
  /** Bytes still queued when the connections were closed. */
  bufferedBytesLeft: number;
  /** Requests still unanswered when the connections were closed. */
  requestsInFlightLeft: number;
  /** Numbered pushes not yet acknowledged by their clients when the connections were closed. */
  unacknowledgedLeft: number;
}

/** The running server component. */
export interface ServerInstance extends ServeHandle {
  /** The server (handlers, sends, stats). */
  readonly server: Server;
  /** Its metrics. */
  readonly metrics: ServerMetrics;
  /** `true` once draining began: new upgrades are refused. */
  readonly draining: boolean;
  /** The last drain's report, once one ran. */
  readonly drainReport: DrainReport | null;
  /** Drains (see the module doc); resolves with what happened. */
  drain(timeoutMs: number): Promise<DrainReport>;
  /** Every figure as a plain object. */
  stats(): ServerMetricsStats;
}

const DEFAULTS = {
  port: 0,
  hostname: "127.0.0.1",
  drainTimeoutMs: 10_000,
};

/** Resolves after `ms`, or at once when `ms <= 0`. */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

function checkOptions(o: ServerComponentOptions): void {
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) {
    throw new RangeError(
      `ServerComponentOptions.port must be an integer from 0 to 65535, got ${o.port}`,
    );
  }
  if (
    o.drainTimeoutMs !== undefined && !(Number.isFinite(o.drainTimeoutMs) && o.drainTimeoutMs >= 0)
  ) {
    throw new RangeError(
      `ServerComponentOptions.drainTimeoutMs must be a number >= 0, got ${o.drainTimeoutMs}`,
    );
  }
  if (o.operations !== undefined && o.operations !== false) resolveOperationsOptions(o.operations);
  if (o.latencyBuckets !== undefined) {
    checkBuckets(o.latencyBuckets, "ServerComponentOptions.latencyBuckets");
  }
}

/**
 * The sente-lite server as a component of a system.
 *
 * @example
 * ```ts
 * import { serverComponent, startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({
 *   server: serverComponent({ port: 0, setup: (server) => void server.on("demo/echo", (msg) => msg.data) }),
 * });
 * await system.stop();
 * ```
 */
export function serverComponent(
  options?: ServerComponentOptions,
): Component<ServerInstance, ServerComponentOptions> {
  options ??= {};
  checkOptions(options);
  return {
    config: options,
    async start(config, context) {
      const o = { ...DEFAULTS, ...definedOnly(config) };
      const server = (o.create ?? createServer)(o.server ?? {});
      await o.setup?.(server);
      const metrics = new ServerMetrics(server, {
        latencyBuckets: o.latencyBuckets,
        labels: { server: context.key },
      });
      const ops = o.operations === false
        ? undefined
        : operationsHandler(context.system, o.operations);
      const wsPath = server.options.path;
      let draining = false;
      let listener: Listener;
      try {
        listener = listen(server, { port: o.port, hostname: o.hostname }, (request) => {
          const answer = ops?.(request);
          if (answer) return answer;
          if (draining && new URL(request.url).pathname === wsPath) {
            return new Response("Server shutting down: connect elsewhere\n", {
              status: 503,
              headers: { "retry-after": "1" },
            });
          }
          return undefined;
        });
      } catch (e) {
        metrics.dispose();
        throw e;
      }
      metrics.port = { requested: o.port, actual: listener.port, ephemeral: o.port === 0 };
      const unregister = context.metrics.register(() => metrics.collect());
      let resolveFinished!: () => void;
      const finished = new Promise<void>((r) => resolveFinished = r);
      let drainReport: DrainReport | null = null;
      let drainPromise: Promise<DrainReport> | undefined;
      let closePromise: Promise<void> | undefined;
      const host = listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname;

      const drain = (timeoutMs: number): Promise<DrainReport> =>
        drainPromise ??= (async () => {
          draining = true;
          listener.stopAccepting();
          const t0 = performance.now();
          const deadline = t0 + timeoutMs;
          const connections = server.stats().connections;
          // Unacknowledged pushes too: a client acknowledges what it received (at once every
          // `ackEvery`, else after `ackDelayMs`), and an ack that crosses the 1001 close makes
          // Deno's server socket drop the TCP connection at once (any data frame while closing
          // ends it, without waiting for the peer's close frame); the client's close echo then
          // meets a reset and it sees an abnormal close (code 0/1006) instead of 1001.
          const busy = () => {
            const s = server.stats();
            return metrics.requestsInFlight > 0 || s.bufferedBytes > 0 || s.unacknowledged > 0;
          };
          while (busy() && performance.now() < deadline) await sleep(5);
          const t1 = performance.now();
          const left = server.stats();
          drainReport = {
            connections,
            flushMs: Math.round(t1 - t0),
            closeMs: 0,
            timedOut: busy(),
            bufferedBytesLeft: left.bufferedBytes,
            requestsInFlightLeft: metrics.requestsInFlight,
            unacknowledgedLeft: left.unacknowledged,
          };
          server.closeAll(1001, "server shutting down");
          // Closes complete in a round trip; bound the wait by what is left, at least 1 s.
          const closeDeadline = Math.max(deadline, t1 + 1000);
          while (server.stats().connections > 0 && performance.now() < closeDeadline) {
            await sleep(5);
          }
          drainReport.closeMs = Math.round(performance.now() - t1);
          return drainReport;
        })();

      const instance: ServerInstance = {
        server,
        metrics,
        hostname: listener.hostname,
        port: listener.port,
        url: `ws://${host}:${listener.port}${wsPath}`,
        finished,
        get draining() {
          return draining;
        },
        get drainReport() {
          return drainReport;
        },
        drain,
        stats: () => metrics.stats(),
        close: () =>
          closePromise ??= (async () => {
            try {
              await drain(o.drainTimeoutMs);
              await listener.close();
              await server.leaveCluster(); // its uids leave the other nodes' presence now
            } finally {
              unregister();
              metrics.dispose();
              resolveFinished();
            }
          })(),
      };
      return instance;
    },
    drain: (instance: ServerInstance, { timeoutMs }: PhaseOptions) => instance.drain(timeoutMs),
    stop: (instance: ServerInstance) => instance.close(),
    health: (instance: ServerInstance): HealthCheck => {
      const s = instance.server.stats();
      const c = instance.server.cluster();
      // A node whose backplane link is down still serves its own clients: ready, link shown.
      const backplane = c.clustered
        ? { backplane: { nodeId: c.nodeId, link: c.link, nodes: c.nodes } }
        : {};
      return {
        ok: !instance.draining,
        detail: {
          connections: s.connections,
          port: instance.port,
          draining: instance.draining,
          ...backplane,
        },
      };
    },
    stats: (instance: ServerInstance) => ({ ...instance.stats() }),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
