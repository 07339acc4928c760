/**
 * The built app in a real Chromium: the browser the headless runner and the tests use, and a plain
 * static server for dist/. The browser is the system's (AIRLOCK_CHROMIUM, CHROME_PATH, or
 * /usr/bin/chromium); where none is found, Playwright's own download is used (`npx playwright install
 * chromium`).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const DIST = join(ROOT, 'dist');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function findChromium(): string | undefined {
  for (const p of [
    process.env.AIRLOCK_CHROMIUM,
    process.env.CHROME_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ]) {
    if (p && existsSync(p)) return p;
  }
  return undefined;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  return chromium.launch({ executablePath, headless: true, args: FLAGS });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.zip': 'application/zip',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

export interface ServedRequest {
  method: string;
  url: string;
}

export interface StaticServer {
  /** The app's URL, on a sub-path, to prove the build works from any folder of any static host. */
  appUrl: string;
  origin: string;
  requests: ServedRequest[];
  /** Extra routes for tests (never part of the app). */
  routes: Map<string, { type: string; body: string | Buffer }>;
  close(): Promise<void>;
}

/** Serves dist/ under `/some/sub/path/` with no special headers, as the plainest static host would. */
export async function startStaticServer(prefix = '/some/sub/path/'): Promise<StaticServer> {
  if (!existsSync(join(DIST, 'index.html')))
    throw new Error('dist/ is missing: run `npx vite build` (npm test does it first)');
  const requests: ServedRequest[] = [];
  const routes = new Map<string, { type: string; body: string | Buffer }>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search });
    const extra = routes.get(url.pathname);
    if (extra) {
      res.writeHead(200, { 'content-type': extra.type, 'cache-control': 'no-store' });
      res.end(extra.body);
      return;
    }
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    const rel = decodeURIComponent(url.pathname.slice(prefix.length)) || 'index.html';
    const file = normalize(join(DIST, rel));
    if (!file.startsWith(DIST) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return { appUrl: `${origin}${prefix}`, origin, requests, routes, close: () => closeServer(server) };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}
