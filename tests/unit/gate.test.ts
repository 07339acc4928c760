/**
 * The output gate on the real diabetes data: a legitimate model passes; identifiers leave in no
 * disguise (plain, JSON, base64, hex, UTF-16, zipped); pickles, undeclared names, oversize and
 * tripwires block.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { openAsBlob, statSync } from 'node:fs';
import { zipSync, strToU8 } from 'fflate';
import { ingest, toSandboxTable } from '../../src/lib/data/index.ts';
import { buildLeakIndex, reviewOutputs, type LeakIndex } from '../../src/lib/gate/index.ts';
import type { SandboxTable } from '../../src/lib/sandbox/index.ts';
import { diabetesCsvPath } from './fixtures/data.ts';

let table: SandboxTable;
let index: LeakIndex;
const enc = (s: string) => new TextEncoder().encode(s);
const file = (path: string, data: string | Uint8Array) => ({
  path,
  bytes: typeof data === 'string' ? enc(data) : data,
});
const policy = { maxOutputBytes: 10 * 1024 * 1024, declared: ['model.json'] };

function column(name: string): string[] {
  const c = table.columns.find((x) => x.name === name)!;
  return [...c.values].map((v) => (c.dictionary ? c.dictionary[v]! : String(v)));
}

beforeAll(async () => {
  const path = diabetesCsvPath();
  const blob = await openAsBlob(path);
  table = toSandboxTable(
    await ingest(
      { name: 'd.csv', size: statSync(path).size, stream: () => blob.stream() as ReadableStream<Uint8Array> },
      { name: 'encounters' },
    ),
  );
  index = buildLeakIndex([table]);
});

describe('what is indexed', () => {
  test('identifier-like and high-cardinality columns, not categories', () => {
    const cols = index.columns.map((c) => c.column);
    expect(cols).toContain('encounter_id');
    expect(cols).toContain('patient_nbr');
    expect(cols).not.toContain('race');
    expect(cols).not.toContain('readmitted');
    expect(cols).not.toContain('num_medications');
    expect(cols.sort()).toEqual([
      'admission_source_id',
      'admission_type_id',
      'discharge_disposition_id',
      'encounter_id',
      'patient_nbr',
    ]);
  });
});

describe('a legitimate model passes', () => {
  test('weights as decimals, category names of low-cardinality columns, metrics', () => {
    const ids = column('patient_nbr').slice(0, 200);
    // Weights whose digits contain identifiers (0.<id>, <id>e-9) are numbers, not identifiers.
    const weights = ids.map((id, i) => (i % 2 ? Number(`0.${id}`) : Number(`${id}e-9`)));
    const model = JSON.stringify({
      model: 'logistic-regression',
      features: ['age', 'num_medications', 'race=Caucasian', 'race=AfricanAmerican', 'admission_type_id'],
      categories: {
        race: ['Caucasian', 'AfricanAmerican', 'Hispanic', 'Other', 'Asian'],
        A1Cresult: ['>7', '>8', 'Norm'],
      },
      weights,
      metrics: { auc: 0.6412, rows: 101766 },
    });
    const r = reviewOutputs([file('model.json', model)], index, policy);
    expect(r.files[0]!.leaks).toEqual([]);
    expect(r.pass).toBe(true);
  });
});

describe('identifiers are caught in every disguise', () => {
  const ids = () => column('patient_nbr').slice(100, 110);

  test.each([
    ['plain JSON', (s: string[]) => JSON.stringify({ patients: s.map(Number) }), 'text'],
    ['a CSV line', (s: string[]) => `id,score\n${s.map((x) => `${x},0.5`).join('\n')}`, 'text'],
    ['a float-written id', (s: string[]) => JSON.stringify({ x: `${s[0]}.0` }), 'text'],
    ['base64', (s: string[]) => JSON.stringify({ blob: Buffer.from(s.join('\n')).toString('base64') }), 'base64/text'],
    ['hex', (s: string[]) => JSON.stringify({ blob: Buffer.from(s.join(',')).toString('hex') }), 'hex/text'],
  ])('%s', (_label, make, encoding) => {
    const r = reviewOutputs([file('model.json', make(ids()))], index, policy);
    expect(r.pass).toBe(false);
    expect(r.files[0]!.leaks.length).toBeGreaterThan(0);
    expect(r.files[0]!.leaks[0]).toMatchObject({ table: 'encounters', column: 'patient_nbr', encoding });
    expect(r.files[0]!.problems.join()).toContain('identifying columns (encounters.patient_nbr)');
  });

  test('UTF-16 text', () => {
    const r = reviewOutputs(
      [file('model.json', new Uint8Array(Buffer.from(`ids: ${ids().join(' ')}`, 'utf16le')))],
      index,
      policy,
    );
    expect(r.files[0]!.leaks[0]!.encoding).toBe('utf-16le/text');
  });

  test('inside a zip, inside base64 inside JSON', () => {
    const zip = zipSync({ 'data/rows.csv': strToU8(ids().join('\n')) });
    const r1 = reviewOutputs([file('model.json', zip)], index, { ...policy, declared: [] });
    expect(r1.files[0]!.leaks[0]!.encoding).toBe('zip:data/rows.csv/text');
    const r2 = reviewOutputs(
      [file('model.json', JSON.stringify({ archive: Buffer.from(zip).toString('base64') }))],
      index,
      policy,
    );
    expect(r2.files[0]!.leaks.some((h) => h.encoding.startsWith('base64/zip:data/rows.csv/'))).toBe(true);
  });
});

describe('the other checks', () => {
  test('pickles, undeclared names, unknown types, the size cap and tripwires block', () => {
    const pickle = new Uint8Array([0x80, 0x04, 0x95, 0x10, 0, 0, 0]);
    const r = reviewOutputs(
      [file('model.json', '{}'), file('model.pkl', pickle), file('extra.json', '{}'), file('model.exe', 'MZ')],
      index,
      { maxOutputBytes: 8, declared: ['model.json', 'model.pkl', 'model.exe'] },
      [{ name: 'js.fetch', detail: 'Python looked up js.fetch' }],
    );
    expect(r.pass).toBe(false);
    expect(r.files[0]!.problems).toEqual([]);
    expect(r.files[1]!.problems.join()).toContain('is a pickle');
    expect(r.files[2]!.problems.join()).toContain('not among the outputs the bundle declares');
    expect(r.files[3]!.problems.join()).toContain('not on the allowed list');
    expect(r.files[3]!.problems.join()).toContain("exceed the room's cap of 8 bytes");
    expect(r.tripwires).toHaveLength(1);
    expect(reviewOutputs([file('model.json', '{}')], index, policy, [{ name: 'js.fetch', detail: '' }]).pass).toBe(
      false,
    );
  });
});

describe('the report as the owner reads it', () => {
  test('every file has its checks with a verdict and a reason; the run has its tripwires check', () => {
    const ids = column('patient_nbr').slice(0, 5);
    const r = reviewOutputs(
      [file('model.json', '{"w": [0.25, -1.5]}'), file('extra.csv', `id\n${ids.join('\n')}\n`)],
      index,
      policy,
      [{ name: 'fetch', detail: 'https://example.org' }],
    );
    const verdict = (file: string | undefined, id: string) =>
      r.checks.find((c) => c.file === file && c.id === id)?.verdict;
    expect(verdict('model.json', 'declared')).toBe('passed');
    expect(verdict('model.json', 'identifiers')).toBe('passed');
    expect(verdict('extra.csv', 'declared')).toBe('failed');
    expect(verdict('extra.csv', 'identifiers')).toBe('failed');
    expect(verdict(undefined, 'tripwires')).toBe('failed');
    expect(r.checks.every((c) => c.reason.length > 10 && c.title.length > 2)).toBe(true);
    expect(r.checks.find((c) => c.file === 'extra.csv' && c.id === 'identifiers')!.measured).toContain('patient_nbr');
    expect(r.pass).toBe(false);
  });
});
