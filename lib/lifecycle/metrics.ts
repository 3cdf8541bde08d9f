/**
 * Metrics without dependencies: a {@linkcode Histogram}, a {@linkcode MetricsRegistry} of
 * collectors that read figures at scrape time, and a writer for the Prometheus text exposition
 * format (version 0.0.4).
 *
 * Guarantees:
 * - Collectors run only when the registry is scraped; a collector that throws is skipped and
 *   counted in `sente_lite_metrics_collector_errors_total`, the rest still render.
 * - Families of the same name from several collectors are merged (their label sets must differ);
 *   a name used with two types is an error.
 * - Names, label names and label values are validated and escaped as the format requires.
 *
 * @module
 */

/** Prometheus metric types this writer emits. */
export type MetricType = "counter" | "gauge" | "histogram" | "untyped";

/** Label names to values. */
export type Labels = Record<string, string>;

/** One sample of a counter, gauge or untyped metric. */
export interface Sample {
  /** The labels of this sample. */
  labels?: Labels;
  /** The value (may be `NaN` or `±Infinity`). */
  value: number;
}

/** A histogram's state: cumulative counts per upper bound. */
export interface HistogramSnapshot {
  /** Upper bounds, ascending, without `+Inf`. */
  buckets: number[];
  /** Observations `<=` each bound (cumulative), same length as `buckets`. */
  counts: number[];
  /** Sum of the observations. */
  sum: number;
  /** Number of observations (the `+Inf` bucket). */
  count: number;
}

/** One family: a name, help text, type and its samples. */
export type MetricFamily =
  | {
    /** The metric name (counters end in `_total`). */
    name: string;
    /** One line of help. */
    help: string;
    /** The type. */
    type: "counter" | "gauge" | "untyped";
    /** The samples. */
    samples: Sample[];
  }
  | {
    /** The metric name (without `_bucket`, `_sum`, `_count`). */
    name: string;
    /** One line of help. */
    help: string;
    /** Always `"histogram"`. */
    type: "histogram";
    /** One histogram per label set. */
    samples: (HistogramSnapshot & { labels?: Labels })[];
  };

/** Reads figures at scrape time. */
export type Collector = () => MetricFamily[];

/** The content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE: string = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Request latency buckets in seconds: 1 ms to 10 s. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Checks histogram bounds: finite, ascending, at least one. */
export function checkBuckets(buckets: readonly number[], name = "buckets"): void {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new RangeError(`${name} must be a non-empty array of numbers, got ${String(buckets)}`);
  }
  buckets.forEach((b, i) => {
    if (typeof b !== "number" || !Number.isFinite(b)) {
      throw new RangeError(`${name}[${i}] must be a finite number, got ${b}`);
    }
    if (i > 0 && b <= buckets[i - 1]) {
      throw new RangeError(`${name} must be strictly ascending, got ${b} after ${buckets[i - 1]}`);
    }
  });
}

/** A histogram with fixed upper bounds. */
export class Histogram {
  readonly #buckets: number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /** Makes a histogram with the given upper bounds (ascending, `+Inf` implied). */
  constructor(buckets?: readonly number[]) {
    buckets ??= DEFAULT_LATENCY_BUCKETS;
    checkBuckets(buckets);
    this.#buckets = [...buckets];
    this.#counts = buckets.map(() => 0);
  }

  /**
   * Records one observation.
   *
   * @example
   * ```ts
   * import { Histogram } from "@sente-lite/sente-lite/lifecycle";
   *
   * const latency = new Histogram([0.01, 0.1, 1]);
   * latency.observe(0.05);
   * ```
   */
  observe(value: number): void {
    if (Number.isNaN(value)) return;
    this.#sum += value;
    this.#count++;
    for (let i = this.#buckets.length - 1; i >= 0 && value <= this.#buckets[i]; i--) {
      this.#counts[i]++;
    }
  }

