/**
 * The pieces of the disclosure run that need no browser: the policy's new settings, the manifest's
 * label and aggregates, the holdout (reproducible from its seed; the notebook's copy holds nothing of
 * the held rows, not even a category), the audit's label and score readers, the receipt that
 * records every check (and still reads the first receipts), and `airlock seal`'s new flags.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DeclarationError,
  openBundle,
  parseInference,
  parseLabel,
  parseManifest,
  readDeclarations,
  sealBundle,
  serializeManifest,
  type DeclarationsInput,
  type Manifest,
} from '../../src/lib/bundle/index.ts';
import { formatIdentityFile, generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
import { addGateCheck, gateProblems, membershipCheck, type GateReport } from '../../src/lib/gate/index.ts';
import { exportRun, verifyReceipt, type ReceiptBody } from '../../src/lib/receipt/index.ts';
import { labelsOf, parseScores } from '../../src/lib/runs/audit.ts';
import { complement, draw, heldRows, seededRandom, subsetTable } from '../../src/lib/runs/holdout.ts';
import { DEFAULT_POLICY, POLICY_FIELDS, policyProblems } from '../../src/lib/policy/index.ts';
import type { SandboxTable } from '../../src/lib/sandbox/index.ts';

const BIN = resolve(import.meta.dirname, '../../bin/airlock.mjs');

describe('the policy', () => {
  test('every setting has a field, a default inside its range, and a sentence', () => {
    expect(POLICY_FIELDS.map((f) => f.key).sort()).toEqual(Object.keys(DEFAULT_POLICY).sort());
    for (const f of POLICY_FIELDS) {
      expect(DEFAULT_POLICY[f.key]).toBeGreaterThanOrEqual(f.min);
      expect(DEFAULT_POLICY[f.key]).toBeLessThanOrEqual(f.max);
      expect(f.help.length).toBeGreaterThan(40);
    }
    expect(policyProblems(DEFAULT_POLICY)).toEqual([]);
  });

  test('out of range, not whole where it counts people, or unknown: refused with a sentence', () => {
    expect(policyProblems({ holdout: 0.9 })).toEqual([
      'Rows held back for the membership audit must be a number from 0 to 0.5 (share)',
    ]);
    expect(policyProblems({ minCellCount: 2.5 })).toEqual(['Smallest cell must be a whole number']);
    expect(policyProblems({ maxMembershipAuc: 0.4 })[0]).toContain('from 0.5 to 1');
    expect(policyProblems({ minCellcount: 5 } as never)).toEqual(['the policy has no setting "minCellcount"']);
  });
});

describe('the manifest', () => {
  const base = (extra: Partial<Manifest>): Manifest => ({
    format: 'airlock-bundle',
    formatVersion: 2,
    name: 'm',
    version: '1.0',
    created: '2026-12-01T10:00:00Z',
    author: { fingerprint: `SHA256:${'A'.repeat(43)}`, publicKey: 'ssh-ed25519 AAAA' },
    notebook: { path: 'notebook/n.ipynb', sha256: '0'.repeat(64), size: 1 },
    wheels: [],
    outputs: ['model.json', 'counts.csv'],
    tables: [],
    ...extra,
  });
  const parse = (m: Manifest) => parseManifest(serializeManifest(m));

  test('label and aggregates, in format 2', () => {
    const m = parse(base({ label: { column: 'readmitted', positive: '<30' }, aggregates: ['counts.csv'] }));
    expect(m.label).toEqual({ column: 'readmitted', positive: '<30' });
    expect(m.aggregates).toEqual(['counts.csv']);
  });

  test('refused: in format 1, an aggregate that is not a declared output, a label with no column or hidden characters', () => {
    expect(() => parse(base({ formatVersion: 1, label: { column: 'y' } }))).toThrow('unknown field "label"');
    expect(() => parse(base({ aggregates: ['other.csv'] }))).toThrow('not among the declared outputs');
    expect(() => parse(base({ label: { column: '' } }))).toThrow('label needs a column name');
    expect(() => parse(base({ label: { column: 'y\u202e' } }))).toThrow('invisible or control character');
  });

  test('sealed as format 1 unless it uses them, so Airlock 0.2 still opens it', async () => {
    const owner = await generateOwnerKey();
    const seal = async (extra: object) => {
      const { stream, manifest } = await sealBundle({
        recipient: owner.recipient,
        signer: generateSshKey('e').key,
        name: 'm',
        version: '1.0',
        notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"cells":[]}') },
        wheels: [],
        ...extra,
      });
      await new Response(stream).arrayBuffer();
      return manifest;
    };
    expect((await seal({})).formatVersion).toBe(1);
    const m = await seal({
      inference: { module: 'a.b', function: 'f' },
      label: { column: 'readmitted', positive: '<30' },
    });
    expect(m.formatVersion).toBe(2);
    expect(m.label).toEqual({ column: 'readmitted', positive: '<30' });
  });
});

/** A table whose rows are 0…n−1, with a text column that has a category only row 7 holds. */
function table(n: number): SandboxTable {
  const dict = ['common', 'rare-only-in-row-7', 'other'];
  return {
    name: 'ehr',
    rowCount: n,
    columns: [
      { name: 'id', type: 'int', values: Int32Array.from({ length: n }, (_, i) => i) },
      {
        name: 'cat',
        type: 'string',
        values: Int32Array.from({ length: n }, (_, i) => (i === 7 ? 1 : i % 5 === 0 ? -1 : i % 2 ? 2 : 0)),
        dictionary: dict,
      },
      {
        name: 'x',
        type: 'float',
        values: Float64Array.from({ length: n }, (_, i) => i / 2),
        valid: Uint8Array.from({ length: n }, (_, i) => (i % 3 ? 1 : 0)),
      },
    ],
  };
}

