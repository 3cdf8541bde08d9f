import assert from "node:assert/strict";
import client from "prom-client";
import {
  Histogram,
  type MetricFamily,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../../lifecycle.ts";
import { parsePrometheusText, seriesMap } from "./_prom_parser.ts";

const HELP_TRICKY = "Help with a \\ backslash and a\nnewline.";
const LABEL_TRICKY = 'a "quoted" \\ value\nwith a newline';

/** The same figures, registered in prom-client. */
async function promClientText(): Promise<string> {
  const registry = new client.Registry();
  const c = new client.Counter({
    name: "demo_messages_total",
    help: HELP_TRICKY,
    labelNames: ["direction"],
    registers: [registry],
  });
  c.inc({ direction: "in" }, 7);
  c.inc({ direction: "out" }, 3);
  const g = new client.Gauge({
    name: "demo_connections",
    help: "Open connections.",
    labelNames: ["server"],
    registers: [registry],
  });
  g.set({ server: LABEL_TRICKY }, 2);
  const h = new client.Histogram({
    name: "demo_request_duration_seconds",
    help: "Latency.",
    labelNames: ["server"],
    buckets: [0.01, 0.1, 1],
    registers: [registry],
  });
  for (const v of [0.005, 0.05, 0.05, 0.5, 2]) h.observe({ server: "main" }, v);
  return await registry.metrics();
}

/** The same figures as our families. */
function ourFamilies(): MetricFamily[] {
  const h = new Histogram([0.01, 0.1, 1]);
  for (const v of [0.005, 0.05, 0.05, 0.5, 2]) h.observe(v);
  return [
    {
      name: "demo_messages_total",
      help: HELP_TRICKY,
      type: "counter",
      samples: [
        { labels: { direction: "in" }, value: 7 },
        { labels: { direction: "out" }, value: 3 },
      ],
    },
    {
      name: "demo_connections",
      help: "Open connections.",
      type: "gauge",
      samples: [{ labels: { server: LABEL_TRICKY }, value: 2 }],
    },
    {
      name: "demo_request_duration_seconds",
      help: "Latency.",
      type: "histogram",
      samples: [{ ...h.snapshot(), labels: { server: "main" } }],
    },
  ];
}

Deno.test("the test parser accepts prom-client's output (it checks the parser itself)", async () => {
  const families = parsePrometheusText(await promClientText());
  const byName = Object.fromEntries(families.map((f) => [f.name, f]));
  assert.equal(byName.demo_messages_total.type, "counter");
  assert.equal(byName.demo_messages_total.help, HELP_TRICKY);
  assert.equal(byName.demo_connections.samples[0].labels.server, LABEL_TRICKY);
  assert.equal(byName.demo_request_duration_seconds.type, "histogram");
  const series = seriesMap(families);
  assert.equal(series['demo_request_duration_seconds_bucket{le="0.1",server="main"}'], 3);
  assert.equal(series['demo_request_duration_seconds_count{server="main"}'], 5);
});

Deno.test("the test parser rejects what the format forbids", () => {
  const bad: [string, RegExp][] = [
    ["m 1", /end with/],
    ["1m 1\n", /bad metric name/],
    ['m{a="x} 1\n', /unterminated/],
    ['m{a="\\t"} 1\n', /bad escape/],
    ["m one\n", /not a float/],
    ["m 1\nm 2\n", /duplicate series/],
    ["m 1\n# TYPE m gauge\n", /TYPE after samples/],
    ["# TYPE m gauge\n# TYPE m gauge\n", /second TYPE/],
    ['a 1\nb 1\na{x="1"} 1\n', /not in one group/],
    ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n', /no \+Inf/],
    [
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /not cumulative/,
    ],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', /_count 3/],
  ];
  for (const [text, why] of bad) assert.throws(() => parsePrometheusText(text), why, text);
});

Deno.test("renderPrometheus() writes what prom-client writes for the same figures", async () => {
  const ours = renderPrometheus(ourFamilies());
  const theirs = await promClientText();
  const a = parsePrometheusText(ours);
  const b = parsePrometheusText(theirs);
  assert.deepEqual(seriesMap(a), seriesMap(b));
  assert.deepEqual(
    a.map((f) => [f.name, f.type, f.help]),
    b.map((f) => [f.name, f.type, f.help]),
  );
  assert.ok(ours.endsWith("\n"));
  assert.equal(PROMETHEUS_CONTENT_TYPE, client.register.contentType);
});

Deno.test("renderPrometheus() writes NaN and infinities, and rejects bad names", () => {
  const text = renderPrometheus([{
    name: "x",
    help: "h",
    type: "gauge",
    samples: [
      { labels: { k: "nan" }, value: NaN },
      { labels: { k: "inf" }, value: Infinity },
      { labels: { k: "-inf" }, value: -Infinity },
    ],
  }]);
  const s = seriesMap(parsePrometheusText(text));
  assert.ok(Number.isNaN(s['x{k="nan"}']));
  assert.equal(s['x{k="inf"}'], Infinity);
  assert.equal(s['x{k="-inf"}'], -Infinity);
  assert.throws(
    () => renderPrometheus([{ name: "bad-name", help: "", type: "gauge", samples: [] }]),
    /metric name must match .*got "bad-name"/,
  );
  assert.throws(
    () =>
      renderPrometheus([{
        name: "x",
        help: "",
        type: "gauge",
        samples: [{ labels: { "bad-label": "1" }, value: 1 }],
      }]),
    /label name must match .*got "bad-label"/,
  );
});

Deno.test("Histogram counts cumulatively and ignores NaN; bad buckets are a RangeError", () => {
  const h = new Histogram([1, 2]);
  for (const v of [0.5, 1, 1.5, 3, NaN]) h.observe(v);
  assert.deepEqual(h.snapshot(), { buckets: [1, 2], counts: [2, 3], sum: 6, count: 4 });
  assert.throws(() => new Histogram([]), RangeError);
  assert.throws(() => new Histogram([2, 1]), /strictly ascending, got 1 after 2/);
  assert.throws(() => new Histogram([1, Infinity]), /buckets\[1\] must be a finite number/);
});

Deno.test("MetricsRegistry merges families, skips and counts failing collectors", () => {
  const registry = new MetricsRegistry();
  registry.register(() => [{ name: "up", help: "u", type: "gauge", samples: [{ value: 1 }] }]);
  const off = registry.register(() => [
    { name: "up", help: "u", type: "gauge", samples: [{ labels: { n: "2" }, value: 1 }] },
  ]);
  registry.register(() => {
    throw new Error("broken collector");
  });
  const s = seriesMap(parsePrometheusText(registry.render()));
  assert.equal(s["up{}"], 1);
  assert.equal(s['up{n="2"}'], 1);
  assert.equal(s["sente_lite_metrics_collector_errors_total{}"], 1);
  off();
  assert.equal(seriesMap(parsePrometheusText(registry.render()))['up{n="2"}'], undefined);
  registry.register(() => [{ name: "up", help: "u", type: "counter", samples: [] }]);
  assert.throws(() => registry.render(), /metric up is registered as gauge and as counter/);
});
