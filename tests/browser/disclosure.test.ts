/**
 * The disclosure checks end to end, on the real diabetes data, through `airlock run` (the built app
 * in Chromium) and `window.airlock`:
 * - a table of counts by age × race × gender × readmission is blocked by the small-cell check, and
 *   passes once suppressed and rounded as the report says; the receipt records every check, the
 *   policy and the holdout, and `verify-receipt` prints them;
 * - a regularised logistic regression, trained in the sandbox on every row it has, passes every
 *   check, the membership audit included;
 * - a memorising model (a lookup of training rows) fails the membership audit;
 * - a nearest-neighbour model that stores rows fails the row check;
 * - the rows held back never reach the notebook, by any means it has.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { sealBundle } from '../../src/lib/bundle/index.ts';
import { formatIdentityFile, generateOwnerKey, generateSshKey, type OwnerKey } from '../../src/lib/crypto/index.ts';
import { verifyReceipt } from '../../src/lib/receipt/index.ts';
import { heldRows } from '../../src/lib/runs/holdout.ts';
import { diabetesCsv, diabetesCsvPath } from '../unit/fixtures/data.ts';
import { makeWheel, notebookJson } from './fixtures.ts';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';

const BIN = resolve(import.meta.dirname, '../../bin/airlock.mjs');
let dir: string;
let csv: string;
let owner: OwnerKey;
const expert = generateSshKey('expert');
const ownerSign = generateSshKey('owner');

function airlock(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** The expert's package: a logistic regression, a lookup and k-NN, each with a scoring function. */
const MODEL_PY = String.raw`
import json, math, os

NUMERIC = ["time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
           "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses"]
POSITIVE = "<30"


def labels(t):
    return [1 if v == POSITIVE else 0 for v in t.column("readmitted")]


def fit_logistic(t, epochs=2, rate=0.02, l2=1e-3):
    """Stochastic gradient descent with an L2 penalty on the standardised counts: every row, twice."""
    cols = [t.column(n) for n in NUMERIC]
    y = labels(t)
    n = len(y)
    means = [sum(c) / n for c in cols]
    sds = [math.sqrt(sum((v - m) ** 2 for v in c) / n) or 1.0 for c, m in zip(cols, means)]
    X = list(zip(*[[(v - m) / s for v in c] for c, m, s in zip(cols, means, sds)]))
    w = [0.0] * len(cols)
    b = 0.0
    for _ in range(epochs):
        for x, yi in zip(X, y):
            z = b + sum(wj * xj for wj, xj in zip(w, x))
            e = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - yi
            w = [wj - rate * (e * xj + l2 * wj) for wj, xj in zip(w, x)]
            b -= rate * e
    return {"kind": "logistic", "features": NUMERIC, "means": means, "sds": sds, "weights": w, "intercept": b}


def predict_logistic(table, model_dir):
    m = json.load(open(os.path.join(model_dir, "model.json")))
    cols = [table.column(n) for n in m["features"]]
    out = []
    for i in range(len(table)):
        z = m["intercept"] + sum(w * (c[i] - mu) / s for w, c, mu, s in zip(m["weights"], cols, m["means"], m["sds"]))
        out.append(1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))
    return out


LOOKUP_KEYS = NUMERIC + ["race", "gender", "age", "diag_1"]


def fit_lookup(t):
    """A "model" that memorises: the label's rate for every combination of twelve columns."""
    cols = [t.column(k) for k in LOOKUP_KEYS]
    y = labels(t)
    seen = {}
    for i, yi in enumerate(y):
        s = seen.setdefault("|".join(str(c[i]) for c in cols), [0, 0])
        s[0] += yi
        s[1] += 1
    return {"kind": "lookup", "base": sum(y) / len(y), "rate": {k: s[0] / s[1] for k, s in seen.items()}}


def predict_lookup(table, model_dir):
    m = json.load(open(os.path.join(model_dir, "model.json")))
    cols = [table.column(k) for k in LOOKUP_KEYS]
    return [m["rate"].get("|".join(str(c[i]) for c in cols), m["base"]) for i in range(len(table))]


def fit_knn(t, rows=1000):
    """k-nearest neighbours keeps its training rows: the first 1000 here."""
    cols = [t.column(n) for n in NUMERIC]
    y = labels(t)
    return {"kind": "knn", "features": NUMERIC, "X": [[c[i] for c in cols] for i in range(rows)], "y": y[:rows]}
`;
const WHEEL = makeWheel('readmit', '1.0', { 'readmit/__init__.py': '', 'readmit/model.py': MODEL_PY });

const TRAIN = (fit: string) =>
  `import airlock, json\nfrom readmit import model\nt = airlock.table("ehr")\nprint(len(t), "rows,", t.held_out, "held back")\njson.dump(model.${fit}(t), open(airlock.OUTPUT_DIR + "/model.json", "w"))`;

