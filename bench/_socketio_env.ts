/**
 * Whether the Socket.IO side of the benchmarks can run: Node on the PATH and socket.io 4 (with
 * socket.io-client, @socket.io/redis-adapter and redis, devDependencies of package.json) in the
 * repo's node_modules, or in `SOCKETIO_NODE_PATH` when set (passed to Node as `NODE_PATH`, which
 * Node searches after the repo's node_modules: for a checkout without them). Benchmarks are not
 * tests: when either is missing the Socket.IO side is skipped, and the bench says why in its
 * output and JSON.
 */
const ROOT = new URL("../", import.meta.url).pathname;

/** What the Socket.IO side runs with. */
export interface SocketIoEnv {
  /** `NODE_PATH` for the Node processes. */
  nodePath: string;
  node: string;
  socketio: string;
}

/** Why the Socket.IO side is skipped. */
export interface SocketIoSkipped {
  skipped: string;
}

let found: SocketIoEnv | SocketIoSkipped | undefined;

/** Looks once for Node and socket.io (a `node -e` that requires it). */
export function findSocketIo(): SocketIoEnv | SocketIoSkipped {
  if (found) return found;
  const nodePath = Deno.env.get("SOCKETIO_NODE_PATH") ?? `${ROOT}node_modules`;
  try {
    const out = new Deno.Command("node", {
      args: [
        "-e",
        // Without a Node on the PATH, Deno puts its own `node` shim there: that is not Node.
        'if (typeof Deno === "undefined") process.stdout.write(process.version + " " + require("socket.io/package.json").version)',
      ],
      cwd: ROOT,
      env: { NODE_PATH: nodePath },
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const [node, socketio] = new TextDecoder().decode(out.stdout).split(" ");
    found = out.success && socketio
      ? { nodePath, node, socketio }
      : out.success && !node
      ? { skipped: "node is not on the PATH (only Deno's node shim)" }
      : { skipped: `socket.io is not installed in ${nodePath} (npm install)` };
  } catch {
    found = { skipped: "node is not on the PATH" };
  }
  if ("skipped" in found) console.error(`Socket.IO side skipped: ${found.skipped}`);
  return found;
}

/** The JSON `config.socketio` entry: what ran, or why not. */
export function socketIoConfig(): Record<string, unknown> {
  const env = findSocketIo();
  return "skipped" in env ? { skipped: env.skipped } : {
    node: env.node,
    socketio: env.socketio,
    server: 'new Server(httpServer, { transports: ["websocket"] }), every other option default ' +
      "(perMessageDeflate off, pingInterval 25 s, in-memory adapter)",
    clients:
      "minimal Engine.IO 4 / Socket.IO 5 protocol clients over WebSocket, as the other sides",
  };
}
