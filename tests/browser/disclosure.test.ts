/**
 * The disclosure checks end to end, on the real diabetes data (101,766 rows), both ways. Lean by
 * design (the suite's time is counted): one browser, one page, the table loaded once, two runs
 * through `window.airlock.runSealed` (as `airlock run` drives it) and one `airlock run` beside them.
 *
 * - **Legitimate**: a regularised logistic regression trained in the sandbox on every row it has
 *   (JSON, its category names, its weights as a float32 .npy), and the counts by age × race × gender × readmission suppressed and rounded as the report says,
 *   pass every check, the membership audit included; the receipt records every check, the policy
 *   and the holdout, and `verify-receipt` prints them.
 * - **Leaky**, in one bundle: the same counts as computed fail the small-cell check; a memorising
 *   model (a lookup of training rows, the bundle's entry point) fails the membership audit; a
 *   nearest-neighbour model that stores rows fails the row check; an override sets them aside for
 *   one export, with its reason in the receipt and the audit log. A probe in the same notebook shows
 *   that the rows held back never reach it, by any means it has.
 * - `airlock run --json --policy` blocks the raw counts with exit 5 and lists every check.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { formatIdentityFile, generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
import { verifyReceipt } from '../../src/lib/receipt/index.ts';
import { heldRows } from '../../src/lib/runs/holdout.ts';
import { diabetesCsv, diabetesCsvPath } from '../unit/fixtures/data.ts';
import { COUNTS, LOGISTIC_EXTRAS, SAFE, TRAIN, sealCells } from './disclosure-models.ts';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';

const BIN = resolve(import.meta.dirname, '../../bin/airlock.mjs');
const expert = generateSshKey('expert');
let dir: string;
let browser: Browser;
let server: StaticServer;
let page: Page;
let room: { id: string; recipient: string };
/** `airlock run` on the raw counts, started in beforeAll and run beside the page's runs. */
let cli: Promise<{ code: number; stdout: string; stderr: string }>;

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
/** `GATE_TABLE=1` prints what each check measured and what each run cost (docs/DISCLOSURE.md). */
const log = (...a: unknown[]) => process.env.GATE_TABLE && console.log(...a);
const find = (checks: Check[], id: string, file?: string) => {
  const c = checks.find((x) => x.id === id && (file === undefined || x.file === file));
  if (!c) throw new Error(`no ${id} check${file ? ` for ${file}` : ''}: ${checks.map((x) => x.id).join(', ')}`);
  return c;
};

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

const AUDITED = { label: { column: 'readmitted', positive: '<30' } };

function seal(
  recipient: string,
  cells: string[],
  outputs: string[],
  extra: { aggregates?: string[]; inference?: { module: string; function: string } } = {},
): Promise<Uint8Array> {
  return sealCells(recipient, expert.key, cells, outputs, { ...extra, ...(extra.inference ? AUDITED : {}) });
}

/** One run in the page's room: the gate's checks, the receipt's policy and holdout, and the outputs. */
async function runInPage(bundle: Uint8Array, exportOptions?: { override: { reason: string } }) {
  return page.evaluate(
    async ({ room, bundle, exportOptions }) => {
      const x = (window as any).airlock;
      const t0 = performance.now();
      const res = await x.runSealed({ room, bundle: new Uint8Array(bundle), mapping: { ehr: 'ehr' } });
      const wallMs = performance.now() - t0;
      if (res.refused) throw new Error(res.refused);
      let exported: { receipt: number[]; signature: string } | string;
      try {
        const e = await x.exportLast(exportOptions);
        exported = { receipt: [...e.receiptBytes], signature: e.signature };
      } catch (e) {
        exported = `${(e as { code?: string }).code}: ${(e as Error).message}`;
      }
      return {
        ms: {
          wall: Math.round(wallMs),
          notebook: Math.round(res.report.totalMs),
          disclosure: Math.round(res.gate.review.disclosureMs ?? 0),
          audit: res.gate.checks.find((c: Check) => c.id === 'membership')?.figures?.ms,
        },
        status: res.report.status as string,
        message: res.report.message as string,
        logs: res.report.logs.map((l: { text: string }) => l.text).join(''),
        pass: res.gate.pass as boolean,
        checks: res.gate.checks as Check[],
        holdout: res.receipt.holdout,
        outputs: Object.fromEntries(
          res.report.outputs.map((o: { path: string; bytes: Uint8Array }) => [
            o.path,
            o.path === 'seen.json' ? new TextDecoder().decode(o.bytes) : o.bytes.length,
          ]),
        ),
        exported,
        audit: (await x.audit.read(room)).filter((a: { action: string }) => a.action === 'gate.overridden'),
      };
    },
    { room: room.id, bundle: [...bundle], exportOptions },
  );
}

