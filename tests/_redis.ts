/**
 * A real redis-server for tests: started on a free ephemeral port with no persistence, ready once
 * it answers PING, killable and restartable on the same port (to test outages), disposed with
 * `await using`. A missing redis-server skips the tests with a note locally and fails them under
 * `CI=true` (`.ci/run` installs it).
 *
 * @module
 */
import { ignoreWithoutTool, IN_CI, requireTool, withTimeout } from "./_util.ts";

/** The redis-server binary on PATH (or `REDIS_SERVER`), or `undefined`. */
export const REDIS_SERVER: string | undefined = findRedis();

function findRedis(): string | undefined {
  const explicit = Deno.env.get("REDIS_SERVER");
  if (explicit) return explicit;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/redis-server`).isFile) return `${dir}/redis-server`;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

/** `true` when the redis tests should be skipped (missing locally; never under CI). */
export const IGNORE_REDIS: boolean = ignoreWithoutTool("redis-server", REDIS_SERVER);

/** A running redis-server. */
export interface RedisProcess extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its port (kept across restarts). */
  readonly port: number;
  /** Kills the server (default SIGKILL: a crash) and waits for it to exit. */
  kill(signal?: Deno.Signal): Promise<void>;
  /** Starts it again on the same port (after `kill`) and waits until it answers PING. */
  restart(): Promise<void>;
  /** Sends one command over a fresh connection; resolves with the raw RESP reply text. */
  command(...args: string[]): Promise<string>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Sends PING over a fresh TCP connection; `true` when it answers `+PONG`. */
async function ping(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(16);
    const n = await conn.read(buf);
    return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/** Sends one command as a RESP array and reads one reply (small replies only: one read). */
async function rawCommand(port: number, args: string[]): Promise<string> {
  const enc = new TextEncoder();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let req = `*${args.length}\r\n`;
    for (const a of args) req += `$${enc.encode(a).length}\r\n${a}\r\n`;
    await conn.write(enc.encode(req));
    const buf = new Uint8Array(64 * 1024);
    const n = await conn.read(buf);
    return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    conn.close();
  }
}

/** Starts a redis-server on a free port; throws (clearly) when it is missing. */
export async function startRedis(): Promise<RedisProcess> {
  const bin = requireTool(
    "redis-server",
    REDIS_SERVER,
    "install it (apt-get install redis-server) or set REDIS_SERVER" +
      (IN_CI ? "" : "; without CI=true the tests are skipped"),
  );
  const port = freePort();
  let child: Deno.ChildProcess | null = null;

  const spawn = async (): Promise<void> => {
    const proc = new Deno.Command(bin, {
      args: ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    child = proc;
    // Poll PING (bounded): redis-server writes no event we could wait on without parsing logs.
    const deadline = performance.now() + 10_000;
    for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
      if (await ping(port)) return;
      if (performance.now() > deadline) {
        try {
          proc.kill("SIGKILL");
        } catch { /* gone */ }
        await proc.status;
        throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  };

  const kill = async (signal: Deno.Signal = "SIGKILL"): Promise<void> => {
    const proc: Deno.ChildProcess | null = child;
    if (proc === null) return;
    child = null;
    try {
      proc.kill(signal);
    } catch { /* already gone */ }
    await withTimeout(proc.status, 10_000, "redis-server to exit");
  };

  await spawn();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: spawn,
    command: (...args) => rawCommand(port, args),
    [Symbol.asyncDispose]: () => kill(),
  };
}
