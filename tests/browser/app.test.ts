/** The app as a newcomer meets it: open the page, press "Run the demo", get a model. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ROOT, launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';

let browser: Browser;
let server: StaticServer;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startStaticServer();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('the built-in demo trains a model in the sandbox and offers only model.json', async () => {
  const { page, requests, console: lines } = await openApp(browser, server);
  await page.getByRole('button', { name: 'Run the demo' }).click();
  const status = page.getByTestId('run-status');
  await status.waitFor({ timeout: 120_000 });
  expect(await status.textContent(), lines.join('\n')).toContain(
    'The notebook ran to the end and wrote 1 output file.',
  );
  const logs = await page.getByTestId('run-logs').textContent();
  expect(logs).toMatch(/5,?000 encounters/);
  const auc = Number(/held-out AUC: ([\d.]+)/.exec(logs ?? '')?.[1]);
  expect(auc).toBeGreaterThan(0.6); // the synthetic risk is learnable: a real model came out
  await expect.poll(() => page.getByText('model.json').count()).toBeGreaterThan(0);
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('model.json');
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'test-results', 'demo.png'), fullPage: true });
  expect(requests.every((u) => u.startsWith(server.origin) || u.startsWith('blob:') || u.startsWith('data:'))).toBe(
    true,
  );
});
