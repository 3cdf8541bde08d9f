// This module is browser compatible.
/**
 * The providers of one connection attempt: the URL provider, then the token providers (Sente's
 * `?csrf-token-or-fn`, our `token`), asked again on every attempt. Plain values go straight
 * through; functions may be async.
 *
 * Guarantees:
 * - `open` is called at most once per attempt, and not once `live()` is `false` (a newer attempt
 *   superseded this one while a provider ran); neither is an asynchronous failure reported then.
 * - A provider that throws or rejects is reported through `fail`, naming the provider.
 *
 * @module
 */
import { toError } from "../util/to_error.ts";
import type { CsrfTokenProvider, TokenProvider, UrlProvider } from "./options.ts";

/** Opens the socket of an attempt with what the providers gave. */
export type OpenAttempt = (raw: string | URL, csrfToken?: string, token?: string | null) => void;

/**
 * Runs the providers of one attempt and calls `open` with their values, or `fail` with why not.
 * `csrf` is given in the `"sente"` dialect, `token` in the `"sente-lite"` one.
 */
export function runProviders(
  provider: UrlProvider,
  csrf: CsrfTokenProvider | undefined,
  token: TokenProvider | undefined,
  live: () => boolean,
  open: OpenAttempt,
  fail: (message: string) => void,
): void {
  const connect = (raw: string | URL) => {
    if (!live()) return;
    if (typeof csrf !== "function" && typeof token !== "function") {
      return open(raw, csrf, token);
    }
    const which = typeof csrf === "function" ? "csrfToken" : "token";
    let results: [unknown, unknown];
    try {
      results = [
        typeof csrf === "function" ? csrf() : csrf,
        typeof token === "function" ? token() : token,
      ];
    } catch (e) {
      fail(`${which} provider failed: ${toError(e).message}`);
      return;
    }
    Promise.all(results).then(
      ([c, t]) => open(raw, c as string | undefined, t as string | null | undefined),
      (e) => {
        if (live()) fail(`${which} provider failed: ${toError(e).message}`);
      },
    );
  };
  if (typeof provider !== "function") return connect(provider);
  let result;
  try {
    result = provider();
  } catch (e) {
    fail(`URL provider failed: ${toError(e).message}`);
    return;
  }
  Promise.resolve(result).then(connect, (e) => {
    if (live()) fail(`URL provider failed: ${toError(e).message}`);
  });
}
