/**
 * The figures of one sente-lite server that the Hub does not count itself (request/reply latency,
 * requests in flight, reconnects seen, heartbeat timeouts) on top of `server.stats()`, as a plain
 * object ({@linkcode ServerMetrics.stats}) and as Prometheus families
 * ({@linkcode ServerMetrics.collect}); both read the same numbers.
 *
 * @module
 */
import { LINK_STATES } from "../backplane/link.ts";
import type { ClusterInfo, Hub } from "../server/hub.ts";
import type { ConnectionInfo, ServerStats } from "../server/types.ts";
import { DEFAULT_LATENCY_BUCKETS, Histogram, type HistogramSnapshot } from "./metrics.ts";
import type { Labels, MetricFamily, Sample } from "./metrics.ts";

/** The close code of a heartbeat timeout (`CLOSE_HEARTBEAT_TIMEOUT`). */
const HEARTBEAT_TIMEOUT_CODE = 4008;

/** Where the server listens: the seed's port-0 telemetry. */
export interface PortInfo {
  /** The port asked for. */
  requested: number;
  /** The port bound. */
  actual: number;
  /** `true` when the port was picked by the OS (`requested` was 0). */
  ephemeral: boolean;
}

/** Everything one server reports: `server.stats()` plus the lifecycle's own figures. */
export interface ServerMetricsStats extends ServerStats {
  /** Requests whose handlers have not replied yet, on open connections. */
  requestsInFlight: number;
  /** Handshakes of clients whose client id this server had seen before. */
  reconnects: number;
  /** Connections the server closed because their heartbeat timed out (close code 4008). */
  heartbeatTimeouts: number;
  /** Request/reply latency in seconds. */
  latency: HistogramSnapshot;
  /** Where it listens, once it does. */
  port: PortInfo | null;
  /** The backplane as this node sees it; only on a node of a cluster (`backplane` option). */
  cluster?: ClusterInfo;
}

/** Options of {@linkcode ServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * Upper bounds (seconds) of the request/reply latency histogram.
   * @default {DEFAULT_LATENCY_BUCKETS (1 ms … 10 s)}
   */
  latencyBuckets?: readonly number[];
  /**
   * Client ids remembered to recognise reconnects (oldest forgotten first).
   * @default {100000}
   */
  maxTrackedClientIds?: number;
  /**
   * Labels on every sample (e.g. `{ server: "main" }`).
   * @default {none}
   */
  labels?: Labels;
}

const PREFIX = "sente_lite_";

function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^a-zA-Z0-9_]/g, "_").toLowerCase();
}

/** Figures of `server.stats()` this module knows; others are exported as `untyped`. */
const KNOWN = new Set([
  "connections",
  "uids",
  "channels",
  "messagesIn",
  "messagesOut",
  "bytesIn",
  "bytesOut",
  "repliesIgnored",
  "largeMessages",
  "errors",
  "bufferedBytes",
  "deliveryBytes",
]);

/** The backplane's figures (a node of a cluster only): link state, traffic, gaps. */
function clusterFamilies(c: ClusterInfo, l: Labels): MetricFamily[] {
  const fam = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    value: number,
  ): MetricFamily => ({
    name: PREFIX + "backplane_" + name,
    type,
    help,
    samples: [{ labels: { ...l }, value }],
  });
  return [
    {
      name: PREFIX + "backplane_link",
      type: "gauge",
      help: "The backplane link: 1 for the current state (connecting, up, degraded, down, closed).",
      samples: LINK_STATES.map((state) => ({
        labels: { ...l, node: c.nodeId, state },
        value: state === c.link ? 1 : 0,
      })),
    },
    fam("nodes", "gauge", "Live nodes of the cluster, as this node last heard.", c.nodes),
    fam("topics", "gauge", "Backplane topics this node listens to.", c.listening),
    fam("published_total", "counter", "Messages published to other nodes.", c.published),
    fam(
      "publish_dropped_total",
      "counter",
      "Publishes dropped because the link was not up.",
      c.publishDropped,
    ),
    fam("received_total", "counter", "Messages received from other nodes.", c.received),
    fam("gaps_total", "counter", "Backplane gaps announced to this node's clients.", c.gaps),
  ];
}

