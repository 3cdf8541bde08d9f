// This module is browser compatible.
/**
 * Flat copies of string slices. A value cut out of a longer string (a query parameter, a header)
 * may share memory with it: keeping the value (a client id for the life of its connection) would
 * keep the whole source string alive.
 *
 * @module
 */

/**
 * A copy of `s` that shares no memory with the string it was cut from: a client id read out of
 * the upgrade query, or a secret out of a header, is a slice that would keep the whole query or
 * header alive for as long as it is kept.
 */
export function ownCopy(s: string): string {
  const codes = new Array<number>(s.length);
  for (let i = 0; i < s.length; i++) codes[i] = s.charCodeAt(i);
  return String.fromCharCode.apply(null, codes);
}