describe('the holdout', () => {
  test('the same seed draws the same rows; another seed others; a share under 20 rows holds nothing back', () => {
    const a = heldRows('00ff', 'ehr', 10_000, 0.05);
    expect(a.length).toBe(500);
    expect(heldRows('00ff', 'ehr', 10_000, 0.05)).toEqual(a);
    expect(heldRows('00fe', 'ehr', 10_000, 0.05)).not.toEqual(a);
    expect(new Set(a).size).toBe(500);
    expect(heldRows('00ff', 'ehr', 300, 0.05).length).toBe(0);
    // The generator is uniform enough: the held rows spread over the table.
    const halves = [...a].filter((r) => r < 5000).length;
    expect(halves).toBeGreaterThan(200);
    expect(halves).toBeLessThan(300);
    const r = seededRandom('s', 'p');
    expect(Array.from({ length: 5 }, r)).toEqual(Array.from({ length: 5 }, seededRandom('s', 'p')));
    expect(draw(Int32Array.from([5, 6, 7]), 10, r).length).toBe(3);
  });

  test('the notebook’s copy: the other rows only, in new arrays, categories rebuilt from them', () => {
    const t = table(100);
    const held = Int32Array.from([7, 3, 50]);
    const visible = complement(100, held);
    const copy = subsetTable(t, visible, { heldOut: 3 });
    expect(copy.rowCount).toBe(97);
    expect(copy.heldOut).toBe(3);
    const ids = [...copy.columns[0]!.values];
    expect(ids).not.toContain(7);
    expect(ids).toEqual([...visible]);
    const cat = copy.columns[1]!;
    expect(cat.dictionary).not.toContain('rare-only-in-row-7'); // positive control: the original has it
    expect(t.columns[1]!.dictionary).toContain('rare-only-in-row-7');
    expect([...cat.values].map((c) => (c < 0 ? null : cat.dictionary![c]))).toEqual(
      [...visible].map((i) =>
        t.columns[1]!.values[i]! < 0 ? null : t.columns[1]!.dictionary![t.columns[1]!.values[i]!],
      ),
    );
    const x = copy.columns[2]!;
    expect(x.values.length).toBe(97);
    expect([...x.valid!]).toEqual([...visible].map((i) => (i % 3 ? 1 : 0)));
    // No buffer is shared with the owner's table.
    for (let c = 0; c < 3; c++) expect(copy.columns[c]!.values.buffer).not.toBe(t.columns[c]!.values.buffer);
  });
});

