/** Unit tests of lib/server/away_by_uid.ts: one session per uid without a set, a set from the second on. */
import assert from "node:assert/strict";
import { addAway, type AwayByUid, removeAway } from "../../lib/server/away_by_uid.ts";

interface S {
  name: string;
}

Deno.test("addAway() keeps a uid's only session without a set, and a set from the second on", () => {
  const away: AwayByUid<S> = new Map();
  const a = { name: "a" }, b = { name: "b" };
  addAway(away, "u", a);
  assert.equal(away.get("u"), a);
  addAway(away, "u", a); // again: still no set
  assert.equal(away.get("u"), a);
  addAway(away, "u", b);
  assert.deepEqual(away.get("u"), new Set([a, b]));
  addAway(away, "v", b); // another uid stays apart
  assert.equal(away.get("v"), b);
});

Deno.test("removeAway() goes back to no set at one session and forgets the uid at none", () => {
  const away: AwayByUid<S> = new Map();
  const a = { name: "a" }, b = { name: "b" }, c = { name: "c" };
  for (const s of [a, b, c]) addAway(away, "u", s);
  removeAway(away, "u", b);
  assert.deepEqual(away.get("u"), new Set([a, c]));
  removeAway(away, "u", a);
  assert.equal(away.get("u"), c);
  removeAway(away, "u", a); // not away: nothing changes
  assert.equal(away.get("u"), c);
  removeAway(away, "u", c);
  assert.equal(away.has("u"), false);
  removeAway(away, "nobody", c);
  assert.equal(away.size, 0);
});
