/** The room invitation reveals no values by default; opted-in statistics are k-anonymised; mock data follows it. */
import { beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  buildInvitation,
  generateMock,
  ingest,
  parseInvitation,
  type IngestedTable,
  type Invitation,
} from '../../src/lib/data/index.ts';
import { DEFAULT_POLICY, POLICY_FIELDS } from '../../src/lib/policy/index.ts';
import { DIABETES_ZIP } from './fixtures/data.ts';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
let t: IngestedTable;
let dir: string;

/** Every distinct cell value of the table, as text. */
function cellValues(table: IngestedTable): Set<string> {
  const out = new Set<string>();
  for (const c of table.columns) {
    if (c.dictionary) c.dictionary.forEach((v) => out.add(v));
    else
      for (let i = 0; i < table.rowCount; i++)
        if (!c.valid || c.valid[i]) out.add(c.type === 'bool' ? (c.values[i] ? 'Yes' : 'No') : String(c.values[i]));
  }
  return out;
}

/**
 * The cell values that appear in `json` as whole tokens. Metadata that is allowed by design — column
 * and table names, types, counts, rates, the policy — is subtracted, so what remains is a leak.
 */
function leaks(inv: Invitation, values: Set<string>): string[] {
  const json = JSON.stringify(inv);
  const tokens = new Set(json.split(/[^A-Za-z0-9_.<>?[)\-+]+/).filter(Boolean));
  const allowed = new Set<string>([
    inv.room,
    inv.recipient,
    inv.created,
    String(inv.k),
    'int',
    'float',
    'bool',
    'datetime',
    'string',
    String(inv.policy.timeLimitSeconds),
    String(inv.policy.maxOutputBytes),
  ]);
  for (const tb of inv.tables) {
    allowed.add(tb.name);
    allowed.add(String(tb.rows));
    for (const c of tb.columns) {
      allowed.add(c.name);
      allowed.add(String(c.missing));
    }
  }
  return [...values].filter((v) => v.length >= 3 && tokens.has(v) && !allowed.has(v));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-inv-'));
  execFileSync('python3', ['-m', 'zipfile', '-e', DIABETES_ZIP, dir]);
  const path = join(dir, 'dataset_diabetes/diabetic_data.csv');
  const blob = await openAsBlob(path);
  t = await ingest(
    { name: 'diabetic_data.csv', size: statSync(path).size, stream: () => blob.stream() as ReadableStream<Uint8Array> },
    { name: 'encounters' },
  );
});

describe('invitation', () => {
  test('by default it holds names, types, counts and missing rates — and no cell value of the real data', () => {
    const inv = buildInvitation({ room: 'readmission study', recipient: RECIPIENT, tables: [t] });
    expect(inv.tables[0]).toMatchObject({ name: 'encounters', rows: 101_766 });
    expect(inv.tables[0]!.columns.find((c) => c.name === 'weight')!.missing).toBeGreaterThan(0.9);
    expect(inv.tables[0]!.columns.every((c) => c.stats === undefined)).toBe(true);
    const values = cellValues(t);
    expect(values.size).toBeGreaterThan(100_000); // the check below has plenty to find
    expect(leaks(inv, values)).toEqual([]);
  });

  test('the leak check is not vacuous: opting a column in to statistics shows its categories', () => {
    const inv = buildInvitation({
      room: 'r',
      recipient: RECIPIENT,
      tables: [t],
      stats: { encounters: ['race', 'num_medications'] },
    });
    const found = leaks(inv, cellValues(t));
    expect(found).toContain('Caucasian');
  });

  test('opted-in statistics are k-anonymous: rare categories are folded into "other", ranges use the k-th values', () => {
    const inv = buildInvitation({
      room: 'r',
      recipient: RECIPIENT,
      tables: [t],
      k: 10,
      stats: { encounters: ['medical_specialty', 'num_medications'] },
    });
    const cols = inv.tables[0]!.columns;
    const spec = cols.find((c) => c.name === 'medical_specialty')!.stats!;
    expect(spec.categories!.every((c) => c.count >= 10)).toBe(true);
    expect(spec.other).toBeGreaterThan(0); // e.g. "Dermatology" with a handful of rows is not listed
    const meds = cols.find((c) => c.name === 'num_medications')!.stats!;
    const all = [...t.columns.find((c) => c.name === 'num_medications')!.values].sort((a, b) => a - b);
    expect(meds.range).toEqual({ low: all[9], high: all[all.length - 10] });
    expect(meds.histogram!.every((n) => n === 0 || n >= 10)).toBe(true);
  });

  test('parseInvitation checks what it reads', () => {
    const inv = buildInvitation({ room: 'r', recipient: RECIPIENT, tables: [t] });
    expect(parseInvitation(JSON.stringify(inv)).tables[0]!.columns).toHaveLength(50);
    expect(() => parseInvitation('{}')).toThrow('not an Airlock invitation');
    expect(() => parseInvitation(JSON.stringify({ ...inv, version: 9 }))).toThrow('version 9');
  });

  test('the invitation carries the whole policy, and the expert reads every setting back; older ones stay readable', () => {
    const inv = buildInvitation({ room: 'r', recipient: RECIPIENT, tables: [t], policy: { minCellCount: 20 } });
    // Every setting the Room tab edits, disclosure thresholds included, the room's where set.
    expect(Object.keys(inv.policy).sort()).toEqual(POLICY_FIELDS.map((f) => f.key).sort());
    expect(inv.policy).toEqual({ ...DEFAULT_POLICY, minCellCount: 20 });
    expect(parseInvitation(JSON.stringify(inv)).policy).toEqual({ ...DEFAULT_POLICY, minCellCount: 20 });
    // Made before the disclosure checks: the two settings it states, nothing made up.
    const older = { ...inv, policy: { timeLimitSeconds: 600, maxOutputBytes: 52428800 } };
    expect(parseInvitation(JSON.stringify(older)).policy).toEqual({ timeLimitSeconds: 600, maxOutputBytes: 52428800 });
    const { policy: _, ...none } = inv;
    expect(parseInvitation(JSON.stringify(none)).policy).toEqual({});
    // A newer Airlock's setting is kept for the expert to see; a known one out of range is refused.
    expect(parseInvitation(JSON.stringify({ ...inv, policy: { ...inv.policy, kAnonymity: 5 } })).policy).toMatchObject({
      kAnonymity: 5,
      minCellCount: 20,
    });
    expect(() => parseInvitation(JSON.stringify({ ...inv, policy: { ...inv.policy, minCellCount: -1 } }))).toThrow(
      'Smallest cell must be a number from 1 to 1000',
    );
    expect(() => parseInvitation(JSON.stringify({ ...inv, policy: { ...inv.policy, holdout: '5%' } }))).toThrow(
      'ask the owner for a new invitation',
    );
    expect(() => parseInvitation(JSON.stringify({ ...inv, policy: { ...inv.policy, x: { y: 1 } } }))).toThrow(
      'is not a number, text or yes/no',
    );
    expect(() => parseInvitation(JSON.stringify({ ...inv, policy: [1] }))).toThrow('not a list of settings');
  });
});

