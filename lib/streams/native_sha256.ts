// This module is browser compatible.
/**
 * The runtime's native incremental SHA-256, where it has one: `node:crypto`'s
 * `createHash("sha256")` (Deno 2, Bun, Node), reached through `process.getBuiltinModule()` at run
 * time instead of an import, so browser bundles and the client's import graph never see
 * `node:crypto`. About 20× the JavaScript `Sha256` (≈ 1.6–1.9 GB/s against ≈ 80 MB/s on
 * this project's bench machine), which is what makes `integrity: true` streams run near the
 * speed of the wire. Browsers have no incremental digest (Web Crypto hashes whole buffers only),
 * so they keep `Sha256`.
 *
 * @module
 */
import type { HashFactory, IncrementalHash } from "./sha256.ts";

/** The part of `node:crypto` this module uses. */
interface NodeCrypto {
  createHash(algorithm: "sha256"): {
    update(data: Uint8Array): unknown;
    digest(): Uint8Array;
  };
}

/** `process.getBuiltinModule`, as Deno 2, Bun and Node ≥ 22.3 have it. */
interface ProcessLike {
  getBuiltinModule?(id: string): unknown;
}

function nodeCrypto(): NodeCrypto | undefined {
  try {
    const process = (globalThis as { process?: ProcessLike }).process;
    const crypto = process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
    return typeof crypto?.createHash === "function" ? crypto : undefined;
  } catch {
    return undefined; // a polyfilled `process` that throws: no native hash
  }
}

/**
 * The native SHA-256 as a {@linkcode HashFactory}, or `undefined` where the runtime has none
 * (browsers). Its digests equal `Sha256`'s (tested on random inputs and splits).
 *
 * @example
 * ```ts
 * import { nativeSha256 } from "./native_sha256.ts";
 * import { sha256 } from "./sha256.ts";
 * const hash = (nativeSha256() ?? sha256)();
 * hash.update(new TextEncoder().encode("abc"));
 * console.assert(hash.digest().byteLength === 32);
 * ```
 */
export function nativeSha256(): HashFactory | undefined {
  const crypto = nodeCrypto();
  if (!crypto) return undefined;
  return (): IncrementalHash => {
    const hash = crypto.createHash("sha256");
    return {
      update(data: Uint8Array): void {
        hash.update(data);
      },
      // A plain Uint8Array (a copy: Node's Buffer may be a view of a shared pool).
      digest: (): Uint8Array => new Uint8Array(hash.digest()),
    };
  };
}