/** Observes one server and reports its figures. */
export class ServerMetrics {
  /** The port facts, set by whoever starts listening. */
  port: PortInfo | null = null;
  readonly #hub: Hub;
  readonly #latency: Histogram;
  readonly #labels: Labels;
  readonly #maxIds: number;
  readonly #seen = new Map<string, true>();
  readonly #inFlight = new Map<string, number>();
  #reconnects = 0;
  #heartbeatTimeouts = 0;
  #unobserve: () => void;

  /** Starts observing `hub`; {@linkcode ServerMetrics.dispose} stops. */
  constructor(hub: Hub, options?: ServerMetricsOptions) {
    options ??= {};
    this.#hub = hub;
    this.#latency = new Histogram(options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS);
    this.#labels = { ...options.labels };
    this.#maxIds = options.maxTrackedClientIds ?? 100_000;
    if (!Number.isInteger(this.#maxIds) || this.#maxIds < 0) {
      throw new RangeError(
        `ServerMetricsOptions.maxTrackedClientIds must be an integer >= 0, got ${this.#maxIds}`,
      );
    }
    this.#unobserve = hub.observe({
      open: (c) => this.#open(c),
      close: (c, code) => this.#close(c, code),
      request: (c) => this.#inFlight.set(c.id, (this.#inFlight.get(c.id) ?? 0) + 1),
      reply: (c, _id, ms) => {
        const n = this.#inFlight.get(c.id) ?? 0;
        if (n > 1) this.#inFlight.set(c.id, n - 1);
        else this.#inFlight.delete(c.id);
        this.#latency.observe(ms / 1000);
      },
    });
  }

  #open(c: ConnectionInfo): void {
    if (this.#seen.has(c.clientId)) {
      this.#reconnects++;
      this.#seen.delete(c.clientId); // re-insert: most recently seen last
    } else if (this.#seen.size >= this.#maxIds && this.#maxIds > 0) {
      this.#seen.delete(this.#seen.keys().next().value!);
    }
    if (this.#maxIds > 0) this.#seen.set(c.clientId, true);
  }

  #close(c: ConnectionInfo, code: number): void {
    this.#inFlight.delete(c.id);
    // The code the server closed with: the close event's code is not reliable for server-side
    // closes (Deno reports 1005), so prefer what the connection recorded.
    const closeCode = (c as { closeCode?: number | null }).closeCode ?? code;
    if (closeCode === HEARTBEAT_TIMEOUT_CODE) this.#heartbeatTimeouts++;
  }

  /** Requests not yet replied to, on open connections. */
  get requestsInFlight(): number {
    let n = 0;
    for (const v of this.#inFlight.values()) n += v;
    return n;
  }

  /**
   * Every figure as a plain object.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   * import { ServerMetrics } from "@sente-lite/sente-lite/lifecycle";
   *
   * const metrics = new ServerMetrics(createServer());
   * console.log(metrics.stats());
   * metrics.dispose();
   * ```
   */
  stats(): ServerMetricsStats {
    const cluster = this.#hub.cluster();
    return {
      ...this.#hub.stats(),
      requestsInFlight: this.requestsInFlight,
      reconnects: this.#reconnects,
      heartbeatTimeouts: this.#heartbeatTimeouts,
      latency: this.#latency.snapshot(),
      port: this.port && { ...this.port },
      ...(cluster.clustered ? { cluster } : {}),
    };
  }

  /**
   * The same figures as Prometheus families.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   * import { renderPrometheus, ServerMetrics } from "@sente-lite/sente-lite/lifecycle";
   *
   * const metrics = new ServerMetrics(createServer(), { labels: { server: "main" } });
   * console.log(renderPrometheus(metrics.collect()));
   * metrics.dispose();
   * ```
   */
  collect(): MetricFamily[] {
    const s = this.stats();
    const l = this.#labels;
    const one = (value: number, extra: Labels = {}): Sample[] => [
      { labels: { ...l, ...extra }, value },
    ];
    const fam = (
      name: string,
      type: "counter" | "gauge" | "untyped",
      help: string,
      samples: Sample[],
    ): MetricFamily => ({ name: PREFIX + name, type, help, samples });
    const families: MetricFamily[] = [
      fam("connections", "gauge", "Open WebSocket connections.", one(s.connections)),
      fam("uids", "gauge", "Connected user ids.", one(s.uids)),
      fam("channels", "gauge", "Channels with at least one subscriber.", one(s.channels)),
      fam("messages_total", "counter", "WebSocket frames by direction.", [
        ...one(s.messagesIn, { direction: "in" }),
        ...one(s.messagesOut, { direction: "out" }),
      ]),
      fam("bytes_total", "counter", "WebSocket payload bytes by direction.", [
        ...one(s.bytesIn, { direction: "in" }),
        ...one(s.bytesOut, { direction: "out" }),
      ]),
      {
        name: PREFIX + "request_duration_seconds",
        type: "histogram",
        help: "Time from a client request's arrival to the server's reply.",
        samples: [{ ...s.latency, labels: { ...l } }],
      },
      fam(
        "requests_in_flight",
        "gauge",
        "Client requests whose handlers have not replied yet.",
        one(s.requestsInFlight),
      ),
      fam(
        "errors_total",
        "counter",
        "Protocol errors by code.",
        Object.entries(s.errors).flatMap(([code, n]) => one(n, { code })),
      ),
      fam("replies_ignored_total", "counter", "Replies after the first.", one(s.repliesIgnored)),
      fam(
        "large_messages_total",
        "counter",
        "Inbound frames of at least largeMessageBytes.",
        one(s.largeMessages),
      ),
      fam(
        "reconnects_total",
        "counter",
        "Handshakes of clients whose client id was seen before.",
        one(s.reconnects),
      ),
      fam(
        "heartbeat_timeouts_total",
        "counter",
        "Connections closed because their heartbeat timed out.",
        one(s.heartbeatTimeouts),
      ),
      fam(
        "send_queue_bytes",
        "gauge",
        "Bytes queued in the sockets and not yet written (all connections).",
        one(s.bufferedBytes),
      ),
      fam(
        "delivery_bytes",
        "gauge",
        "Bytes held for resume and offline delivery (at most delivery.maxTotalBytes).",
        one(s.deliveryBytes),
      ),
    ];
    if (s.port) {
      families.push(fam(
        "listen_info",
        "gauge",
        "Where the server listens: requested and actual port, and whether it was ephemeral.",
        one(1, {
          requested_port: String(s.port.requested),
          port: String(s.port.actual),
          ephemeral: String(s.port.ephemeral),
        }),
      ));
    }
    if (s.cluster) families.push(...clusterFamilies(s.cluster, l));
    // Figures other features add to server.stats() (batching, compression, chunking, limits…)
    // are exported as they come, as untyped samples.
    const extra: [string, number][] = [];
    const walk = (value: unknown, path: string[]) => {
      if (typeof value === "number" && Number.isFinite(value)) extra.push([path.join("_"), value]);
      else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) walk(v, [...path, snake(k)]);
      }
    };
    const hubStats = this.#hub.stats() as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(hubStats)) if (!KNOWN.has(k)) walk(v, [snake(k)]);
    for (const [name, value] of extra) {
      families.push(fam(name, "untyped", `server.stats() figure ${name}.`, one(value)));
    }
    return families;
  }

  /**
   * Stops observing the server.
   *
   * @example
   * ```ts
   * import { createServer } from "@sente-lite/sente-lite/server";
   * import { ServerMetrics } from "@sente-lite/sente-lite/lifecycle";
   *
   * const metrics = new ServerMetrics(createServer());
   * metrics.dispose(); // stops observing the server
   * ```
   */
  dispose(): void {
    this.#unobserve();
  }
}
