/**
 * Ingest benchmarks on the real diabetes data and on a generated 1M-row (~100 MB) CSV, each beside
 * a naive parse-only baseline measured in the same run (`text.split('\n').map(l => l.split(','))`):
 *  - Node: read + parse + type + build columns (no storage);
 *  - Chromium: the app's whole path (read, parse, type, store as IndexedDB column chunks), and the
 *    time to hand the stored 1M-row table to Python in the sandbox.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  openAsBlob,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../src/lib/data/index.ts';
import type { Page } from 'playwright-core';
import { ROOT, launchBrowser, openApp, startStaticServer } from '../browser/harness.ts';
import { diabetesCsvPath } from '../unit/fixtures/data.ts';
import { throttle } from './bundle.ts';
import { stageRows, type BenchRow } from './report.ts';

const MB = 1024 * 1024;

/**
 * The generated file: 1M rows of 12 columns, about 100 bytes a row (integers, decimals, two
 * categories, a date and a date-time, booleans, ICD-like codes that mix numbers and text, a
 * decimal with missing values, text with quoted commas in 10% of rows).
 */
function generated(rows: number): string {
  let seed = 7;
  const r = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const wards = ['cardiology', 'general', 'neurology', 'oncology', 'surgery'];
  const payers = ['MC', 'MD', 'HM', 'SP', 'BC', 'UN', 'CP', 'CM'];
  const codes = ['250.83', '428', '414', '786', 'V57', '427', '276.01', '599', 'V45', '491'];
  const out = ['id,age,weight,ward,admitted,discharged,readmitted,score,diagnosis,lab,payer,notes'];
  const two = (n: number) => String(n).padStart(2, '0');
  for (let i = 0; i < rows; i++) {
    const month = 1 + Math.floor(r() * 9);
    const day = 10 + Math.floor(r() * 9);
    out.push(
      `${1_000_000 + i},${20 + Math.floor(r() * 70)},${(50 + r() * 60).toFixed(1)},${wards[Math.floor(r() * 5)]},2024-0${month}-${day},2024-0${month}-${day + 1} ${two(Math.floor(r() * 24))}:${two(Math.floor(r() * 60))}:00,${r() < 0.2 ? 'true' : 'false'},${r().toFixed(6)},${codes[Math.floor(r() * codes.length)]},${r() < 0.05 ? 'NA' : (r() * 200).toFixed(2)},${payers[Math.floor(r() * payers.length)]},${r() < 0.1 ? '"follow up, call"' : 'none given'}`,
    );
  }
  return out.join('\n') + '\n';
}

const DUCK_DIR = join(ROOT, 'tests/bench/duckdb');
const DUCK_DIST = join(DUCK_DIR, 'node_modules/@duckdb/duckdb-wasm/dist');

/**
 * DuckDB-wasm for the comparison, installed on demand into tests/bench/duckdb (its own lockfile) so
 * the app's install stays small; its page script bundled with rolldown. Null when it cannot be
 * installed (offline): the rows are then left out, and the log says why.
 */
async function duckdbScript(log: (s: string) => void): Promise<string | null> {
  if (process.env.AIRLOCK_BENCH_DUCKDB === '0') return null;
  try {
    if (!existsSync(DUCK_DIST)) {
      log('  installing DuckDB-wasm for the comparison (tests/bench/duckdb, npm ci)…');
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: DUCK_DIR, stdio: 'pipe' });
    }
    const { rolldown } = await import('rolldown');
    const bundle = await rolldown({ input: join(DUCK_DIR, 'page.mjs'), platform: 'browser', logLevel: 'silent' });
    try {
      return (await bundle.generate({ format: 'iife' })).output[0].code;
    } finally {
      await bundle.close();
    }
  } catch (e) {
    log(`  DuckDB-wasm is not available, its comparison is skipped: ${String((e as Error).message).split('\n')[0]}`);
    return null;
  }
}

/**
 * The renderer processes of the Chromium this process started (Linux /proc): those descending
 * from it, so that other programs' browsers on a shared machine are not counted.
 */
function rendererPids(): string[] {
  const self = String(process.pid);
  const parent = (pid: string) => /PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) return false;
      for (let p = parent(pid); p !== '0' && p !== '1'; p = parent(p)) if (p === self) return true;
      return false;
    } catch {
      return false; // the process ended meanwhile
    }
  });
}

