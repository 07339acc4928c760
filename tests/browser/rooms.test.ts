/**
 * Many rooms in one browser: each with its own keys, experts, grants, bundles and runs; a bundle
 * for one room refused by another; grants revoked for the next run; a room deleted without touching
 * the tables other rooms use; backups of one room and of all rooms round-trip (and `age -d` opens
 * them); and a browser written by Airlock 0.1 (one room, no ids) upgrades with nothing lost.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { sealBundle } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey } from '../../src/lib/crypto/index.ts';
import { verifyReceipt } from '../../src/lib/receipt/index.ts';
import { nextEntry } from '../../src/lib/audit/index.ts';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';
import { notebookJson } from './fixtures.ts';

let browser: Browser;
let server: StaticServer;
const dir = mkdtempSync(join(tmpdir(), 'airlock-rooms-'));
const PASS = 'a long passphrase';

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startStaticServer();
  server.routes.set(new URL('blank.html', server.appUrl).pathname, {
    type: 'text/html',
    body: '<!doctype html><title>blank</title>',
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A notebook that names the tables it was given, and writes a small model. */
const LIST = [
  'import airlock, json\nnames = airlock.tables()\nprint("tables:", ",".join(names))\nopen(airlock.OUTPUT_DIR + "/model.json", "w").write(json.dumps({"tables": names, "rows": sum(len(airlock.table(n)) for n in names)}))',
];

async function seal(recipient: string, signer: ReturnType<typeof generateSshKey>, name: string, tables: string[]) {
  const { stream } = await sealBundle({
    recipient,
    signer: signer.key,
    name,
    version: '1.0',
    notebook: { filename: 'n.ipynb', bytes: new TextEncoder().encode(notebookJson(LIST)) },
    wheels: [],
    outputs: ['model.json'],
    tables,
  });
  return [...new Uint8Array(await new Response(stream).arrayBuffer())];
}

