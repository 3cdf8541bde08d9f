/**
 * Headless Chromium for browser tests: where it is and the flags this machine needs (without the
 * background-networking flags Chromium's own connections are refused, many at a time).
 */
import { firstExisting } from "./_util.ts";

/** The Chromium executable (`CHROMIUM_PATH`, default `/usr/bin/chromium`), if present. */
export const CHROMIUM: string | undefined = firstExisting([
  Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium",
]);

/** Launch flags for headless Chromium on these machines and CI. */
export const CHROMIUM_ARGS: string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** A page that loads the bundled client (served at `/client.js`) and puts it on `window.sente`. */
export const CLIENT_TEST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sente-lite browser test</title></head>
<body><script type="module">
  import * as sente from "/client.js";
  window.sente = sente;
</script></body></html>
`;
