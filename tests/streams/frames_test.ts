import assert from "node:assert/strict";
import { FLAG_CHUNK, FLAG_DEFLATE_RAW, FLAG_GZIP, FLAG_RAW } from "../../lib/wire/flags.ts";
import { STREAM_ERRORS, StreamError, streamErrorCodeOf } from "../../lib/streams/errors.ts";
import type { StreamErrorCode } from "../../lib/streams/errors.ts";
import {
  decodeStreamFrame,
  encodeCancel,
  encodeCredit,
  encodeData,
  encodeEnd,
  encodeOpen,
  encodeResume,
  isStreamFrame,
  MAX_REASON_BYTES,
} from "../../lib/streams/frames.ts";

Deno.test("isStreamFrame() is false for every wire flag and true for stream frames", () => {
  for (const flag of [FLAG_RAW, FLAG_GZIP, FLAG_DEFLATE_RAW, FLAG_CHUNK]) {
    assert.equal(isStreamFrame(new Uint8Array([flag, 1, 2])), false);
  }
  assert.equal(isStreamFrame(new Uint8Array(0)), false);
  assert.equal(isStreamFrame(encodeData(1, 0, new Uint8Array(3))), true);
  assert.equal(isStreamFrame(encodeCredit(1, 0, 5)), true);
});

Deno.test("decodeStreamFrame() reads back every frame type", () => {
  const big = 2 ** 53 - 1;
  const data = decodeStreamFrame(encodeData(7, big - 3, new Uint8Array([1, 2, 3])));
  assert.deepEqual(data, { type: "data", id: 7, offset: big - 3, data: new Uint8Array([1, 2, 3]) });
  assert.deepEqual(
    decodeStreamFrame(encodeOpen(0xffff_ffff, "app/é", 12345678901, true, new Uint8Array([9]))),
    {
      type: "open",
      id: 0xffff_ffff,
      name: "app/é",
      total: 12345678901,
      integrity: true,
      meta: new Uint8Array([9]),
    },
  );
  assert.deepEqual(decodeStreamFrame(encodeOpen(2, "x", undefined, false, new Uint8Array())), {
    type: "open",
    id: 2,
    name: "x",
    total: undefined,
    integrity: false,
    meta: new Uint8Array(),
  });
  assert.deepEqual(decodeStreamFrame(encodeCredit(3, 10, big)), {
    type: "credit",
    id: 3,
    consumed: 10,
    limit: big,
  });
  const sha = new Uint8Array(32).fill(7);
  assert.deepEqual(decodeStreamFrame(encodeEnd(3, 99, sha)), {
    type: "end",
    id: 3,
    total: 99,
    sha256: sha,
  });
  assert.deepEqual(decodeStreamFrame(encodeEnd(3, 99)), {
    type: "end",
    id: 3,
    total: 99,
    sha256: undefined,
  });
  assert.deepEqual(decodeStreamFrame(encodeCancel(5, "stream-integrity", "bad")), {
    type: "cancel",
    id: 5,
    code: "stream-integrity",
    reason: "bad",
  });
  assert.deepEqual(decodeStreamFrame(encodeResume(5, 10, 4, 20)), {
    type: "resume",
    id: 5,
    received: 10,
    consumed: 4,
    limit: 20,
  });
});

Deno.test("decodeStreamFrame() throws stream-protocol on malformed frames", () => {
  const bad = (bytes: Uint8Array): void => {
    assert.throws(
      () => decodeStreamFrame(bytes),
      (e) => e instanceof StreamError && e.code === "stream-protocol",
    );
  };
  bad(new Uint8Array([0x10, 0, 0]));
  bad(new Uint8Array([0x10, 0, 0, 0, 1, 0, 0])); // DATA shorter than its header
  bad(new Uint8Array([0x1f, 0, 0, 0, 1])); // unknown type
  const overflow = encodeData(1, 0, new Uint8Array(1));
  overflow[5] = 0x00;
  overflow[6] = 0x20; // offset 2^53
  bad(overflow);
  const credit = encodeCredit(1, 10, 20);
  bad(credit.subarray(0, 20));
  const backwards = new Uint8Array(credit);
  new DataView(backwards.buffer).setUint32(17, 5); // limit 5 < consumed 10
  bad(backwards);
  const open = encodeOpen(2, "ab", 1, false, new Uint8Array());
  const bits = new Uint8Array(open);
  bits[5] = 0x80;
  bad(bits);
  const longName = new Uint8Array(open);
  new DataView(longName.buffer).setUint16(14, 300);
  bad(longName);
  const notUtf8 = new Uint8Array(open);
  notUtf8[16] = 0xff;
  bad(notUtf8);
  bad(encodeEnd(1, 5, new Uint8Array(32)).subarray(0, 20)); // END with a cut digest
  bad(encodeResume(1, 5, 6, 7)); // consumed > received
  assert.throws(() => encodeOpen(1, "x".repeat(257), 0, false, new Uint8Array()), RangeError);
});

Deno.test("encodeCancel() cuts long reasons and every error code has a distinct number", () => {
  const f = decodeStreamFrame(encodeCancel(1, "stream-cancelled", "é".repeat(2000)));
  assert.equal(f.type, "cancel");
  if (f.type === "cancel") {
    assert.ok(new TextEncoder().encode(f.reason).byteLength <= MAX_REASON_BYTES);
  }
  const codes = Object.keys(STREAM_ERRORS) as StreamErrorCode[];
  const numbers = codes.map((c) => STREAM_ERRORS[c].wire);
  assert.equal(new Set(numbers).size, codes.length);
  for (const c of codes) assert.equal(streamErrorCodeOf(STREAM_ERRORS[c].wire), c);
  assert.equal(streamErrorCodeOf(200), "stream-protocol");
});
