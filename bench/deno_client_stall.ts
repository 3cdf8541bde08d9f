/**
 * Per-frame latency of client→server frames from the sente-lite client on Deno with Deno's own
 * `WebSocket`, on Deno with `./ws` (`NodeWebSocket`, the `ws` npm package), and on Bun with
 * Bun's `WebSocket`, against one sente-lite server (Deno, in this process), in the same run.
 *
 * Each client process connects with `wire: false` (frames as big as the payload: no compression)
 * and sends `--requests` (40) sequential `client.request("bench/len", payload)` per payload size
 * (`--sizes`, default 1024,2048,16384,40960 bytes, random base64 text) after 5 warm-up ones; the
 * server replies with the length (a tiny frame), so the time is the upload's. `--rounds` (2)
 * repeat the three clients, interleaved.
 *
 * Deno's client socket has no `TCP_NODELAY`: a frame bigger than one MSS-sized segment waits for
 * the server's delayed ACK (~40 ms on Linux) before its tail goes out (Nagle's algorithm).
 *
 * Prints a table and, on the last line, `{"bench":"deno_client_stall",…}` (median ms per size).
 *
 * Run: `deno run -A bench/deno_client_stall.ts [--sizes 1024,2048,16384,40960] [--requests 40]
 * [--rounds 2]`
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { connect, type WebSocketConstructor } from "../client.ts";

type Transport = "deno" | "ws" | "bun";
const TRANSPORTS: readonly Transport[] = ["deno", "ws", "bun"];

/** What one client process measured for one size. */
interface SizeResult {
  bytes: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  meanMs: number;
}

const ROOT = new URL("../", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Random base64 text of `bytes` characters (incompressible enough, never escaped in JSON). */
function payload(bytes: number): string {
  const raw = new Uint8Array(Math.ceil(bytes * 3 / 4) + 3);
  for (let i = 0; i < raw.length; i += 65536) crypto.getRandomValues(raw.subarray(i, i + 65536));
  let bin = "";
  for (const b of raw) bin += String.fromCharCode(b);
  return btoa(bin).slice(0, bytes);
}

/** Client process: measures each size and prints one JSON line. */
async function clientMain(args: string[]): Promise<void> {
  const [transport, url, sizesArg, requestsArg] = args;
  // Bounded: a client that hangs (no server, a lost reply) ends the run instead of blocking it.
  setTimeout(() => {
    console.error(`${transport} client: no result within 120 s`);
    process.exit(2);
  }, 120_000);
  const WebSocketImpl: WebSocketConstructor | undefined = transport === "ws"
    ? (await import("../ws.ts")).NodeWebSocket
    : undefined;
  const client = connect(url, {
    wire: false,
    reconnect: false,
    ...(WebSocketImpl ? { WebSocket: WebSocketImpl } : {}),
  });
  await client.ready;
  const results: SizeResult[] = [];
  for (const bytes of sizesArg.split(",").map(Number)) {
    const data = payload(bytes);
    for (let i = 0; i < 5; i++) await client.request("bench/len", data);
    const ms: number[] = [];
    for (let i = 0; i < Number(requestsArg); i++) {
      const t0 = performance.now();
      await client.request("bench/len", data);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    results.push({
      bytes,
      p50Ms: r3(quantile(ms, 0.5)),
      p90Ms: r3(quantile(ms, 0.9)),
      maxMs: r3(ms.at(-1)!),
      meanMs: r3(ms.reduce((a, b) => a + b, 0) / ms.length),
    });
  }
  client.close();
  console.log(JSON.stringify({ results }));
  process.exit(0);
}

async function runClient(
  transport: Transport,
  url: string,
  sizes: string,
  requests: number,
): Promise<SizeResult[]> {
  const bin = `${ROOT}node_modules/.bin/`;
  const args = [transport, url, sizes, String(requests)];
  const cmd = transport === "bun"
    ? new Deno.Command(`${bin}bun`, { args: [SELF, "--client", ...args], cwd: ROOT })
    : new Deno.Command(`${bin}deno`, { args: ["run", "-A", SELF, "--client", ...args], cwd: ROOT });
  const out = await cmd.output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success || !text.startsWith("{")) {
    throw new Error(`${transport} client failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return (JSON.parse(text) as { results: SizeResult[] }).results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sizes: { type: "string", default: "1024,2048,16384,40960" },
      requests: { type: "string", default: "40" },
      rounds: { type: "string", default: "2" },
    },
    strict: true,
  });
  const { createServer } = await import("../server.ts");
  const server = createServer({ rateLimit: false, onError: (e) => console.error(e) });
  server.on("bench/len", (msg) => (msg.data as string).length);
  const handle = await server.serve({ port: 0 });
  const runs: { transport: Transport; round: number; results: SizeResult[] }[] = [];
  try {
    for (let round = 1; round <= Number(values.rounds); round++) {
      const order = round % 2 ? TRANSPORTS : [...TRANSPORTS].reverse();
      for (const transport of order) {
        const results = await runClient(transport, handle.url, values.sizes, +values.requests);
        console.error(`${transport} round ${round}: ${results.map((r) => r.p50Ms).join(" / ")} ms`);
        runs.push({ transport, round, results });
      }
    }
  } finally {
    await handle.close();
  }
  const sizes = values.sizes.split(",").map(Number);
  const header = ["client", "round", ...sizes.map((b) => `${b / 1024} KB p50 / p90 ms`)];
  const rows = [header];
  for (const run of runs) {
    rows.push([
      run.transport,
      String(run.round),
      ...run.results.map((r) => `${r.p50Ms.toFixed(2)} / ${r.p90Ms.toFixed(2)}`),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join("  "));
  // Median of the rounds' p50 per transport and size.
  const summary: Record<string, Record<string, number>> = {};
  for (const transport of TRANSPORTS) {
    summary[transport] = {};
    sizes.forEach((bytes, i) => {
      const p50s = runs.filter((r) => r.transport === transport).map((r) => r.results[i].p50Ms)
        .sort((a, b) => a - b);
      summary[transport][String(bytes)] = p50s[(p50s.length - 1) >> 1];
    });
  }
  const bunVersion = new TextDecoder().decode(
    (await new Deno.Command(`${ROOT}node_modules/.bin/bun`, { args: ["--version"] }).output())
      .stdout,
  ).trim();
  console.log(JSON.stringify({
    bench: "deno_client_stall",
    p50Ms: summary,
    config: {
      sizes,
      requests: +values.requests,
      rounds: +values.rounds,
      deno: Deno.version.deno,
      bun: bunVersion,
      server: "sente-lite on Deno, wire: false",
    },
  }));
}

const argv = process.argv.slice(2);
if (argv[0] === "--client") await clientMain(argv.slice(1));
else if (import.meta.main) await main();
