/**
 * Which dialects besides sente-lite the server speaks (`ServerOptions.dialects`,
 * `docs/PROTOCOL.md` §6), their defaults and their checks.
 *
 * @module
 */
import type { DialectConfig } from "../dialects/select.ts";
import { ednPacker } from "../packers/edn.ts";
import type { Packer } from "../packers/packer.ts";

/** The Sente 1.21 dialect's settings. */
export interface SenteDialectOptions {
  /**
   * The packer of Sente connections (Sente's `:packer`), in `envelope: "sente"` mode.
   * @default {ednPacker()}
   */
  packer?: Packer;
}

/** Which dialects besides sente-lite the server speaks (`docs/PROTOCOL.md` §6). */
export interface DialectOptions {
  /**
   * Serve upgrades with `client-id` but no `packer` parameter (Sente's ClojureScript clients) in
   * Sente 1.21's frames; `false` serves them as sente-lite with the first of `packers`.
   * @default {packer: ednPacker()}
   */
  sente?: SenteDialectOptions | boolean;
  /**
   * Serve upgrades without `client-id` (the original sente-lite clients) in the original bare
   * EDN frames; `false` answers them with HTTP 400.
   * @default {false}
   */
  original?: boolean;
}

/** The defaults of {@linkcode DialectOptions}. */
export const DIALECT_DEFAULTS = {
  sente: { packer: ednPacker() },
  original: false,
} satisfies DialectConfig;

function isPacker(p: unknown): p is Packer {
  const o = p as Packer | null;
  return typeof o === "object" && o !== null && typeof o.name === "string" &&
    typeof o.pack === "function" && typeof o.unpack === "function";
}

/** Fills in the defaults of `ServerOptions.dialects` and checks them. */
export function resolveDialectOptions(options: DialectOptions = {}): DialectConfig {
  const { sente = true, original = false } = options;
  if (typeof original !== "boolean") {
    throw new TypeError(`ServerOptions.dialects.original must be a boolean, got ${original}`);
  }
  if (sente === false) return { sente: false, original };
  if (sente === true) return { sente: DIALECT_DEFAULTS.sente, original };
  if (typeof sente !== "object" || sente === null) {
    throw new TypeError(
      `ServerOptions.dialects.sente must be a boolean or an object, got ${sente}`,
    );
  }
  const packer = sente.packer ?? DIALECT_DEFAULTS.sente.packer;
  if (!isPacker(packer)) {
    throw new TypeError(`ServerOptions.dialects.sente.packer must be a Packer, got ${packer}`);
  }
  return { sente: { packer }, original };
}