describe('mock data', () => {
  test('follows the schema: re-reading the mock CSV gives the same column types; deterministic for a seed', async () => {
    const inv = buildInvitation({
      room: 'r',
      recipient: RECIPIENT,
      tables: [t],
      stats: { encounters: ['race', 'age', 'time_in_hospital'] },
    });
    const [m] = generateMock(inv, { rows: 500, seed: 7 });
    expect(generateMock(inv, { rows: 500, seed: 7 })[0]!.csv).toBe(m!.csv);
    const again = await ingest({ name: 'mock.csv', size: m!.csv.length, stream: () => new Blob([m!.csv]).stream() });
    const types = Object.fromEntries(again.columns.map((c) => [c.name, c.type]));
    const mismatched = inv.tables[0]!.columns.filter(
      (c) => types[c.name] !== c.type && !(c.type === 'string' && c.missing === 1),
    );
    expect(mismatched.map((c) => `${c.name}: ${c.type} → ${types[c.name]}`)).toEqual([]);
    const race = again.columns.find((c) => c.name === 'race')!;
    expect(new Set(race.dictionary)).toEqual(
      new Set(inv.tables[0]!.columns.find((c) => c.name === 'race')!.stats!.categories!.map((c) => c.value)),
    );
  });

  test('airlock mock writes files the local Python module reads with the sandbox API', () => {
    const inv = buildInvitation({ room: 'r', recipient: RECIPIENT, tables: [t] });
    writeFileSync(join(dir, 'invitation.json'), JSON.stringify(inv));
    const bin = resolve(import.meta.dirname, '../../bin/airlock.mjs');
    const r = spawnSync(
      process.execPath,
      [bin, 'mock', join(dir, 'invitation.json'), '-o', join(dir, 'mock'), '--rows', '200'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('encounters.csv  200 rows');
    const script = [
      'import airlock, math',
      't = airlock.table("encounters")',
      'print(len(t), len(t.columns), airlock.tables())',
      'a = t.column("time_in_hospital"); print(type(a).__name__, a.typecode)',
      'print(type(t.column("race")).__name__, t.types["diabetesMed"])',
      'row = next(iter(t.rows())); print(len(row))',
      'open(airlock.OUTPUT_DIR + "/model.json", "w").write("{}")',
    ].join('\n');
    const py = spawnSync('python3', ['-c', script], {
      encoding: 'utf8',
      cwd: dir,
      env: {
        ...process.env,
        PYTHONPATH: resolve(import.meta.dirname, '../../python/airlock_local'),
        AIRLOCK_DATA_DIR: join(dir, 'mock'),
        AIRLOCK_OUTPUT_DIR: join(dir, 'out'),
      },
    });
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout.split('\n').slice(0, 4)).toEqual(["200 50 ['encounters']", 'array i', 'list bool', '50']);
    expect(readFileSync(join(dir, 'out/model.json'), 'utf8')).toBe('{}');
  });
});