describe('the audit’s readers', () => {
  test('labels: a text column needs its positive value; numbers count non-zero unless one is named', () => {
    const t: SandboxTable = {
      name: 'ehr',
      rowCount: 4,
      columns: [
        {
          name: 'readmitted',
          type: 'string',
          values: Int32Array.from([0, 1, -1, 2]),
          dictionary: ['NO', '<30', '>30'],
        },
        { name: 'flag', type: 'int', values: Int32Array.from([0, 1, 2, 0]), valid: Uint8Array.from([1, 1, 1, 0]) },
      ],
    };
    expect(labelsOf(t, { column: 'readmitted', positive: '<30' })).toEqual([0, 1, null, 0]);
    expect(labelsOf(t, { column: 'readmitted' })).toContain('names no positive value');
    expect(labelsOf(t, { column: 'readmitted', positive: 'yes' })).toContain('is not a value of readmitted');
    expect(labelsOf(t, { column: 'flag' })).toEqual([0, 1, 1, null]);
    expect(labelsOf(t, { column: 'flag', positive: '2' })).toEqual([0, 0, 1, null]);
    expect(labelsOf(t, { column: 'nope' })).toContain('is not a column');
  });

  test('scores: one probability per row, in order', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(parseScores(enc('row,score\n0,0.25\n1,1e-05\n'), 2)).toEqual([0.25, 1e-5]);
    expect(parseScores(enc('row,score\n0,2.5\n'), 1)).toContain('must return a probability from 0 to 1');
    expect(parseScores(enc('row,score\n0,0.5\n'), 2)).toContain('returned 1 scores for 2 rows');
    expect(parseScores(enc('row,score\n1,0.5\n'), 1)).toContain('for row 0');
    expect(parseScores(undefined, 1)).toBe('the entry point wrote no scores');
  });
});

describe('the receipt', () => {
  const gate: GateReport = {
    checks: [],
    files: [
      {
        path: 'model.json',
        size: 2,
        type: 'json',
        declared: true,
        withinCap: true,
        allowedType: true,
        pickle: false,
        leaks: [],
        reviewed: true,
        unreadable: [],
        problems: [],
      },
    ],
    tripwires: [],
    pass: true,
    indexedColumns: [],
    review: { ms: 1, inflatedBytes: 0, scannedBytes: 2, entries: 0 },
  };
  const body: Omit<ReceiptBody, 'outputs' | 'gate'> = {
    bundle: { name: 'm', version: '1', manifestSha256: 'a'.repeat(64), signer: 'SHA256:x' },
    tables: [{ name: 'ehr', as: 'ehr', fingerprint: 'b'.repeat(64), rows: 101766 }],
    software: { airlock: '0.2.0', pyodide: '314.0.7' },
    policy: { ...DEFAULT_POLICY },
    holdout: { seed: '00ff', share: 0.05, tables: [{ as: 'ehr', rows: 101766, heldOut: 5088 }] },
    started: '2026-12-01T10:00:00Z',
    ended: '2026-12-01T10:01:00Z',
  };
  const owner = generateSshKey('owner');
  const run = (g: GateReport) => ({
    report: { status: 'ok' as const, outputs: [{ path: 'model.json', bytes: new Uint8Array([123, 125]) }] },
    gate: g,
    receipt: body,
    bundle: { name: 'm', version: '1' },
  });

  test('every check with its figures, the policy, the holdout; an override with its reason; and verify-receipt prints them', async () => {
    const failed = addGateCheck(
      gate,
      membershipCheck(
        {
          result: {
            auc: 0.97,
            attack: 'loss',
            pValue: 0,
            tprAt1Fpr: 0.8,
            members: 1000,
            heldOut: 1000,
            labelAucMembers: 1,
            labelAucHeldOut: 0.6,
          },
          ms: 900,
        },
        0.6,
      ),
    );
    expect(failed.pass).toBe(false);
    expect(gateProblems(failed)).toEqual([expect.stringContaining('Membership inference: AUC 0.970')]);
    await expect(exportRun(run(failed), owner.key)).rejects.toMatchObject({ code: 'blocked' });
    const e = await exportRun(run(failed), owner.key, {
      override: { reason: 'the model is for an internal audit only' },
    });
    const r = verifyReceipt(e.receiptBytes, e.signature);
    expect(r.version).toBe(1);
    expect(r.gate).toMatchObject({ pass: false, overridden: true, reason: 'the model is for an internal audit only' });
    expect(r.gate.checks!.find((c) => c.id === 'membership')).toMatchObject({
      verdict: 'failed',
      figures: { auc: 0.97, tprAt1Fpr: 0.8 },
    });
    expect(r.policy).toMatchObject({ minCellCount: 10, maxMembershipAuc: 0.6 });
    expect(r.holdout).toEqual(body.holdout);
    const dir = mkdtempSync(join(tmpdir(), 'airlock-receipt2-'));
    writeFileSync(join(dir, 'receipt.json'), e.receiptBytes);
    writeFileSync(join(dir, 'receipt.json.sig'), e.signature);
    const v = spawnSync(process.execPath, [BIN, 'verify-receipt', join(dir, 'receipt.json')], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain("override  the owner's reason: the model is for an internal audit only");
    expect(v.stdout).toContain('held out  5088 of 101766 rows of ehr for the membership audit (share 0.05, seed 00ff)');
    expect(v.stdout).toMatch(/check {5}failed {9}Membership inference: AUC 0\.970 .* \(threshold: attack AUC ≤ 0\.6\)/);
  });

  test('a receipt of Airlock 0.2 (no checks, two policy settings) still verifies and prints', async () => {
    const old = { ...body, policy: { timeLimitSeconds: 600, maxOutputBytes: 52428800 } };
    delete (old as Partial<typeof old>).holdout;
    const e = await exportRun({ ...run({ ...gate, checks: undefined as never }), receipt: old }, owner.key);
    expect(e.receipt.gate.checks).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'airlock-receipt1-'));
    writeFileSync(join(dir, 'receipt.json'), e.receiptBytes);
    writeFileSync(join(dir, 'receipt.json.sig'), e.signature);
    const v = spawnSync(process.execPath, [BIN, 'verify-receipt', join(dir, 'receipt.json')], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain('policy    timeLimitSeconds 600, maxOutputBytes 52428800');
    expect(v.stdout).not.toMatch(/^check /m);
  });
});