const COUNTS = (shown: string) => `import airlock, collections, csv
t = airlock.table("ehr")
keys = ["age", "race", "gender", "readmitted"]
counts = collections.Counter(zip(*[t.column(k) for k in keys]))
with open(airlock.OUTPUT_DIR + "/counts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(keys + ["count"])
    for k, n in sorted(counts.items(), key=str):
        w.writerow(list(k) + [${shown}])`;

async function bundle(
  file: string,
  cells: string[],
  opts: {
    outputs?: string[];
    aggregates?: string[];
    inference?: { module: string; function: string };
    recipient?: string;
  } = {},
) {
  const { stream } = await sealBundle({
    recipient: opts.recipient ?? owner.recipient,
    signer: expert.key,
    name: 'readmission',
    version: '1.0',
    notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode(notebookJson(cells)) },
    wheels: [WHEEL],
    outputs: opts.outputs ?? ['model.json'],
    tables: ['ehr'],
    ...(opts.aggregates ? { aggregates: opts.aggregates } : {}),
    ...(opts.inference ? { inference: opts.inference, label: { column: 'readmitted', positive: '<30' } } : {}),
  });
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  writeFileSync(join(dir, file), bytes);
  return file;
}

const run = (b: string, out: string, extra: string[] = []) =>
  airlock([
    'run',
    '-i',
    'owner.key',
    '--bundle',
    b,
    '--table',
    `ehr=${csv}`,
    '-o',
    out,
    '--expert',
    'expert.pub',
    ...extra,
  ]);

interface Check {
  id: string;
  file?: string;
  verdict: string;
  measured?: string;
  threshold?: string;
  reason: string;
  suggestion?: string;
  figures?: Record<string, number | string | boolean>;
}
const find = (checks: Check[], id: string, file?: string) => {
  const c = checks.find((x) => x.id === id && (file === undefined || x.file === file));
  if (!c) throw new Error(`no ${id} check: ${checks.map((x) => x.id).join(', ')}`);
  return c;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-disclosure-'));
  csv = diabetesCsvPath();
  owner = await generateOwnerKey();
  writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner));
  writeFileSync(join(dir, 'expert.pub'), expert.publicKey);
  writeFileSync(join(dir, 'owner_sign'), ownerSign.privateKey, { mode: 0o600 });
});

describe('tables of results', () => {
  test('counts by age × race × gender × readmission are blocked, with the cells to suppress; suppressed and rounded, they pass and the receipt records every check', async () => {
    const raw = await bundle('counts.airlock', [COUNTS('n')], { outputs: ['counts.csv'], aggregates: ['counts.csv'] });
    const blocked = await run(raw, 'out-counts', ['--approve', '--sign', 'owner_sign']);
    expect(blocked.code, blocked.stdout + blocked.stderr).toBe(5);
    expect(blocked.stdout).toContain('gate: blocked');
    expect(blocked.stdout).toMatch(
      /FAILED\s+counts\.csv {2}Small cells: \d+ of \d+ cells describe fewer than 10 people/,
    );
    expect(blocked.stdout).toContain('do:  suppress the cells under 10');
    expect(blocked.stdout).toContain('Cells to suppress: age=');

    // --json, with the threshold from a policy file.
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ minCellCount: 5 }));
    const j = await run(raw, 'out-counts', ['--json', '--policy', 'policy.json']);
    expect(j.code).toBe(5);
    const out = JSON.parse(j.stdout);
    const small = find(out.gate.checks, 'small-cells', 'counts.csv');
    expect(small).toMatchObject({
      verdict: 'failed',
      threshold: 'at least 5 people behind every number (a zero count too)',
    });
    expect(small.figures).toMatchObject({ threshold: 5, keys: 'age × race × gender × readmitted' });
    expect(Number(small.figures!.small)).toBeGreaterThan(10);
    expect(out.policy).toMatchObject({ minCellCount: 5, holdout: 0.05 });
    expect(find(out.gate.checks, 'membership').verdict).toBe('not-applicable');

    const fixed = await bundle('counts-safe.airlock', [COUNTS('"" if n < 10 else 5 * round(n / 5)')], {
      outputs: ['counts.csv'],
      aggregates: ['counts.csv'],
    });
    const ok = await run(fixed, 'out-counts-safe', ['--approve', '--sign', 'owner_sign']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/passed\s+counts\.csv {2}Small cells/);
    const receipt = verifyReceipt(
      readFileSync(join(dir, 'out-counts-safe/receipt.json')),
      readFileSync(join(dir, 'out-counts-safe/receipt.json.sig'), 'utf8'),
      { owner: ownerSign.publicKey },
    );
    expect(receipt.policy).toMatchObject({ minCellCount: 10, dominance: 0.9, pRatio: 0.1, maxMembershipAuc: 0.6 });
    expect(receipt.gate.checks!.find((c) => c.id === 'small-cells')).toMatchObject({
      verdict: 'passed',
      file: 'counts.csv',
    });
    expect(receipt.gate.checks!.find((c) => c.id === 'small-cells')!.figures).toMatchObject({ small: 0 });
    const v = await airlock(['verify-receipt', 'out-counts-safe/receipt.json', '--owner', 'expert.pub']);
    expect(v.code).toBe(1); // not the owner the expert expects: a positive control for the next line
    writeFileSync(join(dir, 'owner.pub'), ownerSign.publicKey);
    const v2 = await airlock(['verify-receipt', 'out-counts-safe/receipt.json', '--owner', 'owner.pub']);
    expect(v2.code, v2.stderr).toBe(0);
    expect(v2.stdout).toMatch(
      /check {5}passed\s+counts\.csv {2}Small cells: \d+ numbers by age × race × gender × readmitted/,
    );
    expect(v2.stdout).toContain('minCellCount 10');
  });
});

