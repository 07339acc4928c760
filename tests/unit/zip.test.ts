/**
 * The one zip reader for archives from outside (bundles, wheels, outputs): every inconsistency is
 * refused with a code, so that no two readers can see different files in one archive.
 */
import { describe, expect, test } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { listZip, readZip, ZipError, type ZipErrorCode } from '../../src/lib/zip/index.ts';

function code(f: () => unknown): ZipErrorCode | 'read' {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ZipError);
    return (e as ZipError).code;
  }
  return 'read';
}

const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const put32 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 255;
  b[o + 1] = (v >>> 8) & 255;
  b[o + 2] = (v >>> 16) & 255;
  b[o + 3] = (v >>> 24) & 255;
};
/** Offsets of the central directory entries. */
function central(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length; i++) if (u32(b, i) === 0x02014b50) out.push(i);
  return out;
}

describe('zip', () => {
  const good = zipSync({ 'a.txt': strToU8('alpha'), 'b.txt': strToU8('bravo bravo') }, { level: 0 });

  test('a plain archive reads, stored members as views', () => {
    const files = readZip(good);
    expect(new TextDecoder().decode(files.get('b.txt'))).toBe('bravo bravo');
    expect(files.get('a.txt')!.buffer).toBe(good.buffer);
  });

  test('two members that overlap (the central directory points both at one local header) are refused', () => {
    const b = good.slice();
    const [first, second] = central(b);
    put32(b, second! + 42, u32(b, first! + 42));
    expect(code(() => listZip(b))).toBe('inconsistent');
    expect(code(() => readZip(b))).toBe('inconsistent');
  });

  test('a local header that disagrees with its central entry on the size is refused', () => {
    const b = good.slice();
    const [first] = central(b);
    put32(b, first! + 24, u32(b, first! + 24) + 1); // central usize
    expect(code(() => readZip(b))).toBe('inconsistent');
  });

  test('not a zip, a name that escapes, a name twice', () => {
    expect(code(() => readZip(strToU8('hello')))).toBe('not-zip');
    expect(code(() => readZip(zipSync({ '../x': strToU8('x') })))).toBe('unsafe-name');
    const twice = zipSync({ 'a.txt': strToU8('1'), 'b.txt': strToU8('2') }, { level: 0 });
    // Rename b.txt to a.txt in both headers: a duplicate, consistently written.
    for (let i = 0; i + 5 <= twice.length; i++)
      if (String.fromCharCode(...twice.subarray(i, i + 5)) === 'b.txt') twice[i] = 'a'.charCodeAt(0);
    expect(code(() => readZip(twice))).toBe('duplicate');
  });
});
