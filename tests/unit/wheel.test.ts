/**
 * The host-side wheel check (src/lib/wheel/unpack.ts): every RECORD rule, the install layout, and a
 * wheel written by Python's own zipfile and csv modules beside ours.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, test } from 'vitest';
import { buildWheel, unpackWheel } from '../../src/lib/wheel/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'airlock-wheel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = buildWheel({
  name: 'risk-pkg',
  version: '1.0.2',
  files: { 'riskpkg/__init__.py': 'def f():\n    return 42\n', 'riskpkg/data/w.bin': new Uint8Array([0, 1, 2, 255]) },
});

/** The same wheel with its zip entries edited (RECORD left as it was unless `edit` changes it). */
function edited(edit: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const files = unzipSync(good.bytes);
  edit(files);
  return zipSync(files);
}
const text = (u: Uint8Array) => new TextDecoder().decode(u);
const RECORD = 'risk_pkg-1.0.2.dist-info/RECORD';

async function refusal(bytes: Uint8Array): Promise<string> {
  return unpackWheel(good.filename, bytes).then(
    () => 'accepted',
    (e: Error) => e.message,
  );
}

describe('wheel check', () => {
  test('a good wheel unpacks: every file, in one buffer, with name and version from METADATA', async () => {
    const w = await unpackWheel(good.filename, good.bytes);
    expect(w).toMatchObject({ filename: good.filename, name: 'risk-pkg', version: '1.0.2' });
    const paths = w.files.map((f) => f.path).sort();
    expect(paths).toEqual([
      'risk_pkg-1.0.2.dist-info/METADATA',
      'risk_pkg-1.0.2.dist-info/RECORD',
      'risk_pkg-1.0.2.dist-info/WHEEL',
      'riskpkg/__init__.py',
      'riskpkg/data/w.bin',
    ]);
    const bin = w.files.find((f) => f.path === 'riskpkg/data/w.bin')!;
    expect([...new Uint8Array(w.data, bin.offset, bin.length)]).toEqual([0, 1, 2, 255]);
  });

  test("a wheel written by Python's own zipfile and csv modules (RECORD as pip writes it) passes", async () => {
    // A path with a comma and one with a quote: csv.writer quotes them, as pip and wheel do.
    const script = [
      'import base64, csv, hashlib, io, sys, zipfile',
      'files = {"pyw/__init__.py": b"X = 1\\n", "pyw/odd, name.py": b"Y = 2\\n", \'pyw/say "hi".py\': b"Z = 3\\n",',
      '         "pyw-0.3.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: pyw\\nVersion: 0.3\\n",',
      '         "pyw-0.3.dist-info/WHEEL": b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}',
      'rec = io.StringIO(); w = csv.writer(rec, lineterminator="\\n")',
      'for p, b in files.items(): w.writerow([p, "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode(), len(b)])',
      'w.writerow(["pyw-0.3.dist-info/RECORD", "", ""])',
      'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:',
      '    for p, b in files.items(): z.writestr(p, b)',
      '    z.writestr("pyw-0.3.dist-info/RECORD", rec.getvalue())',
    ].join('\n');
    const path = join(dir, 'pyw-0.3-py3-none-any.whl');
    execFileSync('python3', ['-c', script, path]);
    const w = await unpackWheel('pyw-0.3-py3-none-any.whl', new Uint8Array(readFileSync(path)));
    expect(w.files.map((f) => f.path).sort()).toEqual([
      'pyw-0.3.dist-info/METADATA',
      'pyw-0.3.dist-info/RECORD',
      'pyw-0.3.dist-info/WHEEL',
      'pyw/__init__.py',
      'pyw/odd, name.py',
      'pyw/say "hi".py',
    ]);
  });

  test('every RECORD rule refuses with the file named', async () => {
    // Positive control: the untouched bytes pass.
    expect(await refusal(good.bytes)).toBe('accepted');
    expect(await refusal(edited((f) => (f['riskpkg/__init__.py'] = strToU8('import os\n'))))).toContain(
      'riskpkg/__init__.py does not match its RECORD',
    );
    expect(await refusal(edited((f) => (f['riskpkg/extra.py'] = strToU8('x = 1\n'))))).toContain(
      'riskpkg/extra.py is not listed in RECORD',
    );
    expect(await refusal(edited((f) => delete f['riskpkg/__init__.py']))).toContain(
      'RECORD lists riskpkg/__init__.py, which is not in the archive',
    );
    expect(
      await refusal(
        edited(
          (f) => (f[RECORD] = strToU8(text(f[RECORD]!).replace(/(riskpkg\/__init__\.py),sha256=[^,]+/, '$1,md5=abc'))),
        ),
      ),
    ).toContain('has no sha256 hash');
    expect(await refusal(edited((f) => (f[RECORD] = strToU8(text(f[RECORD]!) + 'a,b\n'))))).toContain(
      'malformed RECORD line',
    );
    expect(
      await refusal(
        edited((f) => (f['risk_pkg-1.0.2.dist-info/WHEEL'] = strToU8('Wheel-Version: 1.0\nRoot-Is-Purelib: false\n'))),
      ),
    ).toContain('not a pure-Python wheel');
    expect(
      await refusal(edited((f) => (f['riskpkg/_c.cpython-312-wasm32-emscripten.so'] = strToU8('\x7fELF')))),
    ).toContain('contains compiled code');
    expect(await refusal(edited((f) => (f['other-1.0.dist-info/METADATA'] = strToU8('Name: other\n'))))).toContain(
      'expected one .dist-info folder, found 2',
    );
    expect(await refusal(edited((f) => (f['../../evil.py'] = strToU8('x'))))).toContain('unsafe path in archive');
    expect(await refusal(new Uint8Array([80, 75, 1, 2, 3]))).toContain('not a zip file');
    expect(await refusal(good.bytes.subarray(0, good.bytes.length - 30))).toContain(good.filename);
  });

  test('files under .data/purelib join site-packages; scripts and data files are left out', async () => {
    const bytes = edited((f) => {
      const add = (p: string, body: string) => {
        f[p] = strToU8(body);
        const hash = createHash('sha256').update(f[p]!).digest('base64url');
        f[RECORD] = strToU8(
          text(f[RECORD]!).replace(`${RECORD},,`, `${p},sha256=${hash},${f[p]!.length}\n${RECORD},,`),
        );
      };
      add('risk_pkg-1.0.2.data/purelib/extra_mod.py', 'Z = 3\n');
      add('risk_pkg-1.0.2.data/scripts/run-me', '#!/bin/sh\n');
    });
    const w = await unpackWheel(good.filename, bytes);
    const paths = w.files.map((f) => f.path);
    expect(paths).toContain('extra_mod.py');
    expect(paths.some((p) => p.includes('run-me'))).toBe(false);
  });
});
