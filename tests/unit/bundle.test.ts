/**
 * Bundles: round trips, interop with the real `age`, `ssh-keygen` and `zip`, every kind of bad
 * input, and a fuzz pass over the opener.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import {
  BundleError,
  decideImport,
  compareVersions,
  openBundle,
  sealBundle,
  type SealInput,
} from '../../src/lib/bundle/index.ts';
import {
  generateOwnerKey,
  generateSshKey,
  parsePrivateKey,
  formatIdentityFile,
  type OwnerKey,
} from '../../src/lib/crypto/index.ts';
import { buildWheel } from '../../src/lib/wheel/index.ts';

const MAKE_ZIP = resolve(import.meta.dirname, 'fixtures/make_zip.py');
let dir: string;
let owner: OwnerKey;
const expert = generateSshKey('expert@test');
const notebook = new TextEncoder().encode(
  JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [{ cell_type: 'code', source: 'print(1)', metadata: {}, outputs: [] }],
  }),
);
const wheel = buildWheel({ name: 'riskmodel', version: '1.0', files: { 'riskmodel/__init__.py': 'X = 1\n' } });

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function seal(extra: Partial<SealInput> = {}): Promise<Uint8Array> {
  const { stream } = await sealBundle({
    recipient: owner.recipient,
    signer: expert.key,
    name: 'readmission',
    version: '1.2.0',
    notebook: { filename: 'train.ipynb', bytes: notebook },
    wheels: [{ filename: wheel.filename, bytes: wheel.bytes }],
    outputs: ['model.json'],
    tables: ['encounters'],
    ...extra,
  });
  return collect(stream);
}

async function refused(bytes: Uint8Array, code: string, options = {}, identity?: string): Promise<string> {
  try {
    await openBundle(bytes, identity ?? owner.identity, options);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    expect((e as BundleError).code, (e as Error).message).toBe(code);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error(`expected the bundle to be refused with ${code}`);
}

const sh = (cmd: string, args: string[], input?: Uint8Array | string) =>
  execFileSync(cmd, args, { cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A bundle built by hand, as an expert without Airlock would: zip, ssh-keygen -Y sign, age -r. */
