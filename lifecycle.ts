/**
 * Lifecycle and operations for sente-lite servers under systemd, Docker and Kubernetes: a system
 * of components started in dependency order and stopped in reverse, configuration from an object
 * or a JSON file, `/health`, `/ready`, `/metrics` (Prometheus) and `/stats` endpoints, and a
 * graceful shutdown on SIGTERM/SIGINT that drains connections (close 1001) before exiting.
 *
 * @example
 * ```ts ignore
 * import { installShutdown, loadConfig, serverComponent, startSystem } from "@sente-lite/sente-lite/lifecycle";
 *
 * const config = await loadConfig({ server: { port: 3000 }, shutdown: { drainTimeoutMs: 5000 } });
 * const system = await startSystem({
 *   server: serverComponent({
 *     ...config.server,
 *     setup: (server) => void server.on("demo/echo", (msg) => msg.data),
 *   }),
 * });
 * installShutdown(system, config.shutdown); // SIGTERM: not ready, drain, 1001, stop, exit 0
 * // GET /health, /ready, /metrics and /stats on port 3000
 * ```
 *
 * @module
 */
export {
  type Component,
  component,
  type ComponentContext,
  type ComponentHealth,
  type HealthCheck,
  type PhaseOptions,
  type ProcessMemory,
  Ref,
  ref,
  type Resolved,
  SystemError,
  type SystemErrorCode,
  type SystemHealth,
  type SystemState,
  type SystemStats,
  type SystemView,
} from "./lib/lifecycle/component.ts";
export {
  planSystem,
  startSystem,
  type StartSystemOptions,
  stopSystem,
  System,
  type SystemMap,
} from "./lib/lifecycle/system.ts";
export {
  type LifecycleConfig,
  type LifecycleConfigInput,
  loadConfig,
  parseConfig,
  type ServerConfigInput,
} from "./lib/lifecycle/config.ts";
export {
  type OperationsHandler,
  operationsHandler,
  type OperationsOptions,
  systemFamilies,
} from "./lib/lifecycle/operations.ts";
export {
  type Collector,
  DEFAULT_LATENCY_BUCKETS,
  Histogram,
  type HistogramSnapshot,
  type Labels,
  type MetricFamily,
  MetricsRegistry,
  type MetricType,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  type Sample,
} from "./lib/lifecycle/metrics.ts";
export {
  type PortInfo,
  ServerMetrics,
  type ServerMetricsOptions,
  type ServerMetricsStats,
} from "./lib/lifecycle/server_metrics.ts";
export {
  type DrainReport,
  serverComponent,
  type ServerComponentOptions,
  type ServerInstance,
} from "./lib/lifecycle/server_component.ts";
export {
  type FlushableTelemetry,
  telemetryComponent,
  type TelemetryComponentOptions,
  type TelemetryInstance,
} from "./lib/lifecycle/telemetry_component.ts";
export {
  installShutdown,
  type ShutdownHandle,
  type ShutdownOptions,
  type ShutdownReport,
  shutdownSystem,
  type ShutdownSystemOptions,
} from "./lib/lifecycle/shutdown.ts";
