/** Typed arrays of columns: grown by doubling, trimmed to their length, text codes widened. */

/** A typed array with room for `need` elements: `a` itself, or a copy grown by doubling. */
export function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Text codes in the wire format: Int32Array with -1 for a missing value (one-byte codes are widened). */
export function wideCodes(c: { values: Int32Array | Float64Array | Uint8Array; valid?: Uint8Array }): Int32Array {
  return c.values instanceof Int32Array ? c.values : widenCodes(c, new Int32Array(c.values.length));
}

/** As wideCodes, into `into` (at least as long as the column): its first part, which it returns. */
export function widenCodes(c: { values: Int32Array | Float64Array | Uint8Array; valid?: Uint8Array }, into: Int32Array): Int32Array {
  const n = c.values.length;
  const wide = into.subarray(0, n);
  wide.set(c.values);
  if (c.valid) for (let i = 0; i < n; i++) if (!c.valid[i]) wide[i] = -1;
  return wide;
}

/**
 * The first `n` values of `a`: a view when `a`'s buffer has little room beyond them (no second copy
 * of a column sized from a good estimate), a copy when it has much (over an eighth).
 */
export function fitted<T extends Int32Array | Float64Array | Uint8Array>(a: T, n: number): T {
  const room = a.buffer.byteLength / a.BYTES_PER_ELEMENT - a.byteOffset / a.BYTES_PER_ELEMENT - n;
  return room <= (n + room) / 8 ? (a.subarray(0, n) as T) : (a.slice(0, n) as T);
}
