/**
 * Storage in the real browser: one shared connection per database that gets out of another tab's
 * way (deleting or upgrading it is never blocked by an idle Airlock tab), and databases written by
 * an earlier version open with nothing lost (lists hold summaries; bytes and logs are read by key).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';

let browser: Browser;
let server: StaticServer;

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startStaticServer();
  // A page of the app's origin that is not the app, for writing databases as another version would.
  server.routes.set(new URL('blank.html', server.appUrl).pathname, {
    type: 'text/html',
    body: '<!doctype html><title>blank</title>',
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Deletes a database from another tab; resolves 'deleted', or 'blocked' if a connection stays open. */
function deleteFrom(page: Page, name: string): Promise<string> {
  return page.evaluate(
    (n) =>
      new Promise<string>((resolve) => {
        const r = indexedDB.deleteDatabase(n);
        let blocked = false;
        r.onblocked = () => (blocked = true);
        r.onsuccess = () => resolve('deleted');
        r.onerror = () => resolve('error');
        // A blocked delete waits for ever; 3 s is far beyond a close on versionchange.
        setTimeout(() => resolve(blocked ? 'blocked' : 'pending'), 3000);
      }),
    name,
  );
}

test('an idle tab holds its connections, and lets another tab delete every database at once', async () => {
  const { context, page } = await openApp(browser, server);
  // Use every database, so each has its shared connection open in this tab.
  await page.evaluate(async () => {
    const a = (window as any).airlock;
    await a.rooms.create({ passphrase: 'a long passphrase', workFactor: 10 });
    await a.data.load({ name: 't.csv', bytes: new TextEncoder().encode('x\n1\n') });
    await a.clearSnapshot();
  });
  await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Log' }).click();
  await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Bundles' }).click();
  const other = await context.newPage();
  await other.goto(server.appUrl + 'blank.html');
  for (const name of [
    'airlock-keys',
    'airlock-bundles',
    'airlock-runs',
    'airlock-audit',
    'airlock-cache',
    'airlock-data',
  ]) {
    expect(await deleteFrom(other, name), name).toBe('deleted');
  }
  // The first tab opens afresh on its next use: the room is gone, and a new one can be made.
  expect(await page.evaluate(() => (window as any).airlock.rooms.list())).toEqual([]);
  expect(
    await page.evaluate(
      async () =>
        (await (window as any).airlock.rooms.create({ passphrase: 'a long passphrase', workFactor: 10 })).room,
    ),
  ).toMatchObject({ recipient: expect.stringMatching(/^age1/) });
});

test('bundles and runs stored by Airlock 0.1 (bytes and logs inside each record) open as summaries of their room, nothing lost', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Same origin as the app, without the app: write the databases as the previous version did.
  await page.goto(server.appUrl + 'blank.html');
  await page.evaluate(async () => {
    const open = (name: string, make: (d: IDBDatabase) => void) =>
      new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(name, 1);
        r.onupgradeneeded = () => make(r.result);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const put = (d: IDBDatabase, store: string, value: unknown) =>
      new Promise<void>((resolve, reject) => {
        const tx = d.transaction(store, 'readwrite');
        tx.objectStore(store).put(value);
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
    const bundles = await open('airlock-bundles', (d) => {
      d.createObjectStore('bundles', { keyPath: 'key' }).createIndex('name', 'name');
      d.createObjectStore('settings', { keyPath: 'key' });
    });
    const sealed = new Uint8Array(5000).map((_, i) => i % 251);
    await put(bundles, 'bundles', {
      key: 'm@1.0',
      name: 'm',
      version: '1.0',
      signer: 'SHA256:abc',
      manifest: {
        name: 'm',
        version: '1.0',
        outputs: [],
        tables: [],
        notebook: { size: 1, sha256: '0'.repeat(64) },
        wheels: [],
      },
      sealed,
      importedAt: 1,
      active: true,
    });
    bundles.close();
    const runs = await open('airlock-runs', (d) =>
      d.createObjectStore('runs', { keyPath: 'id' }).createIndex('started', 'started'),
    );
    await put(runs, 'runs', {
      id: 'r1',
      bundle: { key: 'm@1.0', name: 'm', version: '1.0', signer: 'SHA256:abc' },
      tables: { t: 't' },
      started: '2026-12-01T10:00:00.000Z',
      ended: '2026-12-01T10:01:00.000Z',
      status: 'ok',
      message: 'wrote 1 output file',
      logs: [{ cell: 0, stream: 'stdout', text: 'hello from v1' }],
      outputs: [{ path: 'model.json', bytes: new TextEncoder().encode('{"w":1}') }],
      gate: { pass: true, problems: [] },
      tripwires: [],
    });
    runs.close();
  });
  await page.goto(`${server.appUrl}?noprewarm`);
  await page.waitForFunction(() => 'airlock' in window);
  // Opening the databases upgrades them; the lists are summaries of the room the one room became.
  expect(await page.evaluate(() => (window as any).airlock.rooms.bundles('room-1'))).toMatchObject([
    { key: 'room-1/m@1.0', size: 5000 },
  ]);
  expect(await page.evaluate(() => (window as any).airlock.rooms.runs('room-1'))).toMatchObject([
    { id: 'r1', room: 'room-1', outputs: [{ path: 'model.json', size: 7 }] },
  ]);
  const stored = await page.evaluate(async () => {
    const read = (name: string, store: string, key: string) =>
      new Promise<any>((resolve) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => {
          const g = r.result.transaction(store).objectStore(store).get(key);
          g.onsuccess = () => {
            resolve(g.result);
            r.result.close();
          };
        };
      });
    const summary = await read('airlock-bundles', 'bundles', 'room-1/m@1.0');
    const sealed: Uint8Array = await read('airlock-bundles', 'sealed', 'room-1/m@1.0');
    const run = await read('airlock-runs', 'runs', 'r1');
    const details = await read('airlock-runs', 'details', 'r1');
    return {
      summaryHasBytes: 'sealed' in summary,
      size: summary.size,
      sealedOk: sealed.length === 5000 && sealed.every((b, i) => b === i % 251),
      runOutputs: run.outputs,
      runHasLogs: 'logs' in run,
      logs: details.logs.map((l: { text: string }) => l.text),
      output: new TextDecoder().decode(details.outputs[0].bytes),
    };
  });
  expect(stored).toEqual({
    summaryHasBytes: false,
    size: 5000,
    sealedOk: true,
    runOutputs: [{ path: 'model.json', size: 7 }],
    runHasLogs: false,
    logs: ['hello from v1'],
    output: '{"w":1}',
  });
  await context.close();
});
