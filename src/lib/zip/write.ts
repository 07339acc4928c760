/**
 * Writing zips (PKWARE APPNOTE 6.3.x) through fflate's `Zip`, stored entries (a bundle's wheels are
 * zips already), piece by piece, with a fast CRC-32.
 */
import CRC32 from 'crc-32';
import { Zip, type ZipInputFile } from 'fflate';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** Its CRC-32, when the caller has it already. */
  crc?: number;
}

/**
 * CRC-32 of a stored entry. fflate's byte-at-a-time CRC runs at ~300 MB/s, a third of the sealing
 * time for a 100 MB wheel; SheetJS's slice-by-16 `crc-32` runs at 0.6–1.2 GB/s, and Node's zlib
 * (reached without importing `node:` modules, so the browser build is unaffected) at ~3 GB/s.
 */
const nativeCrc32 = (
  globalThis as { process?: { getBuiltinModule?: (m: string) => { crc32?: (d: Uint8Array) => number } | undefined } }
).process?.getBuiltinModule?.('node:zlib')?.crc32;
export function crc32(data: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(data) >>> 0 : CRC32.buf(data) >>> 0;
}

/**
 * A zip of stored entries, piece by piece as the entries arrive: each entry's data is the caller's
 * own array (not copied), between the headers fflate's `Zip` writes (local header, data, data
 * descriptor; central directory at the end).
 */
export async function* zipPieces(entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>): AsyncGenerator<Uint8Array> {
  let pieces: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else pieces.push(chunk);
  });
  const flush = () => {
    if (failure) throw failure;
    const out = pieces;
    pieces = [];
    return out;
  };
  for await (const e of entries) {
    // fflate's documented `ZipInputFile` for data whose CRC the caller computes (see crc32 above).
    const file: ZipInputFile = {
      filename: e.name,
      size: e.data.length,
      crc: e.crc ?? crc32(e.data),
      compression: 0,
      mtime: new Date('2000-01-01T00:00:00Z'), // reproducible bytes for the same inputs
      ondata: () => {},
    };
    zip.add(file);
    file.ondata!(null, e.data as Uint8Array<ArrayBuffer>, true);
    yield* flush();
  }
  zip.end();
  yield* flush();
}
