import assert from "node:assert/strict";
import {
  isFinal,
  STREAM_EVENTS,
  STREAM_STATES,
  STREAM_TRANSITIONS,
  streamTableMarkdown,
  streamTransition,
} from "../../lib/streams/state.ts";
import { streamErrorTableMarkdown } from "../../lib/streams/errors.ts";
import { encodeCredit, encodeData, encodeEnd, encodeOpen } from "../../lib/streams/frames.ts";

Deno.test("STREAM_TRANSITIONS defines every state × event, and final states ignore everything", () => {
  assert.deepEqual(Object.keys(STREAM_TRANSITIONS).sort(), [...STREAM_STATES].sort());
  for (const s of STREAM_STATES) {
    assert.deepEqual(Object.keys(STREAM_TRANSITIONS[s]).sort(), [...STREAM_EVENTS].sort(), s);
    for (const e of STREAM_EVENTS) {
      const to = streamTransition(s, e);
      if (isFinal(s)) assert.equal(to, null, `${s} × ${e}`);
      if (!isFinal(s) && (e === "cancel" || e === "error")) assert.ok(to && isFinal(to));
    }
  }
});

Deno.test("every non-final stream state can reach closed", () => {
  const reach = new Set(["closed"]);
  for (let changed = true; changed;) {
    changed = false;
    for (const s of STREAM_STATES) {
      if (reach.has(s)) continue;
      if (STREAM_EVENTS.some((e) => reach.has(streamTransition(s, e) ?? ""))) {
        reach.add(s);
        changed = true;
      }
    }
  }
  for (const s of STREAM_STATES) if (!isFinal(s)) assert.ok(reach.has(s), s);
});

/** Table text without the padding `deno fmt` adds. */
function normalize(md: string): string {
  return md.split("\n").map((l) => l.trim().replace(/\s*\|\s*/g, "|").replace(/-{3,}/g, "---"))
    .join("\n");
}

Deno.test("docs/streaming.md prints the stream state table", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/streaming.md", import.meta.url));
  assert.ok(
    normalize(doc).includes(normalize(streamTableMarkdown())),
    "regenerate the table in docs/streaming.md from streamTableMarkdown()",
  );
});

Deno.test("docs/PROTOCOL.md §9 prints the stream error table and exact example frames", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
  assert.ok(
    normalize(doc).includes(normalize(streamErrorTableMarkdown())),
    "regenerate the table in docs/PROTOCOL.md §9.5 from streamErrorTableMarkdown()",
  );
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const examples = [
    encodeOpen(1, "app/up", 5, false, new Uint8Array()),
    encodeCredit(1, 0, 1024 * 1024),
    encodeData(1, 0, new TextEncoder().encode("hello")),
    encodeEnd(1, 5),
  ];
  const flat = doc.replace(/ /g, "");
  for (const frame of examples) assert.ok(flat.includes(hex(frame)), hex(frame));
});
