/**
 * Reading zips that come from outside (PKWARE APPNOTE 6.3.x): a bundle, a wheel inside it, an output
 * a notebook wrote. Every archive is hostile input whose every inconsistency is refused before
 * anything in it is used, because such an archive cannot be read the same way by every reader:
 * members that overlap one another or the central directory (the "overlapping files" bombs that
 * make a small file expand quadratically), a local header that disagrees with its central entry,
 * sizes that lie, encryption, other compression methods, zip64, several disks.
 *
 * The central directory is parsed here rather than through fflate's `unzipSync`: stored members come
 * back as views into the caller's buffer (no second copy of a 200 MB bundle), and inflation (fflate)
 * is bounded by the declared size. {@link listZip} vets and lists; {@link readZip} reads a whole
 * archive as a bundle or wheel must be read (safe names, no duplicates, size and ratio caps); the
 * output gate reads member by member under its own budget (gate/zip.ts).
 */
import { inflateSync } from 'fflate';

/**
 * Why an archive was refused. `not-zip`: no end-of-archive record; `unsupported`: zip64, several
 * disks, a compression method other than stored or deflate, encryption; `inconsistent`: its
 * headers disagree, members overlap, sizes lie; `unsafe-name`: an absolute, `..`, backslash or
 * control-character path, or a name that is not UTF-8; `duplicate`: a name twice; `too-large`: over
 * the entry, size or ratio caps (a zip bomb); `damaged`: a member does not decompress.
 */
export type ZipErrorCode =
  'not-zip' | 'unsupported' | 'inconsistent' | 'unsafe-name' | 'duplicate' | 'too-large' | 'damaged';

export class ZipError extends Error {
  override name = 'ZipError';
  constructor(
    readonly code: ZipErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const ZIP_LIMITS = {
  maxEntries: 1000,
  maxEntryBytes: 1024 * 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  /** A deflated entry may not expand more than this (a wheel or notebook rarely exceeds 20). */
  maxRatio: 200,
} as const;

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
        if (q + 8 > p + 4 + len) throw new ZipError('inconsistent', 'a zip64 extra field is too short');
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
  /** The name's bytes decoded strictly as UTF-8 (false: not UTF-8, decoded leniently in `name`). */
  utf8: boolean;
  method: number;
  usize: number;
  crc: number;
  /** The member's stored or deflated bytes: a view into the archive. */
  raw: Uint8Array;
}

/**
 * Lists and vets every member of an archive held in memory; decompresses nothing.
 * @param onEntry called once a member, before it is read (the gate charges its budget here)
 * @throws {ZipError} naming the inconsistency
 */
export function listZip(b: Uint8Array, onEntry?: (name: string) => void): ZipMember[] {
  const eocd = findEocd(b);
  if (eocd < 0) throw new ZipError('not-zip', 'no end-of-archive record (truncated or not a zip)');
  const count = u16(b, eocd + 10);
  const cdSize = u32(b, eocd + 12);
  const cdOffset = u32(b, eocd + 16);
  if (u16(b, eocd + 4) !== 0 || u16(b, eocd + 6) !== 0 || u16(b, eocd + 8) !== count)
    throw new ZipError('unsupported', 'a multi-disk archive');
  if (count === 0xffff || cdOffset === MAX32 || cdSize === MAX32)
    throw new ZipError('unsupported', 'a zip64 archive, which is not read');
  if (cdOffset + cdSize > eocd) throw new ZipError('inconsistent', 'its central directory points outside the file');
  const bad = (why: string) => new ZipError('inconsistent', why);
  const members: ZipMember[] = [];
  const spans: Array<[number, number, string]> = [];
  const strict = new TextDecoder('utf-8', { fatal: true });
  const lenient = new TextDecoder();
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
    let name: string;
    let utf8 = true;
    try {
      name = strict.decode(nameBytes);
    } catch {
      name = lenient.decode(nameBytes);
      utf8 = false;
    }
    p += 46 + nameLen + extraLen + u16(b, p + 32);
    if (p > cdOffset + cdSize) throw bad('a damaged central directory');
    onEntry?.(name);
    const local = f.offset;
    if (local + 30 > cdOffset || u32(b, local) !== LOC) throw bad(`member ${name} has no local header`);
    const lNameLen = u16(b, local + 26);
    const lExtraLen = u16(b, local + 28);
    const lName = b.subarray(local + 30, local + 30 + lNameLen);
    if (lNameLen !== nameLen || !lName.every((x, i) => x === nameBytes[i]))
      throw bad(`member ${name}'s local header names another file`);
    if (u16(b, local + 8) !== method) throw bad(`member ${name}'s local header names another compression method`);
    if (flags & 1 || u16(b, local + 6) & 1) throw new ZipError('unsupported', `member ${name} is encrypted`);
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
      throw new ZipError(
        'unsupported',
        `member ${name} uses compression method ${method} (only stored and deflate are read)`,
      );
    if (name.endsWith('/') && f.usize) throw bad(`directory entry ${name} has content`);
    spans.push([local, end, name]);
    members.push({ name, utf8, method, usize: f.usize, crc, raw: b.subarray(start, end) });
  }
  if (p !== cdOffset + cdSize) throw bad("its central directory's size disagrees with its entries");
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i]![0] < spans[i - 1]![1]) throw bad(`members ${spans[i - 1]![2]} and ${spans[i]![2]} overlap`);
  return members;
}

