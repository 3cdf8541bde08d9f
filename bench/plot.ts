/**
 * Draws docs/performance.svg from the benchmarks' JSON lines saved under docs/performance/
 * (`fanout.json`, `memory.json`, `connrate.json`, `rpc.json`; each the last stdout line of its
 * bench): one bar per figure, sente-lite as a fraction of the raw runtime (1.0 = as fast or as
 * lean as the raw runtime; throughput as sente-lite ÷ raw, CPU and memory as raw ÷ sente-lite),
 * with the goal of issue 13 marked. No dependencies: the SVG is written by hand.
 *
 * Run: `deno run -A bench/plot.ts [--dir docs/performance/] [--title "…"]` (after saving the
 * JSON lines in that directory; see docs/performance.md).
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string", default: "docs/performance/" },
    title: { type: "string", default: "" },
  },
  strict: true,
});
const ROOT = new URL("../", import.meta.url);
const DIR = new URL(values.dir.endsWith("/") ? values.dir : `${values.dir}/`, ROOT);
const OUT = new URL("docs/performance.svg", ROOT);

/** One bar. */
interface Bar {
  label: string;
  /** sente-lite relative to raw; higher is better, 1 = raw. */
  value: number;
  goal: number;
  /** The absolute figures, shown beside the bar. */
  note: string;
}

function read(name: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, DIR)));
  } catch {
    return null;
  }
}

const k = (n: number) => n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1000)}k`;
const bars: Bar[] = [];

interface FanoutSide {
  deliveriesPerSec: number;
  serverCpuMs: number;
  firstMs: number;
  probeMaxMs: number;
}
const fanout = read("fanout") as {
  summary: { runtime: string; kind: string; raw: FanoutSide; sente: FanoutSide }[];
} | null;
for (const s of fanout?.summary ?? []) {
  bars.push({
    label: `fan-out ${s.kind}, ${s.runtime}: deliveries/s`,
    value: s.sente.deliveriesPerSec / s.raw.deliveriesPerSec,
    goal: s.runtime === "bun" ? 0.8 : 1,
    note: `${k(s.sente.deliveriesPerSec)}/s vs ${k(s.raw.deliveriesPerSec)}/s`,
  });
  bars.push({
    label: `fan-out ${s.kind}, ${s.runtime}: server CPU`,
    value: Math.max(s.raw.serverCpuMs, 10) / Math.max(s.sente.serverCpuMs, 10),
    goal: 1 / 1.5,
    note: `${(s.sente.serverCpuMs / 1000).toFixed(2)} s vs ${
      (s.raw.serverCpuMs / 1000).toFixed(2)
    } s`,
  });
}
const memory = read("memory") as {
  summary: {
    runtime: string;
    connections: number;
    raw: { kbPerConnection: number };
    sente: { kbPerConnection: number };
  }[];
} | null;
for (const s of memory?.summary ?? []) {
  bars.push({
    label: `idle memory, ${s.runtime}, ${s.connections / 1000}k conns`,
    value: s.raw.kbPerConnection / s.sente.kbPerConnection,
    goal: s.raw.kbPerConnection / (s.raw.kbPerConnection + 1),
    note: `${s.sente.kbPerConnection.toFixed(2)} KB vs ${s.raw.kbPerConnection.toFixed(2)} KB (+${
      (s.sente.kbPerConnection - s.raw.kbPerConnection).toFixed(2)
    })`,
  });
}
const connrate = read("connrate") as {
  summary: {
    runtime: string;
    raw: { connectionsPerSec: number; serverCpuUsPerConn: number };
    sente: { connectionsPerSec: number; serverCpuUsPerConn: number };
  }[];
} | null;
for (const s of connrate?.summary ?? []) {
  bars.push({
    label: `connections + handshake/s, ${s.runtime}`,
    value: s.sente.connectionsPerSec / s.raw.connectionsPerSec,
    goal: 0.85,
    note: `${k(s.sente.connectionsPerSec)}/s vs ${k(s.raw.connectionsPerSec)}/s`,
  });
  bars.push({
    label: `server CPU per connection, ${s.runtime}`,
    value: s.raw.serverCpuUsPerConn / s.sente.serverCpuUsPerConn,
    goal: 0.85,
    note: `${Math.round(s.sente.serverCpuUsPerConn)} µs vs ${
      Math.round(s.raw.serverCpuUsPerConn)
    } µs`,
  });
}
const rpc = read("rpc") as {
  raw: { msgPerSec: number };
  senteLite: { msgPerSec: number };
  ratio: number;
} | null;
if (rpc) {
  bars.push({
    label: "request→reply, deno",
    value: rpc.ratio,
    goal: 0.85,
    note: `${k(rpc.senteLite.msgPerSec)}/s vs ${k(rpc.raw.msgPerSec)}/s`,
  });
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const W = 900, labelW = 300, barW = 380, rowH = 24, top = 50;
const H = top + bars.length * rowH + 40;
const x = (v: number) => labelW + Math.min(v, 1.25) / 1.25 * barW;
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="10" y="20" font-size="15" font-weight="bold">sente-lite against the raw runtime (1.0 = raw; higher is better)${
    values.title ? ` · ${esc(values.title)}` : ""
  }</text>`,
  `<text x="10" y="38" fill="#555">bar: sente-lite ÷ raw (throughput) or raw ÷ sente-lite (CPU, memory); red tick: goal of issue 13; figures: sente-lite vs raw</text>`,
];
for (const v of [0, 0.25, 0.5, 0.75, 1]) {
  parts.push(
    `<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${top + bars.length * rowH}" stroke="${
      v === 1 ? "#333" : "#ddd"
    }"/>`,
    `<text x="${x(v)}" y="${
      top + bars.length * rowH + 16
    }" text-anchor="middle" fill="#555">${v}</text>`,
  );
}
bars.forEach((b, i) => {
  const y = top + i * rowH;
  const color = b.value >= b.goal ? "#4a8f4a" : "#d08a2c";
  parts.push(
    `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`,
    `<rect x="${labelW}" y="${y + 4}" width="${x(b.value) - labelW}" height="${
      rowH - 8
    }" fill="${color}"/>`,
    `<line x1="${x(b.goal)}" y1="${y + 1}" x2="${x(b.goal)}" y2="${
      y + rowH - 1
    }" stroke="#c00" stroke-width="2"/>`,
    `<text x="${labelW + barW + 8}" y="${y + 15}">${b.value.toFixed(2)}× · ${esc(b.note)}</text>`,
  );
});
parts.push("</svg>");
Deno.writeTextFileSync(OUT, parts.join("\n") + "\n");
console.log(`wrote ${OUT.pathname} (${bars.length} bars)`);
