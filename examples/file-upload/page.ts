/// <reference lib="dom" />
/**
 * The file-upload page's script (bundled with the client by the example server, served at
 * /page.js): `client.upload()` of the chosen `File` with progress and an `AbortSignal` for the
 * cancel button, then `client.download()` of the stored file with progress.
 *
 * @module
 */
import { connect, STATE_EVENT } from "../../client.ts";
import { clientStreams } from "../../client_streams.ts";
import type { UploadReply } from "./server.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const scheme = location.protocol === "https:" ? "wss" : "ws";
const client = connect(`${scheme}://${location.host}/chsk`, { streams: clientStreams() });
client.on(STATE_EVENT, (change) => $("state").textContent = (change as { to: string }).to);

const fileInput = $<HTMLInputElement>("file");
const [uploadButton, cancelButton, downloadButton] = ["upload", "cancel", "download"].map((id) =>
  $<HTMLButtonElement>(id)
);
let uploaded: UploadReply | undefined;
let abort: AbortController | undefined;

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

fileInput.addEventListener("change", () => uploadButton.disabled = !fileInput.files?.length);

uploadButton.addEventListener("click", async () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  abort = new AbortController();
  uploadButton.disabled = downloadButton.disabled = true;
  cancelButton.disabled = false;
  $("sha").textContent = "-";
  const bar = $<HTMLProgressElement>("up-progress");
  bar.value = 0;
  $("up-status").textContent = `uploading ${file.name}…`;
  try {
    uploaded = await client.upload("files/upload", file, {
      meta: { name: file.name, type: file.type },
      integrity: true, // the server answers with the stream's checked SHA-256
      signal: abort.signal,
      onProgress: ({ bytes, percentage, bytesPerSecond }) => {
        bar.value = percentage ?? 0;
        $("up-status").textContent = `uploading: ${mb(bytes)} of ${mb(file.size)} ` +
          `(${mb(bytesPerSecond)}/s)`;
      },
    }) as UploadReply;
    bar.value = 100;
    $("up-status").textContent = `uploaded ${uploaded.bytes} bytes`;
    $("sha").textContent = uploaded.sha256;
    downloadButton.disabled = false;
  } catch (e) {
    $("up-status").textContent = abort.signal.aborted ? "cancelled" : `failed: ${e}`;
  } finally {
    cancelButton.disabled = true;
    uploadButton.disabled = false;
  }
});

cancelButton.addEventListener("click", () => abort?.abort(new Error("cancelled by the user")));

downloadButton.addEventListener("click", async () => {
  if (!uploaded) return;
  const { id, bytes: total } = uploaded;
  downloadButton.disabled = true;
  const bar = $<HTMLProgressElement>("down-progress");
  bar.value = 0;
  $("down-sha").textContent = "-";
  try {
    const readable = await client.download("files/download", { id }, {
      onProgress: ({ bytes }) => {
        bar.value = Math.floor(bytes / total * 100);
        $("down-status").textContent = `downloading: ${mb(bytes)} of ${mb(total)}`;
      },
    });
    // Collected into a Blob the user can save; a very large file would rather go to the
    // File System Access API chunk by chunk.
    const blob = await new Response(readable).blob();
    bar.value = 100;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
    $("down-sha").textContent = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "download.bin";
    link.textContent = "save";
    $("down-status").replaceChildren(`downloaded ${blob.size} bytes `, link);
  } catch (e) {
    $("down-status").textContent = `failed: ${e}`;
  } finally {
    downloadButton.disabled = false;
  }
});