describe('models', () => {
  test('a regularised logistic regression trained on every row passes every check, the membership audit included', async () => {
    const b = await bundle('logistic.airlock', [TRAIN('fit_logistic')], {
      inference: { module: 'readmit.model', function: 'predict_logistic' },
    });
    const r = await run(b, 'out-logistic', ['--approve', '--sign', 'owner_sign', '--json']);
    const out = JSON.parse(r.stdout);
    const failed = (out.gate?.checks ?? []).filter((c: Check) => c.verdict === 'failed');
    expect(r.code, JSON.stringify(failed) + r.stderr).toBe(0);
    const m = find(out.gate.checks, 'membership');
    expect(m.verdict).toBe('passed');
    expect(Math.abs(Number(m.figures!.auc) - 0.5)).toBeLessThan(0.06);
    expect(m.figures).toMatchObject({ heldOut: 1000, members: 1000 });
    expect(Number(m.figures!.labelAucHeldOut)).toBeGreaterThan(0.55); // a real model, not a constant
    expect(find(out.gate.checks, 'rows', 'model.json').verdict).toBe('passed');
    expect(find(out.gate.checks, 'params').verdict).toBe('passed');
    // 5% of 101,766 rows were held back; the notebook had the rest.
    expect(out.holdout.tables).toEqual([{ as: 'ehr', rows: 101_766, heldOut: 5088 }]);
    expect(out.logs.map((l: { text: string }) => l.text).join('')).toContain('96678 rows, 5088 held back');
    const receipt = JSON.parse(readFileSync(join(dir, 'out-logistic/receipt.json'), 'utf8'));
    expect(receipt.holdout.seed).toMatch(/^[0-9a-f]{32}$/);
    expect(receipt.gate.checks.find((c: Check) => c.id === 'membership').figures.auc).toBe(m.figures!.auc);
    const v = await airlock(['verify-receipt', 'out-logistic/receipt.json']);
    expect(v.stdout).toContain('held out  5088 of 101766 rows of ehr for the membership audit');
    expect(v.stdout).toMatch(/check {5}passed\s+Membership inference: AUC 0\.\d+/);
  });

  test('a memorising model (a lookup of training rows) fails the membership audit', async () => {
    const b = await bundle('lookup.airlock', [TRAIN('fit_lookup')], {
      inference: { module: 'readmit.model', function: 'predict_lookup' },
    });
    const r = await run(b, 'out-lookup', ['--json']);
    expect(r.code, r.stderr).toBe(5);
    const m = find(JSON.parse(r.stdout).gate.checks, 'membership');
    expect(m.verdict).toBe('failed');
    expect(Number(m.figures!.auc)).toBeGreaterThan(0.9);
    expect(Number(m.figures!.tprAt1Fpr)).toBeGreaterThan(0.3);
    expect(m.reason).toContain('memorised');
  });

  test('a nearest-neighbour model that stores rows fails the row check', async () => {
    const b = await bundle('knn.airlock', [TRAIN('fit_knn')]);
    const r = await run(b, 'out-knn');
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stdout).toMatch(
      /FAILED\s+model\.json {2}Training rows inside: [\d,]+ of [\d,]+ records are training rows' values/,
    );
    expect(r.stdout).toMatch(/n\/a\s+Membership inference: not measured/);
  });
});

