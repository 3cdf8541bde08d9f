/**
 * The cost of the backplane's typed encoding (lib/backplane/codec.ts) against plain
 * `JSON.stringify`/`JSON.parse` in the same run: a 64 B chat message (plain JSON data: nothing to
 * tag) and one carrying a keyword, a date and a set (what the EDN/Transit packers keep).
 *
 *   deno run -A bench/backplane_codec.ts [iterations=200000]
 *
 * Prints one JSON object: ns per operation and the ratio to JSON.
 */
import { decodePayload, encodePayload } from "../lib/backplane/codec.ts";
import { keyword } from "../edn.ts";

const N = Number(Deno.args[0] ?? 200_000);
const plain = { e: ["chat/msg", { room: "lobby", text: "x".repeat(64), n: 1 }] };
const typed = {
  e: ["chat/msg", { room: keyword("lobby"), at: new Date(0), tags: new Set(["a", "b"]), n: 1 }],
};

function time(fn: () => unknown): number {
  for (let i = 0; i < N / 10; i++) fn(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn();
  return +((performance.now() - t0) * 1e6 / N).toFixed(1);
}

const out: Record<string, number | string> = { runtime: `deno ${Deno.version.deno}`, n: N };
const plainText = JSON.stringify(plain);
const typedText = encodePayload(typed);
out.plain_json_stringify_ns = time(() => JSON.stringify(plain));
out.plain_encode_ns = time(() => encodePayload(plain));
out.plain_json_parse_ns = time(() => JSON.parse(plainText));
out.plain_decode_ns = time(() => decodePayload(plainText));
out.typed_json_stringify_ns = time(() => JSON.stringify(typed)); // loses the types
out.typed_encode_ns = time(() => encodePayload(typed));
out.typed_decode_ns = time(() => decodePayload(typedText));
const r = (a: string, b: string) => +((out[a] as number) / (out[b] as number)).toFixed(2);
out.plain_encode_ratio = r("plain_encode_ns", "plain_json_stringify_ns");
out.plain_decode_ratio = r("plain_decode_ns", "plain_json_parse_ns");
out.typed_encode_ratio = r("typed_encode_ns", "typed_json_stringify_ns");
console.log(JSON.stringify(out, null, 2));