test("the audit's sandbox starts beside the notebook's and ends with the run, whatever the notebook does", async () => {
  // A notebook that fails after a while: the audit's sandbox is up by then (the positive control),
  // waiting for a model that never comes; the run must not wait for it, nor leave it behind.
  const b = await seal(
    room.recipient,
    ['import time\ntime.sleep(2)', 'raise ValueError("no model today")'],
    ['model.json'],
    {
      inference: { module: 'readmit.model', function: 'predict_logistic' },
    },
  );
  const r = await page.evaluate(
    async ({ room, bundle }) => {
      const x = (window as any).airlock;
      let most = 0;
      const watch = setInterval(() => (most = Math.max(most, document.querySelectorAll('iframe').length)), 25);
      const t0 = performance.now();
      const res = await x.runSealed({ room, bundle: new Uint8Array(bundle), mapping: { ehr: 'ehr' } });
      const ms = performance.now() - t0;
      clearInterval(watch);
      return {
        status: res.report.status,
        message: res.report.message,
        gate: res.gate,
        most,
        after: document.querySelectorAll('iframe').length,
        ms,
      };
    },
    { room: room.id, bundle: [...b] },
  );
  expect(r.status).toBe('failed');
  expect(r.message).toContain('no model today');
  expect(r.gate).toBeNull();
  expect(r.most).toBe(2);
  expect(r.after).toBe(0);
  expect(r.ms).toBeLessThan(60_000);
}, 120_000);

/** Everything the notebook can reach of the table: through the module, and straight from the host. */
const PROBE = `import airlock, json, _airlock_host
t = airlock.table("ehr")
ids = list(t.column("encounter_id"))
raw = _airlock_host.column("ehr", "encounter_id")
cats = {}
for name in ["diag_1", "diag_2", "diag_3", "medical_specialty", "payer_code"]:
    codes, categories = t.categorical(name)
    cats[name] = sorted(set(categories) | set(_airlock_host.column("ehr", name).dictionary.to_py()))
lengths = {c: int(_airlock_host.column("ehr", c).values.length) for c in t.columns}
json.dump({"n": len(t), "held": t.held_out, "ids": ids, "raw": list(raw.values.to_py()), "cats": cats, "lengths": lengths},
          open(airlock.OUTPUT_DIR + "/seen.json", "w"))`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-disclosure-'));
  const owner = await generateOwnerKey();
  writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner));
  writeFileSync(join(dir, 'expert.pub'), expert.publicKey);
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ minCellCount: 5 }));
  writeFileSync(
    join(dir, 'counts.airlock'),
    await seal(owner.recipient, [COUNTS('n')], ['counts.csv'], {
      aggregates: ['counts.csv'],
    }),
  );
  cli = airlock([
    'run',
    '-i',
    'owner.key',
    '--bundle',
    'counts.airlock',
    '--table',
    `ehr=${diabetesCsvPath()}`,
    '-o',
    'out',
    '--expert',
    'expert.pub',
    '--json',
    '--policy',
    'policy.json',
  ]);
  browser = await launchBrowser();
  server = await startStaticServer();
  server.routes.set(new URL('__data/ehr.csv', server.appUrl).pathname, {
    type: 'text/csv',
    body: Buffer.from(diabetesCsv()),
  });
  ({ page } = await openApp(browser, server));
  room = await page.evaluate(async () => {
    const x = (window as any).airlock;
    // The warm-start snapshot, made while the table loads: the two runs and their audits start from it.
    const warm = x.prewarm();
    const { room } = await x.rooms.create({ name: 'audit', passphrase: 'a long passphrase', workFactor: 10 });
    const bytes = new Uint8Array(await (await fetch('__data/ehr.csv')).arrayBuffer());
    await x.data.load({ name: 'ehr.csv', bytes }, { name: 'ehr', grantTo: room.id });
    await warm;
    return room;
  });
}, 120_000);

