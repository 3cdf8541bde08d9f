import assert from "node:assert/strict";
import { type WakeTarget, wakeWatch } from "../../lib/client/wake.ts";

/** A window and document that record their listeners and fire them on demand. */
function fakeTarget() {
  const listeners = new Map<string, Set<() => void>>();
  const add = (type: string, fn: () => void) => {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type)!.add(fn);
  };
  const remove = (type: string, fn: () => void) => void listeners.get(type)?.delete(fn);
  const document = {
    visibilityState: "hidden",
    addEventListener: add,
    removeEventListener: remove,
  };
  const target: WakeTarget = { addEventListener: add, removeEventListener: remove, document };
  const fire = (type: string) => listeners.get(type)?.forEach((fn) => fn());
  const count = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  return { target, document, fire, count };
}

Deno.test("wakeWatch() wakes on online and on the page becoming visible while on", () => {
  const f = fakeTarget();
  const reasons: string[] = [];
  const watch = wakeWatch((reason) => void reasons.push(reason), f.target);
  f.fire("online");
  assert.deepEqual(reasons, [], "off until switched on");
  watch(true);
  watch(true);
  assert.equal(f.count(), 2, "switching on twice adds the listeners once");
  f.fire("online");
  f.fire("visibilitychange"); // still hidden
  f.document.visibilityState = "visible";
  f.fire("visibilitychange");
  assert.deepEqual(reasons, ["online", "page visible"]);
  watch(false);
  assert.equal(f.count(), 0);
  f.fire("online");
  assert.equal(reasons.length, 2);
});

Deno.test("wakeWatch() does nothing where the global has no listeners", () => {
  const watch = wakeWatch(() => assert.fail("no wake-ups expected"), {});
  watch(true);
  watch(false);
});
