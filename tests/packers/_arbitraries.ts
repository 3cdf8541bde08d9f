/**
 * fast-check arbitraries the packers' property tests share: event ids, JSON-like values and
 * JSON-like Sente envelopes.
 */
import fc from "fast-check";

/** One segment of an event id (`ns` or `name`). */
export const segment: fc.Arbitrary<string> = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
/** A namespaced event id, `ns/name`. */
export const eventId: fc.Arbitrary<string> = fc.tuple(segment, segment).map(([ns, name]) =>
  `${ns}/${name}`
);
/** A double that survives JSON (no NaN, no infinities, no -0). */
const double = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));

/** What a packer's tests add to the JSON-like values: leaves and map keys its syntax treats specially. */
export interface JsonShape {
  /** More leaves (after the strings). */
  leaves?: fc.Arbitrary<unknown>[];
  /** More map keys. */
  keys?: fc.Arbitrary<string>[];
  /** The most keys in a map. */
  maxKeys?: number;
}

/** JSON-like values: null, booleans, numbers, strings, event ids, arrays and maps. */
export function jsonValues(shape: JsonShape = {}): fc.Arbitrary<unknown> {
  const { leaves = [], keys = [], maxKeys = 4 } = shape;
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      double,
      fc.string({ unit: "binary" }),
      ...leaves,
      eventId,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string(), segment, ...keys), tie("value"), { maxKeys }),
    ),
  })).value;
}

/** JSON-like Sente envelopes with `json` as data: events, batches, handshakes, sentinels, replies. */
export function envelopes(json: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const event = fc.oneof(
    eventId.map((id) => [id]),
    fc.tuple(eventId, json).map(([id, data]) => [id, data]),
  );
  const cb = fc.oneof(
    fc.constant(null),
    fc.stringMatching(/^[0-9a-f]{6}$/),
    fc.constant("ajax"),
  );
  return fc.oneof(
    fc.tuple(event, cb),
    fc.tuple(fc.array(event, { minLength: 1, maxLength: 4 }), fc.constant(null)),
    fc.tuple(
      fc.tuple(
        fc.constant("chsk/handshake"),
        fc.tuple(fc.oneof(fc.string(), fc.constant("sente/nil-uid")), fc.constant(null), json),
      ),
      fc.constant(null),
    ),
    fc.tuple(fc.constantFrom("chsk/ws-ping", "chsk/timeout", "chsk/closed", "pong"), cb),
    fc.tuple(json, cb),
  ).map((v) => JSON.parse(JSON.stringify(v)));
}
