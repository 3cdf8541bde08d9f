/**
 * Helpers of the multi-process cluster tests: node processes (tests/cluster/_node_server.ts) on
 * Deno or Bun sharing one redis-server, clients that record their pushes, bounded waits.
 */
import { type Client, connect, STATE_EVENT } from "../../client.ts";
import { Child } from "../runtime/_child.ts";
import { firstExisting, ignoreWithoutTool, requireTool, waitFor } from "../_util.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NODE = new URL("./_node_server.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
/** Bun, when installed (else the Bun node runs on Deno, with a note; CI fails instead). */
export const BUN: string | undefined = firstExisting(
  Deno.env.get("BUN_PATH") !== undefined ? [Deno.env.get("BUN_PATH")] : [
    `${ROOT}node_modules/.bin/bun`,
    ...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/bun`),
  ],
);
/** `true` when Bun is missing locally (never under CI, where the test then fails). */
export const NO_BUN: boolean = ignoreWithoutTool("Bun", BUN);
/**
 * The runtime of the node that must run on Bun: `bun`, or `deno` with a note when Bun is missing
 * locally; under CI a missing Bun fails the test.
 */
export function bunNode(): "bun" | "deno" {
  if (NO_BUN) return "deno";
  requireTool("Bun", BUN, "run `npm install` (the bun package), put bun on PATH or set BUN_PATH");
  return "bun";
}

/** Bound on a node process starting (cold start and module loading on a busy machine). */
export const START_MS = 30_000;
/** Bound on one cross-node event. */
export const EVENT_MS = 10_000;

/** A running node. */
export interface Node {
  readonly child: Child;
  readonly url: string;
  readonly nodeId: string;
  readonly runtime: string;
}

/**
 * Starts a node process on `runtime` joined to `redisUrl` (`cluster=<url>,…` for a Redis Cluster)
 * under `prefix`; `mode` is the node's third argument (see `_node_server.ts`).
 */
export async function startNode(
  runtime: "deno" | "bun",
  redisUrl: string,
  prefix: string,
  mode?: string,
): Promise<Node> {
  const args = [NODE, redisUrl, prefix, ...(mode ? [mode] : [])];
  const child = runtime === "bun"
    ? new Child("bun node", BUN!, args, ROOT)
    : new Child("deno node", DENO, ["run", "-A", "--no-check", ...args], ROOT);
  const line = await child.line("the listening line", (l) => l.startsWith("{"), START_MS);
  const info = JSON.parse(line);
  return { child, url: info.url, nodeId: info.nodeId, runtime: info.runtime };
}

/** A client that records every push it gets, by event id. */
export interface Peer {
  readonly client: Client;
  readonly got: Map<string, unknown[]>;
  connId: string;
  nodeId: string;
  /** The pushes of `id` so far. */
  of(id: string): unknown[];
  /** Resolves once `pred` holds for the pushes of `id` (checked on each push; bounded). */
  until(id: string, pred: (pushes: unknown[]) => boolean, what: string): Promise<void>;
}

/** Connects `user` to `node` and waits for the handshake. */
export async function peer(node: Node | string, user: string): Promise<Peer> {
  const url = typeof node === "string" ? node : node.url;
  const client = connect(`${url}?user=${encodeURIComponent(user)}`, {
    onError: () => {},
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  const got = new Map<string, unknown[]>();
  const waiters = new Set<() => void>();
  const record = (id: string, data: unknown) => {
    let list = got.get(id);
    if (!list) got.set(id, list = []);
    list.push(data);
    for (const w of [...waiters]) w();
  };
  client.on("*", (data, ctx) => record(ctx.id, data));
  client.on("sente-lite/gap", (data) => record("sente-lite/gap", data));
  // Connection state changes (with the close code): a test waits for a close it expects.
  client.on(STATE_EVENT, (change) => record(STATE_EVENT, change));
  await client.ready;
  const who = await client.request("ctl/whoami") as { connId: string; nodeId: string };
  const p: Peer = {
    client,
    got,
    connId: who.connId,
    nodeId: who.nodeId,
    of: (id) => got.get(id) ?? [],
    until: (id, pred, what) =>
      waitFor(() => pred(p.of(id)) ? true : undefined, what, {
        timeoutMs: EVENT_MS,
        intervalMs: 10,
      }).then(() => {}),
  };
  return p;
}

/** Calls `ctl/<op>` on the node the client is connected to. */
export function ctl<T = unknown>(p: Peer, op: string, data?: unknown): Promise<T> {
  return p.client.request(`ctl/${op}`, data ?? null, { timeoutMs: EVENT_MS }) as Promise<T>;
}

/** Counts losses, duplicates and reorderings of 1…count in `list`. */
export function audit(list: number[], count: number): { lost: number; dup: number; ooo: number } {
  const seen = new Set<number>();
  let dup = 0, ooo = 0, lost = 0;
  for (let k = 0; k < list.length; k++) {
    if (seen.has(list[k])) dup++;
    seen.add(list[k]);
    if (k > 0 && list[k] < list[k - 1]) ooo++;
  }
  for (let n = 1; n <= count; n++) if (!seen.has(n)) lost++;
  return { lost, dup, ooo };
}

/** One handling of a client send (`c/n`, `c/k`) a node wrote to stdout. */
export interface Handling {
  readonly n: number;
  /** `msg.delivery.key` (`c/k`), `"-"` when absent, `undefined` for `c/n`. */
  readonly key?: string;
}

/** What `node` handled of `uid`'s client sends, in order. */
export function handlings(node: Node, uid: string): Handling[] {
  const out: Handling[] = [];
  for (const line of node.child.stdout.split("\n")) {
    const m = /^handled (\S+) (\d+)(?: (\S+))?$/.exec(line);
    if (m && m[1] === uid) {
      out.push(m[3] === undefined ? { n: Number(m[2]) } : { n: +m[2], key: m[3] });
    }
  }
  return out;
}

/** The effects `c/k` made in `dir` (one file per key): their keys. */
export function effects(dir: string): Set<string> {
  return new Set([...Deno.readDirSync(dir)].map((e) => e.name));
}

/**
 * Checks that each of the sends 1…`count` had one key wherever it was handled (`handled`: every
 * node's handlings) and that its effect exists once: a file for each of those keys and no other
 * (a key that differed between nodes would have made a second one). Returns the sends handled
 * more than once.
 */
export function assertEffectsOnce(handled: Handling[], made: Set<string>, count: number): number[] {
  const keysOf = new Map<number, Set<string>>();
  const times = new Map<number, number>();
  for (const h of handled) {
    keysOf.set(h.n, (keysOf.get(h.n) ?? new Set()).add(h.key!));
    times.set(h.n, (times.get(h.n) ?? 0) + 1);
  }
  for (let n = 1; n <= count; n++) {
    const keys = [...keysOf.get(n) ?? []];
    if (keys.length !== 1 || keys[0] === "-") {
      throw new Error(`send ${n} had the keys ${JSON.stringify(keys)}, not one`);
    }
    if (!made.has(keys[0])) throw new Error(`send ${n}: no effect (${keys[0]})`);
  }
  const all = new Set([...keysOf.values()].flatMap((k) => [...k]));
  const extra = [...made].filter((k) => !all.has(k));
  if (extra.length > 0 || made.size !== all.size) {
    throw new Error(`effects of no send, or twice: ${extra}`);
  }
  return [...times].filter(([, c]) => c > 1).map(([n]) => n);
}

/** The resume entry of a handshake, as the failover tests read it. */
export interface ResumeSeen {
  resumed: boolean;
  ack: number;
}

/** A client of `user` on node 0 until `failOver()`, then on node 1; keeps every handshake's resume entry. */
export interface FailoverClient {
  client: Client;
  /** The resume entry of each handshake, in order. */
  handshakes: ResumeSeen[];
  /** Its next connection goes to node 1 (call it when node 0 is killed). */
  failOver(): void;
}

/** Connects `user` with a short reconnect delay to `nodes[0]`, moving to `nodes[1]` on `failOver()`. */
export function failoverClient(nodes: readonly Node[], user: string): FailoverClient {
  let dead = false;
  const handshakes: ResumeSeen[] = [];
  const client = connect(() => `${nodes[dead ? 1 : 0].url}?user=${user}`, {
    onError: () => {},
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  client.on("chsk/handshake", (hs) => {
    const r = (hs as { server?: { resume?: ResumeSeen } }).server?.resume;
    if (r) handshakes.push({ resumed: r.resumed, ack: r.ack });
  });
  return { client, handshakes, failOver: () => void (dead = true) };
}
