/**
 * The age payload STREAM run on @noble directly (src/lib/crypto/age-stream.ts): every chunk
 * boundary, in both directions against the real `age` program and against age-encryption itself,
 * with any chunking of the input, and every way a file can be cut, extended or changed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ageHeader,
  decryptAge,
  encryptPayload,
  formatIdentityFile,
  generateOwnerKey,
  openRun,
  sealRun,
  type ChunkLanes,
  type OwnerKey,
} from '../../src/lib/crypto/index.ts';

const K = 64 * 1024;
const SIZES = [0, 1, 100, K - 1, K, K + 1, 2 * K, 2 * K + 17, 16 * K, 16 * K + 1, 17 * K - 3, 40 * K + 5];

let dir: string;
let owner: OwnerKey;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-age-'));
  owner = await generateOwnerKey();
  writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function random(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
  return b;
}

/** Byte equality without vitest's element-by-element diff (slow on megabytes). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0
  );
}

/** Splits `data` into the given piece lengths, cycling. */
function pieces(data: Uint8Array, lengths: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0, i = 0; o < data.length; i++) {
    const n = lengths[i % lengths.length]!;
    out.push(data.subarray(o, o + n));
    o += n;
  }
  return out;
}

async function encrypt(
  data: Uint8Array,
  split: number[] = [data.length || 1],
  lanes?: ChunkLanes,
): Promise<Uint8Array> {
  const { prefix, key } = await ageHeader(owner.recipient);
  return new Uint8Array(await new Response(encryptPayload(prefix, key, pieces(data, split), lanes)).arrayBuffer());
}

async function decrypt(file: Uint8Array, split: number[] = [file.length], lanes?: ChunkLanes): Promise<Uint8Array> {
  return decryptAge(
    (async function* () {
      yield* pieces(file, split);
    })(),
    file.length,
    owner.identity,
    { lanes },
  );
}

/**
 * A byte stream (as a Blob's or File's is) that yields `file` in the given piece lengths: read with
 * a BYOB reader, each read gets at most the caller's view and what is left of the current piece.
 */
function byteStream(file: Uint8Array, split: number[]): ReadableStream<Uint8Array> & { byobReads: () => number } {
  const queue = pieces(file, split);
  let byobReads = 0;
  const stream = new ReadableStream({
    type: 'bytes',
    pull(c) {
      const next = queue.shift();
      if (!next) {
        c.close();
        c.byobRequest?.respond(0);
        return;
      }
      const req = c.byobRequest;
      if (req?.view) {
        const view = new Uint8Array(req.view.buffer, req.view.byteOffset, req.view.byteLength);
        const n = Math.min(view.length, next.length);
        view.set(next.subarray(0, n));
        if (n < next.length) queue.unshift(next.subarray(n));
        byobReads++;
        req.respond(n);
      } else c.enqueue(next.slice());
    },
  });
  return Object.assign(stream, { byobReads: () => byobReads });
}

/** Lanes on this thread that answer out of order (later runs first), as busy workers may. */
function scrambledLanes(width: number): ChunkLanes & { runs: number } {
  const later = <T>(first: number, f: () => T) =>
    new Promise<T>((resolve, reject) =>
      setTimeout(
        () => {
          try {
            resolve(f());
          } catch (e) {
            reject(e as Error);
          }
        },
        first % 3 === 0 ? 5 : 0,
      ),
    );
  // As a transfer would: the lane works on its own copy of the buffer, in place, and the
  // caller's is not used again (zeroed here, so that a caller that did would fail).
  const moved = (bytes: Uint8Array) => {
    const copy = new Uint8Array(bytes.buffer.slice(0));
    new Uint8Array(bytes.buffer).fill(0);
    return copy.subarray(bytes.byteOffset, bytes.byteOffset + bytes.length);
  };
  const lanes = {
    width,
    runs: 0,
    open(key: Uint8Array, first: number, sealed: Uint8Array, final: boolean) {
      lanes.runs++;
      const mine = moved(sealed);
      return later(first, () => openRun(key, first, mine, final));
    },
    seal(key: Uint8Array, first: number, laid: Uint8Array, plain: number, final: boolean) {
      lanes.runs++;
      const mine = moved(laid);
      return later(first, () => sealRun(key, first, mine, plain, final));
    },
  };
  return lanes;
}

