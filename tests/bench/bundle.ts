/**
 * Bundle throughput in Node, each beside its baselines in the same run: raw ChaCha20-Poly1305
 * (@noble/ciphers, 64 KiB chunks — the cipher age's STREAM uses), and the native `age` program
 * encrypting and decrypting the same file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileChunks, writeStreamToFile } from '../../src/cli/io.ts';
import { startNodeLanes } from '../../src/cli/lanes.ts';
import type { ChunkLanes } from '../../src/lib/crypto/index.ts';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { openBundle, sealBundle } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey, formatIdentityFile } from '../../src/lib/crypto/index.ts';
import { buildWheel } from '../../src/lib/wheel/index.ts';
import { ROOT, launchBrowser, openApp, startStaticServer } from '../browser/harness.ts';
import { traceSums, type Trace } from '../../src/lib/workers/index.ts';
import { stageRows, type BenchRow } from './report.ts';

const MB = 1024 * 1024;

async function time(f: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

/**
 * `AIRLOCK_BENCH_CPU_THROTTLE=N`: Chromium's CPU throttling (DevTools' "N× slowdown") on a page, to
 * see how a path fares on a slower machine. The baselines in the same page are throttled alike.
 */
export async function throttle(page: import('playwright-core').Page): Promise<void> {
  const rate = Number(process.env.AIRLOCK_BENCH_CPU_THROTTLE ?? 1);
  if (rate > 1) await (await page.context().newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate });
}

/** A module as one classic script, for a blank page or a blob worker. */
async function classicScript(entry: string): Promise<string> {
  const { rolldown } = await import('rolldown');
  const bundle = await rolldown({ input: join(ROOT, entry), platform: 'browser', logLevel: 'silent' });
  try {
    return (await bundle.generate({ format: 'iife' })).output[0].code;
  } finally {
    await bundle.close();
  }
}

/**
 * In Chromium: seal and open a 100 MB bundle with the library code in a blank page, beside raw
 * ChaCha20-Poly1305 in the same page; then, through the built app, open → sandbox ready with a
 * 100 MB wheel installed, cold (no start-up snapshot) and warm (snapshot stored, as after the
 * app's first visit).
 */
