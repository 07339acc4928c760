/**
 * Issue 11, item 2: the review of a run's outputs is bounded. Hostile archives and streams end
 * quickly with a blocked verdict and a one-line reason, never a pass; the review counts against the
 * run's deadline. Each case passed (or ran for minutes) on the gate of commit 32c6b22.
 */
import { describe, expect, test } from 'vitest';
import { deflateRawSync, gzipSync as nodeGzip } from 'node:zlib';
import { zipSync, strToU8 } from 'fflate';
import CRC32 from 'crc-32';
import { buildLeakIndex, reviewOutputs, type GateReport } from '../../src/lib/gate/index.ts';
import type { SandboxTable } from '../../src/lib/sandbox/index.ts';

// A small table is enough here: the budget does not depend on the index.
const ids = Array.from({ length: 500 }, (_, i) => 7_000_000 + i * 7919);
const table: SandboxTable = {
  name: 't',
  rowCount: ids.length,
  columns: [{ name: 'patient_nbr', type: 'int', values: Int32Array.from(ids) }],
};
const index = buildLeakIndex([table]);
const policy = { maxOutputBytes: 1 << 30 };

function review(files: Array<[string, Uint8Array]>, extra: object = {}): { r: GateReport; ms: number } {
  const t0 = performance.now();
  const r = reviewOutputs(
    files.map(([path, bytes]) => ({ path, bytes })),
    index,
    { ...policy, ...extra },
  );
  return { r, ms: performance.now() - t0 };
}

function oneLine(r: GateReport): string {
  const p = r.files.flatMap((f) => f.problems);
  for (const line of p) expect(line).not.toMatch(/\n/);
  return p.join(' | ');
}

const u16 = (v: number) => [v & 0xff, v >> 8];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

function localHeader(name: string, method: number, crc: number, csize: number, usize: number): number[] {
  const n = [...strToU8(name)];
  return [
    ...u32(0x04034b50),
    ...u16(20),
    ...u16(0),
    ...u16(method),
    0,
    0,
    0,
    0,
    ...u32(crc),
    ...u32(csize),
    ...u32(usize),
    ...u16(n.length),
    ...u16(0),
    ...n,
  ];
}
function centralHeader(
  name: string,
  method: number,
  crc: number,
  csize: number,
  usize: number,
  offset: number,
): number[] {
  const n = [...strToU8(name)];
  return [
    ...u32(0x02014b50),
    ...u16(20),
    ...u16(20),
    ...u16(0),
    ...u16(method),
    0,
    0,
    0,
    0,
    ...u32(crc),
    ...u32(csize),
    ...u32(usize),
    ...u16(n.length),
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...u32(offset),
    ...n,
  ];
}
function eocd(count: number, cdSize: number, cdOffset: number): number[] {
  return [...u32(0x06054b50), 0, 0, 0, 0, ...u16(count), ...u16(count), ...u32(cdSize), ...u32(cdOffset), 0, 0];
}