describe('airlock seal', () => {
  test('--inference and --label go into the manifest; --label alone or malformed is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-seal-'));
    const owner = await generateOwnerKey();
    const expert = generateSshKey('expert');
    writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner));
    writeFileSync(join(dir, 'id'), expert.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'n.ipynb'), '{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
    const seal = (...extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          BIN,
          'seal',
          '--to',
          owner.recipient,
          '--notebook',
          'n.ipynb',
          '--sign',
          'id',
          '-o',
          'b.airlock',
          '--output',
          'model.json',
          '--output',
          'counts.csv',
          ...extra,
        ],
        { cwd: dir, encoding: 'utf8' },
      );
    const ok = seal('--inference', 'readmit.model:predict', '--label', 'readmitted=<30', '--aggregate', 'counts.csv');
    expect(ok.status, ok.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    const b = await openBundle(new Uint8Array(readFileSync(join(dir, 'b.airlock'))), owner.identity);
    expect(b.manifest).toMatchObject({
      formatVersion: 2,
      inference: { module: 'readmit.model', function: 'predict' },
      label: { column: 'readmitted', positive: '<30' },
      aggregates: ['counts.csv'],
    });
    expect(seal('--label', 'readmitted').stderr).toContain('--label readmitted: declare the inference entry point too');
    // The flags' readers, without a process each (a CLI start costs seconds).
    expect(() => parseInference('predict')).toThrow('write module:function');
    expect(parseInference('readmit.model:predict')).toEqual({ module: 'readmit.model', function: 'predict' });
    expect(() => parseLabel('=x')).toThrow('write column or column=positive-value');
    expect(parseLabel('readmitted=<30')).toEqual({ column: 'readmitted', positive: '<30' });
    expect(parseLabel('flag')).toEqual({ column: 'flag' });
    expect(() => parseLabel('readmitted=')).toThrow('write column or column=positive-value');
    expect(() => parseInference('1x.model:predict')).toThrow('a Python module path and a function name');
    // The Expert tab's seal form reads them with the same function: the label as two fields, spaces
    // trimmed, and every refusal naming the field to mark (a form) or the flag to name (the CLI).
    expect(
      readDeclarations({
        inference: ' readmit.model:predict ',
        label: { column: ' readmitted ', positive: '<30' },
        aggregates: ['counts.csv', ' '],
        outputs: ['model.json', 'counts.csv'],
      }),
    ).toEqual({
      inference: { module: 'readmit.model', function: 'predict' },
      label: { column: 'readmitted', positive: '<30' },
      aggregates: ['counts.csv'],
    });
    expect(readDeclarations({ inference: 'm:f', label: { column: 'flag', positive: ' ' } })).toEqual({
      inference: { module: 'm', function: 'f' },
      label: { column: 'flag' },
    });
    expect(readDeclarations({})).toEqual({});
    const refused = (input: DeclarationsInput) => {
      try {
        readDeclarations(input);
      } catch (e) {
        if (e instanceof DeclarationError) return { field: e.field, code: e.code };
        throw e;
      }
      return null;
    };
    expect(refused({ label: { column: 'readmitted' } })).toEqual({ field: 'label', code: 'bad-input' });
    expect(refused({ inference: 'predict', label: 'readmitted' })).toEqual({ field: 'inference', code: 'bad-input' });
    expect(refused({ inference: 'm:f', label: { column: '', positive: '<30' } })).toMatchObject({ field: 'label' });
    expect(refused({ aggregates: ['counts.csv'], outputs: ['model.json'] })).toMatchObject({ field: 'aggregates' });
    expect(refused({ aggregates: ['counts.csv'] })).toBeNull();
  });
});