function handMade(
  opts: {
    manifest?: (m: Record<string, unknown>) => void;
    entries?: Array<{ name: string; data: Uint8Array; deflate?: boolean }>;
    sign?: boolean;
    lieSize?: string;
  } = {},
): Uint8Array {
  const m: Record<string, unknown> = {
    format: 'airlock-bundle',
    formatVersion: 1,
    name: 'handmade',
    version: '2.0',
    created: '2026-11-24T10:00:00Z',
    author: {
      fingerprint: execFileSync('ssh-keygen', ['-lf', join(dir, 'hand.pub')])
        .toString()
        .split(' ')[1],
      publicKey: readFileSync(join(dir, 'hand.pub'), 'utf8').trim(),
    },
    notebook: { path: 'notebook/train.ipynb', sha256: sha(notebook), size: notebook.length },
    wheels: [{ path: `wheels/${wheel.filename}`, sha256: sha(wheel.bytes), size: wheel.bytes.length }],
    outputs: ['model.json'],
    tables: [],
  };
  opts.manifest?.(m);
  const manifestBytes = new TextEncoder().encode(JSON.stringify(m, null, 2));
  writeFileSync(join(dir, 'manifest.json'), manifestBytes);
  rmSync(join(dir, 'manifest.json.sig'), { force: true });
  if (opts.sign !== false)
    sh('ssh-keygen', ['-Y', 'sign', '-n', 'airlock', '-f', join(dir, 'hand'), join(dir, 'manifest.json')]);
  const entries = opts.entries ?? [
    { name: 'manifest.json', data: manifestBytes, deflate: true },
    ...(opts.sign !== false
      ? [{ name: 'manifest.json.sig', data: readFileSync(join(dir, 'manifest.json.sig')), deflate: true }]
      : []),
    { name: 'notebook/train.ipynb', data: notebook, deflate: true },
    { name: `wheels/${wheel.filename}`, data: wheel.bytes },
  ];
  const spec = {
    entries: entries.map((e) => ({ name: e.name, b64: Buffer.from(e.data).toString('base64'), deflate: !!e.deflate })),
    lie_size: opts.lieSize ?? null,
  };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  sh('python3', [MAKE_ZIP, join(dir, 'spec.json'), join(dir, 'b.zip')]);
  return new Uint8Array(sh('age', ['-r', owner.recipient, join(dir, 'b.zip')]));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-bundle-'));
  owner = await generateOwnerKey();
  writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner), { mode: 0o600 });
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hand@test', '-f', join(dir, 'hand')]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('round trip', () => {
  test('a sealed bundle opens, with its manifest, signer and files intact', async () => {
    const b = await openBundle(await seal(), owner.identity, { expert: expert.publicKey });
    expect(b.manifest).toMatchObject({
      format: 'airlock-bundle',
      formatVersion: 1,
      name: 'readmission',
      version: '1.2.0',
      outputs: ['model.json'],
      tables: ['encounters'],
    });
    expect(b.signer).toBe(b.manifest.author.fingerprint);
    expect(b.notebook).toEqual(notebook);
    expect(b.wheels).toEqual([{ filename: wheel.filename, bytes: wheel.bytes }]);
  });

  test('wheels prepared beside the hash checks are handed back only when every check passes', async () => {
    const seen: string[] = [];
    const prepareWheels = async (ws: { filename: string; bytes: Uint8Array }[]) => {
      seen.push(...ws.map((w) => `${w.filename}:${w.bytes.length}`));
      return 'laid out';
    };
    const b = await openBundle(await seal(), owner.identity, { prepareWheels });
    expect(b.prepared).toBe('laid out');
    expect(seen).toEqual([`${wheel.filename}:${wheel.bytes.length}`]);
    // A wheel that fails its manifest hash: the hash mismatch is the error, even when the
    // preparation fails too (it saw unchecked bytes), and no prepared result comes back.
    const tampered = wheel.bytes.slice();
    tampered[tampered.length - 30]! ^= 1;
    const bad = handMade({ manifest: (m) => ((m.wheels as Array<{ sha256: string }>)[0]!.sha256 = sha(tampered)) });
    const throwsAtOnce = (): Promise<string> => {
      throw new Error('not a wheel');
    };
    for (const prepare of [
      async () => 'laid out',
      async () => Promise.reject(new Error('not a wheel')),
      throwsAtOnce,
    ]) {
      expect(await refused(bad, 'hash-mismatch', { prepareWheels: prepare })).toContain(
        `wheels/${wheel.filename} does not match`,
      );
    }
    // And a preparation that fails on a bundle that checks out reports its own error.
    await expect(
      openBundle(await seal(), owner.identity, { prepareWheels: async () => Promise.reject(new Error('not a wheel')) }),
    ).rejects.toThrow('not a wheel');
  });

  test('opening from a stream with its size gives the same result', async () => {
    const bytes = await seal();
    const b = await openBundle({ stream: new Blob([bytes as BlobPart]).stream(), size: bytes.length }, owner.identity);
    expect(b.notebook).toEqual(notebook);
  });
});