const call = <T>(page: Page, fn: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(
    ({ fn, args }) => {
      const path = fn.split('.');
      let target: any = (window as any).airlock;
      for (const p of path.slice(0, -1)) target = target[p];
      return target[path.at(-1)!](...args);
    },
    { fn, args },
  ) as Promise<T>;

/** Runs a room's stored bundle; the bytes of outputs do not cross back, only what the test reads. */
async function runIn(page: Page, room: string, key: string, mapping: Record<string, string>) {
  return page.evaluate(
    async ({ room, key, mapping }) => {
      const r = await (window as any).airlock.rooms.run(room, key, mapping);
      return {
        refused: r.refused as string | undefined,
        refusal: r.refusal as string | undefined,
        status: r.report?.status as string | undefined,
        logs: (r.report?.logs ?? []).map((l: { text: string }) => l.text).join(''),
        gate: r.gate?.pass as boolean | undefined,
      };
    },
    { room, key, mapping },
  );
}

async function exportLast(page: Page) {
  return page.evaluate(async () => {
    const e = await (window as any).airlock.exportLast();
    const text = (name: string) => new TextDecoder().decode(e.files.find((f: any) => f.name === name).bytes);
    return { receipt: text('receipt.json'), sig: text('receipt.json.sig') };
  });
}

describe('many rooms', () => {
  test('two rooms with their own experts and grants: each bundle runs only in its room, on its tables, with its own receipt key', async () => {
    const { page } = await openApp(browser, server);
    const readm = generateSshKey('readmission-expert');
    const sepsis = generateSshKey('sepsis-expert');
    const a = (await call<any>(page, 'rooms.create', { name: 'Readmission', passphrase: PASS, workFactor: 10 })).room;
    const b = (await call<any>(page, 'rooms.create', { name: 'Sepsis', passphrase: PASS, workFactor: 10 })).room;
    expect(a.recipient).not.toBe(b.recipient);
    expect(a.receiptFingerprint).not.toBe(b.receiptFingerprint);

    // One table for each room, and one shared by both.
    const load = (name: string, csv: string, room: string) =>
      page.evaluate(
        async ({ name, csv, room }) =>
          (window as any).airlock.data.load(
            { name: name + '.csv', bytes: new TextEncoder().encode(csv) },
            { name, grantTo: room },
          ),
        { name, csv, room },
      );
    await load('encounters', 'patient_nbr,readmitted\n101,NO\n102,<30\n103,>30\n', a.id);
    await load('vitals', 'patient_nbr,lactate\n201,1.2\n202,4.5\n', b.id);
    await load('wards', 'ward,beds\nA,10\nB,12\nC,8\n', a.id);
    await call(page, 'rooms.grant', b.id, 'wards');

    const invA = await call<any>(page, 'rooms.invitation', a.id);
    const invB = await call<any>(page, 'rooms.invitation', b.id);
    expect(invA.tables.map((t: any) => t.name).sort()).toEqual(['encounters', 'wards']);
    expect(invB.tables.map((t: any) => t.name).sort()).toEqual(['vitals', 'wards']);
    expect(invA.owner).not.toBe(invB.owner);
    expect(invA.room).toBe('Readmission');

    // Each room trusts its own expert (the first bundle names it).
    const bundleA = await seal(a.recipient, readm, 'readmit', ['encounters', 'wards']);
    const bundleB = await seal(b.recipient, sepsis, 'sepsis', ['vitals']);
    const imported = await page.evaluate(
      async ({ a, b, bundleA, bundleB }) => {
        const x = (window as any).airlock;
        const ka = (await x.rooms.importBundle(a, new Uint8Array(bundleA), { trust: true })).bundle.key;
        const kb = (await x.rooms.importBundle(b, new Uint8Array(bundleB), { trust: true })).bundle.key;
        return { ka, kb };
      },
      { a: a.id, b: b.id, bundleA, bundleB },
    );
    // A bundle for room A imported in room B is refused, naming the room it is for.
    await expect(
      page.evaluate(
        async ({ b, bundleA }) =>
          (window as any).airlock.rooms.importBundle(b, new Uint8Array(bundleA), { trust: true }),
        { b: b.id, bundleA },
      ),
    ).rejects.toThrow('sealed to your room "Readmission", not to "Sepsis"');
    // Room B trusts only its expert: a bundle for B signed by A's expert is refused.
    await expect(
      page.evaluate(async ({ b, bytes }) => (window as any).airlock.rooms.importBundle(b, new Uint8Array(bytes)), {
        b: b.id,
        bytes: await seal(b.recipient, readm, 'other', ['vitals']),
      }),
    ).rejects.toThrow('not by an expert "Sepsis" trusts');
    expect((await call<any[]>(page, 'rooms.bundles', a.id)).map((x) => x.name)).toEqual(['readmit']);
    expect((await call<any[]>(page, 'rooms.bundles', b.id)).map((x) => x.name)).toEqual(['sepsis']);

    // Each bundle runs in its room, on the tables granted to it.
    const runA = await runIn(page, a.id, imported.ka, { encounters: 'encounters', wards: 'wards' });
    expect(runA).toMatchObject({ status: 'ok', gate: true });
    expect(runA.logs).toContain('tables: encounters,wards');
    const receiptA = await exportLast(page);
    expect(
      verifyReceipt(new TextEncoder().encode(receiptA.receipt), receiptA.sig, { owner: invA.owner }).tables,
    ).toMatchObject([
      { name: 'encounters', rows: 3 },
      { name: 'wards', rows: 3 },
    ]);
    expect(() =>
      verifyReceipt(new TextEncoder().encode(receiptA.receipt), receiptA.sig, { owner: invB.owner }),
    ).toThrow('not by the owner you expect');
    // Room B's bundle asks for A's table: refused with a sentence, nothing runs.
    const stolen = await runIn(page, b.id, imported.kb, { vitals: 'encounters' });
    expect(stolen.refusal).toBe('not-granted');
    expect(stolen.refused).toContain('the table "encounters" is not granted to this room');
    const runB = await runIn(page, b.id, imported.kb, { vitals: 'vitals' });
    expect(runB.logs).toContain('tables: vitals');
    const receiptB = await exportLast(page);
    verifyReceipt(new TextEncoder().encode(receiptB.receipt), receiptB.sig, { owner: invB.owner });

    // Revoking a grant takes effect for the next run.
    await call(page, 'rooms.revoke', a.id, 'wards');
    const revoked = await runIn(page, a.id, imported.ka, { encounters: 'encounters', wards: 'wards' });
    expect(revoked.refused).toContain('the table "wards" is not granted to this room');
    expect((await call<any>(page, 'rooms.invitation', a.id)).tables.map((t: any) => t.name)).toEqual(['encounters']);

    // The log has every room's entries, each tagged, and one intact chain over all of them.
    const logA = await call<any[]>(page, 'audit.read', a.id);
    const logB = await call<any[]>(page, 'audit.read', b.id);
    expect(logA.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'room.created',
        'table.loaded',
        'bundle.imported',
        'run.started',
        'run.ended',
        'output.exported',
        'table.revoked',
      ]),
    );
    expect(logB.every((e) => e.room === b.id)).toBe(true);
    expect(logA.some((e) => e.action === 'bundle.imported' && e.detail.name === 'sepsis')).toBe(false);
    expect(await call(page, 'audit.verify')).toMatchObject({ ok: true });

    // The UI names the current room on every tab, and switching rooms switches what the tabs show.
    await page.reload();
    await page.waitForFunction(() => 'airlock' in window);
    for (const tab of ['Room', 'Tables', 'Bundles', 'Log']) {
      await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: tab }).click();
      await expect
        .poll(() => page.getByTestId('current-room').locator('option:checked').textContent())
        .toBe('Readmission');
    }
    await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Bundles' }).click();
    await expect.poll(() => page.getByTestId('bundle-name').allTextContents()).toEqual(['readmit']);
    await page.getByTestId('current-room').selectOption(b.id);
    await expect.poll(() => page.getByTestId('bundle-name').allTextContents()).toEqual(['sepsis']);
    await page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name: 'Tables' }).click();
    expect(await page.getByTestId('grant-vitals').isChecked()).toBe(true);
    expect(await page.getByTestId('grant-encounters').isChecked()).toBe(false);

    // Backups: one room, and all rooms, in one file each; `age -d` opens them with the passphrase.
    const one = await call<string>(page, 'rooms.backup', [a.id], PASS, { workFactor: 10 });
    const all = await call<string>(page, 'rooms.backup', 'all', PASS, { workFactor: 10 });
    writeFileSync(join(dir, 'all.age'), all);
    execFileSync('script', ['-qec', 'age -d -o all.json all.age', '/dev/null'], { input: PASS + '\n', cwd: dir });
    const inside = JSON.parse(readFileSync(join(dir, 'all.json'), 'utf8'));
    expect(inside.rooms.map((r: any) => r.name)).toEqual(['Readmission', 'Sepsis']);
    expect(inside.rooms[1]).toMatchObject({
      grants: ['vitals', 'wards'],
      experts: [{ fingerprint: expect.stringMatching(/^SHA256:/) }],
    });

    // Deleting a room removes its keys, bundles and runs, not the tables other rooms use.
    expect(await call(page, 'rooms.remove', b.id)).toEqual({ bundles: 1, runs: 1 });
    expect((await call<any[]>(page, 'rooms.list')).map((r) => r.name)).toEqual(['Readmission']);
    expect((await call<any[]>(page, 'data.list')).map((t) => t.name).sort()).toEqual(['encounters', 'vitals', 'wards']);
    expect(await call<any[]>(page, 'rooms.bundles', b.id)).toEqual([]);
    expect(await call<any[]>(page, 'rooms.runs', b.id)).toEqual([]);

    // Restoring the all-rooms backup here brings back Sepsis (with its experts, grants and keys) and
    // never replaces Readmission, which exists.
    const restored = await call<any>(page, 'rooms.restore', all, { passphrase: PASS });
    expect(restored.restored.map((r: any) => [r.name, r.recipient, r.receiptFingerprint])).toEqual([
      ['Sepsis', b.recipient, b.receiptFingerprint],
    ]);
    expect(restored.skipped.map((s: any) => s.name)).toEqual(['Readmission']);
    expect(restored.restored[0]).toMatchObject({ grants: ['vitals', 'wards'], experts: [{ name: 'expert' }] });
    // The restored room opens its bundles again.
    const again = await page.evaluate(
      async ({ id, bytes }) =>
        (await (window as any).airlock.rooms.importBundle(id, new Uint8Array(bytes))).bundle.room,
      { id: restored.restored[0].id, bytes: bundleB },
    );
    expect(again).toBe(restored.restored[0].id);

    // The one-room backup restores that room alone in a fresh browser.
    const { page: fresh } = await openApp(browser, server);
    const single = await call<any>(fresh, 'rooms.restore', one, { passphrase: PASS });
    expect(single.restored.map((r: any) => [r.name, r.recipient, r.receiptFingerprint])).toEqual([
      ['Readmission', a.recipient, a.receiptFingerprint],
    ]);
  });

  test('a browser written by Airlock 0.1 (one room, no ids) upgrades into a first room with every table, bundle, run and log entry', async () => {
    const context = await browser.newContext();
    // A table, loaded as 0.1 loaded it (the tables' database has not changed), then the page closed.
    const app = await context.newPage();
    await app.goto(`${server.appUrl}?noprewarm`);
    await app.waitForFunction(() => 'airlock' in window);
    await app.evaluate(() =>
      (window as any).airlock.data.load(
        { name: 'ehr.csv', bytes: new TextEncoder().encode('patient_nbr,readmitted\n1,NO\n2,<30\n3,NO\n') },
        { name: 'ehr' },
      ),
    );
    await app.close();

    // Everything else as 0.1 wrote it: its keys, its pinned expert, a bundle, a run, log entries.
    const owner = await generateOwnerKey();
    const expert = generateSshKey('expert');
    const bundle = await seal(owner.recipient, expert, 'readmit', ['ehr']);
    const page = await context.newPage();
    await page.goto(server.appUrl + 'blank.html');
    const written = await page.evaluate(
      async ({ identity, recipient, bundle, fingerprint }) => {
        const open = (name: string, version: number, make: (d: IDBDatabase) => void) =>
          new Promise<IDBDatabase>((resolve, reject) => {
            const r = indexedDB.open(name, version);
            r.onupgradeneeded = () => make(r.result);
            r.onsuccess = () => resolve(r.result);
            r.onerror = () => reject(r.error);
          });
        const drop = (name: string) =>
          new Promise<void>((resolve) => {
            const r = indexedDB.deleteDatabase(name);
            r.onsuccess = () => resolve();
            r.onerror = () => resolve();
          });
        const put = (d: IDBDatabase, store: string, value: unknown, key?: IDBValidKey) =>
          new Promise<void>((resolve, reject) => {
            const tx = d.transaction(store, 'readwrite');
            tx.objectStore(store).put(value, key);
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
          });
        // The app opened these at their new versions before we closed it: start them over as 0.1.
        for (const n of ['airlock-keys', 'airlock-bundles', 'airlock-runs']) await drop(n);
        // 0.1's room key: X25519 from the identity's bech32 (as its keystore did), non-extractable.
        const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
        const data = identity
          .toLowerCase()
          .slice('age-secret-key-1'.length, -6)
          .split('')
          .map((c: string) => CHARSET.indexOf(c));
        const bytes: number[] = [];
        let acc = 0;
        let bits = 0;
        for (const v of data) {
          acc = (acc << 5) | v;
          bits += 5;
          if (bits >= 8) {
            bits -= 8;
            bytes.push((acc >> bits) & 0xff);
          }
        }
        const keys = await open('airlock-keys', 1, (db) => db.createObjectStore('keys', { keyPath: 'id' }));
        const roomKey = await crypto.subtle.importKey(
          'pkcs8',
          new Uint8Array([
            0x30,
            0x2e,
            0x02,
            0x01,
            0x00,
            0x30,
            0x05,
            0x06,
            0x03,
            0x2b,
            0x65,
            0x6e,
            0x04,
            0x22,
            0x04,
            0x20,
            ...bytes,
          ]),
          { name: 'X25519' },
          false,
          ['deriveBits'],
        );
        await put(keys, 'keys', { id: 'room', recipient, key: roomKey, createdAt: 1_700_000_000_000 });
        const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
        const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
        await put(keys, 'keys', {
          id: 'receipt-signer',
          recipient: '',
          publicKey,
          key: pair.privateKey,
          createdAt: 1_700_000_000_000,
        });
        keys.close();
        // 0.1's bundles: the sealed bytes inside each record, and the pinned expert in settings.
        const bundles = await open('airlock-bundles', 1, (db) => {
          db.createObjectStore('bundles', { keyPath: 'key' }).createIndex('name', 'name');
          db.createObjectStore('settings', { keyPath: 'key' });
        });
        await put(bundles, 'bundles', {
          key: 'readmit@1.0',
          name: 'readmit',
          version: '1.0',
          signer: fingerprint,
          manifest: {
            name: 'readmit',
            version: '1.0',
            tables: ['ehr'],
            outputs: ['model.json'],
            wheels: [],
            notebook: { size: 1, sha256: '0'.repeat(64) },
            author: {},
          },
          sealed: new Uint8Array(bundle),
          importedAt: 1_700_000_100_000,
          active: true,
        });
        await put(bundles, 'settings', { key: 'pinned-expert', value: fingerprint });
        bundles.close();
        const runs = await open('airlock-runs', 1, (db) =>
          db.createObjectStore('runs', { keyPath: 'id' }).createIndex('started', 'started'),
        );
        await put(runs, 'runs', {
          id: 'run-0.1',
          bundle: { key: 'readmit@1.0', name: 'readmit', version: '1.0', signer: fingerprint },
          tables: { ehr: 'ehr' },
          started: '2026-11-01T10:00:00.000Z',
          ended: '2026-11-01T10:00:05.000Z',
          status: 'ok',
          message: 'The notebook ran to the end and wrote 1 output file.',
          logs: [{ cell: 0, stream: 'stdout', text: 'ran in 0.1' }],
          outputs: [{ path: 'model.json', bytes: new TextEncoder().encode('{}') }],
          gate: { pass: true, problems: [] },
          tripwires: [],
        });
        runs.close();
        return { receiptPublicKey: [...publicKey] };
      },
      {
        identity: owner.identity,
        recipient: owner.recipient,
        bundle,
        fingerprint: (await import('../../src/lib/crypto/index.ts')).fingerprint(expert.key.publicKey),
      },
    );
    // 0.1's log entries, chained as 0.1 chained them (no room in the hash), after the table's.
    const log = await page.evaluate(
      () =>
        new Promise<any[]>((resolve) => {
          const r = indexedDB.open('airlock-audit');
          r.onsuccess = () => {
            const g = r.result.transaction('log').objectStore('log').getAll();
            g.onsuccess = () => {
              resolve(g.result);
              r.result.close();
            };
          };
        }),
    );
    let last = log.at(-1);
    const more = [];
    for (const [action, detail] of [
      ['room.created', { recipient: owner.recipient }],
      ['bundle.imported', { name: 'readmit', version: '1.0' }],
      ['run.ended', { bundle: 'readmit@1.0', status: 'ok' }],
    ] as const) {
      last = nextEntry(last, action, detail as Record<string, string>);
      more.push(last);
    }
    await page.evaluate(
      (entries) =>
        new Promise<void>((resolve) => {
          const r = indexedDB.open('airlock-audit');
          r.onsuccess = () => {
            const tx = r.result.transaction('log', 'readwrite');
            for (const e of entries) tx.objectStore('log').add(e);
            tx.oncomplete = () => {
              r.result.close();
              resolve();
            };
          };
        }),
      more,
    );
    const before = log.length + more.length;

    // The new version opens it: one room, with the keys, expert, grants, bundle, run and log of 0.1.
    await page.goto(`${server.appUrl}?noprewarm`);
    await page.waitForFunction(() => 'airlock' in window);
    const rooms = await call<any[]>(page, 'rooms.list');
    const { fingerprint, formatPublicKey } = await import('../../src/lib/crypto/index.ts');
    expect(rooms).toMatchObject([
      {
        id: 'room-1',
        name: 'My room',
        recipient: owner.recipient,
        receiptFingerprint: fingerprint(new Uint8Array(written.receiptPublicKey)),
        experts: [{ fingerprint: fingerprint(expert.key.publicKey) }],
        grants: ['ehr'],
      },
    ]);
    expect((await call<any[]>(page, 'data.list')).map((t) => [t.name, t.rowCount])).toEqual([['ehr', 3]]);
    const bundles = await call<any[]>(page, 'rooms.bundles', 'room-1');
    expect(bundles.map((b) => [b.key, b.size])).toEqual([['room-1/readmit@1.0', bundle.length]]);
    expect((await call<any[]>(page, 'rooms.runs', 'room-1')).map((r) => r.id)).toEqual(['run-0.1']);
    expect(await call(page, 'audit.verify')).toEqual({ ok: true, entries: before });

    // The upgraded room runs the old bundle, and signs with the same receipt key as before.
    const run = await runIn(page, 'room-1', 'room-1/readmit@1.0', { ehr: 'ehr' });
    expect(run).toMatchObject({ status: 'ok', gate: true });
    const { receipt, sig } = await exportLast(page);
    verifyReceipt(new TextEncoder().encode(receipt), sig, {
      owner: formatPublicKey(new Uint8Array(written.receiptPublicKey)),
    });
    expect(await call(page, 'audit.verify')).toMatchObject({ ok: true });
    await context.close();
  });
});
