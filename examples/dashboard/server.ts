/**
 * Live dashboard example: the server publishes a metrics point every second on the channel
 * `metrics` (its own `stats()`, the process memory and a synthetic series), and the page draws
 * them with uPlot.
 *
 * Run it with `deno task example:dashboard` and open http://127.0.0.1:3000/.
 *
 * @module
 */
import { createServer, type Server } from "../../server.ts";
import { bundleAtStartup, file, html, notFound, runExample, script } from "../_shared/serve.ts";

/** One point of every series, taken every `intervalMs`. */
export interface MetricsPoint {
  /** Unix time, seconds (uPlot's x axis). */
  t: number;
  connections: number;
  /** Frames sent and received per second since the previous point. */
  framesOutPerSec: number;
  framesInPerSec: number;
  /** Process memory, MiB. */
  rssMiB: number;
  heapMiB: number;
  /** A sine wave with noise, so the chart moves even on an idle server. */
  synthetic: number;
}

/** Options of {@linkcode createDashboardServer}. */
export interface DashboardOptions {
  /**
   * How often a point is taken and published, in ms.
   * @default {1000}
   */
  intervalMs?: number;
}

/** The dashboard server and a function that stops its timer. */
export interface Dashboard {
  server: Server;
  stop(): void;
}

/** Points kept for pages that open later. */
const KEPT = 300;
const MiB = 1024 * 1024;

/** Makes the dashboard server (not listening yet) and starts taking points. */
export function createDashboardServer(options: DashboardOptions = {}): Dashboard {
  const intervalMs = options.intervalMs ?? 1000;
  if (!(intervalMs >= 10)) throw new RangeError(`intervalMs must be >= 10, got ${intervalMs}`);
  const page = bundleAtStartup(new URL("./page.ts", import.meta.url));
  const css = new URL("../../node_modules/uplot/dist/uPlot.min.css", import.meta.url);
  const points: MetricsPoint[] = [];

  const server = createServer({
    // Anyone may watch; nobody but the server may publish metrics.
    authorizeChannel: ({ action, channel }) => action === "subscribe" && channel === "metrics",
    fallback: (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return Promise.resolve(html(PAGE));
      if (pathname === "/page.js") return script(page);
      if (pathname === "/uPlot.min.css") return file(css, "text/css");
      return Promise.resolve(notFound(request));
    },
  });
  // A page subscribes first, then asks for what it missed (and drops points it already has).
  server.on("metrics/history", () => points);

  let previous = server.stats();
  let previousAt = performance.now();
  const timer = setInterval(() => {
    const stats = server.stats();
    const now = performance.now();
    const seconds = (now - previousAt) / 1000;
    const memory = Deno.memoryUsage();
    const t = Date.now() / 1000;
    const point: MetricsPoint = {
      t,
      connections: stats.connections,
      framesOutPerSec: (stats.messagesOut - previous.messagesOut) / seconds,
      framesInPerSec: (stats.messagesIn - previous.messagesIn) / seconds,
      rssMiB: memory.rss / MiB,
      heapMiB: memory.heapUsed / MiB,
      synthetic: Math.sin(t / 5) * 10 + Math.random() * 2,
    };
    previous = stats;
    previousAt = now;
    points.push(point);
    if (points.length > KEPT) points.shift();
    server.publish("metrics", point);
  }, intervalMs);

  return { server, stop: () => clearInterval(timer) };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sente-lite dashboard</title>
<link rel="stylesheet" href="/uPlot.min.css">
<style>body { font: 15px system-ui, sans-serif; margin: 2rem; } .chart { margin-bottom: 1rem; }</style>
</head><body>
  <h1>sente-lite dashboard</h1>
  <p>Connection: <b id="state">-</b> · points: <b id="points">0</b></p>
  <div id="memory" class="chart"></div>
  <div id="traffic" class="chart"></div>
  <div id="synthetic" class="chart"></div>
  <script type="module" src="/page.js"></script>
</body></html>
`;

if (import.meta.main) {
  const { server, stop } = createDashboardServer();
  await runExample("dashboard", server, stop);
}
