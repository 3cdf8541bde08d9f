import assert from "node:assert/strict";
import { isLevel, LEVEL_NAMES, LEVELS, levelValue } from "../../lib/telemetry/levels.ts";

Deno.test("LEVELS are ascending in LEVEL_NAMES order", () => {
  const values = LEVEL_NAMES.map((l) => LEVELS[l]);
  assert.deepEqual(values, [...values].sort((a, b) => a - b));
  assert.deepEqual(LEVELS.info, 50);
});

Deno.test("levelValue() accepts names and numbers and names the bad argument", () => {
  assert.deepEqual(levelValue("warn"), 60);
  assert.deepEqual(levelValue(42), 42);
  assert.throws(
    () => levelValue("loud" as never, "minLevel"),
    (e: Error) => e instanceof TypeError && e.message.startsWith("minLevel must be"),
  );
  assert.deepEqual(isLevel("report"), true);
  assert.deepEqual(isLevel("toString"), false);
});
