// This module is browser compatible.
/**
 * An incremental SHA-256 (FIPS 180-4). Web Crypto only digests whole buffers, and a stream is
 * never held whole, so streams hash as bytes pass. The default, {@linkcode sha256}, is the
 * runtime's native hash where there is one (`node:crypto` on Deno, Bun and Node: see
 * `native_sha256.ts`) and the small dependency-free {@linkcode Sha256} below elsewhere (browsers).
 * An application that ships another implementation (e.g. `@noble/hashes`' `sha256.create()`) can
 * pass it as a {@linkcode HashFactory} instead. Tests compare them with each other and Web Crypto.
 *
 * @module
 */

import { nativeSha256 } from "./native_sha256.ts";

/** A hash fed in pieces. */
export interface IncrementalHash {
  /** Adds bytes. */
  update(data: Uint8Array): unknown;
  /** The digest of everything added (32 bytes for SHA-256); call once. */
  digest(): Uint8Array;
}

/** Makes a fresh incremental SHA-256. */
export type HashFactory = () => IncrementalHash;

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** Incremental SHA-256. */
export class Sha256 implements IncrementalHash {
  readonly #h = new Uint32Array([
    0x6a09e667,
    0xbb67ae85,
    0x3c6ef372,
    0xa54ff53a,
    0x510e527f,
    0x9b05688c,
    0x1f83d9ab,
    0x5be0cd19,
  ]);
  readonly #w = new Uint32Array(64);
  readonly #block = new Uint8Array(64);
  #blockLength = 0;
  #length = 0;
  #done = false;

  /** Adds bytes. */
  update(data: Uint8Array): this {
    if (this.#done) throw new TypeError("update() after digest()");
    this.#length += data.byteLength;
    let i = 0;
    if (this.#blockLength > 0) {
      const take = Math.min(64 - this.#blockLength, data.byteLength);
      this.#block.set(data.subarray(0, take), this.#blockLength);
      this.#blockLength += take;
      i = take;
      if (this.#blockLength < 64) return this;
      this.#compress(this.#block, 0);
      this.#blockLength = 0;
    }
    for (; i + 64 <= data.byteLength; i += 64) this.#compress(data, i);
    if (i < data.byteLength) {
      this.#block.set(data.subarray(i));
      this.#blockLength = data.byteLength - i;
    }
    return this;
  }

  /** The 32-byte digest. */
  digest(): Uint8Array {
    if (this.#done) throw new TypeError("digest() called twice");
    const bits = this.#length * 8;
    const block = this.#block;
    block[this.#blockLength] = 0x80;
    block.fill(0, this.#blockLength + 1);
    if (this.#blockLength >= 56) {
      this.#compress(block, 0);
      block.fill(0);
    }
    const view = new DataView(block.buffer);
    view.setUint32(56, Math.floor(bits / 2 ** 32));
    view.setUint32(60, bits >>> 0);
    this.#compress(block, 0);
    this.#done = true;
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let j = 0; j < 8; j++) outView.setUint32(j * 4, this.#h[j]);
    return out;
  }

  #compress(data: Uint8Array, at: number): void {
    const w = this.#w;
    for (let t = 0; t < 16; t++) {
      const p = at + t * 4;
      w[t] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
    }
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15];
      const b = w[t - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    const h = this.#h;
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + s1 + ch + K[t] + w[t]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
}

/** The JavaScript SHA-256 ({@linkcode Sha256}) as a {@linkcode HashFactory}: the browsers' default. */
export const jsSha256: HashFactory = (): IncrementalHash => new Sha256();

/** The factory {@linkcode sha256} settled on, at its first hash. */
let chosen: HashFactory | undefined;

/**
 * The default {@linkcode HashFactory}: the runtime's native incremental SHA-256 where it has one
 * (`node:crypto` on Deno, Bun and Node, ≈ 20× faster), else {@linkcode jsSha256} (browsers).
 *
 * The native one is looked up at the first hash, not at import: loading `node:crypto` starts Deno's
 * Node compatibility layer, after which a `MessageChannel` task (how the Hub's fan-out yields) runs
 * before pending socket reads, so every server would pay for it, hashing or not (measured with
 * bench/fanout.ts on Deno: a probe's request→reply p99 during a burst went from 3 ms to 95 ms).
 */
export const sha256: HashFactory = (): IncrementalHash => (chosen ??= nativeSha256() ?? jsSha256)();

/** Constant-time equality of two digests. */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** A digest as lowercase hex (what `sha256sum` prints). */
export function toHex(digest: Uint8Array): string {
  let out = "";
  for (const b of digest) out += b.toString(16).padStart(2, "0");
  return out;
}
