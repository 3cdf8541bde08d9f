/**
 * Helpers of the multi-process benchmarks (fanout, memory, connrate): a subprocess spoken to in
 * JSON lines, the runtimes' command lines, a latency probe, and table printing.
 */
import { type ClientsConfig, SIO_PATH } from "./_bench_clients.ts";
import { findSocketIo } from "./_socketio_env.ts";

/** Where a server runs; `node` only for the Socket.IO side. */
export type Runtime = "deno" | "bun" | "node";
/** raw runtime, sente-lite, or Socket.IO 4 on Node (bench/_socketio_server.mjs). */
export type Side = "raw" | "sente" | "sio";

const ROOT = new URL("../", import.meta.url).pathname;
const BIN = `${ROOT}node_modules/.bin/`;
export const SERVER_SCRIPT: string = `${ROOT}bench/_bench_server.ts`;
export const CLIENTS_SCRIPT: string = `${ROOT}bench/_bench_clients.ts`;
export const SOCKETIO_SCRIPT: string = `${ROOT}bench/_socketio_server.mjs`;

/** A child process with piped stdio; stdout is read as JSON lines. */
export class Proc {
  readonly child: Deno.ChildProcess;
  readonly name: string;
  #lines: Record<string, unknown>[] = [];
  #wake: (() => void) | null = null;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  stderr = "";
  exited = false;

