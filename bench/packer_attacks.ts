/**
 * What one pathological 1 MiB frame costs the server, per packer, through a real socket: the
 * event-loop time spent unpacking it (the packer is wrapped to time `unpack`) and the round trip
 * until the answer, against a normal 1 MiB frame of the same packer in the same run. The `json-raw`
 * packer is `JSON.parse` without the depth check, the baseline of the nesting limit.
 *
 *   deno run -A bench/packer_attacks.ts
 *
 * Prints a table and a JSON line with every row.
 */
import type { Packer } from "../lib/packers/packer.ts";
import { jsonPacker } from "../lib/packers/json.ts";
import { ednPacker } from "../lib/packers/edn.ts";
import { transitPacker } from "../lib/packers/transit.ts";
import { createServer } from "../lib/server/server.ts";
import { RawPeer } from "../tests/_peer.ts";

const MIB = 1024 * 1024;
const ROUNDS = 5;
let lastUnpackMs = 0;

function timed(packer: Packer, name = packer.name): Packer {
  return {
    ...packer,
    name,
    unpack(frame) {
      const start = performance.now();
      try {
        return packer.unpack(frame);
      } finally {
        lastUnpackMs = performance.now() - start;
      }
    },
  };
}

const rawJson: Packer = { ...jsonPacker, unpack: (f) => JSON.parse(f as string) };
const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
const fill = (n: number) => "y".repeat(n);

const CASES: [packer: string, shape: string, frame: string][] = [
  ["json", "normal", JSON.stringify([["bench/x", { s: fill(MIB - 40) }], "cb"])],
  ["json", "nested [ ]", `[["bench/x", ${deep(MIB / 2 - 20)}], "cb"]`],
  ["json-raw", "nested [ ]", `[["bench/x", ${deep(MIB / 2 - 20)}], "cb"]`],
  [
    "json",
    "many keys",
    `[["bench/x", {${Array.from({ length: Math.floor(MIB / 14) }, (_, i) => `"k${i}":1`)}}], "cb"]`,
  ],
  ["json", "escapes", `[["bench/x", "${"\\u0041".repeat(Math.floor(MIB / 6) - 4)}"], "cb"]`],
  ["edn", "normal", `[[:bench/x {:s "${fill(MIB - 40)}"}] "cb"]`],
  ["edn", "nested [ ]", `[[:bench/x ${deep(MIB / 2 - 20)}] "cb"]`],
  ["edn", "#_ chain", `[[:bench/x ${"#_".repeat(MIB / 2 - 20)} 1] "cb"]`],
  ["edn", "escapes \\n", `[[:bench/x "${"\\n".repeat(MIB / 2 - 20)}"] "cb"]`],
  ["edn", "octal escapes", `[[:bench/x "${"\\101".repeat(MIB / 4 - 20)}"] "cb"]`],
  ["edn", "bigint digits", `[[:bench/x ${"1".repeat(MIB - 40)}N] "cb"]`],
  [
    "edn",
    "many keys",
    `[[:bench/x {${
      Array.from({ length: Math.floor(MIB / 12) }, (_, i) => `:k${i} 1`).join(" ")
    }}] "cb"]`,
  ],
  ["transit", "normal", JSON.stringify([["~:bench/x", ["^ ", "~:s", fill(MIB - 40)]], "cb"])],
  ["transit", "nested [ ]", `[["~:bench/x", ${deep(MIB / 2 - 20)}], "cb"]`],
  [
    "transit",
    "cache codes",
    JSON.stringify([["~:bench/x", Array(Math.floor(MIB / 7)).fill("^0")], "cb"]),
  ],
  ["transit", "~n digits", JSON.stringify([["~:bench/x", "~n" + "1".repeat(MIB - 40)], "cb"])],
];

const server = createServer({
  packers: [
    timed(jsonPacker),
    timed(rawJson, "json-raw"),
    timed(ednPacker()),
    timed(transitPacker()),
  ],
  onError: () => {},
});
server.on("bench/x", () => true);
const handle = await server.serve({ port: 0 });

interface Row {
  packer: string;
  shape: string;
  bytes: number;
  unpackMs: number;
  roundTripMs: number;
  answer: string;
}
const rows: Row[] = [];
for (const [packer, shape, frame] of CASES) {
  const peer = new RawPeer(`${handle.url}?client-id=bench&packer=${packer}`);
  await peer.opened;
  await peer.next();
  const unpack: number[] = [];
  const trip: number[] = [];
  let answer = "";
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    peer.send(frame);
    answer = await peer.next(30_000);
    trip.push(performance.now() - start);
    unpack.push(lastUnpackMs);
  }
  await peer.close();
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  rows.push({
    packer,
    shape,
    bytes: new TextEncoder().encode(frame).length,
    unpackMs: +median(unpack).toFixed(1),
    roundTripMs: +median(trip).toFixed(1),
    answer: /unpack-failed/.test(answer) ? "unpack-failed" : answer.length < 40 ? answer : "reply",
  });
}
await handle.close();
console.table(rows);
console.log(JSON.stringify({ bench: "packer_attacks", rounds: ROUNDS, rows }));
