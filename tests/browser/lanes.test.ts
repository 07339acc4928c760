/**
 * The app's kind of lanes (lib/workers pool, lib/crypto cipher lanes) on real Web Workers in
 * Chromium that fail: a worker script that 404s leaves sealing and opening to the page (they used
 * to wait forever on the dead worker), and a worker that dies mid-request fails the open with one
 * line (`crashed`) while the next open gets a fresh worker.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, launchBrowser, startStaticServer, type StaticServer } from './harness.ts';

let browser: Browser;
let server: StaticServer;
let page: Page;

/** A module as one classic script (for a blank page, or a blob worker). */
async function classicScript(entry: string): Promise<string> {
  const { rolldown } = await import('rolldown');
  const bundle = await rolldown({ input: join(ROOT, entry), platform: 'browser', logLevel: 'silent' });
  try {
    return (await bundle.generate({ format: 'iife' })).output[0].code;
  } finally {
    await bundle.close();
  }
}

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startStaticServer();
  server.routes.set('/lanes/blank.html', { type: 'text/html', body: '<!doctype html><title>lanes</title>' });
  server.routes.set('/lanes/dying-worker.js', {
    type: 'text/javascript',
    body: await classicScript('tests/browser/lanes/dying-worker.ts'),
  });
  page = await (await browser.newContext()).newPage();
  await page.goto(`${server.origin}/lanes/blank.html`);
  await page.addScriptTag({ content: await classicScript('tests/browser/lanes/page.ts') });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('a cipher worker whose script 404s: sealing and opening complete on the page, the same bundle', async () => {
  const r = await page.evaluate(() => (globalThis as any).lanesTest.unstartable('/lanes/no-such-worker.js'));
  expect(r).toEqual({ size: 12 * 1024 * 1024, same: true, running: 0 });
});

test('a cipher worker that dies mid-request fails the open with one line; the next open gets a fresh worker', async () => {
  const r = await page.evaluate(() => (globalThis as any).lanesTest.dying('/lanes/dying-worker.js'));
  expect(r.first).toEqual({
    name: 'BundleError',
    code: 'crashed',
    message:
      'the bundle could not be opened: a cipher worker stopped (Uncaught Error: the lane ran out of memory); try again',
  });
  expect(r.next).toBe(5 * 1024 * 1024);
});
