/**
 * The owner's side in the real browser: the room key lives in IndexedDB as a non-extractable
 * WebCrypto key, survives a reload, and opens bundles sealed by the CLI's library code.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { sealBundle } from '../../src/lib/bundle/index.ts';
import { generateSshKey } from '../../src/lib/crypto/index.ts';
import { buildWheel } from '../../src/lib/wheel/index.ts';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';

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

test('a room: its keys kept non-extractable across reloads, open its bundles, refuse foreign ones; its backup restores both', async () => {
  const { page } = await openApp(browser, server);
  const { room: made, backup } = await page.evaluate(() =>
    (window as any).airlock.rooms.create({ name: 'study', passphrase: 'a long passphrase', workFactor: 12 }),
  );
  expect(made.recipient).toMatch(/^age1/);
  expect(made.receiptFingerprint).toMatch(/^SHA256:/);
  // The backup is sealed: neither private key is readable without the passphrase.
  expect(backup).toContain('BEGIN AGE ENCRYPTED FILE');
  expect(backup).not.toContain('AGE-SECRET-KEY-1');
  expect(backup).not.toContain('OPENSSH PRIVATE KEY');

  await page.reload();
  await page.waitForFunction(() => 'airlock' in window);
  expect(await page.evaluate(() => (window as any).airlock.rooms.list())).toMatchObject([
    { id: made.id, recipient: made.recipient, receiptFingerprint: made.receiptFingerprint, backedUp: true },
  ]);
  // Non-extractable: the stored keys can be used, never read out.
  expect(
    await page.evaluate(
      () =>
        new Promise((resolve) => {
          const r = indexedDB.open('airlock-keys');
          r.onsuccess = () => {
            const g = r.result.transaction('rooms').objectStore('rooms').getAll();
            g.onsuccess = () => resolve(g.result.map((x: any) => [x.roomKey.extractable, x.receiptKey.extractable]));
          };
        }),
    ),
  ).toEqual([[false, false]]);

  const expert = generateSshKey('expert');
  const notebook = new TextEncoder().encode(
    JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }),
  );
  const wheel = buildWheel({ name: 'm', version: '1.0', files: { 'm/__init__.py': '' } });
  const seal = async (recipient: string) => {
    const { stream } = await sealBundle({
      recipient,
      signer: expert.key,
      name: 'm',
      version: '1.0',
      notebook: { filename: 'n.ipynb', bytes: notebook },
      wheels: [{ filename: wheel.filename, bytes: wheel.bytes }],
    });
    return [...new Uint8Array(await new Response(stream).arrayBuffer())];
  };
  const summary = await page.evaluate(
    async ({ bytes, expert, room }) => (window as any).airlock.inspectBundle(new Uint8Array(bytes), { room, expert }),
    { bytes: await seal(made.recipient), expert: expert.publicKey, room: made.id },
  );
  expect(summary.manifest).toMatchObject({ name: 'm', version: '1.0' });
  expect(summary.signer).toMatch(/^SHA256:/);

  const { generateOwnerKey } = await import('../../src/lib/crypto/index.ts');
  const stranger = await generateOwnerKey();
  await expect(
    page.evaluate(async ({ bytes, room }) => (window as any).airlock.inspectBundle(new Uint8Array(bytes), { room }), {
      bytes: await seal(stranger.recipient),
      room: made.id,
    }),
  ).rejects.toThrow('sealed for another room');

  // The backup restores the whole identity — room key and receipt-signing key — in a fresh browser
  // profile, and only with its passphrase.
  const { page: fresh } = await openApp(browser, server);
  await expect(
    fresh.evaluate((b) => (window as any).airlock.rooms.restore(b, { passphrase: 'another passphrase' }), backup),
  ).rejects.toThrow('the passphrase does not open this backup');
  expect(await fresh.evaluate(() => (window as any).airlock.rooms.list())).toEqual([]);
  const restored = await fresh.evaluate(
    (b) => (window as any).airlock.rooms.restore(b, { passphrase: 'a long passphrase' }),
    backup,
  );
  expect(restored).toMatchObject({
    restored: [{ recipient: made.recipient, receiptFingerprint: made.receiptFingerprint, name: 'study' }],
    skipped: [],
  });
  // Restoring it again never replaces the room silently.
  expect(
    await fresh.evaluate((b) => (window as any).airlock.rooms.restore(b, { passphrase: 'a long passphrase' }), backup),
  ).toMatchObject({ restored: [], skipped: [{ name: 'study' }] });
  // A new backup made later, with the passphrase, restores the same identity again.
  const id = restored.restored[0].id;
  const again = await fresh.evaluate(
    (id) => (window as any).airlock.rooms.backup([id], 'a long passphrase', { workFactor: 12 }),
    id,
  );
  await expect(
    fresh.evaluate((id) => (window as any).airlock.rooms.backup([id], 'wrong passphrase'), id),
  ).rejects.toThrow('the passphrase does not open');
  const { page: third } = await openApp(browser, server);
  expect(
    await third.evaluate((b) => (window as any).airlock.rooms.restore(b, { passphrase: 'a long passphrase' }), again),
  ).toMatchObject({ restored: [{ recipient: made.recipient, receiptFingerprint: made.receiptFingerprint }] });
});

test('large bundles are sealed and opened on the app cipher workers; the result is a standard bundle, and a changed chunk is refused', async () => {
  const { page } = await openApp(browser, server);
  const { room, backup } = await page.evaluate(() =>
    (window as any).airlock.rooms.create({ passphrase: 'a long passphrase', workFactor: 12 }),
  );
  const expert = generateSshKey('expert');
  const r = await page.evaluate(
    async ({ recipient, signingKey, id }) => {
      const a = (window as any).airlock;
      const size = 12 * 1024 * 1024; // 192 chunks: several runs per worker
      const weights = new Uint8Array(size);
      for (let o = 0; o < size; o += 65536) crypto.getRandomValues(weights.subarray(o, o + 65536));
      // Random bytes under a wheel's name: sealing checks names and sizes, not what a wheel holds.
      const sealed: Uint8Array = await a.sealBundle({
        recipient,
        signingKey,
        name: 'big',
        version: '1.0',
        notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode('{"nbformat":4,"cells":[]}') },
        wheels: [{ filename: 'big-1.0-py3-none-any.whl', bytes: weights }],
      });
      const opened = await a.inspectBundle(sealed, { room: id });
      const changed = sealed.slice();
      changed[Math.floor(changed.length / 2)]! ^= 1;
      const refused = await a.inspectBundle(changed, { room: id }).then(
        () => 'opened',
        (e: Error) => e.message,
      );
      const workers = performance.getEntriesByType('resource').filter((e) => e.name.includes('lane-worker')).length;
      let b64 = '';
      for (let o = 0; o < sealed.length; o += 32768) b64 += String.fromCharCode(...sealed.subarray(o, o + 32768));
      return { manifest: opened.manifest, refused, workers, sealed: btoa(b64) };
    },
    { recipient: room.recipient, signingKey: expert.privateKey, id: room.id },
  );
  expect(r.workers, 'the cipher worker script was loaded').toBeGreaterThan(0);
  expect(r.manifest.wheels[0].size).toBe(12 * 1024 * 1024);
  expect(r.refused).toMatch(/damaged|changed/);
  // Sealed on the workers, opened here on one thread with the room key's backup: the same format.
  const { openBundle } = await import('../../src/lib/bundle/index.ts');
  const { openBackup } = await import('../../src/lib/rooms/index.ts');
  const { identity } = (await openBackup(backup, 'a long passphrase')).rooms[0]!;
  const b = await openBundle(new Uint8Array(Buffer.from(r.sealed, 'base64')), identity, { expert: expert.publicKey });
  expect(b.wheels[0]!.bytes.length).toBe(12 * 1024 * 1024);
  expect(b.manifest.wheels[0]!.sha256).toBe(r.manifest.wheels[0].sha256);
});
