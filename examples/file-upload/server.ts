/**
 * File upload example: a page uploads a file the user picks, with a progress bar and a cancel
 * button; the server writes it to disk and answers with its SHA-256; a second button downloads it
 * back, with progress.
 *
 * Run it with `deno task example:file-upload` and open http://127.0.0.1:3000/. Files go to a
 * temporary directory (or `--dir DIR`), removed when the server stops unless `--dir` was given.
 *
 * - `files/upload` is a stream (`server.onStream`): the bytes are written to `<id>.part` as they
 *   arrive, so memory stays bounded by the credit window whatever the file's size; the file is
 *   renamed to `<id>` once complete. The page uploads with `integrity: true`, so the reply's
 *   SHA-256 is the stream's checked digest (`msg.sha256`, no second pass over the bytes); a client
 *   that sends no digest has the bytes hashed here instead. A cancelled or failed upload removes
 *   its partial file.
 * - `files/download` is an ordinary handler (`server.on`) that returns the file's `ReadableStream`:
 *   the server streams it, with flow control, to `client.download()`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createServer, type Server, StreamError } from "../../server.ts";
import {
  bundleAtStartup,
  exampleOption,
  html,
  notFound,
  runExample,
  script,
} from "../_shared/serve.ts";

/** Options of {@linkcode createFileUploadServer}. */
export interface FileUploadOptions {
  /** Where the files go. @default {a new temporary directory} */
  dir?: string;
  /**
   * Called before each chunk is written, with the bytes received so far (the chunk included);
   * writing waits for it. Tests hold an upload mid-way with it; an app could throttle.
   */
  beforeWrite?: (received: number) => void | Promise<void>;
}

/** What `files/upload` answers. */
export interface UploadReply {
  /** The file's id, for `files/download`. */
  id: string;
  /** Bytes written. */
  bytes: number;
  /** SHA-256 of the bytes, lowercase hex. */
  sha256: string;
}

/** The file-upload server (not listening yet) and its directory. */
export interface FileUploadServer {
  server: Server;
  /** The directory files are written to. */
  dir: string;
}

const ID = /^[0-9a-f-]{36}$/;

/** Makes the file-upload server (not listening yet). */
export function createFileUploadServer(options: FileUploadOptions = {}): FileUploadServer {
  const dir = options.dir ?? Deno.makeTempDirSync({ prefix: "sente-lite-file-upload-" });
  const page = bundleAtStartup(new URL("./page.ts", import.meta.url));
  const server = createServer({
    fallback: (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return Promise.resolve(html(PAGE));
      if (pathname === "/page.js") return script(page);
      return Promise.resolve(notFound(request));
    },
  });

  server.onStream("files/upload", async (msg): Promise<UploadReply | null> => {
    const id = crypto.randomUUID();
    const part = `${dir}/${id}.part`;
    const file = await Deno.open(part, { write: true, createNew: true });
    // The stream checks the client's SHA-256 itself: hash here only when the client sends none.
    const hash = msg.integrity ? null : createHash("sha256");
    let bytes = 0;
    try {
      for await (const chunk of msg.stream) {
        bytes += chunk.byteLength;
        await options.beforeWrite?.(bytes);
        hash?.update(chunk);
        for (let off = 0; off < chunk.byteLength;) off += await file.write(chunk.subarray(off));
      }
      file.close();
      await Deno.rename(part, `${dir}/${id}`);
      return { id, bytes, sha256: (await msg.sha256) ?? hash!.digest("hex") };
    } catch (e) {
      // Cancelled by the page, the connection lost for good, or a disk error: no partial file.
      try {
        file.close();
      } catch { /* already closed */ }
      await Deno.remove(part).catch(() => {});
      // A cancel is the page's choice, not a server error (the page already knows): no log.
      if (e instanceof StreamError && e.code === "stream-cancelled") return null;
      throw e;
    }
  });

  server.on("files/download", async (msg) => {
    const id = (msg.data as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || !ID.test(id)) throw new Error("no such file");
    return (await Deno.open(`${dir}/${id}`, { read: true })).readable;
  });

  return { server, dir };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sente-lite file upload</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; }
  progress { width: 100%; } code { word-break: break-all; } section { margin: 1.5rem 0; }
</style></head>
<body>
  <h1>sente-lite file upload</h1>
  <section>
    <input type="file" id="file"> <button id="upload" disabled>Upload</button>
    <button id="cancel" disabled>Cancel</button>
    <progress id="up-progress" max="100" value="0"></progress>
    <div id="up-status">Choose a file.</div>
    <div>SHA-256 (server): <code id="sha">-</code></div>
  </section>
  <section>
    <button id="download" disabled>Download it back</button>
    <progress id="down-progress" max="100" value="0"></progress>
    <div id="down-status"></div>
    <div>SHA-256 (downloaded): <code id="down-sha">-</code></div>
  </section>
  <p>Connection: <b id="state">-</b></p>
  <script type="module" src="/page.js"></script>
</body></html>
`;

if (import.meta.main) {
  const given = exampleOption("dir");
  const { server, dir } = createFileUploadServer({ dir: given });
  console.log(`files go to ${dir}`);
  await runExample("file-upload", server, async () => {
    if (given === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
  });
}
