/**
 * Decompression under the review's budget: raw DEFLATE (RFC 1951), zlib (RFC 1950) and gzip
 * (RFC 1952) streams, through fflate's streaming `Inflate`.
 *
 * Why streaming, fed in measured steps: `inflateSync` given an output buffer keeps decoding past its
 * end (writes beyond a typed array are dropped), so a bomb costs its full expansion in CPU time
 * whatever the cap; without a buffer it allocates the full expansion. The stream lets us stop after
 * any step. Each step's input is sized from the ratio seen so far so that one step yields about
 * 1 MiB: 64 KiB steps on ordinary data (fflate copies its 32 KiB window on every step, so small
 * steps cost), 1 KiB steps on a bomb (which expands ~1000×). Measured here: 9 ms/MB of output on the
 * real CSV, ~5 ms/MB on a bomb of zeros.
 */
import { Inflate, inflateSync } from 'fflate';
import type { ReviewMeter } from './budget.ts';

export interface Inflated {
  /** What came out, also when the stream broke off (the part before a break is scanned too). */
  data: Uint8Array;
  /** The stream ended properly. */
  ok: boolean;
}

const STEP_OUT = 1 << 20;

/**
 * Inflates raw DEFLATE data, charging every byte produced to the meter.
 * @param expect the size the container declares; output beyond it stops the stream (it lied)
 * @throws {ReviewLimitError} when the output passes the review's budget or time
 */
export function inflateRaw(src: Uint8Array, meter: ReviewMeter, what: string, expect = Infinity): Inflated {
  const parts: Uint8Array[] = [];
  let out = 0;
  const inf = new Inflate((chunk) => {
    parts.push(chunk);
    out += chunk.length;
  });
  let ok = true;
  let pos = 0;
  let charged = 0;
  try {
    while (pos < src.length) {
      const ratio = pos ? Math.max(1, out / pos) : 4;
      const step = Math.max(1024, Math.min(65536, Math.floor(STEP_OUT / ratio)));
      const end = Math.min(src.length, pos + step);
      inf.push(src.subarray(pos, end), end === src.length);
      pos = end;
      meter.chargeInflated(out - charged, what);
      charged = out;
      meter.checkTime(what);
      if (out > expect) break;
    }
    if (!src.length) ok = false;
  } catch (e) {
    if ((e as Error).name === 'ReviewLimitError') throw e;
    ok = false;
  }
  meter.chargeInflated(out - charged, what);
  return { data: concat(parts, out), ok };
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Offset of the DEFLATE data after a gzip header at `at` (RFC 1952 §2.3), or -1. Besides the magic,
 * the reserved flags must be clear, XFL one of the values compressors write and OS a known one, so
 * that chance bytes inside a binary file almost never look like a header (about 1 in 10^10 offsets).
 */
export function gzipBody(b: Uint8Array, at: number): number {
  if (b[at] !== 0x1f || b[at + 1] !== 0x8b || b[at + 2] !== 8) return -1;
  const flags = b[at + 3]!;
  const xfl = b[at + 8];
  const os = b[at + 9];
  if (flags & 0xe0 || (xfl !== 0 && xfl !== 2 && xfl !== 4) || os === undefined || (os > 13 && os !== 255)) return -1;
  let p = at + 10;
  if (flags & 4) p += 2 + (b[p]! | (b[p + 1]! << 8));
  if (flags & 8) while (p < b.length && b[p++] !== 0);
  if (flags & 16) while (p < b.length && b[p++] !== 0);
  if (flags & 2) p += 2;
  return p < b.length ? p : -1;
}

/** Offset of the DEFLATE data after a zlib header at `at` (RFC 1950 §2.2), or -1. */
export function zlibBody(b: Uint8Array, at: number): number {
  const cmf = b[at];
  const flg = b[at + 1];
  if (cmf === undefined || flg === undefined) return -1;
  if ((cmf & 15) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0 || flg & 0x20) return -1;
  return at + 2 < b.length ? at + 2 : -1;
}

/**
 * Whether DEFLATE data at `at` could be a real stream rather than chance bytes: a stored block's
 * length must match its complement (fflate does not check), and a Huffman block must decode its
 * first 2 KiB without an invalid code or a distance before the start. Random bytes fail this within
 * a few bytes; it keeps the search for streams at every offset cheap (docs/SECURITY.md).
 */
export function plausibleDeflate(b: Uint8Array, at: number): boolean {
  const first = b[at];
  if (first === undefined) return false;
  const type = (first >> 1) & 3;
  if (type === 3) return false;
  if (type === 0) {
    if (at + 5 > b.length) return false;
    const len = b[at + 1]! | (b[at + 2]! << 8);
    const nlen = b[at + 3]! | (b[at + 4]! << 8);
    return (len ^ nlen) === 0xffff;
  }
  try {
    inflateSync(b.subarray(at, at + 2048), { out: new Uint8Array(8192) });
    return true;
  } catch (e) {
    // Code 0 is "unexpected EOF": the 2 KiB ran out before the stream did, as a real stream's would.
    return (e as { code?: number }).code === 0;
  }
}
