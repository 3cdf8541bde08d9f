/**
 * The delivery books' sessions by key (the low word of the session id, lib/server/session_key.ts),
 * in a `SlotTable` (lib/server/slot_table.ts): 11–21 B per session where a `Map` costs 40–200 B.
 *
 * Keys are the books' own random words (a client's token only looks one up), so they spread over
 * the slots without help.
 *
 * @module
 */
import { SlotTable } from "./slot_table.ts";

/** What the table needs of an entry: its key, a 32-bit integer. */
export interface Keyed {
  /** The key. */
  readonly idLo: number;
}

/** Entries by key; one entry per key. Not to be changed while iterated. */
export class SessionTable<S extends Keyed> extends SlotTable<S, number> {
  /** An empty table. */
  constructor() {
    super((s) => s.idLo, (key) => key);
  }
}
