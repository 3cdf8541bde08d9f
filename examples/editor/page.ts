/// <reference lib="dom" />
/**
 * The editor page's script: a textarea bound to a `Y.Text`, synced through the example server.
 *
 * @module
 */
import * as Y from "yjs";
import { connect, HANDSHAKE_EVENT, STATE_EVENT, type StateChange } from "../../client.ts";
import { fromBase64, toBase64 } from "./base64.ts";

const REMOTE = "remote"; // the origin of updates that came from the server
const doc = new URLSearchParams(location.search).get("doc") ?? "welcome";
const ydoc = new Y.Doc();
const ytext = ydoc.getText("text");
const textarea = document.getElementById("text") as HTMLTextAreaElement;
document.getElementById("doc")!.textContent = doc;

const client = connect(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/chsk`);
client.on(STATE_EVENT, (change) => {
  document.getElementById("state")!.textContent = (change as StateChange).to;
});

// Local edits (typed here) go to the server; remote ones were applied with origin REMOTE.
ydoc.on("update", (update: Uint8Array, origin: unknown) => {
  if (origin !== REMOTE) client.send("doc/update", { doc, update: toBase64(update) });
});

// textarea → Y.Text: replace the part between the common prefix and the common suffix.
textarea.addEventListener("input", () => {
  const before = ytext.toString();
  const after = textarea.value;
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (
    end < before.length - start && end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  ) end++;
  ydoc.transact(() => {
    ytext.delete(start, before.length - start - end);
    ytext.insert(start, after.slice(start, after.length - end));
  });
});

// Y.Text → textarea, for remote changes, keeping the caret where the user left it.
ytext.observe((event) => {
  if (event.transaction.local) return;
  const shift = (index: number) => {
    let pos = 0;
    for (const op of event.delta) {
      if (pos > index) break;
      if (op.retain) pos += op.retain;
      else if (typeof op.insert === "string") {
        index += op.insert.length;
        pos += op.insert.length;
      } else if (op.delete) index -= Math.min(op.delete, index - pos);
    }
    return index;
  };
  const [start, end] = [shift(textarea.selectionStart), shift(textarea.selectionEnd)];
  textarea.value = ytext.toString();
  textarea.setSelectionRange(start, end);
});

// Bind first (above), then fetch the state: the observer must see it.
await client.subscribe(`doc:${doc}`, (data) => {
  Y.applyUpdate(ydoc, fromBase64((data as { update: string }).update), REMOTE);
});
await sync();
textarea.disabled = false;
// After a reconnect, exchange whole states: updates sent while offline may have been lost.
client.on(HANDSHAKE_EVENT, () => void sync());

async function sync(): Promise<void> {
  const { state } = await client.request("doc/open", { doc }) as { state: string };
  Y.applyUpdate(ydoc, fromBase64(state), REMOTE);
  client.send("doc/update", { doc, update: toBase64(Y.encodeStateAsUpdate(ydoc)) });
}
