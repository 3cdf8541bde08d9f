/**
 * Draws docs/performance.svg from the benchmarks' JSON lines saved under docs/performance/
 * (`fanout.json`, `memory.json`, `connrate.json`, `rpc.json`; each the last stdout line of its
 * bench): one row per figure, sente-lite as a fraction of the raw runtime (1.0 = as fast or as
 * lean as the raw runtime; throughput as sente-lite ÷ raw, CPU and memory as raw ÷ sente-lite),
 * with the goal of issue 13 marked, and beside it Socket.IO 4 (on Node) as the same fraction of
 * the same raw runtime when the JSON has its side (benches run with Socket.IO; older JSON lines
 * without it draw sente-lite alone). No dependencies: the SVG is written by hand.
 *
 * Run: `deno run -A bench/plot.ts [--dir docs/performance/] [--out docs/performance.svg]
 * [--title "…"]` (after saving the JSON lines in that directory; see docs/performance.md).
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string", default: "docs/performance/" },
    out: { type: "string", default: "docs/performance.svg" },
    title: { type: "string", default: "" },
  },
  strict: true,
});
const ROOT = new URL("../", import.meta.url);
const DIR = new URL(values.dir.endsWith("/") ? values.dir : `${values.dir}/`, ROOT);
const OUT = new URL(values.out, ROOT);

/** One figure: sente-lite's bar, and Socket.IO's under it when measured. */
interface Figure {
  label: string;
  /** sente-lite relative to raw; higher is better, 1 = raw. */
  value: number;
  goal: number;
  /** Socket.IO (Node) relative to the same raw side. */
  sio?: number;
  /** The absolute figures, shown beside the bars. */
  note: string;
}

function read(name: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, DIR)));
  } catch {
    return null;
  }
}

const k = (n: number) =>
  n >= 1e6
    ? `${(n / 1e6).toFixed(2)}M`
    : n >= 1e4
    ? `${Math.round(n / 1000)}k`
    : n >= 1000
    ? `${(n / 1000).toFixed(1)}k`
    : `${Math.round(n)}`;
/** "sente-lite A · Socket.IO B vs raw C", Socket.IO's part only when measured. */
const figures = (sente: string, sio: string | undefined, raw: string) =>
  `${sente}${sio === undefined ? "" : ` · SIO ${sio}`} vs raw ${raw}`;
const bars: Figure[] = [];