  constructor(name: string, cmd: string[]) {
    this.name = name;
    this.child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#pump(this.child.stdout, (line) => {
      try {
        this.#lines.push(JSON.parse(line));
      } catch {
        console.error(`[${name}] ${line}`);
      }
    });
    this.#pump(this.child.stderr, (line) => {
      this.stderr += line + "\n";
      if (Deno.env.get("BENCH_VERBOSE")) console.error(`[${name}!] ${line}`);
    });
    this.child.status.then(() => {
      this.exited = true;
      this.#wake?.();
    });
  }

  get pid(): number {
    return this.child.pid;
  }

  async #pump(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    let buf = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buf += text;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) onLine(line);
      }
      this.#wake?.();
    }
  }

  /** Next JSON line with `key` in it, within `timeoutMs`. */
  async next<T = Record<string, unknown>>(key: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex((l) => key in l);
      if (i >= 0) return this.#lines.splice(i, 1)[0] as T;
      if (this.exited) throw new Error(`${this.name} exited: ${this.stderr.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${key}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  async send(msg: Record<string, unknown>): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(msg) + "\n"));
  }

  /**
   * Ends the process and waits for it: asks it to `exit` (so a `--cpu-prof` profile is written,
   * see `BENCH_DENO_FLAGS`), SIGTERM after 2 s, SIGKILL 3 s later.
   */
  async stop(): Promise<void> {
    if (this.exited) return;
    await this.send({ op: "exit" }).catch(() => {});
    const exited = await Promise.race([
      this.child.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 2000)),
    ]);
    if (!exited) {
      try {
        this.child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    const t = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 3000);
    await this.child.status;
    clearTimeout(t);
    await this.#writer.close().catch(() => {});
  }
}

/**
 * `BENCH_DENO_FLAGS`: more flags for every Deno process a bench starts, e.g.
 * `BENCH_DENO_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile the servers.
 */
const DENO_FLAGS = (Deno.env.get("BENCH_DENO_FLAGS") ?? "").split(" ").filter(Boolean);

/**
 * The command line that runs `script` under `runtime` (Deno and Node with `--expose-gc`; Node with
 * the Socket.IO side's `NODE_PATH`), through `sh` so the process's soft open-file limit is raised
 * to the hard one first (19,000 sockets need it).
 */
export function command(runtime: Runtime, script: string, args: string[]): string[] {
  const run = runtime === "deno"
    ? [`${BIN}deno`, "run", "-A", "--v8-flags=--expose-gc", ...DENO_FLAGS, script, ...args]
    : runtime === "node"
    ? ["env", `NODE_PATH=${nodePath()}`, "node", "--expose-gc", script, ...args]
    : [`${BIN}bun`, script, ...args];
  // `exec` keeps the pid, so the orchestrator's pid is the runtime's.
  return ["sh", "-c", 'ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "sh", ...run];
}

/** The server's first line. */
export interface ServerReady {
  ready: true;
  url: string;
  pid: number;
  runtime: Runtime;
}

function nodePath(): string {
  const env = findSocketIo();
  if ("skipped" in env) throw new Error(`Socket.IO side: ${env.skipped}`);
  return env.nodePath;
}

/** Starts the measured server process (Socket.IO's on Node, whatever `runtime` says). */
export async function startServer(
  runtime: Runtime,
  side: Side,
): Promise<{ proc: Proc; ready: ServerReady }> {
  const cmd = side === "sio"
    ? command("node", SOCKETIO_SCRIPT, [])
    : command(runtime, SERVER_SCRIPT, [side]);
  const proc = new Proc(`${side === "sio" ? "node" : runtime}/${side} server`, cmd);
  const ready = await proc.next<ServerReady>("ready", 30_000);
  return { proc, ready };
}

/** Starts a client process (`hold` answers once its connections are ready). */
export function startClients(runtime: Runtime, config: ClientsConfig): Proc {
  return new Proc(
    `${runtime} clients`,
    command(runtime, CLIENTS_SCRIPT, [JSON.stringify(config)]),
  );
}

/** Server process stats. */
export interface ServerStats {
  rss: number;
  /** JS heap in use (V8 on Deno and Node, JSC on Bun). */
  heapUsed: number;
  /** The process's soft open-file limit. */
  nofile: number;
  cpuMs: number;
  connections: number;
}

/** Asks the server for stats (after a full GC when `gc`). */
export async function serverStats(proc: Proc, gc = false): Promise<ServerStats> {
  await proc.send({ op: gc ? "gc" : "stats" });
  return await proc.next<ServerStats>("rss", 120_000);
}

/**
 * Request→reply latency of one connection, one request in flight at a time: raw, a text frame
 * echoed on `/probe`; sente-lite, a `bench/echo` request; Socket.IO, an `echo` emit with an ack
 * (`42<id>["echo","p"]` answered by `43<id>["p"]`) on the main namespace.
 *
 * `gapMs` after each reply the next request goes (0: at once). Back to back, the probe sends as
 * many requests as the server has turns for, and that differs by side (a raw echo is cheaper than
 * a sente-lite request): on a 2-core machine shared by server, clients and this process, tens of
 * thousands of round trips in a burst took a core from the clients on one side and not on the
 * other, and swung its deliveries/s by 2×. Paced, it costs every side about the same; a frozen
 * loop still shows as one late reply (a request in flight waits for it).
 */
export class Probe {
  #ws: WebSocket;
  #samples: [number, number][] = [];
  #running = false;
  #t0 = 0;
  #cb = 0;
  #side: Side;
  #gapMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  private constructor(ws: WebSocket, side: Side, gapMs: number) {
    this.#ws = ws;
    this.#side = side;
    this.#gapMs = gapMs;
    ws.onmessage = (e) => this.#onFrame(e.data as string);
  }

  static async open(url: string, side: Side, gapMs = 0): Promise<Probe> {
    const ws = new WebSocket(
      side === "raw"
        ? `${url}probe`
        : side === "sio"
        ? `${url}${SIO_PATH}`
        : `${url}?client-id=${crypto.randomUUID()}&packer=json`,
    );
    await new Promise<void>((resolve, reject) => {
      if (side === "raw") ws.onopen = () => resolve();
      else if (side === "sio") {
        ws.onmessage = (e) => {
          if ((e.data as string)[0] === "0") ws.send("40"); // Engine.IO open → namespace connect
          else if ((e.data as string).startsWith("40")) resolve();
        };
      } else ws.onmessage = () => resolve(); // the handshake
      ws.onerror = () => reject(new Error("probe cannot connect"));
    });
    return new Probe(ws, side, gapMs);
  }

  #onFrame(data: string): void {
    if (this.#side === "sio" && data === "2") return this.#ws.send("3"); // Engine.IO ping
    if (!this.#running) return;
    if (this.#side === "sente") {
      // Broadcasts reach the probe's sente-lite connection too; only its reply counts.
      if (!data.endsWith(`"${this.#cb.toString(36)}"]`)) return;
    } else if (this.#side === "sio") {
      // So do Socket.IO's (`io.emit`): only the ack of the request in flight counts.
      if (!data.startsWith(`43${this.#cb}[`)) return;
    }
    const t = performance.timeOrigin + performance.now();
    this.#samples.push([this.#t0, t - this.#t0]);
    if (this.#gapMs <= 0) this.#fire();
    else this.#timer = setTimeout(() => this.#fire(), this.#gapMs);
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    this.#t0 = performance.timeOrigin + performance.now();
    if (this.#side === "raw") this.#ws.send("ping");
    else if (this.#side === "sio") this.#ws.send(`42${++this.#cb}["echo","p"]`);
    else this.#ws.send(JSON.stringify([["bench/echo", "p"], (++this.#cb).toString(36)]));
  }

  start(): void {
    this.#samples = [];
    this.#running = true;
    this.#fire();
  }

  /** Stops; returns `[send time (absolute ms), latency ms]` of each reply (and the pending one). */
  stop(): [number, number][] {
    // A request still unanswered counts with its wait so far: a frozen server must show.
    // (none is while the probe waits out its gap)
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (this.#running) {
      this.#samples.push([this.#t0, performance.timeOrigin + performance.now() - this.#t0]);
    }
    this.#running = false;
    return this.#samples;
  }

  close(): void {
    this.#ws.close();
  }
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Prints rows as a right-aligned table. */
export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join("  "));
}

/** Writes a progress line to stderr. */
export function progress(message: string): void {
  console.error(`${new Date().toISOString().slice(11, 19)} ${message}`);
}
