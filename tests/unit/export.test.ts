/**
 * Saving outputs on the owner's disk: planExport decides every name before anything is written, and
 * the command line's writer (src/cli/export.ts) writes all or nothing, never replacing a file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportError, planExport, type ExportErrorCode } from '../../src/lib/receipt/index.ts';
import { checkOutputs, saveExport } from '../../src/cli/export.ts';

function refused(paths: string[], options?: { maxPathBytes?: number }): ExportError {
  try {
    planExport(paths, options);
  } catch (e) {
    if (e instanceof ExportError) return e;
    throw e;
  }
  throw new Error(`planExport accepted ${JSON.stringify(paths)}`);
}

describe('planExport', () => {
  test('plain names, folders and every script are accepted; folders come before their files', () => {
    const plan = planExport(['model.json', 'modèle/模型.json', 'a/b/c.csv', 'résultats.csv', 'a/b/d.csv']);
    expect(plan.files).toEqual(['model.json', 'modèle/模型.json', 'a/b/c.csv', 'résultats.csv', 'a/b/d.csv']);
    expect(plan.dirs).toEqual(['modèle', 'a', 'a/b']);
    expect(plan.receipt).toEqual(['receipt.json', 'receipt.json.sig']);
  });

  test.each<[string, string[], ExportErrorCode]>([
    ['a dot-folder that runs a task on open', ['.vscode/tasks.json'], 'dot-path'],
    ['a git hook deep down', ['x/.git/hooks/pre-commit'], 'dot-path'],
    ['a dot-file', ['.npmrc'], 'dot-path'],
    ['a parent reference', ['../escape.txt'], 'dot-path'],
    ['a current-folder segment', ['a/./b'], 'dot-path'],
    ['the receipt', ['receipt.json'], 'receipt-name'],
    ['the receipt in another case', ['Receipt.JSON'], 'receipt-name'],
    ['the receipt signature', ['receipt.json.sig'], 'receipt-name'],
    ['a folder named like the receipt', ['receipt.json/model.bin'], 'receipt-name'],
    ['a Windows device', ['CON'], 'reserved-name'],
    ['a Windows device with an extension, deep down', ['a/aux.json'], 'reserved-name'],
    ['COM1', ['com1.txt'], 'reserved-name'],
    ['a colon (an NTFS stream)', ['model.json:hidden'], 'reserved-name'],
    ['a trailing dot', ['model.'], 'reserved-name'],
    ['a trailing space', ['model.json '], 'reserved-name'],
    ['a leading dash', ['-rf'], 'reserved-name'],
    ['a segment over 255 bytes', ['a'.repeat(256)], 'too-long'],
    ['130 accented letters: 260 bytes', ['é'.repeat(130)], 'too-long'],
    ['a backslash', ['a\\b'], 'bad-name'],
    ['an absolute path', ['/etc/passwd'], 'bad-name'],
    ['an empty segment', ['a//b'], 'bad-name'],
    ['an empty name', [''], 'bad-name'],
    ['an escape sequence', ['model\x1b]0;x\x07.json'], 'bad-name'],
    ['a bidi override', ['model\u202Egnp.exe'], 'bad-name'],
    ['a C1 control', ['model\u009b.json'], 'bad-name'],
    ['a zero-width space', ['mo\u200bdel.json'], 'bad-name'],
    ['two names that differ only by case', ['Model.json', 'model.json'], 'name-clash'],
    ['the same name in NFC and NFD', ['caf\u00e9.json', 'cafe\u0301.json'], 'name-clash'],
    ['a file where another output needs a folder', ['a', 'a/b'], 'name-clash'],
    ['the same, the other way round', ['a/b', 'A'], 'name-clash'],
  ])('refuses %s', (_label, paths, code) => {
    const e = refused(paths);
    expect(e.code).toBe(code);
    expect(e.message).toContain('nothing was written');
    // The message is safe to print as it is.
    // eslint-disable-next-line no-control-regex
    expect(e.message).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u200b]/);
  });

  test('every refused output is listed, and the message counts the rest', () => {
    const e = refused(['ok.json', '.env', 'receipt.json', 'fine/x.csv', 'nul']);
    expect(e.paths).toEqual(['.env', 'receipt.json', 'nul']);
    expect(e.message).toContain('(and 2 more outputs)');
  });

  test('the whole path must fit the room the output folder leaves', () => {
    const deep = Array.from({ length: 5 }, () => 'd'.repeat(200)).join('/') + '/m.json';
    expect(planExport([deep]).files).toEqual([deep]);
    expect(refused([deep], { maxPathBytes: 1000 }).code).toBe('too-long');
  });
});

describe('saveExport (the command line writer)', () => {
  let root: string;
  const receipt = { json: new TextEncoder().encode('{"r":1}\n'), sig: '-----BEGIN SSH SIGNATURE-----\n' };
  const bytes = (s: string) => new TextEncoder().encode(s);
  const tree = (d: string): string[] =>
    readdirSync(d, { recursive: true, withFileTypes: true })
      .map((e) => join(e.parentPath, e.name).slice(d.length + 1) + (e.isDirectory() ? '/' : ''))
      .sort();

  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'airlock-export-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('a new folder: every output and the receipt, the receipt last, no temporary folder left', async () => {
    const target = join(root, 'new/out');
    const written = await saveExport(
      target,
      [
        { path: 'model.json', bytes: bytes('{}') },
        { path: 'sub/w.bin', bytes: bytes('w') },
      ],
      receipt,
    );
    expect(written).toEqual(['model.json', 'sub/w.bin', 'receipt.json', 'receipt.json.sig']);
    expect(tree(target)).toEqual(['model.json', 'receipt.json', 'receipt.json.sig', 'sub/', 'sub/w.bin']);
    expect(readdirSync(join(root, 'new'))).toEqual(['out']);
  });

  test("a project folder: refused without --force; with it, the owner's files are never replaced", async () => {
    const proj = join(root, 'proj');
    mkdirSync(join(proj, 'src'), { recursive: true });
    writeFileSync(join(proj, 'package.json'), '{"name":"mine"}');
    writeFileSync(join(proj, 'requirements.txt'), 'numpy\n');
    const before = tree(proj);
    const save = (force: boolean, outs: string[]) =>
      saveExport(
        proj,
        outs.map((p) => ({ path: p, bytes: bytes('evil') })),
        receipt,
        { force },
      ).then(
        () => undefined,
        (e: ExportError) => e,
      );
    expect((await save(false, ['model.json']))?.code).toBe('not-empty');
    const clash = await save(true, ['model.json', 'package.json', 'requirements.txt', 'src/x.py']);
    expect(clash?.code).toBe('exists');
    expect(clash?.paths).toEqual(['package.json', 'requirements.txt']);
    expect(tree(proj)).toEqual(before);
    expect(readFileSync(join(proj, 'package.json'), 'utf8')).toBe('{"name":"mine"}');
    // Beside them, with --force, when nothing clashes (an existing folder is added to, not replaced).
    expect(await save(true, ['model.json', 'src/x.py'])).toBeUndefined();
    expect(tree(proj)).toEqual([...before, 'model.json', 'receipt.json', 'receipt.json.sig', 'src/x.py'].sort());
    // And a second export there clashes with the first one's receipt.
    const again = await save(true, ['other.json']);
    expect(again?.paths).toEqual(['receipt.json', 'receipt.json.sig']);
  });

  test('--force never writes through a link or over a folder named like the receipt', async () => {
    const t = join(root, 'linked');
    mkdirSync(join(root, 'elsewhere'));
    mkdirSync(join(t, 'receipt.json'), { recursive: true });
    symlinkSync(join(root, 'elsewhere'), join(t, 'sub'));
    const e = await saveExport(t, [{ path: 'sub/x.json', bytes: bytes('x') }], receipt, { force: true }).catch(
      (x: ExportError) => x,
    );
    expect((e as ExportError).code).toBe('exists');
    expect((e as ExportError).paths).toEqual(['sub', 'receipt.json']);
    expect(readdirSync(join(root, 'elsewhere'))).toEqual([]);
    expect(tree(t)).toEqual(['receipt.json/', 'sub']);
  });

  test('a name the plan refuses, or a path longer than the disk allows: nothing written, nothing left', async () => {
    for (const outs of [
      ['model.json', '.vscode/tasks.json'],
      ['model.json', 'x/' + Array.from({ length: 25 }, () => 'd'.repeat(200)).join('/')],
    ]) {
      const target = join(root, 'refused');
      const e = await saveExport(
        target,
        outs.map((p) => ({ path: p, bytes: bytes('x') })),
        receipt,
      ).catch((x: ExportError) => x);
      expect(e).toBeInstanceOf(ExportError);
      expect(readdirSync(root)).not.toContain('refused');
      expect(readdirSync(root).filter((n) => n.startsWith('.airlock-export-'))).toEqual([]);
    }
  });

  test('checkOutputs: present with size and hash, missing, changed, a link, extra, and a path that leaves', async () => {
    const d = join(root, 'check');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'a.json'), 'aaa');
    writeFileSync(join(d, 'b.json'), 'bbX');
    writeFileSync(join(d, 'sub/extra.txt'), 'e');
    writeFileSync(join(d, 'receipt.json'), '{}');
    symlinkSync(join(d, 'a.json'), join(d, 'l.json'));
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const r = await checkOutputs(d, [
      { path: 'a.json', sha256: sha('aaa'), size: 3 },
      { path: 'b.json', sha256: sha('bbb'), size: 3 },
      { path: 'c.json', sha256: sha('c'), size: 1 },
      { path: 'l.json', sha256: sha('aaa'), size: 3 },
      { path: '../check/a.json', sha256: sha('aaa'), size: 3 },
    ]);
    expect(r.ok).toEqual(['a.json']);
    expect(r.missing).toEqual(['c.json']);
    expect(r.changed.map((c) => c.path)).toEqual(['b.json', 'l.json', '../check/a.json']);
    expect(r.extra).toEqual(['sub/extra.txt']);
  });
});
