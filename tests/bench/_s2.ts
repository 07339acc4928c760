import { launchBrowser, openApp, startStaticServer } from '../browser/harness.ts';
const browser = await launchBrowser(); const server = await startStaticServer();
const { page } = await openApp(browser, server);
await page.evaluate('window.airlock.prewarm()');
const script = `(async () => {
  const a = window.airlock; const logs = [];
  const { sandbox } = await a.sandbox({ onEvent: (e) => e.type === 'log' && logs.push(e.text) });
  let t = performance.now();
  const r = await sandbox.runCell(0, "import time, sys\\nt=time.perf_counter()\\nimport site\\nt1=time.perf_counter()\\np=site.getsitepackages()[0]\\nt2=time.perf_counter()\\nimport importlib\\nimportlib.invalidate_caches()\\nt3=time.perf_counter()\\nprint(t1-t, t2-t1, t3-t2, p, [x for x in sys.path])", 60000);
  const cell = performance.now() - t;
  t = performance.now(); await sandbox.runCell(1, "1", 60000); const cell2 = performance.now() - t;
  sandbox.dispose();
  return { cell, cell2, logs, r };
})()`;
for (let i = 0; i < 2; i++) console.log(JSON.stringify(await page.evaluate(script)));
await browser.close(); await server.close();
