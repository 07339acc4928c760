/**
 * The built app in a real Chromium: the browser the headless runner and the tests use, how the runner
 * serves the app to it (from memory, no socket) and hands it local files (by path, no socket), and a
 * plain static server for dist/ that the tests and benchmarks use. The browser is the system's
 * (AIRLOCK_CHROMIUM, CHROME_PATH, or /usr/bin/chromium); where none is found, Playwright's own
 * download is used (`npx playwright install chromium`).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type JSHandle, type Page } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const DIST = join(ROOT, 'dist');

const FLAGS = [
  '--headless',
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

/** Whether Chromium's own OS sandbox (seccomp-bpf and namespaces around its renderers) is on, and if not, why. */
export type ChromiumSandbox = { on: true } | { on: false; reason: 'root' | 'unavailable' };

/** What `airlock run` prints, on one line, when the sandbox is off. */
export function sandboxWarning(reason: 'root' | 'unavailable'): string {
  return reason === 'root'
    ? "Chromium's own sandbox is off because airlock runs as root (Chromium refuses it for root): the notebook is still walled in by the page's sandbox, but a browser bug would give its code root on this machine; run as an ordinary user"
    : "Chromium's own sandbox is off because it could not start on this system (it needs user namespaces or a setuid chrome-sandbox): the notebook is still walled in by the page's sandbox, but a browser bug would give its code your account; see docs/SECURITY.md";
}

/**
 * Launches Chromium with its own OS sandbox wherever it can run. Playwright turns the sandbox off
 * unless asked (`chromiumSandbox`); here it is asked, except as root, where Chromium refuses to start
 * with it. If that launch fails and Chromium's log names the sandbox, the system cannot give one: the
 * launch is retried without it, and the result says so (the caller must tell the user). Any other
 * failure is thrown as it is, so a broken browser never quietly costs the sandbox.
 */
export async function launchChromium(): Promise<{ browser: Browser; sandbox: ChromiumSandbox }> {
  const options = { executablePath: findChromium(), headless: true, args: FLAGS };
  if (process.getuid?.() === 0)
    return {
      browser: await chromium.launch({ ...options, chromiumSandbox: false }),
      sandbox: { on: false, reason: 'root' },
    };
  try {
    return { browser: await chromium.launch({ ...options, chromiumSandbox: true }), sandbox: { on: true } };
  } catch (e) {
    if (!chromiumLog(e).some((line) => /sandbox/i.test(line))) throw e;
    return {
      browser: await chromium.launch({ ...options, chromiumSandbox: false }),
      sandbox: { on: false, reason: 'unavailable' },
    };
  }
}

/**
 * What Chromium itself wrote to stderr before a failed launch; Playwright puts those lines, marked
 * `[pid=…][err]`, in its error. Chromium says why its sandbox failed only there ("No usable sandbox!",
 * "The setuid sandbox is not running as root", …), in words that vary with the cause.
 */
function chromiumLog(e: unknown): string[] {
  return String((e as Error)?.message ?? e)
    .split('\n')
    .filter((line) => /\[pid=\d+\]\[err\]/.test(line));
}

/** The browser alone, for tests and benchmarks (`launchChromium` says whether its sandbox is on). */
export async function launchBrowser(): Promise<Browser> {
  return (await launchChromium()).browser;
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

/** The file under dist/ for a URL path, or undefined (outside dist/, missing, a folder, a bad escape). */
function distFile(rel: string): string | undefined {
  let file: string;
  try {
    file = normalize(join(DIST, decodeURIComponent(rel) || 'index.html'));
  } catch {
    return undefined;
  }
  return file.startsWith(DIST + '/') && existsSync(file) && !statSync(file).isDirectory() ? file : undefined;
}

const typeOf = (file: string) => TYPES[extname(file)] ?? 'application/octet-stream';

/**
 * Where the runner's page lives. No socket serves it: every request from the browser is answered from
 * dist/ in Node by Playwright's request interception, so nothing listens on any port during a run.
 * `.invalid` never resolves (RFC 6761 §6.4) and https would need a certificate, so a request that
 * escaped the interception would fail rather than reach whoever listens; https also makes the page a
 * secure context (WebCrypto), as 127.0.0.1 was.
 */
export const APP_ORIGIN = 'https://airlock.invalid';

/**
 * Serves the built app to one browser context from memory, at APP_ORIGIN; every other request of the
 * context (the app makes none) is refused inside the browser. Returns the app's URL.
 */
export async function serveAppInMemory(context: BrowserContext): Promise<string> {
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== APP_ORIGIN) return route.abort('blockedbyclient');
    const file = distFile(url.pathname.slice(1));
    if (!file) return route.fulfill({ status: 404 });
    return route.fulfill({ status: 200, contentType: typeOf(file), body: await readFile(file) });
  });
  return `${APP_ORIGIN}/`;
}

/**
 * Local files as `File` objects in the page, as if the owner had picked them in a file dialog. To a
 * local browser Playwright passes the paths, not the bytes: Chromium reads the files from disk itself,
 * so their contents cross no socket and no protocol message, and nothing is left anywhere to fetch.
 * The input element is removed again at once.
 */
export async function pickFiles(page: Page, paths: string[]): Promise<JSHandle<File[]>> {
  // Only anonymous inline functions cross into the page: tsx (esbuild keepNames) wraps named ones in
  // a helper the page lacks. A string is evaluated as an expression, never called.
  const input = (
    (await page.evaluateHandle(
      `(() => { const i = document.createElement('input'); i.type = 'file'; i.multiple = true; i.hidden = true; document.body.append(i); return i; })()`,
    )) as JSHandle<HTMLInputElement>
  ).asElement()!;
  try {
    await input.setInputFiles(paths);
    return await input.evaluateHandle((i) => [...i.files!]);
  } finally {
    await input.evaluate((i) => i.remove());
    await input.dispose();
  }
}

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

/**
 * Serves dist/ under `/some/sub/path/` with no special headers, as the plainest static host would, on
 * a random port of 127.0.0.1, to requests for that exact host only. For tests and benchmarks: the
 * runner serves nothing on any socket (serveAppInMemory).
 */
export async function startStaticServer(prefix = '/some/sub/path/'): Promise<StaticServer> {
  if (!existsSync(join(DIST, 'index.html')))
    throw new Error('dist/ is missing: run `npx vite build` (npm test does it first)');
  const requests: ServedRequest[] = [];
  const routes = new Map<string, { type: string; body: string | Buffer }>();
  let host = '';
  const server = createServer((req, res) => {
    // Only the exact host the server was started for: a page on another name that resolves here
    // (DNS rebinding) is refused, even for files that are public anyway.
    if (req.headers.host !== host) {
      res.writeHead(403).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search });
    const extra = routes.get(url.pathname);
    if (extra) {
      res.writeHead(200, { 'content-type': extra.type, 'cache-control': 'no-store' });
      res.end(extra.body);
      return;
    }
    const file = url.pathname.startsWith(prefix) ? distFile(url.pathname.slice(prefix.length)) : undefined;
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': typeOf(file) });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  const origin = `http://${host}`;
  return { appUrl: `${origin}${prefix}`, origin, requests, routes, close: () => closeServer(server) };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}