  /**
   * The current state (cumulative counts).
   *
   * @example
   * ```ts
   * import { Histogram } from "@sente-lite/sente-lite/lifecycle";
   *
   * const latency = new Histogram();
   * latency.observe(0.05);
   * console.log(latency.snapshot().count); // 1
   * ```
   */
  snapshot(): HistogramSnapshot {
    return {
      buckets: [...this.#buckets],
      counts: [...this.#counts],
      sum: this.#sum,
      count: this.#count,
    };
  }
}

/** A number as the text format writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatLabels(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  for (const [k] of pairs) {
    if (!LABEL_NAME.test(k) || k.startsWith("__")) {
      throw new TypeError(`label name must match ${LABEL_NAME} (no "__" prefix), got "${k}"`);
    }
  }
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(",")}}`;
}

function labelKey(labels: Labels | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => a < b ? -1 : 1));
}

/**
 * Writes families in the Prometheus text exposition format (each line ends with `\n`).
 *
 * @example
 * ```ts
 * import { renderPrometheus } from "@sente-lite/sente-lite/lifecycle";
 *
 * console.log(renderPrometheus([
 *   { name: "jobs_total", help: "Jobs run.", type: "counter", samples: [{ value: 3 }] },
 * ]));
 * ```
 */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!METRIC_NAME.test(f.name)) {
      throw new TypeError(`metric name must match ${METRIC_NAME}, got "${f.name}"`);
    }
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === "histogram") {
      for (const h of f.samples) {
        if (h.labels && "le" in h.labels) {
          throw new TypeError(`histogram ${f.name} must not have a label "le"`);
        }
        h.buckets.forEach((b, i) => {
          lines.push(
            `${f.name}_bucket${formatLabels(h.labels, ["le", formatValue(b)])} ${
              formatValue(h.counts[i])
            }`,
          );
        });
        lines.push(
          `${f.name}_bucket${formatLabels(h.labels, ["le", "+Inf"])} ${formatValue(h.count)}`,
          `${f.name}_sum${formatLabels(h.labels)} ${formatValue(h.sum)}`,
          `${f.name}_count${formatLabels(h.labels)} ${formatValue(h.count)}`,
        );
      }
    } else {
      for (const s of f.samples) {
        lines.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
      }
    }
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** Collectors of one process or system; scrape with {@linkcode MetricsRegistry.render}. */
export class MetricsRegistry {
  #collectors = new Set<Collector>();
  #errors = 0;

  /**
   * Adds a collector; returns a function that removes it.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "@sente-lite/sente-lite/lifecycle";
   *
   * const registry = new MetricsRegistry();
   * let jobs = 0;
   * const unregister = registry.register(() => [
   *   { name: "jobs_total", help: "Jobs run.", type: "counter", samples: [{ value: jobs }] },
   * ]);
   * jobs++;
   * unregister();
   * ```
   */
  register(collector: Collector): () => void {
    if (typeof collector !== "function") {
      throw new TypeError(`collector must be a function, got ${typeof collector}`);
    }
    this.#collectors.add(collector);
    return () => void this.#collectors.delete(collector);
  }

  /**
   * Runs every collector and merges families of the same name.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "@sente-lite/sente-lite/lifecycle";
   *
   * const registry = new MetricsRegistry();
   * registry.register(() => [{ name: "up", help: "Up.", type: "gauge", samples: [{ value: 1 }] }]);
   * console.log(registry.collect().map((f) => f.name)); // ["up"]
   * ```
   */
  collect(): MetricFamily[] {
    const byName = new Map<string, MetricFamily>();
    const seen = new Map<string, Set<string>>();
    const all: MetricFamily[] = [];
    for (const collector of this.#collectors) {
      try {
        all.push(...collector());
      } catch {
        this.#errors++;
      }
    }
    all.push({
      name: "sente_lite_metrics_collector_errors_total",
      help: "Metrics collectors that threw while being scraped.",
      type: "counter",
      samples: [{ value: this.#errors }],
    });
    for (const f of all) {
      const have = byName.get(f.name);
      if (!have) {
        byName.set(f.name, { ...f, samples: [...f.samples] } as MetricFamily);
        seen.set(f.name, new Set(f.samples.map((s) => labelKey(s.labels))));
        continue;
      }
      if (have.type !== f.type) {
        throw new TypeError(`metric ${f.name} is registered as ${have.type} and as ${f.type}`);
      }
      const keys = seen.get(f.name)!;
      for (const s of f.samples) {
        const k = labelKey(s.labels);
        if (keys.has(k)) {
          throw new TypeError(`metric ${f.name} has two samples with the labels ${k}`);
        }
        keys.add(k);
        (have.samples as unknown[]).push(s);
      }
    }
    return [...byName.values()];
  }

  /**
   * Every metric in the Prometheus text exposition format.
   *
   * @example
   * ```ts
   * import { MetricsRegistry } from "@sente-lite/sente-lite/lifecycle";
   *
   * const registry = new MetricsRegistry();
   * registry.register(() => [{ name: "up", help: "Up.", type: "gauge", samples: [{ value: 1 }] }]);
   * console.log(registry.render()); // Prometheus text format
   * ```
   */
  render(): string {
    return renderPrometheus(this.collect());
  }
}
