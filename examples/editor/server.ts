/**
 * Collaborative editor example: Yjs documents synced over channels.
 *
 * Run it with `deno task example:editor` and open http://127.0.0.1:3000/?doc=notes in two windows.
 *
 * - The server keeps one `Y.Doc` per document name, so a page that opens later gets the whole
 *   state (`doc/open`), and pages need not be online at the same time.
 * - A page sends its local updates (`doc/update`, base64); the server applies them and publishes
 *   them on the channel `doc:<name>` to the other pages. Yjs merges concurrent edits, and applying
 *   an update twice is harmless, so a page that reconnects simply sends its whole state again.
 *
 * @module
 */
import * as Y from "yjs";
import { createServer, type Server } from "../../server.ts";
import { bundleAtStartup, html, notFound, runExample, script } from "../_shared/serve.ts";
import { fromBase64, toBase64 } from "./base64.ts";

const DOC_NAME = /^[\w-]{1,64}$/;

/** Makes the editor server (not listening yet). */
export function createEditorServer(): Server {
  const page = bundleAtStartup(new URL("./page.ts", import.meta.url));
  const docs = new Map<string, Y.Doc>();
  const docOf = (data: unknown): [string, Y.Doc] | null => {
    const name = (data as { doc?: unknown } | null)?.doc;
    if (typeof name !== "string" || !DOC_NAME.test(name)) return null;
    if (!docs.has(name)) docs.set(name, new Y.Doc());
    return [name, docs.get(name)!];
  };

  const server = createServer({
    // Pages subscribe to documents; updates go through doc/update, so the server's copy is whole.
    authorizeChannel: ({ action, channel }) =>
      action === "subscribe" && DOC_NAME.test(channel.replace(/^doc:/, "")),
    fallback: (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return Promise.resolve(html(PAGE));
      if (pathname === "/page.js") return script(page);
      return Promise.resolve(notFound(request));
    },
  });

  server.on("doc/open", (msg) => {
    const found = docOf(msg.data);
    if (!found) return { error: "doc must be a name of letters, digits, _ and -" };
    return { state: toBase64(Y.encodeStateAsUpdate(found[1])) };
  });

  server.on("doc/update", (msg) => {
    const found = docOf(msg.data);
    const update = (msg.data as { update?: unknown }).update;
    if (!found || typeof update !== "string") return { error: "send { doc, update }" };
    try {
      Y.applyUpdate(found[1], fromBase64(update));
    } catch {
      return { error: "not a Yjs update" };
    }
    server.publish(`doc:${found[0]}`, { update }, { except: [msg.connId] });
    return { ok: true };
  });

  return server;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sente-lite editor</title>
<style>body { font: 15px system-ui, sans-serif; margin: 2rem; }
textarea { width: 100%; max-width: 48rem; height: 20rem; font: 14px monospace; }</style>
</head><body>
  <h1>sente-lite editor: <span id="doc"></span></h1>
  <p>Connection: <b id="state">-</b> · open this page in another window and type in both.</p>
  <textarea id="text" disabled></textarea>
  <script type="module" src="/page.js"></script>
</body></html>
`;

if (import.meta.main) await runExample("editor", createEditorServer());