afterAll(async () => {
  await cli?.catch(() => {});
  await browser?.close();
  await server?.close();
});

test('legitimate: a logistic regression and suppressed, rounded counts pass every check; the receipt records them', async () => {
  const b = await seal(
    room.recipient,
    [TRAIN('fit_logistic'), LOGISTIC_EXTRAS, COUNTS(SAFE)],
    ['model.json', 'categories.json', 'weights.npy', 'counts.csv'],
    { aggregates: ['counts.csv'], inference: { module: 'readmit.model', function: 'predict_logistic' } },
  );
  const r = await runInPage(b);
  log(
    'legitimate:',
    r.ms,
    r.checks.map((c) => `${c.file ?? ''} ${c.id} ${c.verdict}: ${c.measured}`),
  );
  expect(r.status, r.message).toBe('ok');
  const failed = r.checks.filter((c) => c.verdict === 'failed');
  expect(failed, JSON.stringify(failed)).toEqual([]);
  expect(r.pass).toBe(true);
  // Each check ran on what it should: none passed by not applying.
  const m = find(r.checks, 'membership');
  expect(m.verdict).toBe('passed');
  expect(Math.abs(Number(m.figures!.auc) - 0.5)).toBeLessThan(0.06);
  expect(m.figures).toMatchObject({ heldOut: 1000, members: 1000 });
  expect(Number(m.figures!.labelAucHeldOut)).toBeGreaterThan(0.55); // a real model, not a constant
  for (const f of ['model.json', 'categories.json', 'weights.npy'])
    expect(find(r.checks, 'rows', f).verdict, f).toBe('passed');
  expect(r.outputs['weights.npy']).toBe(128 + 9 * 4); // the float32 array was written, and read
  expect(find(r.checks, 'params').verdict).toBe('passed');
  expect(find(r.checks, 'small-cells', 'counts.csv')).toMatchObject({ verdict: 'passed' });
  expect(find(r.checks, 'small-cells', 'counts.csv').figures).toMatchObject({ small: 0 });
  // 5% of 101,766 rows were held back; the notebook had the rest.
  expect(r.holdout.tables).toEqual([{ as: 'ehr', rows: 101_766, heldOut: 5088 }]);
  expect(r.logs).toContain('96678 rows, 5088 held back');

  if (typeof r.exported === 'string') throw new Error(r.exported);
  const receiptBytes = new Uint8Array(r.exported.receipt);
  const receipt = verifyReceipt(receiptBytes, r.exported.signature);
  expect(receipt.policy).toMatchObject({ minCellCount: 10, dominance: 0.9, pRatio: 0.1, maxMembershipAuc: 0.6 });
  expect(receipt.holdout!.seed).toMatch(/^[0-9a-f]{32}$/);
  expect(receipt.gate.checks!.find((c) => c.id === 'membership')!.figures!.auc).toBe(m.figures!.auc);
  writeFileSync(join(dir, 'receipt.json'), receiptBytes);
  writeFileSync(join(dir, 'receipt.json.sig'), r.exported.signature);
  const v = await airlock(['verify-receipt', 'receipt.json']);
  expect(v.code, v.stderr).toBe(0);
  expect(v.stdout).toContain('held out  5088 of 101766 rows of ehr for the membership audit');
  expect(v.stdout).toMatch(/check {5}passed\s+Membership inference: AUC 0\.\d+/);
  expect(v.stdout).toMatch(
    /check {5}passed\s+counts\.csv {2}Small cells: \d+ numbers by age × race × gender × readmitted/,
  );
  expect(v.stdout).toContain('minCellCount 10');
}, 240_000);

