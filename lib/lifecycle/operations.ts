/**
 * The operations endpoints of a system: `/health` (liveness), `/ready` (readiness), `/metrics`
 * (Prometheus text format) and `/stats` (the same figures as JSON).
 *
 * - `/health` answers 200 while the process serves (also while draining), 503 once stopped.
 * - `/ready` runs every component's health check and answers 200 only when the system is running,
 *   not draining, and every check passed; 503 otherwise. Both bodies list every component.
 *   Requests that arrive while the checks run share their result, so callers (anonymous ones
 *   included) cannot make the checks run more than once at a time.
 *
 * @module
 */
import type { SystemHealth, SystemState, SystemView } from "./component.ts";
import { type MetricFamily, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./metrics.ts";

/** Paths of the operations endpoints; `false` turns one off. */
export interface OperationsOptions {
  /**
   * Liveness.
   * @default {"/health"}
   */
  healthPath?: string | false;
  /**
   * Readiness.
   * @default {"/ready"}
   */
  readyPath?: string | false;
  /**
   * Prometheus metrics.
   * @default {"/metrics"}
   */
  metricsPath?: string | false;
  /**
   * Stats as JSON.
   * @default {"/stats"}
   */
  statsPath?: string | false;
}

/** Answers operations requests; `undefined` for other paths. */
export type OperationsHandler = (request: Request) => Promise<Response> | undefined;

const DEFAULTS: Required<OperationsOptions> = {
  healthPath: "/health",
  readyPath: "/ready",
  metricsPath: "/metrics",
  statsPath: "/stats",
};

const STATES: SystemState[] = ["starting", "running", "draining", "stopping", "stopped", "failed"];

/** Checks operations options; throws `TypeError` naming the bad key. */
export function resolveOperationsOptions(
  options: OperationsOptions = {},
): Required<OperationsOptions> {
  const o = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof OperationsOptions)[]) {
    const v = options[key];
    if (v === undefined) continue;
    if (v !== false && (typeof v !== "string" || !v.startsWith("/"))) {
      throw new TypeError(
        `OperationsOptions.${key} must be a path starting with "/" or false, got ${
          JSON.stringify(v)
        }`,
      );
    }
    o[key] = v;
  }
  return o;
}

/**
 * Families describing the system itself and the process.
 *
 * @example
 * ```ts
 * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({ greeting: { start: () => "hello" } });
 * import { renderPrometheus, systemFamilies } from "@sente-lite/sente-lite/lifecycle";
 *
 * console.log(renderPrometheus(systemFamilies(system)));
 * await system.stop();
 * ```
 */
export function systemFamilies(system: SystemView): MetricFamily[] {
  const stats = system.stats();
  const families: MetricFamily[] = [
    {
      name: "sente_lite_system_state",
      type: "gauge",
      help: "1 for the system's current lifecycle state.",
      samples: STATES.map((state) => ({
        labels: { state },
        value: state === stats.state ? 1 : 0,
      })),
    },
    {
      name: "sente_lite_system_accepting",
      type: "gauge",
      help: "1 while the system is running and not draining.",
      samples: [{ value: system.accepting ? 1 : 0 }],
    },
    {
      name: "sente_lite_system_uptime_seconds",
      type: "gauge",
      help: "Seconds since the system started.",
      samples: [{ value: stats.uptimeMs / 1000 }],
    },
  ];
  if (stats.memory) {
    const m = stats.memory;
    families.push({
      name: "sente_lite_process_memory_bytes",
      type: "gauge",
      help: "Process memory by kind (rss, heap_total, heap_used, external).",
      samples: [
        { labels: { kind: "rss" }, value: m.rss },
        { labels: { kind: "heap_total" }, value: m.heapTotal },
        { labels: { kind: "heap_used" }, value: m.heapUsed },
        { labels: { kind: "external" }, value: m.external },
      ],
    });
  }
  return families;
}

function json(status: number, body: unknown, head: boolean): Response {
  return new Response(head ? null : JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/**
 * Makes the handler of `system`'s operations endpoints.
 *
 * @example
 * ```ts
 * import { startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const system = await startSystem({ greeting: { start: () => "hello" } });
 * import { operationsHandler } from "@sente-lite/sente-lite/lifecycle";
 *
 * const ops = operationsHandler(system); // /health, /ready, /metrics, /stats
 * Deno.serve({ port: 9090 }, (request) => ops(request) ?? new Response("not found", { status: 404 }));
 * ```
 */
export function operationsHandler(
  system: SystemView,
  options?: OperationsOptions,
): OperationsHandler {
  options ??= {};
  const o = resolveOperationsOptions(options);
  const paths = new Set([o.healthPath, o.readyPath, o.metricsPath, o.statsPath].filter(Boolean));
  // The health checks in flight: /ready requests that arrive meanwhile wait for these.
  let checking: Promise<SystemHealth> | null = null;
  const health = (): Promise<SystemHealth> => {
    checking ??= system.health().finally(() => checking = null);
    return checking;
  };
  return (request) => {
    const { pathname } = new URL(request.url);
    if (!paths.has(pathname)) return undefined;
    return (async () => {
      const head = request.method === "HEAD";
      if (!head && request.method !== "GET") {
        return new Response("Method not allowed\n", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
      if (pathname === o.healthPath) {
        const state = system.state;
        const alive = state !== "stopped" && state !== "failed";
        const started = new Set(system.started);
        const components: Record<string, string> = {};
        for (const key of system.order) components[key] = started.has(key) ? "started" : "stopped";
        return json(alive ? 200 : 503, {
          status: alive ? "ok" : "down",
          state,
          uptimeMs: system.stats().uptimeMs,
          components,
        }, head);
      }
      if (pathname === o.readyPath) {
        const result = await health();
        return json(result.ready ? 200 : 503, {
          status: result.ready ? "ready" : "not-ready",
          ...result,
        }, head);
      }
      if (pathname === o.statsPath) return json(200, system.stats(), head);
      const text = renderPrometheus([...system.metrics.collect(), ...systemFamilies(system)]);
      return new Response(head ? null : text, {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
      });
    })();
  };
}
