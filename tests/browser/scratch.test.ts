import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';
import type { Browser } from 'playwright-core';
let browser: Browser; let server: StaticServer;
beforeAll(async () => { browser = await launchBrowser(); server = await startStaticServer(); });
afterAll(async () => { await browser?.close(); await server?.close(); });
test('scratch', async () => {
  const { page, console: lines } = await openApp(browser, server);
  const cells = [process.env.CELL ?? 'print(1)', 'print("after")'];
  const nb = JSON.stringify({ nbformat: 4, cells: cells.map((source) => ({ cell_type: 'code', source })) });
  const r = await page.evaluate(async ({ nb, tw }) => { const rep = await (window as any).airlock.run({ notebook: nb, tripwires: tw, limits: { timeLimitMs: 20000 } }); return { ...rep, outputs: rep.outputs.map((o: any) => o.path) }; }, { nb, tw: process.env.TW !== '0' });
  console.log(JSON.stringify(r, null, 1).slice(0, 3000), lines.join('\n'));
});