test('leaky: raw counts, a lookup and k-NN are blocked, each by its check; an override is logged; held rows never reach the notebook', async () => {
  const b = await seal(
    room.recipient,
    [COUNTS('n'), TRAIN('fit_lookup'), TRAIN('fit_knn', 'knn.json'), PROBE],
    ['counts.csv', 'model.json', 'knn.json', 'seen.json'],
    { aggregates: ['counts.csv'], inference: { module: 'readmit.model', function: 'predict_lookup' } },
  );
  const r = await runInPage(b, { override: { reason: 'a test of the override' } });
  log(
    'leaky:',
    r.ms,
    r.checks.map((c) => `${c.file ?? ''} ${c.id} ${c.verdict}: ${c.measured}`),
  );
  expect(r.status, r.message).toBe('ok');
  expect(r.pass).toBe(false);

  const small = find(r.checks, 'small-cells', 'counts.csv');
  expect(small.verdict).toBe('failed');
  expect(small.measured).toMatch(/^\d+ of \d+ cells describe fewer than 10 people/);
  expect(small.suggestion).toContain('suppress the cells under 10');
  expect(small.suggestion).toContain('Cells to suppress: age=');

  const m = find(r.checks, 'membership');
  expect(m.verdict).toBe('failed');
  expect(Number(m.figures!.auc)).toBeGreaterThan(0.9);
  expect(Number(m.figures!.tprAt1Fpr)).toBeGreaterThan(0.3);
  expect(m.reason).toContain('memorised');

  const rows = find(r.checks, 'rows', 'knn.json');
  expect(rows.verdict).toBe('failed');
  expect(rows.measured).toMatch(/^[\d,]+ of [\d,]+ records are training rows' values/);
  expect(Number(rows.figures!.rows)).toBeGreaterThan(900); // of the 1,000 it stores

  // The override: this export only, its reason and the checks it set aside in the receipt and the log.
  if (typeof r.exported === 'string') throw new Error(r.exported);
  const receipt = verifyReceipt(new Uint8Array(r.exported.receipt), r.exported.signature);
  expect(receipt.gate).toMatchObject({ pass: false, overridden: true, reason: 'a test of the override' });
  expect(r.audit.at(-1)!.detail).toMatchObject({ reason: 'a test of the override' });
  for (const f of ['counts.csv: small-cells', 'membership', 'knn.json: rows'])
    expect(String(r.audit.at(-1)!.detail.failed)).toContain(f);

  // The rows held back, drawn again from the seed in the receipt and the table alone.
  const seen = JSON.parse(r.outputs['seen.json'] as string) as {
    n: number;
    held: number;
    ids: number[];
    raw: number[];
    cats: Record<string, string[]>;
    lengths: Record<string, number>;
  };
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
  const rawIds = new Set(seen.raw);
  // Positive control: the notebook saw every other row, so the check below can fail.
  expect(seenIds.size).toBe(seen.n);
  expect(rawIds.size).toBe(seen.n);
  expect([...heldIds].filter((id) => seenIds.has(id) || rawIds.has(id))).toEqual([]);
  expect(seenIds.size + heldIds.size).toBe(101_766);
  // Categories that only held rows have are in no list the notebook can read.
  const heldSet = new Set(held);
  let onlyHeld = 0;
  for (const name of Object.keys(seen.cats)) {
    const elsewhere = new Set<string>();
    const inHeld = new Set<string>();
    for (let row = 0; row < lines.length; row++) (heldSet.has(row) ? inHeld : elsewhere).add(cell(row, name));
    for (const v of inHeld)
      if (!elsewhere.has(v) && v !== '?') {
        onlyHeld++;
        expect(seen.cats[name], `${name}=${v}`).not.toContain(v);
      }
  }
  expect(onlyHeld).toBeGreaterThan(0); // the data has such categories, so the check above means something
}, 240_000);

test('airlock run --json --policy: the raw counts blocked (exit 5), every check listed with the policy’s threshold', async () => {
  const j = await cli;
  expect(j.code, j.stderr).toBe(5);
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
  for (const c of out.gate.checks as Check[]) expect(c.reason.length, c.id).toBeGreaterThan(10);
}, 240_000);
