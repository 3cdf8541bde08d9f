/** The test pattern of the streams runtime tests: byte i is (i * 31 + 7) & 255. */
export function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 255;
  return out;
}
