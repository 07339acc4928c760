/**
 * Bundle throughput in Node, each beside its baselines in the same run: raw ChaCha20-Poly1305
 * (@noble/ciphers, 64 KiB chunks — the cipher age's STREAM uses), and the native `age` program
 * encrypting and decrypting the same file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeStreamToFile } from '../../src/cli/io.ts';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { openBundle, sealBundle } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey, formatIdentityFile } from '../../src/lib/crypto/index.ts';
import { buildWheel } from '../../src/lib/wheel/index.ts';
import { launchBrowser, openApp, startStaticServer } from '../browser/harness.ts';
import type { BenchRow } from './report.ts';

const MB = 1024 * 1024;

async function time(f: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

/**
 * In Chromium, through the app: seal and open a 100 MB bundle (raw ChaCha20-Poly1305 on the same
 * bytes in the same page as the baseline), then open → sandbox ready with a 100 MB wheel installed.
 */
async function benchBundleChromium(log: (s: string) => void, identity: string, signingKey: string): Promise<BenchRow[]> {
  const browser = await launchBrowser();
  const server = await startStaticServer();
  try {
    const { page } = await openApp(browser, server);
    // The room key is the Node run's key, restored into the browser (as an owner would from a backup).
    const recipient = (await page.evaluate((b) => (window as any).airlock.room.restore(b), `${identity}\n`)).recipient as string;
    const r = await page.evaluate(
      async ({ recipient, signingKey }) => {
        const a = (window as any).airlock;
        const size = 100 * 1024 * 1024;
        const data = new Uint8Array(size);
        for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
        const notebook = { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}') };
        let t = performance.now();
        const sealed = await a.sealBundle({ recipient, signingKey, name: 'big', version: '1', notebook, wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }] });
        const seal = performance.now() - t;
        t = performance.now();
        await a.inspectBundle(sealed);
        const open = performance.now() - t;
        return { seal, open, size };
      },
      { recipient, signingKey },
    );
    log(`  chromium seal ${(r.size / MB / (r.seal / 1000)).toFixed(0)} MB/s, open ${(r.size / MB / (r.open / 1000)).toFixed(0)} MB/s`);
    // Open → ready: a real 100 MB wheel (a package with a 100 MB data file), stored uncompressed.
    const wheel = buildWheel({ name: 'bigmodel', version: '1.0', files: { 'bigmodel/__init__.py': 'X = 1\n', 'bigmodel/weights.bin': randomBytes(100 * MB) } }, { level: 0 });
    const sealed = await page.evaluate(
      async ({ recipient, signingKey, wheel, filename }) => {
        const bytes = new Uint8Array(await (await fetch(wheel)).arrayBuffer());
        const s = await (window as any).airlock.sealBundle({ recipient, signingKey, name: 'bigmodel', version: '1', notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"cells":[]}') }, wheels: [{ filename, bytes }] });
        (window as any).__sealed = s;
        return s.length;
      },
      { recipient, signingKey, wheel: (server.routes.set('/bench/wheel.whl', { type: 'application/octet-stream', body: Buffer.from(wheel.bytes) }), '/bench/wheel.whl'), filename: wheel.filename },
    );
    const ready = await page.evaluate(() => (window as any).airlock.openAndPrepare((window as any).__sealed));
    log(`  chromium open → sandbox ready with a ${(sealed / MB).toFixed(0)} MB bundle: ${ready.readyMs.toFixed(0)} ms (open ${ready.openMs.toFixed(0)} ms)`);
    return [
      { section: 'bundle (Chromium)', name: 'seal 100 MB bundle in the page', value: r.size / MB / (r.seal / 1000), unit: 'MB/s' },
      { section: 'bundle (Chromium)', name: 'open 100 MB bundle in the page', value: r.size / MB / (r.open / 1000), unit: 'MB/s' },
      { section: 'bundle (Chromium)', name: 'open → sandbox ready, 100 MB bundle (cold boot, wheel installed)', value: ready.readyMs, unit: 'ms', goal: '< 2000 ms' },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

export async function benchBundle(log: (s: string) => void): Promise<BenchRow[]> {
  const size = 100 * MB;
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  try {
    const data = new Uint8Array(size);
    for (let o = 0; o < size; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
    const owner = await generateOwnerKey();
    const expert = generateSshKey();
    writeFileSync(join(dir, 'owner.key'), formatIdentityFile(owner));
    writeFileSync(join(dir, 'plain.bin'), data);
    const notebook = new TextEncoder().encode('{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}');
    const path = join(dir, 'b.airlock');

    // Raw cipher: what the format's encryption costs at its floor.
    const key = crypto.getRandomValues(new Uint8Array(32));
    const nonce = new Uint8Array(12);
    const raw = await time(() => {
      for (let o = 0; o < size; o += 65536) chacha20poly1305(key, nonce).encrypt(data.subarray(o, o + 65536));
    });
    log(`  raw chacha20-poly1305: ${(size / MB / raw).toFixed(0)} MB/s`);

    const sealS = await time(async () => {
      const { stream } = await sealBundle({ recipient: owner.recipient, signer: expert.key, name: 'b', version: '1', notebook: { filename: 'n.ipynb', bytes: notebook }, wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: data }] });
      await writeStreamToFile(stream, path);
    });
    log(`  seal: ${(size / MB / sealS).toFixed(0)} MB/s`);
    let peak = 0;
    const base = process.memoryUsage().rss;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - base)), 5);
    const openS = await time(async () => {
      const b = await openBundle({ stream: (await openAsBlob(path)).stream() as ReadableStream<Uint8Array>, size: statSync(path).size }, owner.identity);
      if (b.wheels[0]!.bytes.length !== size) throw new Error('bad open');
    });
    clearInterval(timer);
    log(`  open: ${(size / MB / openS).toFixed(0)} MB/s, peak extra RSS ${(peak / MB).toFixed(0)} MB`);

    const ageEnc = await time(() => execFileSync('age', ['-r', owner.recipient, '-o', join(dir, 'native.age'), join(dir, 'plain.bin')]));
    const ageDec = await time(() => execFileSync('age', ['-d', '-i', join(dir, 'owner.key'), '-o', join(dir, 'native.out'), join(dir, 'native.age')]));
    const rawRate = size / MB / raw;
    return [
      { section: 'bundle (Node)', name: 'seal 100 MB bundle', value: size / MB / sealS, unit: 'MB/s', baseline: rawRate, baselineName: 'raw ChaCha20-Poly1305, 64 KiB chunks', ratio: raw / sealS, goal: '≥ 0.90×' },
      { section: 'bundle (Node)', name: 'open 100 MB bundle (decrypt, unzip, verify, hash)', value: size / MB / openS, unit: 'MB/s', baseline: rawRate, baselineName: 'raw ChaCha20-Poly1305, 64 KiB chunks', ratio: raw / openS, goal: '≥ 0.90×' },
      { section: 'bundle (Node)', name: 'native age encrypt, same file', value: size / MB / ageEnc, unit: 'MB/s' },
      { section: 'bundle (Node)', name: 'native age decrypt, same file', value: size / MB / ageDec, unit: 'MB/s' },
      { section: 'bundle (Node)', name: 'peak extra RSS while opening 100 MB', value: peak / MB, unit: 'MB', goal: '≈ one copy (100 MB)' },
      ...(await benchBundleChromium(log, owner.identity, expert.privateKey)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