function isSafeName(name: string): boolean {
  if (!name || name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name)) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) return false;
  return name.split('/').every((s) => s !== '..' && s !== '.' && s !== '');
}

/**
 * Reads every file of an archive that must be whole (a bundle, a wheel): each member vetted by
 * {@link listZip}, safe and unique names, the entry, size and ratio caps; stored members are views
 * into `buf`, deflated ones inflated within their declared size. Directories are skipped.
 * @throws {ZipError} naming the problem
 */
export function readZip(buf: Uint8Array): Map<string, Uint8Array> {
  let entries = 0;
  const members = listZip(buf, () => {
    if (++entries > ZIP_LIMITS.maxEntries)
      throw new ZipError('too-large', `more than ${ZIP_LIMITS.maxEntries} entries (the limit)`);
  });
  const out = new Map<string, Uint8Array>();
  let total = 0;
  for (const m of members) {
    const { name } = m;
    if (!m.utf8) throw new ZipError('unsafe-name', 'a file name that is not UTF-8');
    if (name.endsWith('/')) continue; // directories carry nothing; `zip -r` writes them
    if (!isSafeName(name))
      throw new ZipError(
        'unsafe-name',
        `unsafe path ${JSON.stringify(name.slice(0, 80))} (absolute, backslash or "..")`,
      );
    if (out.has(name)) throw new ZipError('duplicate', `${name} appears twice`);
    if (m.usize > ZIP_LIMITS.maxEntryBytes)
      throw new ZipError('too-large', `${name} declares ${m.usize} bytes, over the limit`);
    total += m.usize;
    if (total > ZIP_LIMITS.maxTotalBytes) throw new ZipError('too-large', 'the files add up to more than the limit');
    let data: Uint8Array;
    if (m.method === 0) data = m.raw;
    else {
      const csize = m.raw.length;
      if (m.usize > Math.max(1, csize) * ZIP_LIMITS.maxRatio)
        throw new ZipError(
          'too-large',
          `${name} would expand ${Math.round(m.usize / Math.max(1, csize))}× (a zip bomb?)`,
        );
      // One byte of slack: output that reaches it means the declared size was a lie.
      try {
        data = inflateSync(m.raw, { out: new Uint8Array(m.usize + 1) });
      } catch {
        throw new ZipError('damaged', `${name} does not decompress`);
      }
      if (data.length !== m.usize)
        throw new ZipError('inconsistent', `${name} decompresses to a different size than declared`);
    }
    out.set(name, data);
  }
  return out;
}
