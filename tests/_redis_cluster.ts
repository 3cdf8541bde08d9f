/**
 * A real Redis Cluster for tests: three masters (no replicas) on free ports, each with
 * `--cluster-enabled yes` and its own config file in a temp dir, joined by
 * `redis-cli --cluster create`, ready once every master reports `cluster_state:ok`. Disposed with
 * `await using` (processes killed, temp dir removed). A missing redis-server or redis-cli skips
 * the tests with a note locally and fails them under `CI=true` (`.ci/run` installs both).
 *
 * Ports are picked by binding port 0 and closing: a cluster node also listens on its port +
 * 10000 (the cluster bus), so `--port 0` cannot be used, and a pick whose bus port is taken is
 * retried.
 *
 * @module
 */
import { IGNORE_REDIS, REDIS_SERVER } from "./_redis.ts";
import { ignoreWithoutTool, IN_CI, requireTool, withTimeout } from "./_util.ts";

/** redis-cli on PATH (or `REDIS_CLI`), or `undefined`. */
export const REDIS_CLI: string | undefined = findCli();

function findCli(): string | undefined {
  const explicit = Deno.env.get("REDIS_CLI");
  if (explicit) return explicit;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/redis-cli`).isFile) return `${dir}/redis-cli`;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

/** `true` when the Redis Cluster tests should be skipped (missing locally; never under CI). */
export const IGNORE_REDIS_CLUSTER: boolean = IGNORE_REDIS ||
  ignoreWithoutTool("redis-cli", REDIS_CLI);

/** A running Redis Cluster. */
export interface RedisClusterProcess extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>` of each master. */
  readonly urls: string[];
  /** The masters' ports. */
  readonly ports: number[];
  /** Runs `redis-cli -p <port> args…` against the first master (`-c`: follows redirects). */
  cli(...args: string[]): Promise<string>;
  /** SIGKILLs master `i` and waits for it to exit. */
  kill(i: number): Promise<void>;
  /**
   * Starts master `i` again (same port and cluster config: it rejoins with its slots) and waits
   * until every master says `cluster_state:ok`.
   */
  restart(i: number): Promise<void>;
}

/** A port free on 127.0.0.1 whose cluster-bus port (+10000) is free too. */
function freeClusterPort(taken: Set<number>): number {
  for (let i = 0; i < 100; i++) {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    if (port + 10000 > 65535 || taken.has(port) || taken.has(port + 10000)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port: port + 10000 }).close();
    } catch {
      continue;
    }
    taken.add(port);
    taken.add(port + 10000);
    return port;
  }
  throw new Error("no free port pair (port, port + 10000) found in 100 tries");
}

async function run(bin: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const out = await new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { ok: out.success, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** Starts a three-master Redis Cluster; throws (clearly) when a tool is missing. */
export async function startRedisCluster(): Promise<RedisClusterProcess> {
  const hint = "install it (apt-get install redis-server redis-tools)" +
    (IN_CI ? "" : "; without CI=true the tests are skipped");
  const server = requireTool("redis-server", REDIS_SERVER, hint);
  const cli = requireTool("redis-cli", REDIS_CLI, hint);
  const dir = await Deno.makeTempDir({ prefix: "sente-redis-cluster-" });
  const children: (Deno.ChildProcess | null)[] = [];
  const taken = new Set<number>();
  const ports = [0, 1, 2].map(() => freeClusterPort(taken));

  const stop = async (): Promise<void> => {
    for (const c of children) {
      try {
        c?.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await Promise.all(
      children.map((c) => c && withTimeout(c.status, 10_000, "redis-server exit")),
    );
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  const spawn = (port: number): Deno.ChildProcess =>
    new Deno.Command(server, {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `${dir}/nodes-${port}.conf`,
        "--cluster-node-timeout",
        "2000",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
  // Bounded polls: redis-server and the cluster bus write no event we could wait on.
  const poll = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
    const deadline = performance.now() + 20_000;
    for (let delay = 10;; delay = Math.min(delay * 2, 200)) {
      if (await ok()) return;
      if (performance.now() > deadline) throw new Error(`redis cluster: ${what} within 20 s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  };
  const pings = (port: number) =>
    poll(
      `port ${port} answers PING`,
      async () => (await run(cli, ["-p", String(port), "PING"])).out.includes("PONG"),
    );
  const clusterOk = async () => {
    for (const port of ports) {
      await poll(
        `port ${port} says cluster_state:ok`,
        async () =>
          (await run(cli, ["-p", String(port), "CLUSTER", "INFO"])).out.includes(
            "cluster_state:ok",
          ),
      );
    }
  };
  try {
    for (const port of ports) children.push(spawn(port));
    for (const port of ports) await pings(port);
    const made = await run(cli, [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-yes",
    ]);
    if (!made.ok) throw new Error(`redis-cli --cluster create failed:\n${made.out}`);
    await clusterOk();
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    urls: ports.map((p) => `redis://127.0.0.1:${p}`),
    ports,
    cli: async (...args) => (await run(cli, ["-c", "-p", String(ports[0]), ...args])).out,
    async kill(i) {
      const c = children[i];
      children[i] = null;
      if (!c) return;
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
      await withTimeout(c.status, 10_000, "redis-server exit");
    },
    async restart(i) {
      children[i] = spawn(ports[i]);
      await pings(ports[i]);
      await clusterOk();
    },
    [Symbol.asyncDispose]: stop,
  };
}