export async function benchBundleChromium(
  log: (s: string) => void,
  identity: string,
  signingKey: string,
  repeats: number,
): Promise<BenchRow[]> {
  const browser = await launchBrowser();
  const server = await startStaticServer();
  try {
    server.routes.set('/bench/blank.html', { type: 'text/html', body: '<!doctype html><title>bench</title>' });
    const blank = await (await browser.newContext()).newPage();
    await throttle(blank);
    await blank.goto(`${server.origin}/bench/blank.html`);
    await blank.addScriptTag({ content: await classicScript('tests/bench/page-bundle.ts') });
    const laneCode = await classicScript('src/app/lane-worker.ts');
    const r = (await blank.evaluate(
      `benchBundlePage(${JSON.stringify(signingKey)}, ${repeats}, ${JSON.stringify(laneCode)})`,
    )) as {
      size: number;
      raw: number;
      seal: number;
      open: number;
      sealLanes: number;
      openLanes: number;
      lanes: number;
      walls: Record<'seal' | 'open' | 'sealLanes' | 'openLanes', number>;
      stages: Record<'seal' | 'open' | 'sealLanes' | 'openLanes', Record<string, Record<string, number>>>;
    };
    const rate = (ms: number) => r.size / MB / (ms / 1000);
    const pageRaw = {
      baseline: rate(r.raw),
      baselineName: 'raw ChaCha20-Poly1305, 64 KiB chunks, same page, one thread',
    };
    log(
      `  chromium raw ${rate(r.raw).toFixed(0)} MB/s; one thread: seal ${rate(r.seal).toFixed(0)}, open ${rate(r.open).toFixed(0)} MB/s; ${r.lanes} lanes: seal ${rate(r.sealLanes).toFixed(0)}, open ${rate(r.openLanes).toFixed(0)} MB/s`,
    );

    const pageRows: BenchRow[] = [
      {
        section: 'bundle (Chromium)',
        name: `seal 100 MB bundle in the page, as the app does (${r.lanes} cipher workers; median of ${repeats})`,
        value: rate(r.sealLanes),
        unit: 'MB/s',
        ...pageRaw,
        ratio: r.raw / r.sealLanes,
        goal: '≥ 0.90×',
      },
      {
        section: 'bundle (Chromium)',
        name: `open 100 MB bundle in the page, as the app does (${r.lanes} cipher workers)`,
        value: rate(r.openLanes),
        unit: 'MB/s',
        ...pageRaw,
        ratio: r.raw / r.openLanes,
        goal: '≥ 0.90×',
      },
      {
        section: 'bundle (Chromium)',
        name: 'seal 100 MB bundle in the page, on one thread',
        value: rate(r.seal),
        unit: 'MB/s',
        ...pageRaw,
        ratio: r.raw / r.seal,
      },
      {
        section: 'bundle (Chromium)',
        name: 'open 100 MB bundle in the page, on one thread',
        value: rate(r.open),
        unit: 'MB/s',
        ...pageRaw,
        ratio: r.raw / r.open,
      },
    ];
    const pageStages: BenchRow[] = [
      ...stageRows(
        'bundle (Chromium)',
        `seal, ${r.lanes} cipher workers`,
        r.stages.sealLanes,
        r.walls.sealLanes,
        repeats,
      ),
      ...stageRows(
        'bundle (Chromium)',
        `open, ${r.lanes} cipher workers`,
        r.stages.openLanes,
        r.walls.openLanes,
        repeats,
      ),
      ...stageRows('bundle (Chromium)', 'seal, one thread', r.stages.seal, r.walls.seal, repeats),
      ...stageRows('bundle (Chromium)', 'open, one thread', r.stages.open, r.walls.open, repeats),
    ];
    // AIRLOCK_BENCH_READY=0: the page's rows only (open → sandbox ready starts Python, which takes long).
    if (process.env.AIRLOCK_BENCH_READY === '0') return [...pageRows, ...pageStages];

    const { page } = await openApp(browser, server);
    await throttle(page);
    // The room key is the Node run's key, restored into the browser (as an owner would from a backup).
    const room = (await page.evaluate((b) => (window as any).airlock.rooms.restore(b), `${identity}\n`)).restored[0];
    const recipient = room.recipient as string;
    // A real 100 MB wheel (a package with a 100 MB data file), stored uncompressed.
    const wheel = buildWheel(
      {
        name: 'bigmodel',
        version: '1.0',
        files: { 'bigmodel/__init__.py': 'X = 1\n', 'bigmodel/weights.bin': randomBytes(100 * MB) },
      },
      { level: 0 },
    );
    server.routes.set('/bench/wheel.whl', { type: 'application/octet-stream', body: Buffer.from(wheel.bytes) });
    const sealed = await page.evaluate(
      async ({ recipient, signingKey, filename }) => {
        const bytes = new Uint8Array(await (await fetch('/bench/wheel.whl')).arrayBuffer());
        const s = await (window as any).airlock.sealBundle({
          recipient,
          signingKey,
          name: 'bigmodel',
          version: '1',
          notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"cells":[]}') },
          wheels: [{ filename, bytes }],
        });
        (window as any).__sealed = s;
        return s.length;
      },
      { recipient, signingKey, filename: wheel.filename },
    );
    const ready = async () =>
      (await page.evaluate((id) => (window as any).airlock.openAndPrepare((window as any).__sealed, id), room.id)) as {
        openMs: number;
        checkedMs: number;
        bootedMs: number;
        readyMs: number;
      };
    await page.evaluate(() => (window as any).airlock.clearSnapshot());
    const cold = await ready();
    await page.evaluate(() => (window as any).airlock.prewarm());
    const warm: Awaited<ReturnType<typeof ready>>[] = [];
    log(`  cold: ${JSON.stringify(cold)}`);
    for (let i = 0; i < repeats; i++) warm.push(await ready());
    log(`  warm: ${JSON.stringify(warm)}`);
    const warmMs = median(warm.map((w) => w.readyMs));
    log(
      `  chromium open → ready, ${(sealed / MB).toFixed(0)} MB bundle: cold ${cold.readyMs.toFixed(0)} ms, warm ${warmMs.toFixed(0)} ms (open alone ${median(warm.map((w) => w.openMs)).toFixed(0)} ms)`,
    );
    return [
      ...pageRows,
      {
        section: 'bundle (Chromium)',
        name: 'open → sandbox ready, 100 MB bundle, warm start (snapshot stored)',
        value: warmMs,
        unit: 'ms',
        goal: '< 2000 ms',
      },
      {
        section: 'bundle (Chromium)',
        name: 'open → sandbox ready, 100 MB bundle, cold start (first visit)',
        value: cold.readyMs,
        unit: 'ms',
      },
      ...pageStages,
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A stream's pieces, kept as they come. */
async function pieces(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const p of stream as unknown as AsyncIterable<Uint8Array>) out.push(p);
  return out;
}

async function* fromPieces(ps: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* ps;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

export async function benchBundle(log: (s: string) => void): Promise<BenchRow[]> {
  const size = 100 * MB;
  const repeats = Number(process.env.AIRLOCK_BENCH_REPEATS ?? 5);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  try {
    const data = randomBytes(size);
    const owner = await generateOwnerKey();
    const expert = generateSshKey();
    writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner));
    writeFileSync(join(dir, 'plain.bin'), data);
    const notebook = new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
    const path = join(dir, 'b.airlock');
    const seal = (lanes?: ChunkLanes, trace?: Trace) =>
      sealBundle(
        {
          recipient: owner.recipient,
          signer: expert.key,
          name: 'b',
          version: '1',
          notebook: { filename: 'n.ipynb', bytes: notebook },
          wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }],
        },
        { lanes, trace },
      );
    const t: Record<
      'raw' | 'seal' | 'sealFile' | 'open' | 'openFile' | 'sealThreads' | 'openThreads' | 'ageEnc' | 'ageDec',
      number[]
    > = {
      raw: [],
      seal: [],
      sealFile: [],
      open: [],
      openFile: [],
      sealThreads: [],
      openThreads: [],
      ageEnc: [],
      ageDec: [],
    };
    // Where the time goes, summed over the measured runs (the breakdown table).
    const traces = { seal: traceSums(), open: traceSums(), sealThreads: traceSums(), openThreads: traceSums() };
    // Alternating, so that the machine's drift touches every measurement alike; medians reported.
    for (let i = 0; i < repeats; i++) {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const nonce = new Uint8Array(12);
      t.raw.push(
        await time(() => {
          for (let o = 0; o < size; o += 65536) chacha20poly1305(key, nonce).encrypt(data.subarray(o, o + 65536));
        }),
      );
      // The sealed bundle is kept as its pieces, as the product keeps it (the app as a Blob of them,
      // the CLI writes them to a file): joining them into one array would add a copy of 100 MB into
      // fresh memory that no product path makes.
      let sealed: Uint8Array[] = [];
      t.seal.push(await time(async () => (sealed = await pieces((await seal(undefined, traces.seal)).stream))));
      const sealedSize = sealed.reduce((n, p) => n + p.length, 0);
      t.sealFile.push(await time(async () => writeStreamToFile((await seal()).stream, path)));
      t.open.push(
        await time(async () => {
          const input = { stream: fromPieces(sealed), size: sealedSize };
          if ((await openBundle(input, owner.identity, { trace: traces.open })).wheels[0]!.bytes.length !== size)
            throw new Error('bad open');
        }),
      );
      sealed = [];
      t.openFile.push(
        await time(async () => {
          if (
            (await openBundle({ stream: readFileChunks(path), size: statSync(path).size }, owner.identity)).wheels[0]!
              .bytes.length !== size
          )
            throw new Error('bad open');
        }),
      );
      // As the CLI does for a bundle over 64 MB: cipher threads, started (and warmed) before the
      // clock — the CLI starts them while it reads and hashes its inputs.
      const threads = startNodeLanes(size);
      await new Response(
        (
          await sealBundle(
            {
              recipient: owner.recipient,
              signer: expert.key,
              name: 'w',
              version: '1',
              notebook: { filename: 'n.ipynb', bytes: notebook },
              wheels: [{ filename: 'w-1.0-py3-none-any.whl', bytes: data.subarray(0, 8 * MB) }],
            },
            { lanes: threads.lanes },
          )
        ).stream,
      ).arrayBuffer();
      try {
        let s2: Uint8Array[] = [];
        t.sealThreads.push(
          await time(async () => (s2 = await pieces((await seal(threads.lanes, traces.sealThreads)).stream))),
        );
        const s2Size = s2.reduce((n, p) => n + p.length, 0);
        t.openThreads.push(
          await time(async () => {
            if (
              (
                await openBundle({ stream: fromPieces(s2), size: s2Size }, owner.identity, {
                  lanes: threads.lanes,
                  trace: traces.openThreads,
                })
              ).wheels[0]!.bytes.length !== size
            )
              throw new Error('bad open');
          }),
        );
      } finally {
        await threads.end();
      }
      t.ageEnc.push(
        await time(() =>
          execFileSync('age', ['-r', owner.recipient, '-o', join(dir, 'native.age'), join(dir, 'plain.bin')]),
        ),
      );
      t.ageDec.push(
        await time(() =>
          execFileSync('age', [
            '-d',
            '-i',
            join(dir, 'owner.key'),
            '-o',
            join(dir, 'native.out'),
            join(dir, 'native.age'),
          ]),
        ),
      );
    }
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
    const rate = (s: number) => size / MB / s;
    log(
      `  node raw ${rate(m.raw).toFixed(0)} MB/s; seal ${rate(m.seal).toFixed(0)} (to a file ${rate(m.sealFile).toFixed(0)}, threads ${rate(m.sealThreads).toFixed(0)}); open ${rate(m.open).toFixed(0)} (from a file ${rate(m.openFile).toFixed(0)}, threads ${rate(m.openThreads).toFixed(0)}); age ${rate(m.ageEnc).toFixed(0)}/${rate(m.ageDec).toFixed(0)}`,
    );
    const vsRaw = { baseline: rate(m.raw), baselineName: 'raw ChaCha20-Poly1305, 64 KiB chunks', goal: '≥ 0.90×' };
    return [
      {
        section: 'bundle (Node)',
        name: `seal 100 MB bundle, in memory (median of ${repeats})`,
        value: rate(m.seal),
        unit: 'MB/s',
        ...vsRaw,
        ratio: m.raw / m.seal,
      },
      {
        section: 'bundle (Node)',
        name: 'open 100 MB bundle, in memory (decrypt, unzip, verify, hash)',
        value: rate(m.open),
        unit: 'MB/s',
        ...vsRaw,
        ratio: m.raw / m.open,
      },
      {
        section: 'bundle (Node)',
        name: `seal 100 MB bundle, in memory, on the CLI's ${Math.min(4, availableParallelism())} cipher threads (started before the clock)`,
        value: rate(m.sealThreads),
        unit: 'MB/s',
        ...vsRaw,
        ratio: m.raw / m.sealThreads,
      },
      {
        section: 'bundle (Node)',
        name: `open 100 MB bundle, in memory, on the CLI's cipher threads`,
        value: rate(m.openThreads),
        unit: 'MB/s',
        ...vsRaw,
        ratio: m.raw / m.openThreads,
      },
      {
        section: 'bundle (Node)',
        name: 'seal 100 MB bundle to a file',
        value: rate(m.sealFile),
        unit: 'MB/s',
        ...vsRaw,
        ratio: m.raw / m.sealFile,
        goal: '',
      },
      {
        section: 'bundle (Node)',
        name: 'open 100 MB bundle from a file',
        value: rate(m.openFile),
        unit: 'MB/s',
        ...vsRaw,
        ratio: m.raw / m.openFile,
        goal: '',
      },
      { section: 'bundle (Node)', name: 'native age encrypt, same file', value: rate(m.ageEnc), unit: 'MB/s' },
      { section: 'bundle (Node)', name: 'native age decrypt, same file', value: rate(m.ageDec), unit: 'MB/s' },
      ...(process.env.AIRLOCK_BENCH_BUNDLE === 'node'
        ? []
        : await benchBundleChromium(log, owner.identity, expert.privateKey, repeats)),
      ...stageRows('bundle (Node)', 'seal, one thread', traces.seal.stages, mean(t.seal) * 1000, repeats),
      ...stageRows('bundle (Node)', 'open, one thread', traces.open.stages, mean(t.open) * 1000, repeats),
      ...stageRows(
        'bundle (Node)',
        'seal, CLI threads',
        traces.sealThreads.stages,
        mean(t.sealThreads) * 1000,
        repeats,
      ),
      ...stageRows(
        'bundle (Node)',
        'open, CLI threads',
        traces.openThreads.stages,
        mean(t.openThreads) * 1000,
        repeats,
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
