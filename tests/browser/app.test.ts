/**
 * The app as a newcomer meets it: open the page, press "Run the demo", get a model through the gate
 * with a signed receipt — offline, from a sub-path, with no request leaving the origin.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser, Download } from 'playwright-core';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';
import { axe, everyWidth, shoot } from './ui-checks.ts';

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

test('the demo runs offline, through the gate and a signed receipt; the page is fast, installable and makes no foreign request', async () => {
  const { context, page, requests, console: lines } = await openApp(browser, server);
  const failed: string[] = [];
  context.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  // Served from a sub-path (the harness's appUrl), with its icon and manifest.
  expect(new URL(server.appUrl).pathname).not.toBe('/');
  expect(await page.locator('link[rel=icon]').count()).toBe(1);
  for (const f of ['favicon.svg', 'manifest.webmanifest']) {
    expect((await page.request.get(new URL(f, server.appUrl).href)).status(), f).toBe(200);
  }
  const manifest = await (await page.request.get(new URL('manifest.webmanifest', server.appUrl).href)).json();
  expect(manifest).toMatchObject({ name: expect.stringContaining('Airlock'), start_url: './', display: 'standalone' });

  // The app's own service worker takes over; after that the app needs no network.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  // A warm load: interactive in under a second, its first paint before Python is even asked for.
  await page.reload();
  await page.waitForFunction(() => performance.getEntriesByName('airlock:interactive').length > 0);
  const timing = await page.evaluate(() => ({
    interactive: performance.getEntriesByName('airlock:interactive')[0]!.startTime,
    paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0,
  }));
  expect(timing.interactive, JSON.stringify(timing)).toBeLessThan(1000);
  expect(timing.paint).toBeLessThan(1000);

  // Light and dark follow the system until the person picks one; the pick is kept.
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme ?? 'system');
  expect(await theme()).toBe('system');
  await page.getByRole('button', { name: /Colour theme/ }).click();
  expect(await theme()).toBe('light');
  await page.getByRole('button', { name: /Colour theme/ }).click();
  expect(await theme()).toBe('dark');
  await page.reload();
  expect(await theme()).toBe('dark');
  await page.getByRole('button', { name: /Colour theme/ }).click();
  expect(await theme()).toBe('system');

  await context.setOffline(true);
  await page.reload();
  await page.waitForFunction(() => 'airlock' in window);
  await page.getByRole('button', { name: 'Run the demo' }).click();
  // Progress in words: the stage is named while it runs.
  await expect
    .poll(() => page.getByTestId('run-stage').textContent(), { timeout: 30_000 })
    .toMatch(/Starting Python|Preparing|Locking|Running cell/);
  const status = page.getByTestId('run-status');
  await status.waitFor({ timeout: 120_000 });
  expect(await status.textContent(), lines.join('\n')).toContain(
    'The notebook ran to the end and wrote 1 output file.',
  );
  // Focus moves to the result when the run ends.
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('result-h');
  const logs = await page.getByTestId('run-logs').textContent();
  expect(logs).toMatch(/5,?000 encounters/);
  const auc = Number(/held-out AUC: ([\d.]+)/.exec(logs ?? '')?.[1]);
  expect(auc).toBeGreaterThan(0.6); // the synthetic risk is learnable: a real model came out
  // Each cell with its status; the notebook's loss as a training curve; the model's metrics as cards.
  expect(await page.getByTestId('cell').count()).toBe(4);
  expect(await page.getByTestId('cell').locator('.badge').allTextContents()).toEqual(['done', 'done', 'done', 'done']);
  const curve = await page.getByTestId('training-curve').locator('svg').getAttribute('aria-label');
  const [, first, last] = /loss from ([\d.]+) to ([\d.]+) over 24 reports/.exec(curve ?? '') ?? [];
  expect(Number(last), curve!).toBeLessThan(Number(first)); // it learned: the loss went down
  expect(await page.getByTestId('metric-card').allTextContents()).toEqual([
    expect.stringContaining('auc'),
    expect.stringContaining('rows'),
  ]);
  expect(await page.getByTestId('gate').textContent()).toContain('The output gate passed');
  // The owner looks inside the output before it leaves: a JSON tree, as text.
  expect(await page.getByTestId('output-preview').first().textContent()).toContain('logistic-regression');
  await axe(page, 'the demo result');

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export with a signed receipt' }).click();
  await expect.poll(() => downloads.length).toBe(3);
  expect(downloads.map((d) => d.suggestedFilename()).sort()).toEqual([
    'model.json',
    'receipt.json',
    'receipt.json.sig',
  ]);
  const model = JSON.parse(
    readFileSync((await downloads.find((d) => d.suggestedFilename() === 'model.json')!.path())!, 'utf8'),
  );
  expect(model.model).toBe('logistic-regression');
  // The expert's side of the receipt, shown: signature and hash check out; then the way on.
  await expect
    .poll(() => page.getByTestId('demo-receipt').textContent())
    .toMatch(/1 of 1 output\(s\)\s+match their hash; gate passed/);
  expect(await page.getByTestId('try-own').getAttribute('href')).toBe('#/room');
  await everyWidth(page, 'demo-done');
  await shoot(page, 'demo');

  expect(failed).toEqual([]);
  expect(requests.every((u) => u.startsWith(server.origin) || u.startsWith('blob:') || u.startsWith('data:'))).toBe(
    true,
  );
});
