/**
 * Reading a zip that a notebook wrote (an .npz, a zipped folder, a zip hidden in base64), for the
 * leak scan (PKWARE APPNOTE 6.3.x).
 *
 * The members are vetted by the one zip reader (zip/read.ts: overlaps, headers that disagree, sizes
 * that lie, encryption, other methods all refused). Unlike `readZip`, which reads a bundle whole
 * with a per-member ratio cap, every member here is *scanned*, one at a time, under the one budget
 * of the whole review (a sparse array legitimately compresses 1000×; a bomb is stopped by the budget
 * instead), and its CRC is checked: an archive the gate cannot read consistently, it cannot vouch for.
 */
import CRC32 from 'crc-32';
import { listZip, ZipError, type ZipMember } from '../zip/index.ts';
import type { ReviewMeter } from './budget.ts';
import { inflateRaw } from './inflate.ts';

export { findEocd } from '../zip/index.ts';

/** The archive cannot be read consistently; `message` is one line. */
export class UnreadableError extends Error {
  override name = 'UnreadableError';
}

/**
 * Lists and vets every member (zip/read.ts's listZip), each charged to the review's member budget.
 * @throws {UnreadableError} naming the inconsistency
 * @throws {ReviewLimitError} past the review's member budget
 */
export function listMembers(b: Uint8Array, meter: ReviewMeter, what: string): ZipMember[] {
  try {
    return listZip(b, (name) => meter.chargeEntry(`${what}: member ${name}`));
  } catch (e) {
    if (e instanceof ZipError)
      throw new UnreadableError(e.code === 'not-zip' ? `it starts like a zip but has ${e.message}` : e.message);
    throw e;
  }
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
