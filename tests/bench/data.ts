/**
 * Ingest benchmarks on the real diabetes data and on a generated 1M-row (~100 MB) CSV, each beside
 * a naive parse-only baseline measured in the same run (`text.split('\n').map(l => l.split(','))`):
 *  - Node: read + parse + type + build columns (no storage);
 *  - Chromium: the app's whole path (read, parse, type, store as IndexedDB column chunks), and the
 *    time to hand the stored 1M-row table to Python in the sandbox.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../src/lib/data/index.ts';
import { launchBrowser, openApp, startStaticServer } from '../browser/harness.ts';
import { DIABETES_ZIP } from '../unit/fixtures/data.ts';
import type { BenchRow } from './report.ts';

const MB = 1024 * 1024;

function generated(rows: number): string {
  let seed = 7;
  const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const wards = ['cardiology', 'general', 'neurology', 'oncology', 'surgery'];
  const out = ['id,age,weight,ward,admitted,readmitted,score,notes'];
  for (let i = 0; i < rows; i++) {
    out.push(`${1_000_000 + i},${20 + Math.floor(r() * 70)},${(50 + r() * 60).toFixed(1)},${wards[Math.floor(r() * 5)]},2024-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)},${r() < 0.2 ? 'true' : 'false'},${r().toFixed(6)},${r() < 0.1 ? '"follow up, call"' : 'none given'}`);
  }
  return out.join('\n') + '\n';
}

function splitBaseline(text: string): number {
  return text.split('\n').map((l) => l.split(',')).length;
}

export async function benchData(log: (s: string) => void): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-data-'));
  const rows: BenchRow[] = [];
  try {
    execFileSync('python3', ['-m', 'zipfile', '-e', DIABETES_ZIP, dir]);
    const files = [
      { label: 'diabetes (19 MB, 101,766 rows)', path: join(dir, 'dataset_diabetes/diabetic_data.csv') },
      { label: 'generated (1M rows)', path: join(dir, 'generated.csv') },
    ];
    writeFileSync(files[1]!.path, generated(1_000_000));
    for (const f of files) {
      const size = statSync(f.path).size;
      const blob = await openAsBlob(f.path);
      let best = Infinity;
      let base = Infinity;
      let rowCount = 0;
      for (let k = 0; k < 3; k++) {
        let t = performance.now();
        const table = await ingest({ name: 'x.csv', size, stream: () => blob.stream() as ReadableStream<Uint8Array> });
        best = Math.min(best, performance.now() - t);
        rowCount = table.rowCount;
        t = performance.now();
        splitBaseline(new TextDecoder().decode(readFileSync(f.path)));
        base = Math.min(base, performance.now() - t);
      }
      log(`  node ${f.label}: ${((size / MB) / (best / 1000)).toFixed(1)} MB/s vs split ${((size / MB) / (base / 1000)).toFixed(1)} MB/s`);
      rows.push({ section: 'data (Node)', name: `parse + type + columns, ${f.label}`, value: size / MB / (best / 1000), unit: 'MB/s', baseline: size / MB / (base / 1000), baselineName: 'split-based parse only', ratio: base / best, goal: '≥ 1.0×', note: `${(rowCount / (best / 1000) / 1e6).toFixed(2)} M rows/s` });
    }

    // Chromium: the whole path through the app, and the 1M-row table into Python.
    const browser = await launchBrowser();
    const server = await startStaticServer();
    try {
      for (const f of files) server.routes.set(`/bench/${f.path.split('/').pop()}`, { type: 'text/csv', body: readFileSync(f.path) });
      const { page } = await openApp(browser, server);
      for (const f of files) {
        const name = f.path.split('/').pop()!;
        const r = await page.evaluate(async (name) => {
          const bytes = new Uint8Array(await (await fetch(`/bench/${name}`)).arrayBuffer());
          // Baseline on the same bytes in the same page.
          let t = performance.now();
          new TextDecoder().decode(bytes).split('\n').map((l) => l.split(','));
          const split = performance.now() - t;
          const heap0 = (performance as any).memory?.usedJSHeapSize ?? 0;
          t = performance.now();
          const meta = await (window as any).airlock.data.load({ name, bytes }, { name: name.replace('.csv', ''), replace: true });
          const total = performance.now() - t;
          const heap1 = (performance as any).memory?.usedJSHeapSize ?? 0;
          return { split, total, rows: meta.rowCount, size: bytes.length, heap: heap1 - heap0 };
        }, name);
        log(`  chromium ${f.label}: ${((r.size / MB) / (r.total / 1000)).toFixed(1)} MB/s end to end vs split ${((r.size / MB) / (r.split / 1000)).toFixed(1)} MB/s`);
        rows.push({ section: 'data (Chromium)', name: `read + parse + type + store in IndexedDB, ${f.label}`, value: r.size / MB / (r.total / 1000), unit: 'MB/s', baseline: r.size / MB / (r.split / 1000), baselineName: 'split-based parse only', ratio: r.split / r.total, goal: '≥ 1.0×', note: `${(r.rows / (r.total / 1000) / 1e6).toFixed(2)} M rows/s` });
      }
      const py = await page.evaluate(async () => {
        const t0 = performance.now();
        const r = await (window as any).airlock.run({
          notebook: JSON.stringify({ nbformat: 4, cells: [{ cell_type: 'code', source: 'import airlock, time\nt0 = time.perf_counter()\nt = airlock.table("generated")\ncols = [t.column(c) for c in t.columns]\nprint(len(t), round((time.perf_counter() - t0) * 1000))' }] }),
          storedTables: ['generated'],
        });
        return { total: performance.now() - t0, text: r.logs[0]?.text ?? r.message, boot: r.bootMs, run: r.totalMs };
      });
      const pythonMs = Number(String(py.text).split(' ')[1]);
      log(`  1M rows into Python: ${pythonMs} ms inside Python (${py.text})`);
      rows.push({ section: 'data (Chromium)', name: '1M-row table (8 columns) as Python arrays/lists, inside Python', value: pythonMs, unit: 'ms', goal: '< 1000 ms' });
    } finally {
      await browser.close();
      await server.close();
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
