import assert from "node:assert/strict";
import { fileHandler, JsonlWriter } from "../../lib/telemetry/file_handler.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";
import { VirtualClock } from "../../lib/util/clock.ts";

async function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "telemetry_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const lines = (path: string) => Deno.readTextFileSync(path).split("\n").filter(Boolean);

Deno.test("JsonlWriter buffers until bufferSize, the interval or flush()", () =>
  withTempDir((dir) => {
    const clock = new VirtualClock();
    const path = `${dir}/sub/a.jsonl`;
    const w = new JsonlWriter(path, { bufferSize: 100, flushIntervalMs: 500, clock });
    w.write('{"a":1}');
    assert.equal(Deno.readTextFileSync(path), "", "buffered");
    clock.tick(500);
    assert.deepEqual(lines(path), ['{"a":1}']);
    w.write("x".repeat(120));
    assert.equal(lines(path).length, 2, "written once over bufferSize");
    w.write('{"b":2}');
    w.close();
    assert.equal(lines(path).length, 3, "close flushes");
    assert.throws(() => w.write("late"), TypeError);
    assert.equal(clock.pending, 0);
  }));

Deno.test("JsonlWriter rotates by size and keeps maxFiles", () =>
  withTempDir((dir) => {
    const path = `${dir}/r.jsonl`;
    const w = new JsonlWriter(path, {
      bufferSize: 0,
      maxBytes: 100,
      maxFiles: 2,
      flushOnExit: false,
    });
    const line = "y".repeat(39); // 40 bytes with the newline
    for (let i = 0; i < 10; i++) w.write(line);
    w.close();
    assert.equal(w.rotations, 4);
    assert.equal(lines(path).length, 2);
    assert.equal(lines(`${path}.1`).length, 2);
    assert.equal(lines(`${path}.2`).length, 2);
    assert.throws(() => Deno.statSync(`${path}.3`));
    assert.ok(Deno.statSync(path).size <= 100);
  }));

Deno.test("JsonlWriter appends to an existing file and checks its options", () =>
  withTempDir((dir) => {
    const path = `${dir}/e.jsonl`;
    Deno.writeTextFileSync(path, "old\n");
    const w = new JsonlWriter(path, { bufferSize: 0 });
    w.write("new");
    w.close();
    assert.deepEqual(lines(path), ["old", "new"]);
    assert.throws(() => new JsonlWriter(path, { maxFiles: 0 }), RangeError);
    assert.throws(() => new JsonlWriter(""), TypeError);
  }));

Deno.test("fileHandler() writes one JSON line per signal; stop() flushes and closes", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/t.jsonl`;
    const tel = new Telemetry();
    const h = fileHandler({ path });
    tel.addHandler("file", h);
    for (let i = 0; i < 100; i++) tel.event("e", { data: { i } });
    tel.trace("t", () => tel.error(new Error("bad"), "err"));
    await tel.stop();
    const recs = lines(path).map((l) => JSON.parse(l));
    assert.equal(recs.length, 102);
    assert.deepEqual(recs[99].data, { i: 99 });
    assert.equal(recs[100].error.message, "bad");
    assert.equal(recs[100].trace_id, recs[101].uid);
    assert.equal(h.writer.closed, true);
  }));
