/**
 * Adding and removing server observers (metrics, `./lifecycle`; `Hub.observe`). The list is
 * replaced on every change, never mutated, so a notification running over it
 * (`ServerContext.observe`) sees the observers of when it started, whatever they add or remove.
 *
 * @module
 */
import type { ServerObserver } from "./types.ts";

/** @internal Where the observers are kept (`ServerContext`). */
export interface ObserverList {
  /** The observers; replaced, never mutated. */
  observers: ServerObserver[];
}

/** Adds `observer` to `list`; returns a function that removes it. */
export function addObserver(list: ObserverList, observer: ServerObserver): () => void {
  list.observers = [...list.observers, observer];
  return () => {
    list.observers = list.observers.filter((o) => o !== observer);
  };
}
