/**
 * A server process for the graceful-shutdown tests:
 * `deno run -A _shutdown_server.ts <port> [normal|hang]`.
 *
 * Prints `listening <port> <pid>`, `held <n>` each time a `test/hold` request arrives, the drain
 * report as `drain {json}` during the flush phase, and installShutdown's own progress lines.
 * `test/hold` waits until the shutdown has begun, then pushes 20 `test/seq` events to its sender
 * and replies: so frames are being queued while the server drains. In `hang` mode a component's
 * stop never returns (to test the forced exit on a second signal).
 */
import {
  type Component,
  installShutdown,
  ref,
  serverComponent,
  type ServerInstance,
  startSystem,
  telemetryComponent,
} from "../../lifecycle.ts";

const port = Number(Deno.args[0] ?? 0);
const mode = Deno.args[1] ?? "normal";
const PUSHES = 20;

let shutdownBegan!: () => void;
const began = new Promise<void>((r) => shutdownBegan = r);
let held = 0;
const state: { server?: ServerInstance } = {};

// Started after the server, so its drain runs first: it marks the moment the shutdown begins.
const marker: Component<null, unknown> = {
  config: ref("server"),
  start: () => null,
  drain: () => shutdownBegan(),
  stop: () => mode === "hang" ? new Promise(() => {}) : undefined,
};

const telemetry = {
  flush: () => {
    const report = state.server?.drainReport;
    if (report) console.log(`drain ${JSON.stringify(report)}`);
    return Promise.resolve(true);
  },
  stop: () => {},
};

const system = await startSystem({
  telemetry: telemetryComponent(telemetry),
  server: serverComponent({
    port,
    server: { onError: (e) => console.log(`server error: ${e}`) },
    setup: (s) => {
      s.on("test/hold", async (msg) => {
        console.log(`held ${++held}`);
        await began;
        for (let i = 0; i < PUSHES; i++) msg.send("test/seq", { i, pad: "x".repeat(2000) });
        return { pushed: PUSHES };
      });
      s.on("test/whoami", () => ({ pid: Deno.pid }));
    },
  }),
  marker,
}, { stopTimeoutMs: 60_000 });
const server = state.server = system.instance<ServerInstance>("server");
installShutdown(system, {
  drainTimeoutMs: 10_000,
  timeoutMs: 30_000,
  log: (line) => console.log(line),
});
console.log(`listening ${server.port} ${Deno.pid}`);
