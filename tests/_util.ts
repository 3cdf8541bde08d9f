/**
 * Small helpers shared by tests: bounded waits and the rule for tests that need an external tool
 * (skip with a note locally, fail under `CI=true`).
 */

/** `true` when the `CI` environment variable is `true` (or `1`). */
export const IN_CI: boolean = ["true", "1"].includes(
  (Deno.env.get("CI") ?? "").toLowerCase(),
);

/** Settles like `promise`, or rejects with "timed out after … waiting for `what`". */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than `undefined`, and returns
 * that value; rejects after `timeoutMs`. For conditions nothing signals (a file appearing); wait
 * for an event instead whenever there is one.
 */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  { timeoutMs = 10_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Whether a test needing the external tool `name` should be ignored: only when it is missing and
 * we are not in CI (then it logs why). Under CI a missing tool is not ignored, so the test runs
 * and {@linkcode requireTool} fails it.
 */
export function ignoreWithoutTool(name: string, path: string | undefined): boolean {
  if (path !== undefined || IN_CI) return false;
  console.warn(`note: ${name} not found, skipping the tests that need it (CI=true fails instead)`);
  return true;
}

/** Returns `path`, or throws a clear error saying `name` is missing and how to provide it. */
export function requireTool(name: string, path: string | undefined, hint: string): string {
  if (path === undefined) {
    throw new Error(
      `${name} is required${IN_CI ? " under CI=true" : ""} but was not found: ${hint}`,
    );
  }
  return path;
}

/** The first of `candidates` that is an existing file, or `undefined`. */
export function firstExisting(candidates: (string | undefined)[]): string | undefined {
  for (const path of candidates) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there: try the next one
    }
  }
  return undefined;
}

/** How to provide Bun, for {@linkcode requireTool}. */
export const BUN_HINT = "run `npm install` (the bun package), put bun on PATH or set BUN_PATH";

/**
 * The Bun binary for the cross-runtime tests: `BUN_PATH` if set, else the repository's
 * `node_modules/.bin/bun`, else `bun` on PATH; `undefined` when there is none.
 */
export function bunPath(): string | undefined {
  const root = new URL("../", import.meta.url).pathname;
  const given = Deno.env.get("BUN_PATH");
  return firstExisting(
    given !== undefined ? [given] : [
      `${root}node_modules/.bin/bun`,
      ...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/bun`),
    ],
  );
}
