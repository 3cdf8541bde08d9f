/**
 * `/health`, `/ready`, `/metrics` and `/stats` on a plain server (`createServer({ operations:
 * true })`), for apps that use `server.serve()`, `server.handler` or `server.bun()` rather than
 * the `./lifecycle` system. The same endpoints and bodies as lib/lifecycle/operations.ts, for a
 * system of one component, `server`: counts only, never uids, client ids, channel ids or
 * addresses (docs/lifecycle.md, "Endpoints").
 *
 * `/ready` answers 200 whenever the server answers: a plain server has no drain phase (the
 * `./lifecycle` system turns not ready before it closes connections).
 *
 * @module
 */
import { memoryUsage } from "../lifecycle/_runtime.ts";
import type { SystemHealth, SystemState, SystemView } from "../lifecycle/component.ts";
import { MetricsRegistry } from "../lifecycle/metrics.ts";
import {
  operationsHandler,
  type OperationsOptions,
  resolveOperationsOptions,
} from "../lifecycle/operations.ts";
import { ServerMetrics } from "../lifecycle/server_metrics.ts";
import type { Hub } from "./hub.ts";

/** Answers a request for one of its paths, else `undefined`. */
export type Route = (request: Request) => Promise<Response> | undefined;

/** The component key of the server in the bodies and the `server` metric label. */
const KEY = "server";

/** Checks the `operations` option; throws `TypeError` on a bad one. */
export function checkOperationsOption(option: unknown): void {
  if (option === undefined || typeof option === "boolean") return;
  if (typeof option !== "object" || option === null) {
    throw new TypeError(
      `ServerOptions.operations must be a boolean or OperationsOptions, got ${option}`,
    );
  }
  resolveOperationsOptions(option as OperationsOptions);
}

/** The operations endpoints of `hub`, or `null` when its `operations` option is off. */
export function operationsRoute(
  hub: Hub,
  option: boolean | OperationsOptions | undefined,
): Route | null {
  checkOperationsOption(option);
  if (option === undefined || option === false) return null;
  const metrics = new ServerMetrics(hub, { labels: { server: KEY } });
  const registry = new MetricsRegistry();
  registry.register(() => metrics.collect());
  const startedAt = Date.now();
  const state: SystemState = "running";
  const view: SystemView = {
    state,
    order: [KEY],
    started: [KEY],
    accepting: true,
    health: (): Promise<SystemHealth> =>
      Promise.resolve({
        ready: true,
        state,
        components: { [KEY]: { status: "up" } },
      }),
    stats: () => ({
      state,
      uptimeMs: Date.now() - startedAt,
      components: { [KEY]: metrics.stats() as unknown as Record<string, unknown> },
      memory: memoryUsage(),
    }),
    metrics: registry,
  };
  return operationsHandler(view, option === true ? {} : option);
}
