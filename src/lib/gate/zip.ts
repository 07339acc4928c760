/**
 * Reading a zip that a notebook wrote (an .npz, a zipped folder, a zip hidden in base64), for the
 * leak scan (PKWARE APPNOTE 6.3.x).
 *
 * Not bundle/zip.ts's `readZip`: that one reads a bundle, which the expert signed and which must be
 * whole, and it inflates every member at once with a per-member ratio cap. Here every member must be
 * *scanned*, one at a time, under the one budget of the whole review (a sparse array legitimately
 * compresses 1000×; a bomb is stopped by the budget instead), and the archive is hostile input whose
 * every inconsistency blocks: members that overlap one another or the central directory (the
 * "overlapping files" bombs, which make a small file expand quadratically), a local header that
 * disagrees with its central entry, sizes or CRCs that lie, encryption, other compression methods.
 * Such an archive cannot be read the same way by every reader, so the gate cannot vouch for it.
 */
import CRC32 from 'crc-32';
import type { ReviewMeter } from './budget.ts';
import { inflateRaw } from './inflate.ts';

/** The archive cannot be read consistently; `message` is one line. */
export class UnreadableError extends Error {
  override name = 'UnreadableError';
}

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;
const MAX32 = 0xffffffff;

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function u64(b: Uint8Array, o: number): number {
  return u32(b, o) + u32(b, o + 4) * 2 ** 32;
}

/** Offset of the end-of-central-directory record, or -1 (it sits in the last 22 + 65535 bytes). */
export function findEocd(b: Uint8Array): number {
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) if (u32(b, i) === EOCD) return i;
  return -1;
}

/** Sizes that are 0xFFFFFFFF in a header are in its zip64 extra field (APPNOTE 4.5.3), in this order. */
function zip64(
  b: Uint8Array,
  extra: number,
  extraLen: number,
  f: { usize: number; csize: number; offset?: number },
): void {
  let p = extra;
  while (p + 4 <= extra + extraLen) {
    const id = u16(b, p);
    const len = u16(b, p + 2);
    if (id === 1) {
      let q = p + 4;
      const take = () => {
        if (q + 8 > p + 4 + len) throw new UnreadableError('a zip64 extra field is too short');
        const v = u64(b, q);
        q += 8;
        return v;
      };
      if (f.usize === MAX32) f.usize = take();
      if (f.csize === MAX32) f.csize = take();
      if (f.offset === MAX32) f.offset = take();
      return;
    }
    p += 4 + len;
  }
}

export interface ZipMember {
  name: string;
  method: number;
  usize: number;
  crc: number;
  /** The member's stored or deflated bytes. */
  raw: Uint8Array;
}

/**
 * Lists and vets every member; reads nothing compressed yet.
 * @throws {UnreadableError} naming the inconsistency
 * @throws {ReviewLimitError} past the review's member budget
 */
export function listZip(b: Uint8Array, meter: ReviewMeter, what: string): ZipMember[] {
  const bad = (why: string) => new UnreadableError(why);
  const eocd = findEocd(b);
  if (eocd < 0) throw bad('it starts like a zip but has no end-of-archive record');
  const count = u16(b, eocd + 10);
  const cdSize = u32(b, eocd + 12);
  const cdOffset = u32(b, eocd + 16);
  if (u16(b, eocd + 4) !== 0 || u16(b, eocd + 6) !== 0 || u16(b, eocd + 8) !== count) throw bad('a multi-disk archive');
  if (count === 0xffff || cdOffset === MAX32 || cdSize === MAX32) throw bad('a zip64 archive, which is not read');
  if (cdOffset + cdSize > eocd) throw bad('its central directory points outside the file');
  const members: ZipMember[] = [];
  const spans: Array<[number, number, string]> = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cdOffset + cdSize || u32(b, p) !== CEN) throw bad('a damaged central directory');
    const flags = u16(b, p + 8);
    const method = u16(b, p + 10);
    const crc = u32(b, p + 16);
    const nameLen = u16(b, p + 28);
    const extraLen = u16(b, p + 30);
    const f = { csize: u32(b, p + 20), usize: u32(b, p + 24), offset: u32(b, p + 42) };
    zip64(b, p + 46 + nameLen, extraLen, f);
    const nameBytes = b.subarray(p + 46, p + 46 + nameLen);
    const name = new TextDecoder().decode(nameBytes);
    p += 46 + nameLen + extraLen + u16(b, p + 32);
    if (p > cdOffset + cdSize) throw bad('a damaged central directory');
    meter.chargeEntry(`${what}: member ${name}`);
    const local = f.offset;
    if (local + 30 > cdOffset || u32(b, local) !== LOC) throw bad(`member ${name} has no local header`);
    const lNameLen = u16(b, local + 26);
    const lExtraLen = u16(b, local + 28);
    const lName = b.subarray(local + 30, local + 30 + lNameLen);
    if (lNameLen !== nameLen || !lName.every((x, i) => x === nameBytes[i]))
      throw bad(`member ${name}'s local header names another file`);
    if (u16(b, local + 8) !== method) throw bad(`member ${name}'s local header names another compression method`);
    if (flags & 1 || u16(b, local + 6) & 1) throw bad(`member ${name} is encrypted`);
    if (!(u16(b, local + 6) & 8)) {
      // Without a data descriptor the local header repeats the sizes and CRC; a reader may trust either.
      const l = { csize: u32(b, local + 18), usize: u32(b, local + 22) };
      zip64(b, local + 30 + lNameLen, lExtraLen, l);
      if (l.csize !== f.csize || l.usize !== f.usize || u32(b, local + 14) !== crc)
        throw bad(`member ${name}'s local and central headers disagree on its size or CRC`);
    }
    const start = local + 30 + lNameLen + lExtraLen;
    const end = start + f.csize;
    if (end > cdOffset) throw bad(`member ${name} runs into the central directory`);
    if (method === 0 && f.csize !== f.usize) throw bad(`member ${name} is stored but its sizes differ`);
    if (method !== 0 && method !== 8)
      throw bad(`member ${name} uses compression method ${method} (only stored and deflate are read)`);
    if (name.endsWith('/') && f.usize) throw bad(`directory entry ${name} has content`);
    spans.push([local, end, name]);
    members.push({ name, method, usize: f.usize, crc, raw: b.subarray(start, end) });
  }
  if (p !== cdOffset + cdSize) throw bad("its central directory's size disagrees with its entries");
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i]![0] < spans[i - 1]![1]) throw bad(`members ${spans[i - 1]![2]} and ${spans[i]![2]} overlap`);
  return members;
}

/**
 * A member's content, inflated within the budget and checked against its declared size and CRC.
 * @throws {UnreadableError} @throws {ReviewLimitError}
 */
export function readMember(m: ZipMember, meter: ReviewMeter, what: string): Uint8Array {
  let data: Uint8Array;
  if (m.method === 0) data = m.raw;
  else {
    const r = inflateRaw(m.raw, meter, what, m.usize);
    if (!r.ok) throw new UnreadableError(`member ${m.name} does not decompress`);
    data = r.data;
  }
  if (data.length !== m.usize) throw new UnreadableError(`member ${m.name} is not the size its header declares`);
  if (CRC32.buf(data) >>> 0 !== m.crc) throw new UnreadableError(`member ${m.name} fails its CRC check`);
  return data;
}
