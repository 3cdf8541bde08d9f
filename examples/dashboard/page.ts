/// <reference lib="dom" />
/**
 * The dashboard page's script: subscribes to `metrics`, fills in the history, and redraws three
 * uPlot charts on every point.
 *
 * @module
 */
import uPlot from "uplot";
import { connect, STATE_EVENT, type StateChange } from "../../client.ts";
import type { MetricsPoint } from "./server.ts";

/** Keep this many points on screen. */
const WINDOW = 120;

type Series = Exclude<keyof MetricsPoint, "t">;

/** One chart: its series (keys of a point) and their uPlot data columns. */
function chart(id: string, title: string, series: Series[]): (points: MetricsPoint[]) => void {
  const colors = ["#1f77b4", "#d62728", "#2ca02c"];
  const plot = new uPlot(
    {
      title,
      width: Math.min(900, innerWidth - 64),
      height: 180,
      series: [{}, ...series.map((label, i) => ({ label, stroke: colors[i], width: 2 }))],
    },
    [[], ...series.map(() => [])],
    document.getElementById(id)!,
  );
  return (points) =>
    plot.setData([points.map((p) => p.t), ...series.map((key) => points.map((p) => p[key]))]);
}

const charts = [
  chart("memory", "Process memory (MiB)", ["rssMiB", "heapMiB"]),
  chart("traffic", "Server (frames/s, connections)", [
    "framesOutPerSec",
    "framesInPerSec",
    "connections",
  ]),
  chart("synthetic", "Synthetic series", ["synthetic"]),
];

let points: MetricsPoint[] = [];
let total = 0; // points received since the page opened (the test watches it grow)

function add(incoming: MetricsPoint[]): void {
  const known = new Set(points.map((p) => p.t)); // the history overlaps the live points
  const fresh = incoming.filter((p) => !known.has(p.t));
  if (fresh.length === 0) return;
  total += fresh.length;
  points = [...points, ...fresh].sort((a, b) => a.t - b.t).slice(-WINDOW);
  for (const draw of charts) draw(points);
  document.getElementById("points")!.textContent = String(total);
}

const client = connect(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/chsk`);
client.on(STATE_EVENT, (change) => {
  document.getElementById("state")!.textContent = (change as StateChange).to;
});
await client.subscribe("metrics", (point) => add([point as MetricsPoint]));
add(await client.request("metrics/history") as MetricsPoint[]);
