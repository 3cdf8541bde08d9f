/**
 * A connection's upgrade URL, kept around its client id. The text before the id (origin, path,
 * the parameters before it) and after it (the other parameters) is the same for most connections
 * of a server, so each is kept once and shared; the id in between is the connection's own
 * `clientId`. An idle connection then keeps two references instead of its own copy of the whole
 * URL (~0.11 KB less per connection on Deno); the URL is written out again only when an
 * application reads `conn.request`.
 *
 * @module
 */
import { ownCopy } from "../util/own_copy.ts";

/** A URL as kept: `head` + the client id + `tail`, or `head` alone when `tail` is `null`. */
export interface KeptUrl {
  /** The text before the client id (or the whole URL). */
  readonly head: string;
  /** The text after the client id; `null`: `head` is the whole URL. */
  readonly tail: string | null;
}

/** Ids shorter than this are not worth cutting out (two parts cost more than one string). */
const MIN_ID_LENGTH = 8;

/**
 * The parts of the last URL kept: the next URL whose parts are the same shares these strings.
 * One pair, not a table, so nothing here grows with what clients send.
 */
let lastHead = "";
let lastTail = "";

/** `url` kept around the first occurrence of `clientId` in it (whole when it has none). */
export function keepUrl(url: string, clientId: string): KeptUrl {
  const at = clientId.length < MIN_ID_LENGTH ? -1 : url.indexOf(clientId);
  if (at < 0) return { head: url, tail: null };
  return {
    head: shared(url, 0, at, true),
    tail: shared(url, at + clientId.length, url.length, false),
  };
}

/** The URL kept as `head` and `tail` (see {@linkcode KeptUrl}), with the connection's `clientId`. */
export function urlOf(head: string, tail: string | null, clientId: string): string {
  return tail === null ? head : head + clientId + tail;
}

/**
 * `url.slice(from, to)` as a string of its own, the last one's when equal (a slice would keep the
 * whole URL alive, id included).
 */
function shared(url: string, from: number, to: number, head: boolean): string {
  const last = head ? lastHead : lastTail;
  if (last.length === to - from && url.startsWith(last, from)) return last;
  const part = ownCopy(url.slice(from, to));
  if (head) lastHead = part;
  else lastTail = part;
  return part;
}
