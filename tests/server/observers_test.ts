/** Unit tests of lib/server/observers.ts: adding and removing observers replaces the list, never mutates it. */
import assert from "node:assert/strict";
import { addObserver, type ObserverList } from "../../lib/server/observers.ts";
import type { ServerObserver } from "../../lib/server/types.ts";

Deno.test("addObserver() adds in order and its return value removes that observer only", () => {
  const list: ObserverList = { observers: [] };
  const a: ServerObserver = { open: () => {} };
  const b: ServerObserver = { close: () => {} };
  const stopA = addObserver(list, a);
  addObserver(list, b);
  assert.deepEqual(list.observers, [a, b]);
  stopA();
  assert.deepEqual(list.observers, [b]);
  stopA(); // again: nothing changes
  assert.deepEqual(list.observers, [b]);
});

Deno.test("addObserver() replaces the list, so a notification in progress keeps the one it started with", () => {
  const list: ObserverList = { observers: [] };
  const a: ServerObserver = {};
  const stop = addObserver(list, a);
  const running = list.observers; // what a notification loop iterates
  addObserver(list, {});
  stop();
  assert.deepEqual(running, [a]);
  assert.notEqual(list.observers, running);
});
