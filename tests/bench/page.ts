/**
 * The page's start-up: how much JavaScript it loads before it is interactive (the app's
 * `airlock:interactive` mark, after the first mount) and how long that takes, cold (a fresh
 * context: empty HTTP cache, no service worker) and warm (a reload), beside the same numbers for a
 * plain Vite + Svelte hello page built the same way in the same run (the baseline: what the
 * framework and the bundler cost on their own).
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { ROOT, launchBrowser, startStaticServer, type StaticServer } from '../browser/harness.ts';
import type { BenchRow } from './report.ts';

const REPEATS = Number(process.env.AIRLOCK_BENCH_REPEATS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Builds the hello page with the project's own Vite, Svelte plugin and build target. */
async function buildHello(): Promise<Map<string, Buffer>> {
  // Inside the project, so that `svelte` resolves from its node_modules as the app's does.
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'bench-results', 'hello-'));
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><html lang="en"><head><meta charset="utf-8" /><title>hello</title></head><body><div id="app"></div><script type="module" src="./src/main.ts"></script></body></html>',
    );
    writeFileSync(
      join(dir, 'src', 'main.ts'),
      "import { mount } from 'svelte';\nimport App from './App.svelte';\nmount(App, { target: document.getElementById('app')! });\nperformance.mark('airlock:interactive');\n",
    );
    writeFileSync(
      join(dir, 'src', 'App.svelte'),
      '<script lang="ts">let n = $state(0);</script>\n<h1>Hello</h1><button onclick={() => n++}>clicked {n}</button>\n',
    );
    const { build } = await import('vite');
    const { svelte } = await import('@sveltejs/vite-plugin-svelte');
    await build({
      root: dir,
      base: './',
      logLevel: 'silent',
      configFile: false,
      plugins: [svelte()],
      build: { target: 'es2022', outDir: join(dir, 'dist'), assetsInlineLimit: 0 },
    });
    const files = new Map<string, Buffer>();
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.set(relative(join(dir, 'dist'), p), readFileSync(p));
      }
    };
    walk(join(dir, 'dist'));
    return files;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Load {
  interactiveMs: number;
  /** Script bytes fetched before the page was interactive (as served: no compression here). */
  scriptBytes: number;
  scripts: string[];
}

async function load(browser: Browser, url: string, warm: boolean): Promise<Load> {
  const context = await browser.newContext();
  const page = await context.newPage();
  // ?nosw: the app's service worker would answer the warm load from its cache (faster still);
  // the HTTP cache is what both pages share.
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('airlock:interactive').length > 0);
  if (warm) {
    await page.reload();
    await page.waitForFunction(() => performance.getEntriesByName('airlock:interactive').length > 0);
  }
  const r = await page.evaluate(() => {
    const mark = performance.getEntriesByName('airlock:interactive')[0]!.startTime;
    const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
      // The page's own code; Python's runtime files are data fetched for the sandbox (initiator `fetch`).
      (e) => e.startTime < mark && e.initiatorType !== 'fetch' && /\.m?js(\?|$)/.test(e.name),
    );
    return {
      interactiveMs: mark,
      scriptBytes: scripts.reduce((n, e) => n + e.decodedBodySize, 0),
      scripts: scripts.map((e) => new URL(e.name).pathname.split('/').pop()!),
    };
  });
  await context.close();
  return r;
}

async function measure(browser: Browser, url: string) {
  const cold: Load[] = [];
  const warm: Load[] = [];
  for (let i = 0; i < REPEATS; i++) {
    cold.push(await load(browser, url, false));
    warm.push(await load(browser, url, true));
  }
  return {
    cold: median(cold.map((l) => l.interactiveMs)),
    warm: median(warm.map((l) => l.interactiveMs)),
    bytes: cold[0]!.scriptBytes,
    scripts: cold[0]!.scripts,
  };
}

export async function benchPage(log: (s: string) => void): Promise<BenchRow[]> {
  const hello = await buildHello();
  const server: StaticServer = await startStaticServer();
  for (const [path, body] of hello) {
    server.routes.set(`/hello/${path}`, { type: path.endsWith('.js') ? 'text/javascript' : 'text/html', body });
  }
  server.routes.set('/hello/', { type: 'text/html', body: hello.get('index.html')! });
  const browser = await launchBrowser();
  try {
    const app = await measure(browser, `${server.appUrl}?noprewarm&nosw`);
    const base = await measure(browser, `${server.origin}/hello/`);
    // What a server that compresses would send: each script before interactive, gzipped.
    const gz = (names: string[], read: (n: string) => Buffer) =>
      names.reduce((n, name) => n + gzipSync(read(name), { level: 9 }).byteLength, 0);
    const appGz = gz(app.scripts, (n) => readFileSync(join(ROOT, 'dist', 'assets', n)));
    const baseGz = gz(base.scripts, (n) => [...hello].find(([p]) => p.endsWith(n))![1]);
    log(`page: app loads ${app.scripts.join(', ')} before interactive; hello loads ${base.scripts.join(', ')}`);
    const row = (
      name: string,
      value: number,
      baseline: number,
      unit: string,
      goal?: string,
      note?: string,
    ): BenchRow => ({
      section: 'page',
      name,
      value,
      unit,
      baseline,
      baselineName: 'Vite + Svelte hello page',
      ratio: value / baseline,
      ...(goal ? { goal } : {}),
      ...(note ? { note } : {}),
    });
    return [
      row(
        'JavaScript before interactive',
        app.bytes / 1024,
        base.bytes / 1024,
        'KiB',
        undefined,
        'minified, as served',
      ),
      row('JavaScript before interactive, gzipped', appGz / 1024, baseGz / 1024, 'KiB'),
      row('interactive, cold (empty cache)', app.cold, base.cold, 'ms', '< 1000 ms'),
      row('interactive, warm (reload)', app.warm, base.warm, 'ms', '< 1000 ms'),
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
