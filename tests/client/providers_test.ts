import assert from "node:assert/strict";
import { runProviders } from "../../lib/client/providers.ts";
import type { CsrfTokenProvider, TokenProvider, UrlProvider } from "../../lib/client/options.ts";

interface Outcome {
  opened: [string, string | undefined, string | null | undefined][];
  failed: string[];
}

/** Runs the providers and waits until `open` or `fail` was called (or, when `live` is false, for the providers to settle). */
async function run(
  url: UrlProvider,
  csrf: CsrfTokenProvider | undefined,
  token: TokenProvider | undefined,
  live: () => boolean = () => true,
): Promise<Outcome> {
  const out: Outcome = { opened: [], failed: [] };
  const { promise, resolve } = Promise.withResolvers<void>();
  runProviders(
    url,
    csrf,
    token,
    live,
    (raw, c, t) => {
      out.opened.push([String(raw), c, t]);
      resolve();
    },
    (message) => {
      out.failed.push(message);
      resolve();
    },
  );
  // Every provider here settles within a few microtasks; a macrotask comes after all of them.
  await Promise.race([promise, new Promise((r) => setTimeout(r, 0))]);
  return out;
}

Deno.test("plain values open at once, in the same call", () => {
  const opened: unknown[] = [];
  runProviders("ws://a/chsk", undefined, "tok", () => true, (...a) => opened.push(a), () => {});
  assert.deepEqual(opened, [["ws://a/chsk", undefined, "tok"]]);
});

Deno.test("async URL, csrf and token providers are awaited", async () => {
  assert.deepEqual(
    (await run(() => Promise.resolve("ws://b/chsk"), () => Promise.resolve("c"), undefined)).opened,
    [["ws://b/chsk", "c", undefined]],
  );
  assert.deepEqual(
    (await run(new URL("ws://c/chsk"), undefined, async () => await null)).opened,
    [["ws://c/chsk", undefined, null]],
  );
});

Deno.test("a provider that throws or rejects is reported by name; nothing opens", async () => {
  const boom = () => {
    throw new Error("boom");
  };
  const cases: [UrlProvider, CsrfTokenProvider | undefined, TokenProvider | undefined, string][] = [
    [boom, undefined, undefined, "URL provider failed: boom"],
    [() => Promise.reject(new Error("no")), undefined, undefined, "URL provider failed: no"],
    ["ws://a/chsk", boom, undefined, "csrfToken provider failed: boom"],
    ["ws://a/chsk", undefined, () => Promise.reject(new Error("x")), "token provider failed: x"],
  ];
  for (const [url, csrf, token, message] of cases) {
    const out = await run(url, csrf, token);
    assert.deepEqual(out, { opened: [], failed: [message] });
  }
});

Deno.test("a superseded attempt neither opens nor reports an async failure", async () => {
  let live = true;
  const later = () => {
    live = false; // a newer attempt started while this provider ran
    return Promise.resolve("ws://a/chsk");
  };
  assert.deepEqual(await run(later, undefined, undefined, () => live), { opened: [], failed: [] });
  live = true;
  const rejects = () => {
    live = false;
    return Promise.reject(new Error("late"));
  };
  assert.deepEqual(await run(rejects, undefined, undefined, () => live), {
    opened: [],
    failed: [],
  });
});
