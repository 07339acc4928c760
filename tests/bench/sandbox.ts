/**
 * Sandbox benchmarks, in headless Chromium against the built app:
 *  - page load → Python ready in the sandbox, cold (fresh context: empty HTTP cache) and warm (reload);
 *  - the same for plain Pyodide in an ordinary module worker loaded by URL, in the same run
 *    (the baseline: what Pyodide costs without any lock-down);
 *  - handing a 100 MB numeric table to Python (transfer + column materialised in Python).
 */
import type { Browser } from 'playwright-core';
import { launchBrowser, startStaticServer, type StaticServer } from '../browser/harness.ts';
import type { BenchRow } from './report.ts';

const REPEATS = Number(process.env.AIRLOCK_BENCH_REPEATS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Page load → Python ready (ms since navigation start), through the app's sandbox. */
async function sandboxReady(browser: Browser, server: StaticServer, warm: boolean): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.appUrl}?noprewarm`);
  if (warm) {
    // A previous visit left the HTTP cache and the start-up snapshot in IndexedDB.
    await page.evaluate(async () => (await (window as any).airlock.sandbox()).sandbox.dispose());
    await page.evaluate(() => (window as any).airlock.prewarm());
    await page.reload();
  }
  await page.waitForFunction(() => 'airlock' in window);
  const ms = await page.evaluate(async () => {
    const { sandbox } = await (window as any).airlock.sandbox();
    const t = performance.now();
    sandbox.dispose();
    return t;
  });
  await context.close();
  return ms;
}

/** Page load → Python ready, plain Pyodide in a same-origin module worker (no frame, no CSP). */
async function plainReady(browser: Browser, server: StaticServer, warm: boolean): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const url = `${server.appUrl}bench-plain.html`;
  await page.goto(url);
  if (warm) {
    await page.evaluate(() => (window as any).ready);
    await page.reload();
  }
  const ms = await page.evaluate(() => (window as any).ready as Promise<number>);
  await context.close();
  return ms;
}

/** Time to hand a table of `mb` MB (one float64 column) to Python and have it as an array there. */
async function tableIntoPython(
  browser: Browser,
  server: StaticServer,
  mb: number,
): Promise<{ transferMs: number; pythonMs: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.appUrl}?noprewarm`);
  await page.waitForFunction(() => 'airlock' in window);
  const r = await page.evaluate(async (mb) => {
    const n = (mb * 1024 * 1024) / 8;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = i * 0.5;
    const { sandbox } = await (window as any).airlock.sandbox();
    const t0 = performance.now();
    await sandbox.mountTables([{ name: 'big', rowCount: n, columns: [{ name: 'x', type: 'float', values }] }]);
    const t1 = performance.now();
    const cell = await sandbox.runCell(
      0,
      'import airlock\nx = airlock.table("big").column("x")\nassert len(x) == ' + n,
      60_000,
    );
    const t2 = performance.now();
    sandbox.dispose();
    if (!cell.ok) throw new Error(cell.error);
    return { transferMs: t1 - t0, pythonMs: t2 - t0 };
  }, mb);
  await context.close();
  return r;
}

export async function benchSandbox(log: (s: string) => void): Promise<BenchRow[]> {
  const browser = await launchBrowser();
  const server = await startStaticServer();
  // The baseline page: Pyodide from the same self-hosted files, the usual way (module worker by URL).
  server.routes.set('/some/sub/path/bench-plain.html', {
    type: 'text/html',
    body: `<!doctype html><meta charset="utf-8"><script>
      const version = ${JSON.stringify((await import('pyodide/package.json', { with: { type: 'json' } })).default.version)};
      const base = new URL('pyodide/' + version + '/', location.href).href;
      const src = "import { loadPyodide } from '" + base + "pyodide.mjs'; const py = await loadPyodide({ indexURL: '" + base + "' }); py.runPython('1+1'); postMessage('ready');";
      window.ready = new Promise((resolve) => {
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
        w.onmessage = () => resolve(performance.now());
      });
    </script>`,
  });
  try {
    const rows: BenchRow[] = [];
    for (const warm of [false, true]) {
      const label = warm ? 'warm' : 'cold';
      const sb: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        // Interleaved, so drift on the machine affects both alike.
        plain.push(await plainReady(browser, server, warm));
        sb.push(await sandboxReady(browser, server, warm));
        log(`  ${label} #${i + 1}: sandbox ${sb.at(-1)!.toFixed(0)} ms, plain ${plain.at(-1)!.toFixed(0)} ms`);
      }
      const s = median(sb);
      const p = median(plain);
      rows.push({
        section: 'sandbox',
        name: `page load → Python ready, ${label} (median of ${REPEATS})`,
        value: s,
        unit: 'ms',
        baseline: p,
        baselineName: 'plain Pyodide worker',
        ratio: s / p,
        goal: warm ? '≤ 1.0× and < 1500 ms' : '≤ 1.0×',
      });
    }
    const t: Array<{ transferMs: number; pythonMs: number }> = [];
    for (let i = 0; i < 3; i++) t.push(await tableIntoPython(browser, server, 100));
    rows.push({
      section: 'sandbox',
      name: '100 MB table into the sandbox (transfer)',
      value: median(t.map((x) => x.transferMs)),
      unit: 'ms',
    });
    rows.push({
      section: 'sandbox',
      name: '100 MB table into Python (transfer + column as array)',
      value: median(t.map((x) => x.pythonMs)),
      unit: 'ms',
      goal: '< 500 ms',
    });
    return rows;
  } finally {
    await browser.close();
    await server.close();
  }
}