describe('hostile archives end quickly, blocked, with one line', () => {
  test('130 KB of overlapping members (the issue report): refused as overlapping', () => {
    const zip = overlappingZip(1400);
    expect(zip.length).toBeGreaterThan(100_000);
    expect(zip.length).toBeLessThan(160_000);
    const { r, ms } = review([['model.npz', zip]]);
    expect(r.pass).toBe(false);
    expect(oneLine(r)).toMatch(/overlap/);
    expect(ms).toBeLessThan(5000);
  });

  test('a member of 512 MiB of zeros (a ratio over 1000×): over the inflation budget, not skipped', () => {
    const bomb = new Uint8Array(deflateRawSync(new Uint8Array(512 << 20), { level: 1 }));
    const zip = rawZip([{ name: 'w.npy', method: 8, data: bomb, usize: 512 << 20, crc: 0 }]);
    const { r, ms } = review([
      ['w.npz', zip],
      ['metrics.json', strToU8('{"auc": 0.68}')],
    ]);
    expect(r.pass).toBe(false);
    expect(r.files[0]!.problems.join()).toMatch(/decompresses past the review's limit/);
    // The review stops there: the later file is not reviewed, and says so.
    expect(r.files[1]!.problems.join()).toMatch(/was not reviewed: the review stopped/);
    expect(r.review.stopped).toMatch(/limit/);
    expect(ms).toBeLessThan(8000);
    oneLine(r);
  });

  test('a gzip of 512 MiB of zeros', () => {
    const { r, ms } = review([['out.csv', new Uint8Array(nodeGzip(new Uint8Array(512 << 20), { level: 1 }))]]);
    expect(r.pass).toBe(false);
    expect(oneLine(r)).toMatch(/decompresses past the review's limit/);
    expect(ms).toBeLessThan(8000);
  });

  test('zips nested 20 deep', () => {
    let z = zipSync({ 'rows.csv': strToU8('x') });
    for (let i = 0; i < 20; i++) z = zipSync({ [`level${i}.zip`]: z });
    const { r, ms } = review([['deep.npz', z]]);
    expect(r.pass).toBe(false);
    expect(oneLine(r)).toMatch(/more than 8 deep/);
    expect(ms).toBeLessThan(2000);
  });

  test('base64 nested 12 deep', () => {
    let s = 'plain text';
    for (let i = 0; i < 12; i++) s = Buffer.from(s).toString('base64');
    const { r } = review([['deep.json', strToU8(JSON.stringify({ s }))]]);
    expect(r.pass).toBe(false);
    expect(oneLine(r)).toMatch(/more than 8 deep/);
  });

  test('inconsistent archives: headers that disagree, sizes and CRCs that lie', () => {
    const data = strToU8('0.1,0.2\n');
    const crc = CRC32.buf(data) >>> 0;
    const cases: Array<[string, Uint8Array, RegExp]> = [
      [
        'local header names another file',
        rawZip([{ name: 'a.csv', localName: 'b.csv', method: 0, data, usize: data.length, crc }]),
        /names another file/,
      ],
      ['size lies', rawZip([{ name: 'a.csv', method: 0, data, usize: data.length + 1, crc }]), /sizes differ|disagree/],
      ['CRC lies', rawZip([{ name: 'a.csv', method: 0, data, usize: data.length, crc: crc ^ 1 }]), /CRC/],
      ['two entries, one local header', sameLocalTwice(data, crc), /overlap/],
      [
        'deflated size lies',
        rawZip([{ name: 'a.csv', method: 8, data: new Uint8Array(deflateRawSync(data)), usize: data.length + 5, crc }]),
        /not the size|CRC/,
      ],
      ['unknown method', rawZip([{ name: 'a.csv', method: 12, data, usize: data.length, crc }]), /method 12/],
      [
        'truncated gzip',
        new Uint8Array(nodeGzip(strToU8('a'.repeat(5000) + ids.join(','))).subarray(0, 40)),
        /does not decompress/,
      ],
      ['starts like a zip, no directory', zipSync({ 'a.csv': data }).subarray(0, 40), /no end-of-archive/],
    ];
    for (const [what, bytes, reason] of cases) {
      const { r } = review([['out.npz', bytes]]);
      expect(r.pass, what).toBe(false);
      expect(oneLine(r), what).toMatch(reason);
    }
  });
});

describe('the review counts inside the run time limit', () => {
  test('a deadline already past blocks every file, saying why', () => {
    const { r } = review([['model.json', strToU8('{"w": [0.1, 0.2]}')]], { deadline: performance.now() - 1 });
    expect(r.pass).toBe(false);
    expect(oneLine(r)).toMatch(/ran out of time \(the run's time limit counts the review/);
  });

  test('the review budget can be set in the policy', () => {
    const z = zipSync({ 'a.csv': new Uint8Array(4 << 20) }, { level: 9 });
    expect(review([['a.npz', z]], { review: { maxInflatedBytes: 1 << 20 } }).r.pass).toBe(false);
    expect(review([['a.npz', z]]).r.pass).toBe(true);
  });
});

interface RawMember {
  name: string;
  localName?: string;
  method: number;
  data: Uint8Array;
  usize: number;
  crc: number;
}

/** A zip written field by field, so that its headers can lie. */
function rawZip(members: RawMember[]): Uint8Array {
  const out: number[] = [];
  const cd: number[] = [];
  for (const m of members) {
    const at = out.length;
    out.push(...localHeader(m.localName ?? m.name, m.method, m.crc, m.data.length, m.usize));
    for (const b of m.data) out.push(b);
    cd.push(...centralHeader(m.name, m.method, m.crc, m.data.length, m.usize, at));
  }
  const cdOffset = out.length;
  out.push(...cd, ...eocd(members.length, cd.length, cdOffset));
  return Uint8Array.from(out);
}

function sameLocalTwice(data: Uint8Array, crc: number): Uint8Array {
  const out = [...localHeader('a.csv', 0, crc, data.length, data.length), ...data];
  const cdOffset = out.length;
  const cd = [
    ...centralHeader('a.csv', 0, crc, data.length, data.length, 0),
    ...centralHeader('a.csv', 0, crc, data.length, data.length, 0),
  ];
  return Uint8Array.from([...out, ...cd, ...eocd(2, cd.length, cdOffset)]);
}

/**
 * An archive of overlapping members in the manner of D. Fifield's "better zip bomb" (2019): member i's
 * data is a stored DEFLATE block quoting member i+1's local header, followed by member i+1's own
 * data, down to one shared kernel (256 KiB of zeros). Every member is a valid stream with a correct
 * CRC; together they expand quadratically (1,400 members of a 16 KiB kernel: ~62 MB from 130 KB;
 * a larger kernel or more members grow it without bound).
 */
function overlappingZip(members: number): Uint8Array {
  const kernelRaw = new Uint8Array(16 << 10);
  const kernel = new Uint8Array(deflateRawSync(kernelRaw, { level: 9 }));
  const names = Array.from({ length: members }, (_, i) => `f${String(i).padStart(5, '0')}`);
  const lh: number[][] = new Array(members);
  const csize: number[] = new Array(members);
  const usize: number[] = new Array(members);
  const crcs: number[] = new Array(members);
  const lhBytes: Uint8Array[] = new Array(members);
  // Back to front: member i outputs LH(i+1) ++ LH(i+2) ++ … ++ kernel.
  for (let i = members - 1; i >= 0; i--) {
    if (i === members - 1) {
      csize[i] = kernel.length;
      usize[i] = kernelRaw.length;
    } else {
      csize[i] = 5 + lh[i + 1]!.length + csize[i + 1]!;
      usize[i] = lh[i + 1]!.length + usize[i + 1]!;
    }
    let c = 0;
    for (let j = i + 1; j < members; j++) c = CRC32.buf(lhBytes[j]!, c);
    crcs[i] = CRC32.buf(kernelRaw, c) >>> 0;
    lh[i] = localHeader(names[i]!, 8, crcs[i]!, csize[i]!, usize[i]!);
    lhBytes[i] = Uint8Array.from(lh[i]!);
  }
  const body: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < members; i++) {
    offsets.push(body.length);
    body.push(...lh[i]!);
    if (i + 1 < members) {
      const len = lh[i + 1]!.length;
      body.push(0, ...u16(len), ...u16(~len & 0xffff));
    }
  }
  const cd: number[] = [];
  for (let i = 0; i < members; i++)
    cd.push(...centralHeader(names[i]!, 8, crcs[i]!, csize[i]!, usize[i]!, offsets[i]!));
  const cdOffset = body.length + kernel.length;
  const file = new Uint8Array(cdOffset + cd.length + 22);
  file.set(body);
  file.set(kernel, body.length);
  file.set(cd, cdOffset);
  file.set(eocd(members, cd.length, cdOffset), cdOffset + cd.length);
  return file;
}
