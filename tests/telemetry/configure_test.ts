import assert from "node:assert/strict";
import { configure } from "../../lib/telemetry/configure.ts";
import { LEVELS } from "../../lib/telemetry/levels.ts";
import { Telemetry } from "../../lib/telemetry/telemetry.ts";

Deno.test("configure() sets the level and installs console/file handlers in one call", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tel = new Telemetry();
    tel.addHandler("mine", () => {});
    const file = `${dir}/app.jsonl`;
    await configure({ telemetry: tel, level: "warn", output: "both", file, format: "json" });
    assert.equal(tel.minLevel, LEVELS.warn);
    assert.deepEqual(tel.handlerIds().sort(), ["console", "file", "mine"]);
    await configure({ telemetry: tel, level: "debug", output: "file", file });
    assert.deepEqual(tel.handlerIds().sort(), ["file", "mine"]);
    tel.event("cfg/test", "error");
    await configure({ telemetry: tel, output: "none" });
    assert.deepEqual(tel.handlerIds(), ["mine"]);
    assert.equal(JSON.parse(Deno.readTextFileSync(file).trim()).id, "cfg/test");
    await assert.rejects(configure({ telemetry: tel, output: "tty" as never }), TypeError);
    await tel.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
