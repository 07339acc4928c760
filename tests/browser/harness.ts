/**
 * Real-browser test harness: the built app (dist/) served from a sub-path on loopback, driven by
 * Playwright's library in Chromium. The browser is the system's (AIRLOCK_CHROMIUM, CHROME_PATH, or
 * /usr/bin/chromium); where none is found, Playwright's own download is used (`npx playwright install
 * chromium`), so the suite also runs on machines without a Debian Chromium.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
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
  for (const p of [process.env.AIRLOCK_CHROMIUM, process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
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
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('dist/ is missing: run `npx vite build` (npm test does it first)');
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
    let rel = decodeURIComponent(url.pathname.slice(prefix.length)) || 'index.html';
    const file = normalize(join(DIST, rel));
    if (!file.startsWith(DIST) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    rel = file;
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return { appUrl: `${origin}${prefix}`, origin, requests, routes, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

export interface SinkHit {
  kind: 'tcp' | 'http' | 'udp';
  /** For http: path and query; for udp: the datagram as text. */
  data: string;
}

export interface Sink {
  port: number;
  url: string;
  hits: SinkHit[];
  close(): Promise<void>;
}

/**
 * The exfiltration sink: a logging server on 127.0.0.1 that counts every TCP connection (HTTP,
 * WebSocket and anything else), every HTTP request with its body, and every UDP datagram on the same
 * port (QUIC, WebTransport). A sandbox passes when the sink counts nothing.
 */
export async function startSink(): Promise<Sink> {
  const hits: SinkHit[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ kind: 'http', data: `${req.method} ${req.url} ${Buffer.concat(chunks).toString('utf8').slice(0, 2000)}` });
      res.writeHead(200, {
        'access-control-allow-origin': '*',
        'content-type': req.url?.includes('stream') ? 'text/event-stream' : 'text/plain',
      });
      res.end(req.url?.includes('.js') ? `fetch(${JSON.stringify(`http://127.0.0.1:${(server.address() as AddressInfo).port}/from-worker-script`)})` : 'ok');
    });
  });
  server.on('connection', (s: Socket) => {
    hits.push({ kind: 'tcp', data: `connection from ${s.remoteAddress}` });
  });
  server.on('upgrade', (req, socket) => {
    hits.push({ kind: 'http', data: `UPGRADE ${req.url}` });
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const udp = createSocket('udp4');
  udp.on('message', (m) => hits.push({ kind: 'udp', data: m.toString('latin1').slice(0, 200) }));
  await new Promise<void>((r, j) => {
    udp.once('error', j);
    udp.bind(port, '127.0.0.1', () => r());
  }).catch(() => {});
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    hits,
    async close() {
      try {
        udp.close();
      } catch {
        /* already closed */
      }
      await closeServer(server);
    },
  };
}

/** A fresh context and page on the app, with every request of the page, its frames and workers logged. */
export async function openApp(browser: Browser, server: StaticServer): Promise<{ context: BrowserContext; page: Page; requests: string[]; console: string[] }> {
  const context = await browser.newContext();
  const requests: string[] = [];
  const consoleLines: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => consoleLines.push(`worker ${m.type()}: ${m.text()}`)));
  // ?noprewarm: no background snapshot while tests measure or count things.
  await page.goto(`${server.appUrl}?noprewarm`);
  await page.waitForFunction(() => 'airlock' in window);
  return { context, page, requests, console: consoleLines };
}