describe('age payload STREAM', () => {
  test('every chunk boundary round-trips, and matches age-encryption in both directions', async () => {
    for (const n of SIZES) {
      const data = random(n);
      const ours = await encrypt(data, [7, 65536, 1000]);
      // Same ciphertext length as age-encryption's for the same plaintext.
      const e = new Encrypter();
      e.addRecipient(owner.recipient);
      const theirs = await e.encrypt(data);
      expect(ours.length, `size ${n}`).toBe(theirs.length);
      const d = new Decrypter();
      d.addIdentity(owner.identity);
      expect(same(await d.decrypt(ours), data), `age-encryption opens ours, size ${n}`).toBe(true);
      expect(same(await decrypt(theirs), data), `we open age-encryption's, size ${n}`).toBe(true);
      expect(same(await decrypt(ours, [1, 3, 65552, 9999]), data), `odd input chunking, size ${n}`).toBe(true);
    }
  });

  test('interop with the age program at every chunk boundary', async () => {
    for (const n of SIZES) {
      const data = random(n);
      writeFileSync(join(dir, 'p'), data);
      writeFileSync(join(dir, 'ours.age'), await encrypt(data));
      expect(
        same(
          new Uint8Array(
            execFileSync('age', ['-d', '-i', join(dir, 'owner.key'), join(dir, 'ours.age')], { maxBuffer: 1 << 30 }),
          ),
          data,
        ),
        `age -d of ours, size ${n}`,
      ).toBe(true);
      execFileSync('age', ['-r', owner.recipient, '-o', join(dir, 'theirs.age'), join(dir, 'p')]);
      expect(
        same(await decrypt(new Uint8Array(readFileSync(join(dir, 'theirs.age')))), data),
        `ours of age -r, size ${n}`,
      ).toBe(true);
    }
  });

  test('a cut, extended or changed file is refused, never returned', async () => {
    const data = random(3 * K + 5);
    const file = await encrypt(data);
    const text = new TextDecoder('latin1').decode(file.subarray(0, 1024));
    const headerEnd = text.indexOf('\n', text.indexOf('\n--- ') + 1) + 1;
    const fail = async (f: Uint8Array, size = f.length) =>
      decryptAge(
        (async function* () {
          yield f;
        })(),
        size,
        owner.identity,
      ).then(
        () => 'opened',
        (e: Error) => e.message,
      );
    // Positive control: the untouched file opens.
    expect(await fail(file)).toBe('opened');
    // Truncated at the end of the header, mid-payload, one chunk short, one byte short.
    expect(await fail(file.subarray(0, headerEnd))).toMatch(/too small|EOF/);
    for (const cut of [headerEnd + 20, file.length - K, file.length - 1])
      expect(await fail(file.subarray(0, cut))).toMatch(/tag|EOF|invalid|too small/);
    // The stream says fewer bytes than the size promised; or more.
    expect(await fail(file.subarray(0, file.length - 10), file.length)).toMatch(/EOF/);
    const longer = new Uint8Array(file.length + 3);
    longer.set(file);
    expect(await fail(longer, file.length)).toMatch(/trailing/);
    // A whole chunk removed from the middle (sizes still valid): the counter catches it.
    const dropped = new Uint8Array([...file.subarray(0, headerEnd + 16), ...file.subarray(headerEnd + 16 + K + 16)]);
    expect(await fail(dropped)).toMatch(/tag/);
    // One flipped bit anywhere: header, MAC, nonce, body, last tag.
    for (const at of [25, headerEnd - 5, headerEnd + 3, headerEnd + 16 + 500, file.length - 1]) {
      const f = file.slice();
      f[at]! ^= 1;
      expect(await fail(f), `bit flipped at ${at}`).not.toBe('opened');
    }
    // Another room's key.
    const other = await generateOwnerKey();
    await expect(
      decryptAge(
        (async function* () {
          yield file;
        })(),
        file.length,
        other.identity,
      ),
    ).rejects.toThrow(/no identity matched/);
  });
});

