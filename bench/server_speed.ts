/**
 * Server speed against the raw runtime, in one run: broadcast fan-out, idle memory per
 * connection and connection rate, on Deno or Bun, for sente-lite at `<root>` (e.g. this checkout
 * and a checkout of the commit before) and for the raw runtime.
 *
 * `bun bench/server_speed.ts <fanout|memory|connrate> <deno|bun> <root> <raw|sente|resume> [n]`
 * prints one JSON line:
 * - fanout: n (1000) clients, the server broadcasts 1000 × 64 B; deliveries/s, first and last
 *   delivery (ms after the trigger), server CPU s, and the reply latency of a probe client
 *   (request→reply during the burst; it receives the burst too). `resume` clients ask for resume
 *   (`resume=0`): numbered pushes, the per-connection path.
 * - memory: KB of server RSS per idle handshaken connection (n = 10000), after GC.
 * - connrate: new connections + handshakes per second (n = 3000, 50 at a time).
 *
 * Run it under Bun (its WebSocket client is the cheaper load generator). Results in the report
 * of issue 13 (before/after/raw interleaved).
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
const Bun = (globalThis as any).Bun;
const process = (globalThis as any).process;

const [test, runtime, root, mode, nArg] = process.argv.slice(2);
const bin = new URL(`../node_modules/.bin/${runtime}`, import.meta.url).pathname;
const smode = mode === "resume" ? "sente" : mode;
const args = runtime === "deno"
  ? [
    bin,
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    new URL("./_speed_server.ts", import.meta.url).pathname,
    root,
    smode,
  ]
  : [bin, new URL("./_speed_server.ts", import.meta.url).pathname, root, smode];
if (process.env.PROF) {
  args.splice(
    2,
    0,
    ...(runtime === "deno" ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROF}`] : []),
  );
}
const proc = Bun.spawn(args, { stdout: "pipe", stderr: "inherit" });
const reader = proc.stdout.getReader();
let buf = "";
while (!buf.includes("\n")) {
  const { value } = await reader.read();
  buf += new TextDecoder().decode(value);
}
const port = JSON.parse(buf.split("\n")[0]).port;
const base = `http://127.0.0.1:${port}`;
const wsUrl = (i: number) =>
  mode !== "raw"
    ? `ws://127.0.0.1:${port}/chsk?client-id=c${i}&packer=json${
      mode === "resume" ? "&resume=0" : ""
    }`
    : `ws://127.0.0.1:${port}/chsk`;
const get = async (p: string) => await (await fetch(base + p)).text();
function open(i: number, onMsg?: (d: any) => void): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(wsUrl(i));
    let first = true;
    ws.onmessage = (e) => {
      if (first) {
        first = false;
        res(ws);
      } else onMsg?.(e.data);
    };
    ws.onerror = () => rej(new Error("ws error " + i));
  });
}
async function openMany(n: number, conc: number, onMsg?: (d: any) => void): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) {
      const i = next++;
      out.push(await open(i, onMsg));
    }
  }));
  return out;
}
const result: any = { test, runtime, mode, root: root.includes("p-base") ? "before" : "after" };
try {
  if (test === "memory") {
    const n = Number(nArg ?? 10000);
    await new Promise((r) => setTimeout(r, 500));
    const r0 = JSON.parse(await get("/rss"));
    const socks = await openMany(n, 50);
    await new Promise((r) => setTimeout(r, 1000));
    const r1 = JSON.parse(await get("/rss"));
    result.kbPerConn = +((r1.rss - r0.rss) / n).toFixed(2);
    result.n = r1.n;
    for (const s of socks) s.close();
  } else if (test === "connrate") {
    const n = Number(nArg ?? 3000);
    await openMany(200, 20).then((s) => s.forEach((x) => x.close())); // warm-up
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const socks = await openMany(n, 50);
    result.connPerSec = Math.round(n / ((performance.now() - t0) / 1000));
    for (const s of socks) s.close();
  } else if (test === "fanout") {
    const n = Number(nArg ?? 1000), k = 1000;
    let got = 0, t0 = 0, first = 0, last = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => done = r);
    const socks = await openMany(n, 50, () => {
      got++;
      if (got === 1) first = performance.now() - t0;
      if (got === n * k) {
        last = performance.now() - t0;
        done();
      }
    });
    // probe
    const lat: number[] = [];
    let probing = true;
    let sentAt = 0;
    let cb = 0;
    const probe = await open(999999, (d) => {
      if (typeof d === "string" && !d.includes("b/m")) {
        lat.push(performance.now() - sentAt);
        if (probing) ping();
      }
    });
    const ping = () => {
      sentAt = performance.now();
      probe.send(mode !== "raw" ? JSON.stringify([["b/echo", 1], "p" + (cb++)]) : "probe");
    };
    await new Promise((r) => setTimeout(r, 500));
    t0 = performance.now();
    const c0 = Number(await get(`/burst?k=${k}&size=64`));
    ping();
    await Promise.race([all, new Promise((r) => setTimeout(r, 120000))]);
    probing = false;
    const c1 = Number(await get("/cpu"));
    lat.sort((a, b) => a - b);
    result.deliveries = got;
    result.perSec = Math.round(got / (last / 1000));
    result.firstMs = +first.toFixed(1);
    result.lastMs = Math.round(last);
    result.serverCpuS = +((c1 - c0) / 1e6).toFixed(2);
    result.probeN = lat.length;
    result.probeMaxMs = +(lat.at(-1) ?? -1).toFixed(1);
    result.probeP99Ms = +(lat[Math.floor(lat.length * 0.99)] ?? -1).toFixed(1);
    for (const s of socks) s.close();
    probe.close();
  }
} finally {
  await fetch(base + "/exit").catch(() => {});
  await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 8000))]);
  proc.kill();
}
console.log(JSON.stringify(result));
process.exit(0);
