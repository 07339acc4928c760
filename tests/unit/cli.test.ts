/**
 * The `airlock` command as a user runs it (`node bin/airlock.mjs …`), against the real age,
 * ssh-keygen and pip.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { generateSshKey, parsePrivateKey } from '../../src/lib/crypto/index.ts';
import { signReceipt, type ReceiptBody } from '../../src/lib/receipt/index.ts';
import { craftBundle } from './fixtures/craft-bundle.ts';

const BIN = resolve(import.meta.dirname, '../../bin/airlock.mjs');
let dir: string;

function airlock(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const notebook = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'code', source: 'import riskpkg\nprint(riskpkg.f())', metadata: {}, outputs: [] }],
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-cli-'));
  mkdirSync(join(dir, 'proj/src/riskpkg'), { recursive: true });
  writeFileSync(
    join(dir, 'proj/pyproject.toml'),
    '[build-system]\nrequires = ["setuptools"]\n\n[project]\nname = "risk-pkg"  # the distribution name\nversion = "1.0.2"\ndescription = "risk model"\n',
  );
  writeFileSync(join(dir, 'proj/src/riskpkg/__init__.py'), 'from .core import f\n');
  writeFileSync(join(dir, 'proj/src/riskpkg/core.py'), 'def f():\n    return 42\n');
  writeFileSync(join(dir, 'train.ipynb'), notebook);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a terminal would obey or a reader be misled by: C0 but newline and tab, DEL, C1, bidi and zero-width controls. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe('airlock CLI', () => {
  test('--help on every command, and a summary of commands', () => {
    const top = airlock('--help');
    expect(top.code).toBe(0);
    for (const cmd of ['keygen', 'seal', 'inspect', 'build-wheel']) {
      expect(top.stdout).toContain(cmd);
      const r = airlock(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain(`usage: airlock ${cmd}`);
    }
  });

  test('wrong usage exits 2 with the usage text', () => {
    expect(airlock('frobnicate').code).toBe(2);
    const r = airlock('seal', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: airlock seal');
    expect(airlock('keygen').code).toBe(2);
  });

  test('keygen writes an age identity file that age-keygen reads, and prints its recipient', () => {
    const r = airlock('keygen', '-o', 'owner.key');
    expect(r.code).toBe(0);
    const recipient = r.stdout.trim();
    expect(recipient).toMatch(/^age1[a-z0-9]{58}$/);
    expect(
      execFileSync('age-keygen', ['-y', join(dir, 'owner.key')])
        .toString()
        .trim(),
    ).toBe(recipient);
    expect(statSync(join(dir, 'owner.key')).mode & 0o777).toBe(0o600);
    const again = airlock('keygen', '-o', 'owner.key');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('refusing to overwrite');
  });

  test('keygen --ssh writes a key pair ssh-keygen reads', () => {
    const r = airlock('keygen', '--ssh', '-o', 'expert', '--comment', 'me@lab');
    expect(r.code).toBe(0);
    const fp = execFileSync('ssh-keygen', ['-lf', join(dir, 'expert')]).toString();
    expect(fp).toContain(r.stdout.trim());
    expect(fp).toContain('me@lab');
    expect(
      execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'expert')])
        .toString()
        .trim(),
    ).toBe(
      readFileSync(join(dir, 'expert.pub'), 'utf8')
        .trim()
        .replace(/ me@lab$/, ' me@lab'),
    );
  });

  test('build-wheel makes a wheel that pip installs and Python imports', () => {
    const r = airlock('build-wheel', 'proj');
    expect(r.code, r.stderr).toBe(0);
    const path = r.stdout.trim();
    expect(path).toMatch(/risk_pkg-1\.0\.2-py3-none-any\.whl$/);
    execFileSync(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--no-deps',
        '--no-index',
        '--disable-pip-version-check',
        '--target',
        join(dir, 'site'),
        path,
      ],
      { stdio: 'pipe' },
    );
    const out = execFileSync('python3', ['-c', 'import riskpkg; print(riskpkg.f())'], {
      env: { ...process.env, PYTHONPATH: join(dir, 'site') },
    }).toString();
    expect(out.trim()).toBe('42');
    expect(existsSync(join(dir, 'site/risk_pkg-1.0.2.dist-info/RECORD'))).toBe(true);
  });

  test('build-wheel explains a missing pyproject.toml or version', () => {
    mkdirSync(join(dir, 'empty'), { recursive: true });
    expect(airlock('build-wheel', 'empty').stderr).toContain('pyproject.toml');
    mkdirSync(join(dir, 'nover'), { recursive: true });
    writeFileSync(join(dir, 'nover/pyproject.toml'), '[project]\nname = "x"\ndynamic = ["version"]\n');
    const r = airlock('build-wheel', 'nover');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no [project] version');
  });

  test('seal to a recipient or an invitation file, then inspect with the owner key', () => {
    const recipient = execFileSync('age-keygen', ['-y', join(dir, 'owner.key')])
      .toString()
      .trim();
    writeFileSync(
      join(dir, 'invitation.json'),
      JSON.stringify({ format: 'airlock-invitation', version: 1, room: 'ward 7', recipient }),
    );
    const wheel = airlock('build-wheel', 'proj').stdout.trim();
    for (const to of [recipient, 'invitation.json']) {
      const s = airlock(
        'seal',
        '--to',
        to,
        '--notebook',
        'train.ipynb',
        '--wheel',
        wheel,
        '--sign',
        'expert',
        '--name',
        'risk',
        '--version',
        '1.1',
        '--output',
        'model.json',
        '-o',
        'risk.airlock',
      );
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toContain('sealed risk 1.1');
    }
    const i = airlock('inspect', 'risk.airlock', '-i', 'owner.key', '--expert', 'expert.pub');
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toContain('risk 1.1');
    expect(i.stdout).toContain('(the pinned expert)');
    expect(i.stdout).toContain('check      ok');
    expect(i.stdout).not.toContain('riskpkg.f()'); // never the code
    const j = JSON.parse(airlock('inspect', 'risk.airlock', '-i', 'owner.key', '--json').stdout);
    expect(j).toMatchObject({ ok: true, manifest: { name: 'risk', version: '1.1', outputs: ['model.json'] } });
    // Standard tools open it too.
    execFileSync('age', ['-d', '-i', join(dir, 'owner.key'), '-o', join(dir, 'risk.zip'), join(dir, 'risk.airlock')]);
    expect(execFileSync('unzip', ['-l', join(dir, 'risk.zip')]).toString()).toContain('manifest.json.sig');
  });

  test('a large bundle (over 64 MB) is sealed and opened on cipher threads: age opens it, a changed chunk is refused', () => {
    const recipient = execFileSync('age-keygen', ['-y', join(dir, 'owner.key')])
      .toString()
      .trim();
    const big = new Uint8Array(70 * 1024 * 1024);
    for (let o = 0; o < big.length; o += 65536) crypto.getRandomValues(big.subarray(o, o + 65536));
    writeFileSync(join(dir, 'big-1.0-py3-none-any.whl'), big);
    const s = airlock(
      'seal',
      '--to',
      recipient,
      '--notebook',
      'train.ipynb',
      '--wheel',
      'big-1.0-py3-none-any.whl',
      '--sign',
      'expert',
      '-o',
      'big.airlock',
    );
    expect(s.code, s.stderr).toBe(0);
    const i = JSON.parse(airlock('inspect', 'big.airlock', '-i', 'owner.key', '--json').stdout);
    expect(i.ok).toBe(true);
    const sha = execFileSync('sha256sum', [join(dir, 'big-1.0-py3-none-any.whl')])
      .toString()
      .split(' ')[0];
    expect(i.manifest.wheels[0].sha256).toBe(sha);
    // The same file on one thread, and through the age program.
    const one = spawnSync(process.execPath, [BIN, 'inspect', 'big.airlock', '-i', 'owner.key', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, AIRLOCK_LANES: '0' },
    });
    expect(JSON.parse(one.stdout).manifest).toEqual(i.manifest);
    execFileSync('age', ['-d', '-i', join(dir, 'owner.key'), '-o', join(dir, 'big.zip'), join(dir, 'big.airlock')]);
    expect(execFileSync('unzip', ['-l', join(dir, 'big.zip')]).toString()).toContain('wheels/big-1.0-py3-none-any.whl');
    // One flipped bit in the middle: the thread that opens that chunk refuses it.
    const bytes = readFileSync(join(dir, 'big.airlock'));
    bytes[Math.floor(bytes.length / 2)]! ^= 1;
    writeFileSync(join(dir, 'bad.airlock'), bytes);
    const bad = airlock('inspect', 'bad.airlock', '-i', 'owner.key');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/damaged|changed/);
    for (const f of ['big-1.0-py3-none-any.whl', 'big.airlock', 'big.zip', 'bad.airlock']) rmSync(join(dir, f));
  });

  test('inspect refuses with exit 1 and one line: wrong key, other signer, not a bundle', () => {
    execFileSync('age-keygen', ['-o', join(dir, 'other.key')], { stdio: 'pipe' });
    const wrong = airlock('inspect', 'risk.airlock', '-i', 'other.key');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain('sealed for another room');
    airlock('keygen', '--ssh', '-o', 'stranger');
    const other = airlock('inspect', 'risk.airlock', '-i', 'owner.key', '--expert', 'stranger.pub');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('not by the expert you trust');
    writeFileSync(join(dir, 'junk.airlock'), 'hello');
    const junk = airlock('inspect', 'junk.airlock', '-i', 'owner.key', '--json');
    expect(junk.code).toBe(1);
    expect(JSON.parse(junk.stdout)).toMatchObject({ ok: false, code: 'not-age' });
  });

  test('seal explains a passphrase-protected key and a bad recipient', () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', join(dir, 'locked')]);
    const r = airlock(
      'seal',
      '--to',
      'invitation.json',
      '--notebook',
      'train.ipynb',
      '--sign',
      'locked',
      '-o',
      'x.airlock',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('passphrase-protected');
    const bad = airlock(
      'seal',
      '--to',
      'age1bogus',
      '--notebook',
      'train.ipynb',
      '--sign',
      'expert',
      '-o',
      'x.airlock',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('neither an age1… recipient nor an invitation file');
  });

  test('inspect prints nothing a terminal obeys: a hostile name is refused, and shown escaped', async () => {
    const recipient = execFileSync('age-keygen', ['-y', join(dir, 'owner.key')])
      .toString()
      .trim();
    const signer = parsePrivateKey(readFileSync(join(dir, 'expert'), 'utf8'));
    const osc52 = '\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07';
    const craft = async (file: string, opts: Parameters<typeof craftBundle>[0] extends infer O ? Partial<O> : never) =>
      writeFileSync(join(dir, file), await craftBundle({ recipient, signer, ...opts }));
    // Positive control: the same construction with plain names opens.
    await craft('plain.airlock', {});
    expect(airlock('inspect', 'plain.airlock', '-i', 'owner.key').code).toBe(0);

    await craft('osc.airlock', { manifest: (m) => (m.outputs = [`model${osc52}\x1b[8m\u202e.json`]) });
    const r = airlock('inspect', 'osc.airlock', '-i', 'owner.key');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('outputs entry');
    expect(r.stderr).toContain('\\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\u0007');
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
    const j = airlock('inspect', 'osc.airlock', '-i', 'owner.key', '--json');
    expect(j.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, code: 'bad-manifest' });

    // A file the manifest does not list, named with a C1 CSI and a bidi override: the refusal quotes it.
    await craft('extra.airlock', { extra: [{ name: 'x\u009b8m\u202etxt.exe', data: new Uint8Array(1) }] });
    const e = airlock('inspect', 'extra.airlock', '-i', 'owner.key');
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('x\\u009b8m\\u202etxt.exe');
    expect(e.stderr).not.toMatch(RAW_CONTROL);
    const ej = airlock('inspect', 'extra.airlock', '-i', 'owner.key', '--json');
    expect(ej.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(ej.stdout).error).toContain('x\u009b8m\u202etxt.exe'); // JSON parses back to the original
  });

  test('verify-receipt --outputs: every listed output present with its size and SHA-256; 3 if not, 4 for extra files', () => {
    const ownerSign = generateSshKey('owner');
    writeFileSync(join(dir, 'owner_sign.pub'), ownerSign.publicKey);
    const files: Record<string, string> = { 'model.json': '{"w":[1,2]}', 'sub/weights.bin': 'wwww' };
    const body = (outputs: ReceiptBody['outputs']): ReceiptBody => ({
      bundle: { name: 'risk', version: '1.1', manifestSha256: 'a'.repeat(64), signer: 'SHA256:x' },
      tables: [],
      software: { airlock: '0.1.0', pyodide: '0' },
      policy: { timeLimitSeconds: 600, maxOutputBytes: 1e6 },
      started: '2026-11-24T10:00:00Z',
      ended: '2026-11-24T10:01:00Z',
      outputs,
      gate: { pass: true, overridden: false, problems: [], tripwires: [] },
    });
    const listed = Object.entries(files).map(([path, text]) => ({
      path,
      sha256: createHash('sha256').update(text).digest('hex'),
      size: text.length,
    }));
    const out = join(dir, 'exported');
    mkdirSync(join(out, 'sub'), { recursive: true });
    for (const [p, text] of Object.entries(files)) writeFileSync(join(out, p), text);
    const r = signReceipt(body(listed), ownerSign.key);
    writeFileSync(join(out, 'receipt.json'), r.bytes);
    writeFileSync(join(out, 'receipt.json.sig'), r.signature);
    const verify = (...extra: string[]) =>
      airlock('verify-receipt', join(out, 'receipt.json'), '--owner', 'owner_sign.pub', '--outputs', out, ...extra);

    const ok = verify();
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('holds exactly the outputs the receipt lists');
    writeFileSync(join(out, 'sub/notes.txt'), 'added later');
    const extra = verify('--json');
    expect(extra.code).toBe(4);
    expect(JSON.parse(extra.stdout)).toMatchObject({ ok: false, files: { extra: ['sub/notes.txt'], missing: [] } });
    writeFileSync(join(out, 'model.json'), '{"w":[1,3]}'); // same size, another hash
    const changed = verify();
    expect(changed.code).toBe(3);
    expect(changed.stdout).toContain('CHANGED   model.json has another SHA-256');
    rmSync(join(out, 'sub/weights.bin'));
    expect(verify().stdout).toContain('MISSING   sub/weights.bin');
    // Without --outputs, the signature alone: still 0.
    expect(airlock('verify-receipt', join(out, 'receipt.json'), '--owner', 'owner_sign.pub').code).toBe(0);

    // A receipt whose paths leave the folder or carry escape sequences: not followed, printed escaped.
    const hostile = signReceipt(
      body([
        { path: '../owner.key', sha256: 'b'.repeat(64), size: 1 },
        { path: 'm\x1b]0;verified\x07.json', sha256: 'b'.repeat(64), size: 1 },
      ]),
      ownerSign.key,
    );
    writeFileSync(join(dir, 'hostile.json'), hostile.bytes);
    writeFileSync(join(dir, 'hostile.json.sig'), hostile.signature);
    const h = airlock('verify-receipt', 'hostile.json', '--outputs', out);
    expect(h.code).toBe(3);
    expect(h.stdout).toContain('CHANGED   ../owner.key is not a plain relative path; not checked');
    expect(h.stdout).toContain('m\\u001b]0;verified\\u0007.json');
    expect(h.stdout + h.stderr).not.toMatch(RAW_CONTROL);
  });
});
