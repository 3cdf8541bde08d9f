/**
 * Telemetry pipeline example: browser and server signals into JSONL files, and a page that tails
 * the files live.
 *
 * Run it with `deno task example:telemetry` (`--dir DIR` for the files, default
 * logs/telemetry-example), open http://127.0.0.1:3000/ (a tiny shop) and
 * http://127.0.0.1:3000/tail side by side, and click.
 *
 * - Browser: the page's `Telemetry` ships its signals with `remoteHandler` over the page's
 *   sente-lite connection; the server's `telemetryPlugin` appends them to one file per browser
 *   session, `<dir>/<session>-<time>.jsonl`, stamped with the sender's uid.
 * - Server: its own `Telemetry` (handed to `createServer` too, for the library's signals) writes
 *   `<dir>/server.jsonl` with `fileHandler`.
 * - Tail: the server reads what was appended to the files four times a second and publishes each
 *   new line on the channel `tail`; the tail page shows them.
 *
 * @module
 */
import { createServer, type Server } from "../../server.ts";
import { fileHandler, Telemetry, telemetryPlugin } from "../../telemetry.ts";
import {
  bundleAtStartup,
  exampleOption,
  html,
  notFound,
  runExample,
  script,
} from "../_shared/serve.ts";

/** Options of {@linkcode createTelemetryServer}. */
export interface TelemetryExampleOptions {
  /**
   * Directory of the JSONL files.
   * @default {"logs/telemetry-example"}
   */
  dir?: string;
}

/** One line of a JSONL file, as the tail page gets it. */
export interface TailLine {
  /** The file's name in the directory. */
  file: string;
  /** The parsed line (a signal record). */
  record: Record<string, unknown>;
}

/** The example server and a function that stops the tail and closes the files. */
export interface TelemetryExample {
  server: Server;
  stop(): Promise<void>;
}

/** Lines kept for a tail page that opens later. */
const RECENT = 100;
/** Longest time a line waits in a writer's buffer, and how often the files are read, in ms. */
const LIVE_MS = 250;

/** Makes the example server (not listening yet) and starts tailing `dir`. */
export function createTelemetryServer(options: TelemetryExampleOptions = {}): TelemetryExample {
  const dir = options.dir ?? "logs/telemetry-example";
  const app = bundleAtStartup(new URL("./app.ts", import.meta.url));
  const tail = bundleAtStartup(new URL("./tail.ts", import.meta.url));

  const telemetry = new Telemetry({ minLevel: "info", ns: "shop.server" });
  telemetry.addHandler(
    "file",
    fileHandler({ path: `${dir}/server.jsonl`, flushIntervalMs: LIVE_MS }),
  );
  const plugin = telemetryPlugin({ dir, writer: { flushIntervalMs: LIVE_MS } });

  const server = createServer({
    telemetry,
    // The page's name for itself (a real app authenticates); it stamps every browser signal.
    authenticate: (request) => new URL(request.url).searchParams.get("user"),
    authorizeChannel: ({ action, channel }) => action === "subscribe" && channel === "tail",
    onOpen: (c) => telemetry.event("shop/connected", { data: { uid: c.uid, conn: c.id } }),
    fallback: (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return Promise.resolve(html(APP_PAGE));
      if (pathname === "/app.js") return script(app);
      if (pathname === "/tail") return Promise.resolve(html(TAIL_PAGE));
      if (pathname === "/tail.js") return script(tail);
      return Promise.resolve(notFound(request));
    },
  });
  plugin.install(server);

  server.on("shop/buy", (msg) => {
    const item = String((msg.data as { item?: unknown })?.item ?? "?");
    telemetry.event("shop/order", { data: { item, uid: msg.uid } });
    return { ok: true, item };
  });

  // The tail: new bytes of every *.jsonl file, split into lines, published on `tail`.
  const recent: TailLine[] = [];
  server.on("tail/recent", () => recent);
  const offsets = new Map<string, number>();
  const partial = new Map<string, string>();
  const readNew = async () => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return; // nothing written yet
    }
    for (const { name } of entries.filter((e) => e.isFile && e.name.endsWith(".jsonl"))) {
      const path = `${dir}/${name}`;
      const bytes = await Deno.readFile(path);
      let offset = offsets.get(name) ?? 0;
      if (bytes.length < offset) offset = 0; // rotated: a new file under the old name
      offsets.set(name, bytes.length);
      const text = (partial.get(name) ?? "") + new TextDecoder().decode(bytes.subarray(offset));
      const lines = text.split("\n");
      partial.set(name, lines.pop()!); // an unfinished last line waits for the next read
      for (const line of lines.filter(Boolean)) {
        const entry: TailLine = { file: name, record: JSON.parse(line) };
        recent.push(entry);
        server.publish("tail", entry);
      }
      recent.splice(0, recent.length - RECENT);
    }
  };
  let reading = Promise.resolve();
  const timer = setInterval(() => {
    reading = reading.then(readNew).catch((e) => console.error("tail:", e));
  }, LIVE_MS);

  return {
    server,
    async stop() {
      clearInterval(timer);
      await reading;
      await telemetry.stop();
      plugin.close();
    },
  };
}

const STYLE = `<style>body { font: 15px system-ui, sans-serif; margin: 2rem; }
button { font-size: 1rem; margin-right: .5rem; } td { padding: .1rem .6rem; font: 13px monospace; }
</style>`;

const APP_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sente-lite telemetry: shop</title>${STYLE}
</head><body>
  <h1>A tiny shop</h1>
  <p>Every click is a browser signal; buying is also a server signal. Watch them in
    <a href="/tail" target="_blank">/tail</a>. Connection: <b id="state">-</b></p>
  <button id="buy" data-item="teapot">Buy a teapot</button>
  <button id="buy-cup" data-item="cup">Buy a cup</button>
  <button id="crash">Break something</button>
  <p id="result"></p>
  <script type="module" src="/app.js"></script>
</body></html>
`;

const TAIL_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sente-lite telemetry: tail</title>${STYLE}
</head><body>
  <h1>Telemetry tail</h1>
  <p>Newest first. Connection: <b id="state">-</b></p>
  <table><thead><tr><th>time</th><th>file</th><th>level</th><th>id</th><th>uid</th><th>data</th>
  </tr></thead><tbody id="lines"></tbody></table>
  <script type="module" src="/tail.js"></script>
</body></html>
`;

if (import.meta.main) {
  const { server, stop } = createTelemetryServer({ dir: exampleOption("dir") });
  await runExample("telemetry", server, stop);
}
