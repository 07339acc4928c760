/**
 * `airlock run`, the headless runner: the built app in Chromium driven by the CLI, on the real
 * data, with its exit codes for every outcome.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sealBundle } from '../../src/lib/bundle/index.ts';
import { formatIdentityFile, generateOwnerKey, generateSshKey, type OwnerKey } from '../../src/lib/crypto/index.ts';
import { verifyReceipt } from '../../src/lib/receipt/index.ts';
import { diabetesCsvPath } from '../unit/fixtures/data.ts';
import { notebookJson } from './fixtures.ts';

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

async function bundle(
  file: string,
  cells: string[],
  opts: { recipient?: string; signer?: typeof expert; tables?: string[]; outputs?: string[] } = {},
) {
  const { stream } = await sealBundle({
    recipient: opts.recipient ?? owner.recipient,
    signer: (opts.signer ?? expert).key,
    name: 'readmission',
    version: '1.0',
    notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode(notebookJson(cells)) },
    wheels: [],
    outputs: opts.outputs ?? ['model.json'],
    tables: opts.tables ?? ['ehr'],
  });
  writeFileSync(join(dir, file), new Uint8Array(await new Response(stream).arrayBuffer()));
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
const MODEL =
  'import airlock, json\nt = airlock.table("ehr")\nprint(len(t), "rows")\nopen(airlock.OUTPUT_DIR + "/model.json", "w").write(json.dumps({"n": len(t)}))';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-run-'));
  csv = diabetesCsvPath();
  owner = await generateOwnerKey();
  writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner));
  writeFileSync(join(dir, 'expert.pub'), expert.publicKey);
  writeFileSync(join(dir, 'owner_sign'), ownerSign.privateKey, { mode: 0o600 });
});

describe('airlock run', () => {
  test('approved: the outputs and a receipt the expert can verify; nothing else', async () => {
    const b = await bundle('ok.airlock', [MODEL, 'open("/tmp/elsewhere.txt", "w").write("x")']);
    const r = await run(b, 'out-ok', ['--approve', '--sign', 'owner_sign']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('101766 rows');
    expect(r.stdout).toContain('gate: passed');
    expect(readdirSync(join(dir, 'out-ok')).sort()).toEqual(['model.json', 'receipt.json', 'receipt.json.sig']);
    const { readFileSync } = await import('node:fs');
    const receipt = verifyReceipt(
      readFileSync(join(dir, 'out-ok/receipt.json')),
      readFileSync(join(dir, 'out-ok/receipt.json.sig'), 'utf8'),
      { owner: ownerSign.publicKey },
    );
    expect(receipt.tables[0]).toMatchObject({ as: 'ehr', rows: 101_766 });
    expect(receipt.outputs.map((o) => o.path)).toEqual(['model.json']);
  });

  test('not approved: nothing leaves', async () => {
    const r = await run('ok.airlock', 'out-none');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('not approved: nothing was written');
    expect(existsSync(join(dir, 'out-none'))).toBe(false);
  });

  test('--json for machines', async () => {
    const r = await run('ok.airlock', 'out-json', ['--json']);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: true, exitCode: 0, status: 'ok', gate: { pass: true } });
  });

  test.each([
    ['a notebook that raises', ['raise ValueError("no convergence")'], [], 4, 'ValueError: no convergence'],
    [
      'a notebook that never ends',
      ['while True:\n    pass'],
      ['--timeout', '8'],
      6,
      'did not finish within the time limit',
    ],
    [
      'an output that carries patient numbers',
      [
        'import airlock, json\nopen(airlock.OUTPUT_DIR + "/model.json", "w").write(json.dumps(list(airlock.table("ehr").column("patient_nbr"))[:20]))',
      ],
      ['--approve', '--sign', 'owner_sign'],
      5,
      'identifying columns (ehr.patient_nbr)',
    ],
    [
      'an output over the cap',
      ['import airlock\nopen(airlock.OUTPUT_DIR + "/model.json", "wb").write(b"0" * 2_000_000)'],
      ['--max-output', '1MB'],
      4,
      'larger than the cap',
    ],
  ])('%s', async (_label, cells, extra, code, message) => {
    const b = await bundle(`b${code}.airlock`, cells);
    const r = await run(b, `out-${code}`, extra);
    expect(r.code, r.stdout + r.stderr).toBe(code);
    expect(r.stdout + r.stderr).toContain(message);
    expect(existsSync(join(dir, `out-${code}`))).toBe(false);
  });

  test('bad input: another room, another signer, a missing table', async () => {
    const other = await generateOwnerKey();
    const r1 = await run(await bundle('other-room.airlock', [MODEL], { recipient: other.recipient }), 'o1');
    expect(r1.code).toBe(3);
    expect(r1.stderr).toContain('sealed for another room');
    const r2 = await run(await bundle('other-signer.airlock', [MODEL], { signer: generateSshKey('mallory') }), 'o2');
    expect(r2.code).toBe(3);
    expect(r2.stderr).toContain('not by the expert you trust');
    const r3 = await run(await bundle('needs-labs.airlock', [MODEL], { tables: ['ehr', 'labs'] }), 'o3');
    expect(r3.code).toBe(3);
    expect(r3.stderr).toContain('there is no local table "labs"');
  });
});
