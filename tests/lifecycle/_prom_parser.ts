/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests. prom-client (our dev
 * dependency) writes the format but has no parser, so this follows the spec
 * (https://prometheus.io/docs/instrumenting/exposition_formats/) and throws on every violation it
 * knows: bad names, bad escapes, bad floats, TYPE after samples, duplicate TYPE/HELP, a metric's
 * lines not in one group, duplicate series, a missing final newline, and histograms without a
 * `+Inf` bucket, with non-cumulative buckets or with `_count` differing from the `+Inf` bucket.
 * It is itself checked against prom-client's output in the tests.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface ParsedFamily {
  name: string;
  type: string;
  help?: string;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

export function parseFloatStrict(text: string): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`not a float: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** The family a sample name belongs to, given the declared types. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
    }
  }
  return name;
}

export function parsePrometheusText(text: string): ParsedFamily[] {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the last line must end with \\n");
  const families = new Map<string, ParsedFamily>();
  const types = new Map<string, string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, f = { name, type: "untyped", samples: [] });
    return f;
  };
  const enter = (name: string, lineNo: number, line: string) => {
    if (current !== name) {
      if (closed.has(name)) fail(lineNo, line, `lines of ${name} are not in one group`);
      if (current !== null) closed.add(current);
      current = name;
    }
  };
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ""] = m;
      if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)![0] !== name) {
        fail(n, line, "bad metric name");
      }
      enter(name, n, line);
      const f = family(name);
      if (kind === "HELP") {
        if (f.help !== undefined) fail(n, line, "second HELP");
        if (/\\[^\\n]/.test(rest.replaceAll("\\\\", ""))) fail(n, line, "bad escape in HELP");
        f.help = rest.replace(/\\(\\|n)/g, (_, c) => c === "n" ? "\n" : "\\");
      } else {
        if (types.has(name)) fail(n, line, "second TYPE");
        if (f.samples.length) fail(n, line, "TYPE after samples");
        if (!TYPES.has(rest.trim())) fail(n, line, "unknown type");
        types.set(name, rest.trim());
        f.type = rest.trim();
      }
      return;
    }
    let pos = 0;
    const nameMatch = METRIC_NAME.exec(line);
    if (!nameMatch) fail(n, line, "bad metric name");
    const name = nameMatch[0];
    pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === "{") {
      pos++;
      for (;;) {
        if (line[pos] === "}") {
          pos++;
          break;
        }
        const ln = LABEL_NAME.exec(line.slice(pos));
        if (!ln) fail(n, line, `bad label name at ${pos}`);
        const label = ln[0];
        if (label.startsWith("__")) fail(n, line, "reserved label name");
        if (label in labels) fail(n, line, `duplicate label ${label}`);
        pos += label.length;
        if (line[pos] !== "=" || line[pos + 1] !== '"') fail(n, line, `expected =" at ${pos}`);
        pos += 2;
        let value = "";
        for (;;) {
          const c = line[pos];
          if (c === undefined) fail(n, line, "unterminated label value");
          if (c === "\\") {
            const e = line[pos + 1];
            if (e === "\\") value += "\\";
            else if (e === '"') value += '"';
            else if (e === "n") value += "\n";
            else fail(n, line, "bad escape in label value");
            pos += 2;
          } else if (c === '"') {
            pos++;
            break;
          } else {
            value += c;
            pos++;
          }
        }
        labels[label] = value;
        if (line[pos] === ",") pos++;
        else if (line[pos] !== "}") fail(n, line, `expected , or } at ${pos}`);
      }
    }
    if (line[pos] !== " ") fail(n, line, `expected a space before the value at ${pos}`);
    const parts = line.slice(pos + 1).split(" ");
    if (parts.length > 2 || parts[0] === "") fail(n, line, "expected value [timestamp]");
    let value: number;
    try {
      value = parseFloatStrict(parts[0]);
    } catch (e) {
      fail(n, line, (e as Error).message);
    }
    let timestamp: number | undefined;
    if (parts.length === 2) {
      if (!/^-?\d+$/.test(parts[1])) fail(n, line, "bad timestamp");
      timestamp = Number(parts[1]);
    }
    const fam = familyOf(name, types);
    enter(fam, n, line);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (series.has(key)) fail(n, line, "duplicate series");
    series.add(key);
    family(fam).samples.push({
      name,
      labels,
      value,
      ...(timestamp === undefined ? {} : { timestamp }),
    });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return [...families.values()];
}

function checkHistogram(f: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(s);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    for (const b of buckets) {
      if (!("le" in b.labels)) throw new Error(`${f.name}${key}: bucket without le`);
    }
    const bounds = buckets.map((b) => parseFloatStrict(b.labels.le));
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new Error(`${f.name}${key}: le not ascending`);
      if (buckets[i].value < buckets[i - 1].value) {
        throw new Error(`${f.name}${key}: bucket counts not cumulative`);
      }
    }
    if (bounds.at(-1) !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    const sum = samples.find((s) => s.name === `${f.name}_sum`);
    if (!count || !sum) throw new Error(`${f.name}${key}: _count or _sum missing`);
    if (count.value !== buckets.at(-1)!.value) {
      throw new Error(`${f.name}${key}: _count ${count.value} != +Inf bucket`);
    }
  }
}

/** `{ "name{labels}": value }` for comparisons. */
export function seriesMap(families: ParsedFamily[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of families) {
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).sort(([a], [b]) => a < b ? -1 : 1)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",");
      out[`${s.name}{${labels}}`] = s.value;
    }
  }
  return out;
}