interface FanoutSide {
  deliveriesPerSec: number;
  serverCpuMs: number;
  /** Bursts without the probe (older outputs: none). */
  fanOutCpuMs?: number | null;
  firstMs: number;
  probeMaxMs: number;
}
const fanout = read("fanout") as {
  summary: {
    runtime: string;
    kind: string;
    raw: FanoutSide;
    sente: FanoutSide;
    sio?: FanoutSide;
    /** The median of the per-round ratios (older outputs: none, the ratio of the medians). */
    ratio?: number;
    /** Fan-out CPU sente-lite ÷ raw, bursts without the probe (older outputs: none). */
    fanOutCpuRatio?: number | null;
  }[];
} | null;
const cpu = (ms: number) => Math.max(ms, 10);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
for (const s of fanout?.summary ?? []) {
  bars.push({
    label: `fan-out ${s.kind}, ${s.runtime}: deliveries/s`,
    value: s.ratio ?? s.sente.deliveriesPerSec / s.raw.deliveriesPerSec,
    goal: s.runtime === "bun" ? 0.8 : 1,
    sio: s.sio && s.sio.deliveriesPerSec / s.raw.deliveriesPerSec,
    note: figures(
      `${k(s.sente.deliveriesPerSec)}/s`,
      s.sio && `${k(s.sio.deliveriesPerSec)}/s`,
      `${k(s.raw.deliveriesPerSec)}/s`,
    ),
  });
  bars.push({
    label: `fan-out ${s.kind}, ${s.runtime}: server CPU${
      s.fanOutCpuRatio ? " without the probe" : ""
    }`,
    value: s.fanOutCpuRatio
      ? 1 / s.fanOutCpuRatio
      : cpu(s.raw.serverCpuMs) / cpu(s.sente.serverCpuMs),
    goal: 1 / 1.5,
    sio: s.sio && cpu(s.raw.serverCpuMs) / cpu(s.sio.serverCpuMs),
    // The figures of the bar's own measure: the median rounds' fan-out CPU without the probe
    // where there is one (Socket.IO's burst blocks its loop, so its only figure is with it).
    note: figures(
      seconds(s.sente.fanOutCpuMs ?? s.sente.serverCpuMs),
      s.sio && seconds(s.sio.serverCpuMs),
      seconds(s.raw.fanOutCpuMs ?? s.raw.serverCpuMs),
    ),
  });
}
type MemorySide = { kbPerConnection: number };
const memory = read("memory") as {
  summary: {
    runtime: string;
    connections: number;
    raw: MemorySide;
    sente: MemorySide;
    sio?: MemorySide;
  }[];
} | null;
for (const s of memory?.summary ?? []) {
  const kb = (side: MemorySide) => `${side.kbPerConnection.toFixed(2)} KB`;
  bars.push({
    label: `idle memory, ${s.runtime}, ${s.connections / 1000}k conns`,
    value: s.raw.kbPerConnection / s.sente.kbPerConnection,
    goal: s.raw.kbPerConnection / (s.raw.kbPerConnection + 1),
    sio: s.sio && s.raw.kbPerConnection / s.sio.kbPerConnection,
    note: figures(kb(s.sente), s.sio && kb(s.sio), kb(s.raw)),
  });
}
type RateSide = { connectionsPerSec: number; serverCpuUsPerConn: number };
const connrate = read("connrate") as {
  summary: {
    runtime: string;
    raw: RateSide;
    sente: RateSide;
    sio?: RateSide;
    /** The median of the per-round ratios (older outputs: none, the ratio of the medians). */
    ratio?: number;
    cpuRatio?: number;
  }[];
} | null;
for (const s of connrate?.summary ?? []) {
  const rate = (side: RateSide) => `${k(side.connectionsPerSec)}/s`;
  const us = (side: RateSide) => `${Math.round(side.serverCpuUsPerConn)} µs`;
  bars.push({
    label: `connections + handshake/s, ${s.runtime}`,
    value: s.ratio ?? s.sente.connectionsPerSec / s.raw.connectionsPerSec,
    goal: 0.85,
    sio: s.sio && s.sio.connectionsPerSec / s.raw.connectionsPerSec,
    note: figures(rate(s.sente), s.sio && rate(s.sio), rate(s.raw)),
  });
  bars.push({
    label: `server CPU per connection, ${s.runtime}`,
    value: s.cpuRatio ?? s.raw.serverCpuUsPerConn / s.sente.serverCpuUsPerConn,
    goal: 0.85,
    sio: s.sio && s.raw.serverCpuUsPerConn / s.sio.serverCpuUsPerConn,
    note: figures(us(s.sente), s.sio && us(s.sio), us(s.raw)),
  });
}
type RpcSide = { msgPerSec: number; serverCpuUs?: number };
const rpc = read("rpc") as {
  raw: RpcSide;
  senteLite: RpcSide;
  ratio: number;
  senteServer?: RpcSide;
  serverRatio?: number;
  socketio?: RpcSide;
  socketioRatio?: number;
} | null;
if (rpc) {
  const rate = (side: RpcSide) => `${k(side.msgPerSec)}/s`;
  // Socket.IO is driven by a minimal protocol client, so it sits beside the sente-lite server
  // driven by one (senteServer), not beside the library client.
  const minimal = rpc.senteServer ?? null;
  bars.push({
    label: "request→reply, deno",
    value: rpc.ratio,
    goal: 0.85,
    sio: minimal ? undefined : rpc.socketioRatio,
    note: figures(
      rate(rpc.senteLite),
      minimal || !rpc.socketio ? undefined : rate(rpc.socketio),
      rate(rpc.raw),
    ),
  });
  if (minimal) {
    bars.push({
      label: "request→reply, minimal clients, deno",
      value: rpc.serverRatio!,
      goal: 0.85,
      sio: rpc.socketioRatio,
      note: figures(rate(minimal), rpc.socketio && rate(rpc.socketio), rate(rpc.raw)),
    });
  }
  const side = minimal ?? rpc.senteLite;
  if (rpc.raw.serverCpuUs && side.serverCpuUs) {
    const us = (s: RpcSide) => `${s.serverCpuUs!.toFixed(1)} µs`;
    const sio = rpc.socketio?.serverCpuUs ? rpc.socketio : undefined;
    bars.push({
      label: `server CPU per request${minimal ? ", minimal clients" : ""}, deno`,
      value: rpc.raw.serverCpuUs / side.serverCpuUs,
      goal: 0.85,
      sio: sio && rpc.raw.serverCpuUs / sio.serverCpuUs!,
      note: figures(us(side), sio && us(sio), us(rpc.raw)),
    });
  }
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const withSio = bars.some((b) => b.sio !== undefined);
const W = withSio ? 1080 : 900, labelW = 300, barW = 380, top = withSio ? 66 : 50;
const rowH = withSio ? 34 : 24;
const H = top + bars.length * rowH + 40;
const x = (v: number) => labelW + Math.min(v, 1.25) / 1.25 * barW;
const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="10" y="20" font-size="15" font-weight="bold">sente-lite${
    withSio ? " and Socket.IO" : ""
  } against the raw runtime (1.0 = raw; higher is better)${
    values.title ? ` · ${esc(values.title)}` : ""
  }</text>`,
  `<text x="10" y="38" fill="#555">bar: sente-lite ÷ raw (throughput) or raw ÷ sente-lite (CPU, memory); red tick: goal of issue 13; figures: sente-lite${
    withSio ? " · Socket.IO" : ""
  } vs raw</text>`,
];
if (withSio) {
  parts.push(
    `<rect x="10" y="46" width="12" height="10" fill="#4a8f4a"/>`,
    `<text x="26" y="55" fill="#555">sente-lite (orange: below the goal)</text>`,
    `<rect x="250" y="46" width="12" height="10" fill="#5b7fbf"/>`,
    `<text x="266" y="55" fill="#555">Socket.IO 4 on Node (SIO), websocket transport, against the same raw runtime</text>`,
  );
}
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
  // With Socket.IO measured, each row holds two bars: sente-lite's above, Socket.IO's below.
  const barH = withSio ? 12 : rowH - 8;
  const ratios = `${b.value.toFixed(2)}×${
    b.sio === undefined ? "" : ` · SIO ${b.sio.toFixed(2)}×`
  }`;
  parts.push(
    `<text x="${labelW - 8}" y="${y + (withSio ? 20 : 15)}" text-anchor="end">${
      esc(b.label)
    }</text>`,
    `<rect x="${labelW}" y="${y + 4}" width="${
      x(b.value) - labelW
    }" height="${barH}" fill="${color}"/>`,
    `<line x1="${x(b.goal)}" y1="${y + 1}" x2="${x(b.goal)}" y2="${
      y + (withSio ? 17 : rowH - 1)
    }" stroke="#c00" stroke-width="2"/>`,
    `<text x="${labelW + barW + 8}" y="${y + (withSio ? 20 : 15)}">${ratios} · ${
      esc(b.note)
    }</text>`,
  );
  if (b.sio !== undefined) {
    parts.push(
      `<rect x="${labelW}" y="${y + 18}" width="${
        x(b.sio) - labelW
      }" height="${barH}" fill="#5b7fbf"/>`,
    );
  }
});
parts.push("</svg>");
Deno.writeTextFileSync(OUT, parts.join("\n") + "\n");
console.log(`wrote ${OUT.pathname} (${bars.length} bars)`);