describe('interop with age, ssh-keygen and zip', () => {
  test('our bundle opens with age -d, lists with a standard zip reader, and its signature verifies with ssh-keygen -Y verify', async () => {
    writeFileSync(join(dir, 'ours.airlock'), await seal());
    const zip = sh('age', ['-d', '-i', join(dir, 'owner.key'), join(dir, 'ours.airlock')]);
    writeFileSync(join(dir, 'ours.zip'), zip);
    const listing = sh('python3', ['-m', 'zipfile', '-l', join(dir, 'ours.zip')]).toString();
    for (const f of ['manifest.json', 'manifest.json.sig', 'notebook/train.ipynb', `wheels/${wheel.filename}`])
      expect(listing).toContain(f);
    sh('python3', ['-m', 'zipfile', '-e', join(dir, 'ours.zip'), join(dir, 'ours')]);
    writeFileSync(join(dir, 'allowed'), `expert ${expert.publicKey}`);
    const v = sh(
      'ssh-keygen',
      [
        '-Y',
        'verify',
        '-f',
        join(dir, 'allowed'),
        '-I',
        'expert',
        '-n',
        'airlock',
        '-s',
        join(dir, 'ours/manifest.json.sig'),
      ],
      readFileSync(join(dir, 'ours/manifest.json')),
    ).toString();
    expect(v).toContain('Good "airlock" signature');
  });

  test('a bundle made by hand with zip, ssh-keygen -Y sign and age -r opens', async () => {
    const b = await openBundle(handMade(), owner.identity, { expert: readFileSync(join(dir, 'hand.pub'), 'utf8') });
    expect(b.manifest.name).toBe('handmade');
    expect(b.wheels[0]!.bytes).toEqual(wheel.bytes);
  });

  test('a bundle zipped by Info-ZIP (deflate, directory entries) opens', async () => {
    handMade(); // writes manifest.json and its signature into dir
    const root = join(dir, 'tree');
    rmSync(root, { recursive: true, force: true });
    sh('mkdir', ['-p', join(root, 'notebook'), join(root, 'wheels')]);
    writeFileSync(join(root, 'manifest.json'), readFileSync(join(dir, 'manifest.json')));
    writeFileSync(join(root, 'manifest.json.sig'), readFileSync(join(dir, 'manifest.json.sig')));
    writeFileSync(join(root, 'notebook/train.ipynb'), notebook);
    writeFileSync(join(root, `wheels/${wheel.filename}`), wheel.bytes);
    rmSync(join(dir, 'info.zip'), { force: true });
    execFileSync('zip', ['-q', '-r', join(dir, 'info.zip'), '.'], { cwd: root });
    const sealed = new Uint8Array(sh('age', ['-r', owner.recipient, join(dir, 'info.zip')]));
    expect((await openBundle(sealed, owner.identity)).manifest.name).toBe('handmade');
  });

  test('a key file from age-keygen opens our bundles', async () => {
    sh('age-keygen', ['-o', join(dir, 'agekeygen.key')]);
    const id = readFileSync(join(dir, 'agekeygen.key'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const recipient = sh('age-keygen', ['-y', join(dir, 'agekeygen.key')])
      .toString()
      .trim();
    const { stream } = await sealBundle({
      recipient,
      signer: expert.key,
      name: 'x',
      version: '1',
      notebook: { filename: 'n.ipynb', bytes: notebook },
      wheels: [],
    });
    expect((await openBundle(await collect(stream), id)).manifest.name).toBe('x');
  });

  test('an expert key made by ssh-keygen signs bundles', async () => {
    const key = parsePrivateKey(readFileSync(join(dir, 'hand'), 'utf8'));
    const b = await openBundle(await seal({ signer: key }), owner.identity, {
      expert: readFileSync(join(dir, 'hand.pub'), 'utf8'),
    });
    expect(b.signer).toBe(
      execFileSync('ssh-keygen', ['-lf', join(dir, 'hand.pub')])
        .toString()
        .split(' ')[1],
    );
  });
});

describe('bad input: one-line errors naming the problem', () => {
  test('wrong key', async () => {
    const other = await generateOwnerKey();
    expect(await refused(await seal(), 'wrong-key', {}, other.identity)).toContain('sealed for another room');
  });

  test('a flipped byte anywhere — header, body, end — is caught', async () => {
    const good = await seal();
    const headerEnd = new TextDecoder().decode(good.subarray(0, 400)).indexOf('\n---') + 4;
    for (const at of [5, 30, headerEnd + 10, headerEnd + 60, Math.floor(good.length / 2), good.length - 3]) {
      const bad = good.slice();
      bad[at]! ^= 0x20;
      await expect(openBundle(bad, owner.identity), `byte ${at}`).rejects.toBeInstanceOf(BundleError);
    }
  });

  test('truncated, at a chunk boundary or inside a chunk', async () => {
    const good = await seal();
    for (const cut of [100, 17, good.length - 300]) {
      const e = await openBundle(good.subarray(0, good.length - cut), owner.identity).catch((x: BundleError) => x);
      expect(e).toBeInstanceOf(BundleError);
      expect(['truncated', 'tampered']).toContain((e as BundleError).code);
      expect((e as Error).message).toMatch(/truncated|changed/);
    }
  });

  test('an empty file and a file that is not age', async () => {
    expect(await refused(new Uint8Array(0), 'empty')).toContain('empty');
    expect(await refused(new TextEncoder().encode('PK\u0003\u0004 not encrypted'), 'not-age')).toContain(
      'not age-encrypted',
    );
  });

  test('missing signature, and a signature by a key other than the named author', async () => {
    expect(await refused(handMade({ sign: false }), 'unsigned')).toContain('not signed');
    const forged = handMade({
      manifest: (m) => ((m.author as { fingerprint: string }).fingerprint = 'SHA256:' + 'A'.repeat(43)),
    });
    expect(await refused(forged, 'bad-signature')).toContain('was signed by');
  });

  test('a manifest changed after signing', async () => {
    const b = handMade();
    const sig = readFileSync(join(dir, 'manifest.json.sig'));
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.outputs = ['model.json', 'patients.csv'];
    const changed = new TextEncoder().encode(JSON.stringify(m, null, 2));
    const bad = handMade({
      entries: [
        { name: 'manifest.json', data: changed },
        { name: 'manifest.json.sig', data: sig },
        { name: 'notebook/train.ipynb', data: notebook },
        { name: `wheels/${wheel.filename}`, data: wheel.bytes },
      ],
    });
    expect(b.length).toBeGreaterThan(0);
    expect(await refused(bad, 'bad-signature')).toContain('signature is invalid');
  });

  test('an unknown signer when the expert is pinned', async () => {
    const msg = await refused(handMade(), 'unknown-signer', { expert: expert.publicKey });
    expect(msg).toContain('not by the expert you trust');
  });

  test('a wheel whose hash differs from the manifest', async () => {
    const tampered = wheel.bytes.slice();
    tampered[tampered.length - 30]! ^= 1;
    const msg = await refused(
      handMade({ manifest: (m) => ((m.wheels as Array<{ sha256: string }>)[0]!.sha256 = sha(tampered)) }),
      'hash-mismatch',
    );
    expect(msg).toContain(`wheels/${wheel.filename} does not match`);
  });

  test.each([
    ['../evil.py', 'unsafe path'],
    ['/etc/passwd', 'unsafe path'],
    ['wheels\\x.whl', 'unsafe path'],
  ])('a zip entry named %s', async (name, message) => {
    const bad = handMade({
      entries: [
        { name: 'manifest.json', data: new Uint8Array([123, 125]) },
        { name, data: new Uint8Array([1]) },
      ],
    });
    expect(await refused(bad, 'bad-zip')).toContain(message);
  });

  test('duplicate names', async () => {
    const bad = handMade({
      entries: [
        { name: 'manifest.json', data: new Uint8Array([1]) },
        { name: 'manifest.json', data: new Uint8Array([2]) },
      ],
    });
    expect(await refused(bad, 'bad-zip')).toContain('appears twice');
  });

  test('a zip bomb (ratio) and an entry that lies about its size', async () => {
    const zeros = new Uint8Array(20 * 1024 * 1024);
    expect(
      await refused(handMade({ entries: [{ name: 'notebook/x.ipynb', data: zeros, deflate: true }] }), 'bad-zip'),
    ).toContain('zip bomb');
    const text = new TextEncoder().encode('x'.repeat(5000));
    expect(
      await refused(
        handMade({ entries: [{ name: 'notebook/x.ipynb', data: text, deflate: true }], lieSize: 'notebook/x.ipynb' }),
        'bad-zip',
      ),
    ).toMatch(/different size|zip bomb|disagree on its size/);
  });

  test('a file the manifest does not list, and a listed file that is missing', async () => {
    handMade();
    const manifestBytes = readFileSync(join(dir, 'manifest.json'));
    const sig = readFileSync(join(dir, 'manifest.json.sig'));
    const base = [
      { name: 'manifest.json', data: manifestBytes },
      { name: 'manifest.json.sig', data: sig },
      { name: 'notebook/train.ipynb', data: notebook },
    ];
    expect(
      await refused(
        handMade({
          entries: [
            ...base,
            { name: `wheels/${wheel.filename}`, data: wheel.bytes },
            { name: 'extra.py', data: new Uint8Array([1]) },
          ],
        }),
        'extra-file',
      ),
    ).toContain('extra.py');
    expect(await refused(handMade({ entries: base }), 'missing-file')).toContain(`wheels/${wheel.filename}`);
  });

  test('a 0-byte file in the bundle is checked like any other', async () => {
    const empty = new Uint8Array(0);
    const bad = handMade({
      manifest: (m) => ((m.notebook as { sha256: string; size: number }).sha256 = sha(notebook)),
      entries: undefined,
    });
    expect(bad.length).toBeGreaterThan(0);
    handMade();
    const manifestBytes = readFileSync(join(dir, 'manifest.json'));
    const sig = readFileSync(join(dir, 'manifest.json.sig'));
    const zeroed = handMade({
      entries: [
        { name: 'manifest.json', data: manifestBytes },
        { name: 'manifest.json.sig', data: sig },
        { name: 'notebook/train.ipynb', data: empty },
        { name: `wheels/${wheel.filename}`, data: wheel.bytes },
      ],
    });
    expect(await refused(zeroed, 'hash-mismatch')).toContain('notebook/train.ipynb');
  });

  test('a future format version', async () => {
    expect(await refused(handMade({ manifest: (m) => (m.formatVersion = 3) }), 'future-format')).toContain(
      'update Airlock',
    );
  });

  test('a manifest with unknown fields or bad values', async () => {
    expect(await refused(handMade({ manifest: (m) => (m.run_this = 'rm -rf') }), 'bad-manifest')).toContain(
      'unknown field',
    );
    expect(await refused(handMade({ manifest: (m) => (m.version = 'latest') }), 'bad-manifest')).toContain('version');
  });

  test('sealing refuses what would not open', async () => {
    await expect(seal({ notebook: { filename: 'x.py', bytes: notebook } })).rejects.toThrow('must be an .ipynb');
    await expect(seal({ notebook: { filename: 'x.ipynb', bytes: new TextEncoder().encode('{}') } })).rejects.toThrow(
      'not a Jupyter notebook',
    );
    await expect(seal({ wheels: [{ filename: 'model.zip', bytes: wheel.bytes }] })).rejects.toThrow(
      'not a wheel file name',
    );
    await expect(seal({ recipient: 'age1nope' })).rejects.toThrow('not an age recipient');
    await expect(seal({ version: 'v one' })).rejects.toThrow('version');
  });
});

describe('fuzz', () => {
  test(`random and mutated bundles only ever give a BundleError, quickly (${process.env.AIRLOCK_FUZZ ?? 2000} cases)`, async () => {
    const n = Number(process.env.AIRLOCK_FUZZ ?? 2000);
    const good = await seal();
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      let input: Uint8Array;
      const kind = i % 4;
      if (kind === 0) input = crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 400)));
      else if (kind === 1) {
        input = good.slice();
        // 1–8 distinct positions, each really changed (XOR with a non-zero byte): never a no-op.
        const at = new Set<number>();
        for (let k = 1 + Math.floor(rand() * 8); at.size < k;) at.add(Math.floor(rand() * input.length));
        for (const j of at) input[j]! ^= 1 + Math.floor(rand() * 255);
      } else if (kind === 2) input = good.subarray(0, Math.floor(rand() * good.length));
      else {
        const head = new TextEncoder().encode('age-encryption.org/v1\n');
        input = new Uint8Array([...head, ...crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 300)))]);
      }
      try {
        await openBundle(input, owner.identity);
        const changed = [...input].flatMap((b, j) => (b !== good[j] ? [`${j}: ${good[j]}→${b}`] : []));
        throw new Error(
          `case ${i} (kind ${kind}) opened; changed bytes ${changed.join(', ') || 'none'} of ${good.length}`,
        );
      } catch (e) {
        if (!(e instanceof BundleError))
          throw new Error(`case ${i} (kind ${kind}) threw ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
      }
    }
    expect(Date.now() - t0).toBeLessThan(60_000 * Math.max(1, n / 2000));
  });
});

describe('versions', () => {
  test('compareVersions orders numerically with pre-releases first', () => {
    expect(compareVersions('1.10', '1.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0', '1.0.0')).toBe(0);
    expect(compareVersions('2.0rc1', '2.0')).toBeLessThan(0);
    expect(compareVersions('0.9', '1')).toBeLessThan(0);
  });

  test('decideImport: newer replaces, older or equal is refused unless forced, other keys are refused', () => {
    const have = [
      { name: 'm', version: '1.2', signer: 'SHA256:a' },
      { name: 'm', version: '1.0', signer: 'SHA256:a' },
    ];
    expect(decideImport(have, { name: 'm', version: '1.3', signer: 'SHA256:a' }, { pinned: 'SHA256:a' })).toEqual({
      accept: true,
      replaces: '1.2',
    });
    expect(decideImport(have, { name: 'm', version: '1.2', signer: 'SHA256:a' })).toMatchObject({
      accept: false,
      reason: 'not-newer',
    });
    expect(decideImport(have, { name: 'm', version: '1.1', signer: 'SHA256:a' }, { force: true })).toMatchObject({
      accept: true,
      replaces: '1.2',
    });
    expect(decideImport(have, { name: 'm', version: '9', signer: 'SHA256:b' }, { pinned: 'SHA256:a' })).toMatchObject({
      accept: false,
      reason: 'unknown-signer',
    });
    expect(decideImport(have, { name: 'other', version: '0.1', signer: 'SHA256:a' })).toEqual({ accept: true });
  });
});

describe('streaming', () => {
  test('sealing streams chunks; opening keeps the bundle in one buffer of its exact size', async () => {
    const size = 48 * 1024 * 1024;
    const big = new Uint8Array(size);
    for (let o = 0; o < size; o += 65536) crypto.getRandomValues(big.subarray(o, Math.min(size, o + 65536)));
    const { stream } = await sealBundle({
      recipient: owner.recipient,
      signer: expert.key,
      name: 'big',
      version: '1',
      notebook: { filename: 'n.ipynb', bytes: notebook },
      wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: big }],
    });
    const path = join(dir, 'big.airlock');
    const { openAsBlob, statSync } = await import('node:fs');
    const { writeStreamToFile } = await import('../../src/cli/io.ts');
    let largest = 0;
    let peak = 0;
    // What is held, not garbage not yet collected: a collection before each sample.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
    gc();
    const base = process.memoryUsage().arrayBuffers;
    const timer = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }, 10);
    // The CLI's writer: each chunk written before the next is asked for.
    await writeStreamToFile(
      stream.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(c, ctl) {
            largest = Math.max(largest, c.length);
            ctl.enqueue(c);
          },
        }),
      ),
      path,
    );
    clearInterval(timer);
    // Ciphertext goes out in pieces of at most 4 of age's sealed 64 KiB chunks, never as one piece.
    expect(largest).toBeLessThanOrEqual(4 * (64 * 1024 + 16));
    expect(peak, `peak memory held while sealing ${size} bytes, beyond the input`).toBeLessThan(size * 0.25);

    const sealedSize = statSync(path).size;
    const b = await openBundle(
      { stream: (await openAsBlob(path)).stream() as ReadableStream<Uint8Array>, size: sealedSize },
      owner.identity,
    );
    // Every file is a view into one buffer exactly as large as the plaintext zip: one copy.
    expect(b.wheels[0]!.bytes.buffer).toBe(b.notebook.buffer);
    expect(b.wheels[0]!.bytes.buffer.byteLength).toBeLessThan(size + 64 * 1024);
    expect(b.wheels[0]!.bytes.length).toBe(size);
  });
});
