/**
 * The checks on models, on the real diabetes data, both ways: training rows stored in an output
 * (k-NN as JSON, .npy, CSV and column by column; a lookup keyed by rows) fail the row check; a
 * logistic regression, random weights, a lookup by coarse groups, and random vectors of the data's
 * own values pass it; the size check weighs the numbers in the outputs against the training rows;
 * and the membership attack's measures are right on cases whose answer is known.
 * `GATE_TABLE=1` prints the measured rates (docs/DISCLOSURE.md).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import {
  aucPValue,
  buildLeakIndex,
  membershipAttack,
  membershipCheck,
  reviewOutputs,
  rocAuc,
  tprAtFpr,
  type GateCheck,
  type GateReport,
  type LeakIndex,
} from '../../src/lib/gate/index.ts';
import type { SandboxTable } from '../../src/lib/sandbox/index.ts';
import { DEFAULT_POLICY } from '../../src/lib/runs/index.ts';
import { diabetesTable, npy, safetensors } from './fixtures/gate-data.ts';
import { knn, lookup, NUMERIC, rng, sample, trainLogistic, values } from './fixtures/models.ts';

let table: SandboxTable;
let tables: SandboxTable[];
let index: LeakIndex;
const log = (...a: unknown[]) => process.env.GATE_TABLE && console.log(...a);
const enc = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  table = await diabetesTable();
  tables = [table];
  index = buildLeakIndex(tables);
});

function review(files: Record<string, string | Uint8Array>): GateReport {
  return reviewOutputs(
    Object.entries(files).map(([path, b]) => ({ path, bytes: typeof b === 'string' ? enc(b) : b })),
    index,
    { maxOutputBytes: 1 << 30, disclosure: { ...DEFAULT_POLICY, tables } },
  );
}
const check = (r: GateReport, id: string, file?: string): GateCheck => {
  const c = r.checks.find((x) => x.id === id && (file === undefined || x.file === file));
  if (!c) throw new Error(`no ${id} check for ${file}`);
  return c;
};

/** How many of `rows` each lookup key covers. */
function lookupSizes(rows: number[], keys: string[]): Map<string, number> {
  const cols = keys.map((k) => values(table, k));
  const m = new Map<string, number>();
  for (const i of rows) {
    const k = cols.map((c) => String(c[i])).join('|');
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe('training rows inside a model', () => {
  test('k-NN that stores 2,000 training rows fails, in every form it is saved', () => {
    const rows = sample(table.rowCount, 2000, 7);
    const m = knn(table, rows);
    const flat = m.X.flat();
    const forms: Record<string, string | Uint8Array> = {
      'knn.json': JSON.stringify(m),
      'knn.npy': npy(flat, '<f8', [m.X.length, m.features.length]),
      'knn32.npy': npy(flat, '<f4', [m.X.length, m.features.length]),
      'knn.csv': [m.features.join(','), ...m.X.map((x) => x.join(','))].join('\n'),
      'knn-columns.json': JSON.stringify(Object.fromEntries(m.features.map((f, j) => [f, m.X.map((x) => x[j])]))),
      'knn.safetensors': safetensors({ X: { dtype: 'F64', values: flat, shape: [m.X.length, m.features.length] } }),
    };
    for (const [file, bytes] of Object.entries(forms)) {
      const r = review({ [file]: bytes });
      const c = check(r, 'rows', file);
      log(`${file}: ${c.measured}`);
      expect(c.verdict, `${file}: ${c.measured}`).toBe('failed');
      // Nearly every stored row is found, and most of them point at fewer than 10 people.
      expect(Number(c.figures!.rows), file).toBeGreaterThan(1900);
      expect(Number(c.figures!.identifying), file).toBeGreaterThan(1000);
      expect(c.measured).toContain('num_lab_procedures');
      expect(r.pass).toBe(false);
    }
  });

  test('a lookup keyed by training rows fails; a lookup by coarse groups passes', () => {
    const rows = sample(table.rowCount, 5000, 11);
    const byRow = lookup(table, rows, ['race', 'gender', 'age', ...NUMERIC]);
    const r1 = review({ 'lookup.json': JSON.stringify(byRow) });
    const c1 = check(r1, 'rows');
    log('lookup by rows:', c1.measured);
    expect(c1.verdict).toBe('failed');
    // Groups of four categories, each of at least 10 people (as a careful notebook keeps them).
    const keys = ['race', 'gender', 'age', 'A1Cresult'];
    const sizes = lookupSizes(rows, keys);
    const byGroup = Object.fromEntries(Object.entries(lookup(table, rows, keys)).filter(([k]) => sizes.get(k)! >= 10));
    expect(Object.keys(byGroup).length).toBeGreaterThan(50);
    const r2 = review({ 'lookup.json': JSON.stringify(byGroup) });
    const c2 = check(r2, 'rows');
    log('lookup by groups:', c2.measured);
    expect(c2.verdict).toBe('passed');
  });

  test('a logistic regression of the real data passes, as JSON (with its category names), .npy and safetensors', () => {
    const lr = trainLogistic(table, sample(table.rowCount, 20_000, 3));
    // The levels of each categorical column, as scikit-learn's OneHotEncoder keeps them (categories_).
    const categories = Object.fromEntries(
      ['race', 'gender', 'age', 'A1Cresult', 'max_glu_serum', 'admission_type_id', 'medical_specialty', 'diag_1'].map(
        (c) => [c, [...new Set(values(table, c))].filter((v) => v !== null).sort()],
      ),
    );
    const r = review({
      'model.json': JSON.stringify({
        ...lr,
        categories,
        metrics: { auc: 0.66, rows: 101766 },
        classes: ['NO', 'YES'],
      }),
      'coef.npy': npy(lr.weights, '<f8', [1, lr.weights.length]),
      'model.safetensors': safetensors({ coef: { dtype: 'F32', values: lr.weights } }),
    });
    for (const c of r.checks.filter((x) => x.id === 'rows'))
      expect(c.verdict, `${c.file}: ${c.measured}`).toBe('passed');
    const p = check(r, 'params');
    expect(p.verdict).toBe('passed');
    expect(Number(p.figures!.perRow)).toBeLessThan(0.01);
    expect(r.pass).toBe(true);
  });

  test('measured: random weights and random vectors of the data’s own values', () => {
    // 200 weight files (normal, σ 0.05 and 1, float32 and float64, 2-D) and 20,000 records of 4–8
    // values drawn independently from the columns' own distributions: how many are "rows" by chance.
    let weightFiles = 0;
    let weightBlocked = 0;
    for (let k = 0; k < 200; k++) {
      const r = rng(k + 1);
      const w = Array.from({ length: 64 * 16 }, () => (r() - 0.5) * (k % 2 ? 0.1 : 2));
      const out = review({ 'w.npy': npy(w, k % 4 < 2 ? '<f4' : '<f8', [64, 16]) });
      weightFiles++;
      if (check(out, 'rows').verdict === 'failed') weightBlocked++;
    }
    const cols = NUMERIC.map((c) => values(table, c) as number[]);
    const r = rng(99);
    const records: number[][] = [];
    for (let k = 0; k < 20_000; k++) {
      const width = 4 + (k % 5);
      records.push(cols.slice(0, width).map((c) => c[Math.floor(r() * c.length)]!));
    }
    const chance = review({ 'vectors.json': JSON.stringify(records) });
    const c = check(chance, 'rows');
    log(`random weights: ${weightBlocked} of ${weightFiles} files fail the row check`);
    log(`random vectors from the marginals: ${c.measured}`);
    expect(weightBlocked).toBe(0);
    // Such vectors match some row as often when shuffled: chance, not stored rows.
    expect(c.verdict).toBe('passed');
  });
});

describe('size against the data', () => {
  test('more numbers than training rows fails; the count is of the numbers in the files', () => {
    const big = new Float32Array(2 * table.rowCount + 10).map((_, i) => Math.sin(i) * 0.01);
    const r = review({ 'big.npy': npy(big, '<f4', [big.length]) });
    const p = check(r, 'params');
    expect(p.verdict).toBe('failed');
    expect(p.figures).toMatchObject({ numbers: big.length, trainingRows: table.rowCount });
    const text = review({ 'w.json': JSON.stringify({ w: [0.5, -1.25, 3e-4], b: 2, layers: [16, 8] }) });
    expect(check(text, 'params').figures!.numbers).toBe(6);
  });
});

describe('the membership attack’s measures', () => {
  test('AUC by ranks matches counting pairs; ties count half', () => {
    const r = rng(5);
    const s = Array.from({ length: 300 }, () => Math.round(r() * 20) / 20);
    const pos = s.map(() => r() < 0.4);
    let wins = 0;
    let pairs = 0;
    s.forEach((a, i) =>
      s.forEach((b, j) => {
        if (pos[i] && !pos[j]) {
          pairs++;
          wins += a > b ? 1 : a === b ? 0.5 : 0;
        }
      }),
    );
    expect(rocAuc(s, pos)).toBeCloseTo(wins / pairs, 10);
  });

  test('TPR at 1% FPR; the p-value of chance', () => {
    // 100 positives, half of them above every negative but one; 100 negatives.
    const score = [
      ...Array.from({ length: 50 }, (_, i) => 1000 + i),
      ...Array.from({ length: 50 }, (_, i) => i),
      1100,
      ...Array.from({ length: 99 }, (_, i) => 500 + i),
    ];
    const pos = score.map((_, i) => i < 100);
    expect(tprAtFpr(score, pos, 0.01)).toBe(0.5); // one false positive of 100 allowed
    expect(tprAtFpr(score, pos, 0.001)).toBe(0);
    expect(aucPValue(0.5, 1000, 1000)).toBeCloseTo(0.5, 3);
    expect(aucPValue(0.6, 1000, 1000)).toBeLessThan(1e-6);
    expect(aucPValue(0.6, 10, 10)).toBeGreaterThan(0.05);
  });

  test('a model that memorised fails; one that answers members and others alike passes', () => {
    const r = rng(17);
    const n = 1000;
    const labels = Array.from({ length: 2 * n }, () => (r() < 0.45 ? 1 : 0)) as Array<0 | 1>;
    const member = labels.map((_, i) => i < n);
    // Memorised: members get their own label back; others get the base rate.
    const memo = labels.map((y, i) => (member[i] ? (y ? 0.97 : 0.03) : 0.45));
    const m = membershipAttack({ scores: memo, labels, member });
    expect(m.auc).toBeGreaterThan(0.9);
    expect(m.tprAt1Fpr).toBeGreaterThan(0.4);
    expect(membershipCheck({ result: m, ms: 1 }, 0.6).verdict).toBe('failed');
    // Generalising: the same noisy signal for everyone.
    const fair = labels.map((y) => Math.min(0.99, Math.max(0.01, 0.45 + (y ? 0.1 : -0.1) + (r() - 0.5) * 0.4)));
    const f = membershipAttack({ scores: fair, labels, member });
    log('memorised:', m, 'generalising:', f);
    expect(Math.abs(f.auc - 0.5)).toBeLessThan(0.05);
    expect(membershipCheck({ result: f, ms: 1 }, 0.6).verdict).toBe('passed');
    expect(membershipCheck({ error: 'ValueError: boom' }, 0.6).verdict).toBe('failed');
    expect(membershipCheck({ notApplicable: 'no entry point' }, 0.6).verdict).toBe('not-applicable');
  });
});
