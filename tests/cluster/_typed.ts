/**
 * A value with every type plain JSON loses (Keyword, Uuid, Date, Map with non-string keys, Set,
 * bigint) plus strings and arrays that look like the backplane's tags, and the packer read
 * options that give them back (tests/cluster/typed_values_test.ts, _node_server.ts).
 */
import { keyword, Uuid } from "../../edn.ts";
import type { ClojureDataOptions } from "../../edn.ts";

/**
 * Read sets and UUIDs as their types. Keywords and maps read as text and plain objects: the
 * client's protocol layer needs string event ids and plain-object replies; the test checks
 * keywords in the raw frames, and a `Map` arrives with its entries (plain JSON would make it `{}`).
 */
export const TYPED_READ: ClojureDataOptions = { sets: "set", uuids: "uuid" };

/** The typed value number `n`. */
export function typedValue(n: number): unknown {
  return new Map<unknown, unknown>([
    [keyword("n"), n],
    [keyword("level"), keyword("app/warn")],
    [keyword("at"), new Date(Date.UTC(2026, 11, 2, 9, 30, n % 60))],
    [keyword("id"), new Uuid("6f1c2d3e-0000-4000-8000-00000000000" + (n % 10))],
    [keyword("tags"), new Set([keyword("a"), "b", 3])],
    [keyword("big"), 12345678901234567890n + BigInt(n)],
    [1, "number key"],
    ["~#k", ["~#k", "not-a-tag"]],
    [keyword("text"), "~#m plain text"],
  ]);
}
