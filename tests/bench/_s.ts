import { launchBrowser, openApp, startStaticServer } from '../browser/harness.ts';
const browser = await launchBrowser(); const server = await startStaticServer();
const { page } = await openApp(browser, server);
await page.evaluate('window.airlock.prewarm()');
const script = `(async () => {
  const a = window.airlock; const out = {};
  const { sandbox } = await a.sandbox();
  const size = 100 * 1024 * 1024;
  const mk = (n) => { const data = new ArrayBuffer(n + 8); return { filename: 'x-1.0-py3-none-any.whl', name: 'x', version: '1', files: [{ path: 'x/big.bin', offset: 0, length: n }, { path: 'x/__init__.py', offset: n, length: 8 }], data }; };
  let t = performance.now(); await sandbox.installUnpacked([mk(0)]); out.installEmpty = performance.now() - t;
  t = performance.now(); await sandbox.installUnpacked([mk(size)]); out.install100 = performance.now() - t;
  const col = new Float64Array(size / 8);
  t = performance.now(); await sandbox.mountTables([{ name: 'big', rowCount: col.length, columns: [{ name: 'x', type: 'float', values: col }] }]); out.mount100 = performance.now() - t;
  sandbox.dispose();
  return out;
})()`;
for (let i = 0; i < 3; i++) console.log(JSON.stringify(await page.evaluate(script)));
await browser.close(); await server.close();
