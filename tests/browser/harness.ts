/**
 * Real-browser test harness: the built app (dist/) served from a sub-path on loopback, driven by
 * Playwright's library in Chromium. The browser is the system's (AIRLOCK_CHROMIUM, CHROME_PATH, or
 * /usr/bin/chromium); where none is found, Playwright's own download is used (`npx playwright install
 * chromium`), so the suite also runs on machines without a Debian Chromium.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { createSocket } from 'node:dgram';
import type { AddressInfo, Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { closeServer, type StaticServer } from '../../src/cli/browser.ts';

export {
  ROOT,
  DIST,
  findChromium,
  launchBrowser,
  startStaticServer,
  type StaticServer,
  type ServedRequest,
} from '../../src/cli/browser.ts';

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
      hits.push({
        kind: 'http',
        data: `${req.method} ${req.url} ${Buffer.concat(chunks).toString('utf8').slice(0, 2000)}`,
      });
      res.writeHead(200, {
        'access-control-allow-origin': '*',
        'content-type': req.url?.includes('stream') ? 'text/event-stream' : 'text/plain',
      });
      res.end(
        req.url?.includes('.js')
          ? `fetch(${JSON.stringify(`http://127.0.0.1:${(server.address() as AddressInfo).port}/from-worker-script`)})`
          : 'ok',
      );
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
export async function openApp(
  browser: Browser,
  server: StaticServer,
): Promise<{ context: BrowserContext; page: Page; requests: string[]; console: string[] }> {
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