describe('the rows held back', () => {
  let browser: Browser;
  let server: StaticServer;
  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startStaticServer();
    server.routes.set(new URL('__data/ehr.csv', server.appUrl).pathname, {
      type: 'text/csv',
      body: Buffer.from(diabetesCsv()),
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('never reach the notebook: not in the table, its columns, the host’s buffers or a category list; the seed draws them again', async () => {
    const { page } = await openApp(browser, server);
    const room = await page.evaluate(async () => {
      const x = (window as any).airlock;
      const { room } = await x.rooms.create({ name: 'audit', passphrase: 'a long passphrase', workFactor: 10 });
      const bytes = new Uint8Array(await (await fetch('__data/ehr.csv')).arrayBuffer());
      await x.data.load({ name: 'ehr.csv', bytes }, { name: 'ehr', grantTo: room.id });
      return room;
    });
    // Everything the notebook can reach: the table, every column through the module and straight from
    // the host (the typed arrays' lengths, the text columns' category lists).
    const probe = `import airlock, json, _airlock_host
t = airlock.table("ehr")
ids = list(t.column("encounter_id"))
raw = _airlock_host.column("ehr", "encounter_id")
cats = {}
for name in ["diag_1", "diag_2", "diag_3", "medical_specialty", "payer_code"]:
    codes, categories = t.categorical(name)
    cats[name] = sorted(set(categories) | set(_airlock_host.column("ehr", name).dictionary.to_py()))
lengths = {c: int(_airlock_host.column("ehr", c).values.length) for c in t.columns}
json.dump({"n": len(t), "held": t.held_out, "ids": ids, "raw": list(raw.values.to_py()), "cats": cats, "lengths": lengths},
          open(airlock.OUTPUT_DIR + "/model.json", "w"))`;
    const { stream } = await sealBundle({
      recipient: room.recipient,
      signer: expert.key,
      name: 'probe',
      version: '1.0',
      notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode(notebookJson([probe])) },
      wheels: [WHEEL],
      outputs: ['model.json'],
      tables: ['ehr'],
      inference: { module: 'readmit.model', function: 'predict_logistic' },
      label: { column: 'readmitted', positive: '<30' },
    });
    const sealed = [...new Uint8Array(await new Response(stream).arrayBuffer())];
    const r = await page.evaluate(
      async ({ room, sealed }) => {
        const res = await (window as any).airlock.runSealed({
          room,
          bundle: new Uint8Array(sealed),
          mapping: { ehr: 'ehr' },
        });
        const out = res.report.outputs.find((o: any) => o.path === 'model.json');
        return {
          status: res.report.status,
          message: res.report.message,
          holdout: res.receipt.holdout,
          text: new TextDecoder().decode(out.bytes),
        };
      },
      { room: room.id, sealed },
    );
    expect(r.status, r.message).toBe('ok');
    const seen = JSON.parse(r.text) as {
      n: number;
      held: number;
      ids: number[];
      raw: number[];
      cats: Record<string, string[]>;
      lengths: Record<string, number>;
    };
    // The rows held back, drawn again from the seed in the receipt and the table alone.
    const held = heldRows(r.holdout.seed, 'ehr', 101_766, 0.05);
    expect(held.length).toBe(5088);
    expect(seen).toMatchObject({ n: 101_766 - 5088, held: 5088 });
    expect(Object.values(seen.lengths).every((l) => l === seen.n)).toBe(true);
    const text = new TextDecoder().decode(diabetesCsv());
    const lines = text.split('\n').filter(Boolean).slice(1);
    const header = text.slice(0, text.indexOf('\n')).split(',');
    const cell = (row: number, name: string) => lines[row]!.split(',')[header.indexOf(name)]!;
    const heldIds = new Set([...held].map((row) => Number(cell(row, 'encounter_id'))));
    const seenIds = new Set(seen.ids);
    // Positive control: the notebook saw every other row, so the check below can fail.
    expect(seenIds.size).toBe(seen.n);
    expect(new Set(seen.raw).size).toBe(seen.n);
    expect([...heldIds].filter((id) => seenIds.has(id) || seen.raw.includes(id))).toEqual([]);
    expect(seenIds.size + heldIds.size).toBe(101_766);
    // Categories that only held rows have are in no list the notebook can read.
    let onlyHeld = 0;
    for (const name of Object.keys(seen.cats)) {
      const counts = new Map<string, number>();
      const inHeld = new Set([...held].map((row) => cell(row, name)));
      for (let row = 0; row < lines.length; row++) counts.set(cell(row, name), (counts.get(cell(row, name)) ?? 0) + 1);
      for (const v of inHeld) {
        const elsewhere = (counts.get(v) ?? 0) - [...held].filter((row) => cell(row, name) === v).length;
        if (elsewhere === 0 && v !== '?') {
          onlyHeld++;
          expect(seen.cats[name], `${name}=${v}`).not.toContain(v);
        }
      }
    }
    expect(onlyHeld).toBeGreaterThan(0); // the data has such categories, so the check above means something
  });
});
