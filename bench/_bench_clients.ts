/**
 * The client process of bench/fanout.ts, bench/memory.ts and bench/connrate.ts (Bun by default,
 * Deno works too): `_bench_clients.ts '<json config>'`, so the server process is measured alone.
 *
 * - task "hold": opens `count` connections (`concurrency` at a time), each ready after its first
 *   frame (raw: `"hello"`; sente-lite: the handshake, then the reply to a `sente-lite/subscribe`
 *   when `channel`), prints `{"ready":n,…}`, then counts every further frame. Stdin
 *   `{"op":"wait","expect":n,"idleMs":t}` answers `{received, first, last, cpuMs}` once `n` frames
 *   arrived or none came for `t` ms (`first`, `last`: absolute ms; `cpuMs`: this process's CPU,
 *   user + system, since its previous answer, so the client side of a burst is measured too), and
 *   starts counting again.
 * - task "churn": for `seconds`, `concurrency` loops each open a connection, wait for its first
 *   frame and close it; prints `{"done":n,"errors":e,"seconds":s}`.
 *
 * Minimal protocol clients (no library client): the cost measured is the server's. Socket.IO
 * (`side: "sio"`) is spoken the same way, Engine.IO 4 / Socket.IO 5 framing over a WebSocket
 * (`transport=websocket`, as socket.io-client with `transports: ["websocket"]`): the Engine.IO open
 * packet `0{…}` is answered by `40` (connect the main namespace), the connection is ready at the
 * server's `40{…}`, and pings `2` are answered `3`; events `42[…]` are counted as frames.
 */
import process from "node:process";
import { createInterface } from "node:readline";

/** What the orchestrator passes. */
export interface ClientsConfig {
  task: "hold" | "churn";
  url: string;
  side: "raw" | "sente" | "sio";
  count: number;
  concurrency: number;
  channel?: boolean;
  seconds?: number;
  /** Frames shorter than this are not counted (sente-lite's heartbeat pings). */
  minBytes?: number;
  /**
   * sente-lite: what the library client negotiates. `"off"` (default): no resume;
   * `"session"`: resume with every push numbered by the session (acknowledged every 16, as the
   * client does); `"channel-seq"`: resume with channel sequences (the library's default).
   */
  resume?: "off" | "session" | "channel-seq";
}

/** The Engine.IO 4 WebSocket endpoint of a Socket.IO server, relative to its root URL. */
export const SIO_PATH = "socket.io/?EIO=4&transport=websocket";

const now = (): number => performance.timeOrigin + performance.now();
/** This process's CPU ms (user + system, all threads). */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const SUBSCRIBE = JSON.stringify([["sente-lite/subscribe", { "channel-id": "bench" }], "s"]);

function urlFor(config: ClientsConfig): string {
  if (config.side === "sio") return `${config.url}${SIO_PATH}${config.channel ? "&ch=1" : ""}`;
  if (config.side === "raw") return config.channel ? `${config.url}?ch=1` : config.url;
  const resume = config.resume === "session"
    ? "&resume=0"
    : config.resume === "channel-seq"
    ? "&resume=0&cseq="
    : "";
  return `${config.url}?client-id=${crypto.randomUUID()}&packer=json${resume}`;
}

const SEQ = /"seq":(\d+)/;

/** Acknowledges session-numbered pushes every 16, as the library client does. */
function acker(ws: WebSocket): (data: string) => void {
  let unacked = 0;
  return (data) => {
    const m = SEQ.exec(data);
    if (m === null || ++unacked < 16) return;
    unacked = 0;
    ws.send(`[["sente-lite/ack",{"seq":${m[1]}}],null]`);
  };
}

/** Opens one connection; resolves with it once ready (see the module doc). */
function open(config: ClientsConfig, onFrame: (data: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(urlFor(config));
    const sio = config.side === "sio";
    // Socket.IO: the Engine.IO open answered by the namespace connect, then the server's connect
    // (the room joined, if `channel`); sente-lite: the handshake answered by a subscribe.
    let setupFrames = sio || config.side === "sente" && config.channel ? 2 : 1;
    const ack = config.side === "sente" && config.resume === "session" ? acker(ws) : null;
    ws.onmessage = (e) => {
      if (sio && e.data === "2") ws.send("3"); // Engine.IO ping
      else if (setupFrames > 0) {
        setupFrames--;
        if (setupFrames === 1) ws.send(sio ? "40" : SUBSCRIBE);
        if (setupFrames === 0) resolve(ws);
      } else {
        onFrame(e.data as string);
        ack?.(e.data as string);
      }
    };
    ws.onerror = () => reject(new Error("connection failed"));
    ws.onclose = (e) => reject(new Error(`closed ${e.code} before ready`));
  });
}

async function hold(config: ClientsConfig): Promise<void> {
  let received = 0;
  let first = 0;
  let last = 0;
  const minBytes = config.minBytes ?? 0;
  const onFrame = (data: string) => {
    if (data.length < minBytes) return;
    const t = now();
    if (received++ === 0) first = t;
    last = t;
  };
  const sockets: WebSocket[] = [];
  let errors = 0;
  const t0 = now();
  let next = 0;
  const worker = async () => {
    while (next < config.count) {
      next++;
      try {
        sockets.push(await open(config, onFrame));
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  console.log(JSON.stringify({ ready: sockets.length, errors, ms: Math.round(now() - t0) }));
  let cpu0 = cpuMs();
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as { op: string; expect?: number; idleMs?: number };
    if (cmd.op === "exit") process.exit(0);
    if (cmd.op !== "wait") continue;
    let seen = -1;
    let idleSince = now();
    while (received < cmd.expect!) {
      if (received !== seen) {
        seen = received;
        idleSince = now();
      } else if (now() - idleSince > cmd.idleMs!) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const cpu = cpuMs();
    console.log(JSON.stringify({ re: "wait", received, first, last, cpuMs: cpu - cpu0 }));
    cpu0 = cpu;
    received = 0;
    first = last = 0;
  }
  process.exit(0); // stdin closed: the orchestrator is gone
}

async function churn(config: ClientsConfig): Promise<void> {
  let done = 0;
  let errors = 0;
  const t0 = now();
  const end = t0 + config.seconds! * 1000;
  const worker = async () => {
    while (now() < end) {
      try {
        const ws = await open(config, () => {});
        ws.onclose = null;
        ws.close();
        done++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  console.log(JSON.stringify({ done, errors, seconds: (now() - t0) / 1000 }));
  process.exit(0);
}

if (import.meta.main) {
  const config = JSON.parse(process.argv.at(-1)!) as ClientsConfig;
  await (config.task === "hold" ? hold(config) : churn(config));
}