/** Resident memory of Chromium's renderer processes, but those in `skip`, in bytes. */
function rendererRss(skip: Set<string>): number {
  let total = 0;
  for (const pid of rendererPids()) {
    if (skip.has(pid)) continue;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function splitBaseline(text: string): number {
  return text.split('\n').map((l) => l.split(',')).length;
}

export async function benchData(log: (s: string) => void): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-data-'));
  const rows: BenchRow[] = [];
  const breakdown: BenchRow[] = [];
  try {
    const files = [
      { label: 'diabetes (19 MB, 101,766 rows)', path: diabetesCsvPath() },
      { label: 'generated (1M rows)', path: join(dir, 'generated.csv') },
    ];
    writeFileSync(files[1]!.path, generated(1_000_000));
    files[1]!.label = `generated (${(statSync(files[1]!.path).size / MB).toFixed(0)} MB, 1M rows)`;
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
      log(
        `  node ${f.label}: ${(size / MB / (best / 1000)).toFixed(1)} MB/s vs split ${(size / MB / (base / 1000)).toFixed(1)} MB/s`,
      );
      rows.push({
        section: 'data (Node)',
        name: `parse + type + columns, ${f.label}`,
        value: size / MB / (best / 1000),
        unit: 'MB/s',
        baseline: size / MB / (base / 1000),
        baselineName: 'split-based parse only',
        ratio: base / best,
        goal: '≥ 1.0×',
        note: `${(rowCount / (best / 1000) / 1e6).toFixed(2)} M rows/s`,
      });
    }

    // Chromium: the whole path through the app, beside the split baseline and DuckDB-wasm in the
    // same browser and run; repeats alternate, medians are reported.
    // Medians of `repeats` alternating runs, after `warmup` unmeasured ones of each (the page's and
    // the workers' code is compiled as it runs, DuckDB's too; the split baseline is native code).
    // A fresh tab's first load is reported on its own, below.
    const repeats = Number(process.env.AIRLOCK_BENCH_REPEATS ?? 5);
    const warmup = Number(process.env.AIRLOCK_BENCH_WARMUP ?? 2);
    const duck = await duckdbScript(log);
    const browser = await launchBrowser();
    const server = await startStaticServer();
    try {
      for (const f of files)
        server.routes.set(`/bench/${f.path.split('/').pop()}`, { type: 'text/csv', body: readFileSync(f.path) });
      let duckPage: Page | undefined;
      if (duck) {
        for (const file of ['duckdb-browser-eh.worker.js', 'duckdb-eh.wasm'])
          server.routes.set(`/duck/${file}`, {
            type: file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
            body: readFileSync(join(DUCK_DIST, file)),
          });
        server.routes.set('/duck/blank.html', { type: 'text/html', body: '<!doctype html><title>duckdb</title>' });
        duckPage = await (await browser.newContext()).newPage();
        await throttle(duckPage);
        await duckPage.goto(`${server.origin}/duck/blank.html`);
        await duckPage.addScriptTag({ content: duck });
        log(`  DuckDB-wasm ${await duckPage.evaluate('duckInit("/duck/")')}`);
      }
      // DuckDB's page has renderer processes of its own: they are left out of the app's memory.
      const others = new Set(rendererPids());
      const { page } = await openApp(browser, server);
      await throttle(page);
      const cdp = await page.context().newCDPSession(page);
      for (const f of files) {
        const name = f.path.split('/').pop()!;
        const size = statSync(f.path).size;
        const t: Record<'split' | 'ours' | 'duck', number[]> = { split: [], ours: [], duck: [] };
        let peak = 0;
        let rowCount = 0;
        // Where the measured loads' time went (the breakdown table), summed by thread and stage.
        await page.evaluate(
          `window.__trace = { stages: {}, add(thread, stage, ms) { const t = (this.stages[thread] ??= {}); t[stage] = (t[stage] ?? 0) + ms; } }`,
        );
        // A fresh tab's first load: nothing compiled yet, its ingest workers started by the load.
        const fresh = await openApp(browser, server);
        await throttle(fresh.page);
        const first = (await fresh.page.evaluate(`(async () => {
          const file = new File([await (await fetch('/bench/${name}')).blob()], '${name}');
          const t = performance.now();
          await window.airlock.data.loadFile(file, { name: 'first_${name.replace('.csv', '')}', replace: true });
          return performance.now() - t;
        })()`)) as number;
        await fresh.context.close();
        for (let k = 0; k < warmup + repeats; k++) {
          const measured = k >= warmup;
          const split = (await page.evaluate(`(async () => {
              const bytes = new Uint8Array(await (await fetch('/bench/${name}')).arrayBuffer());
              const t = performance.now();
              new TextDecoder().decode(bytes).split('\\n').map((l) => l.split(','));
              return performance.now() - t;
            })()`)) as number;
          if (measured) t.split.push(split);
          // Ours: the app's whole path from a file the owner picked (a Blob: read, decode, parse,
          // type, fingerprint, IndexedDB column chunks), while the renderers' memory is sampled.
          await page.evaluate(
            `(async () => { window.__file = new File([await (await fetch('/bench/${name}')).blob()], '${name}'); })()`,
          );
          // What this load holds beyond what the page held: the baseline's garbage is collected first.
          await cdp.send('HeapProfiler.collectGarbage');
          const rss0 = rendererRss(others);
          const sampler = setInterval(() => measured && (peak = Math.max(peak, rendererRss(others) - rss0)), 20);
          const r = (await page.evaluate(`(async () => {
            const t = performance.now();
            const meta = await window.airlock.data.loadFile(window.__file, { name: '${name.replace('.csv', '')}', replace: true${measured ? ', trace: window.__trace' : ''} });
            return { ms: performance.now() - t, rows: meta.rowCount };
          })()`)) as { ms: number; rows: number };
          clearInterval(sampler);
          if (measured) t.ours.push(r.ms);
          rowCount = r.rows;
          if (duckPage) {
            const d = (await duckPage.evaluate(
              `(async () => duckLoad('${name}', new Uint8Array(await (await fetch('/bench/${name}')).arrayBuffer())))()`,
            )) as { ms: number; rows: number };
            if (d.rows !== rowCount) log(`  note: DuckDB read ${d.rows} rows, Airlock ${rowCount}`);
            if (measured) t.duck.push(d.ms);
          }
        }
        const m = { split: median(t.split), ours: median(t.ours), duck: t.duck.length ? median(t.duck) : NaN };
        const rate = (ms: number) => size / MB / (ms / 1000);
        log(
          `  chromium ${f.label}: ${rate(m.ours).toFixed(1)} MB/s end to end vs split ${rate(m.split).toFixed(1)} MB/s${duck ? `, DuckDB-wasm ${rate(m.duck).toFixed(1)} MB/s` : ''}; peak renderer memory +${(peak / MB).toFixed(0)} MB; a fresh tab's first load ${first.toFixed(0)} ms (runs after ${warmup} unmeasured, ms: ours ${t.ours.map((x) => x.toFixed(0)).join(' ')}; split ${t.split.map((x) => x.toFixed(0)).join(' ')}; DuckDB ${t.duck.map((x) => x.toFixed(0)).join(' ')})`,
        );
        const stages = (await page.evaluate('window.__trace.stages')) as Record<string, Record<string, number>>;
        const wall = t.ours.reduce((a, b) => a + b, 0) / t.ours.length;
        stageRows(
          'data (Chromium)',
          `load ${f.label}`,
          stages,
          wall,
          repeats,
          'rest (catalog, scheduling, idle)',
        ).forEach((r) => breakdown.push(r));
        const note = `${(rowCount / (m.ours / 1000) / 1e6).toFixed(2)} M rows/s, median of ${repeats} after ${warmup} unmeasured`;
        rows.push({
          section: 'data (Chromium)',
          name: `read + parse + type + store in IndexedDB, ${f.label}`,
          value: rate(m.ours),
          unit: 'MB/s',
          baseline: rate(m.split),
          baselineName: 'split-based parse only',
          ratio: m.split / m.ours,
          goal: '≥ 1.0×',
          note,
        });
        rows.push({
          section: 'data (Chromium)',
          name: `the same, a fresh tab's first load (nothing compiled yet), ${f.label}`,
          value: rate(first),
          unit: 'MB/s',
          baseline: rate(m.split),
          baselineName: 'split-based parse only',
          ratio: m.split / first,
        });
        if (duck)
          rows.push({
            section: 'data (Chromium)',
            name: `the same, against DuckDB-wasm's CSV reader into a table, ${f.label}`,
            value: rate(m.ours),
            unit: 'MB/s',
            baseline: rate(m.duck),
            baselineName: 'DuckDB-wasm read_csv_auto(sample_size = -1) → table',
            ratio: m.duck / m.ours,
            goal: '≥ 1.5×',
          });
        rows.push({
          section: 'data (Chromium)',
          name: `peak renderer memory while loading, ${f.label}`,
          value: peak / MB,
          unit: 'MB',
          note: `${(peak / size).toFixed(1)}× the file`,
          goal: '< 3× the file',
        });
      }
      const py = await page.evaluate(async () => {
        const t0 = performance.now();
        const r = await (window as any).airlock.run({
          notebook: JSON.stringify({
            nbformat: 4,
            cells: [
              {
                cell_type: 'code',
                source:
                  'import airlock, time\nt0 = time.perf_counter()\nt = airlock.table("generated")\ncols = [t.column(c) for c in t.columns]\nprint(len(t), round((time.perf_counter() - t0) * 1000))',
              },
            ],
          }),
          storedTables: ['generated'],
        });
        return { total: performance.now() - t0, text: r.logs[0]?.text ?? r.message, boot: r.bootMs, run: r.totalMs };
      });
      const pythonMs = Number(String(py.text).split(' ')[1]);
      log(`  1M rows into Python: ${pythonMs} ms inside Python (${py.text})`);
      rows.push({
        section: 'data (Chromium)',
        name: '1M-row table (12 columns) as Python arrays/lists, inside Python',
        value: pythonMs,
        unit: 'ms',
        goal: '< 1000 ms',
      });
    } finally {
      await browser.close();
      await server.close();
    }
    return [...rows, ...breakdown];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