describe('lanes: runs of chunks opened elsewhere and put back in place', () => {
  test('sealing through the lanes gives a file age and the one-thread path both open', async () => {
    const lanes = scrambledLanes(2);
    const files: { data: Uint8Array; file: Uint8Array }[] = [];
    for (const n of [0, 1, K, 32 * K - 1, 32 * K, 32 * K + 1, 64 * K, 100 * K + 7]) {
      const data = random(n);
      files.push({ data, file: await encrypt(data, [7, 65536, 1 << 20], lanes) });
    }
    expect(lanes.runs).toBeGreaterThan(5);
    for (const { data, file } of files) {
      expect(same(await decrypt(file), data), `size ${data.length}`).toBe(true);
      writeFileSync(join(dir, 'lanes.age'), file);
      expect(
        same(
          new Uint8Array(
            execFileSync('age', ['-d', '-i', join(dir, 'owner.key'), join(dir, 'lanes.age')], { maxBuffer: 1 << 30 }),
          ),
          data,
        ),
        `age -d, size ${data.length}`,
      ).toBe(true);
    }
  });

  test('large payloads open through the lanes with the same bytes; changes and cuts are still caught', async () => {
    const lanes = scrambledLanes(2);
    for (const n of [64 * K - 1, 64 * K, 64 * K + 1, 100 * K + 7, 128 * K]) {
      const data = random(n);
      const file = await encrypt(data, undefined, lanes);
      expect(same(await decrypt(file, [70_000, 3, 1 << 20], lanes), data), `size ${n}`).toBe(true);
    }
    expect(lanes.runs).toBeGreaterThan(5);
    const file = await encrypt(random(100 * K));
    const flipped = file.slice();
    flipped[file.length - 40 * K]! ^= 1;
    await expect(decrypt(flipped, undefined, lanes)).rejects.toThrow(/tag/);
    await expect(decrypt(file.subarray(0, file.length - 1), undefined, lanes)).rejects.toThrow();
    const longer = new Uint8Array(file.length + 5);
    longer.set(file);
    await expect(
      decryptAge(
        (async function* () {
          yield longer;
        })(),
        file.length,
        owner.identity,
        { lanes },
      ),
    ).rejects.toThrow(/trailing/);
    // Two sealed chunks swapped: each is authentic, but not in that place.
    const at = file.length - 10 * (K + 16) - 16;
    const swapped = file.slice();
    swapped.set(file.subarray(at, at + K + 16), at + K + 16);
    swapped.set(file.subarray(at + K + 16, at + 2 * (K + 16)), at);
    await expect(decrypt(swapped, undefined, lanes)).rejects.toThrow(/tag/);
  });
});

describe('a byte stream (a Blob, a File) is read into the runs in place', () => {
  test('the same bytes whatever the pieces, on the lanes and on this thread; a Blob opens too', async () => {
    const lanes = scrambledLanes(2);
    for (const n of [0, 1, K, 64 * K - 1, 64 * K + 1, 100 * K + 7]) {
      const data = random(n);
      const file = await encrypt(data);
      for (const split of [[file.length || 1], [1, 3, 65552, 9999], [70_000, 3, 1 << 20]]) {
        const here = byteStream(file, split);
        expect(same(await decryptAge(here, file.length, owner.identity), data), `size ${n}`).toBe(true);
        const laned = byteStream(file, split);
        expect(same(await decryptAge(laned, file.length, owner.identity, { lanes }), data), `size ${n}, lanes`).toBe(
          true,
        );
        // Read into the buffers given to the stream (BYOB), not as the stream's own chunks.
        expect(here.byobReads()).toBeGreaterThan(0);
        expect(laned.byobReads()).toBeGreaterThan(0);
      }
      const blob = new Blob([file as Uint8Array<ArrayBuffer>]);
      expect(same(await decryptAge(blob.stream(), blob.size, owner.identity, { lanes }), data)).toBe(true);
    }
    expect(lanes.runs).toBeGreaterThan(3);
  });

  test('cut, extended, not age, or for another key: each says so', async () => {
    const lanes = scrambledLanes(2);
    const file = await encrypt(random(100 * K));
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'opened',
        (e: { code?: string }) => e.code,
      );
    for (const l of [undefined, lanes]) {
      const opts = l ? { lanes: l } : {};
      expect(
        await code(
          decryptAge(byteStream(file.subarray(0, file.length - 1), [4096]), file.length, owner.identity, opts),
        ),
      ).toBe('truncated');
      const longer = new Uint8Array(file.length + 5);
      longer.set(file);
      expect(await code(decryptAge(byteStream(longer, [1 << 20]), file.length, owner.identity, opts))).toBe('trailing');
      const text = new TextEncoder().encode('PK\u0003\u0004 not an age file at all, just some bytes\n'.repeat(100));
      expect(await code(decryptAge(byteStream(text, [7]), text.length, owner.identity, opts))).toBe('not-age');
      expect(await code(decryptAge(byteStream(new Uint8Array(3), [3]), 3, owner.identity, opts))).toBe('not-age');
      const other = await generateOwnerKey();
      expect(await code(decryptAge(byteStream(file, [5000]), file.length, other.identity, opts))).toBe('wrong-key');
    }
  });
});
