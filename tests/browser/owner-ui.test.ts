/**
 * The owner's whole flow through the UI, in Chromium, on the real data: room key, a table, an
 * invitation, a bundle from an expert (trusted on first sight), a run, and the refusals.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { sealBundle } from '../../src/lib/bundle/index.ts';
import { generateSshKey } from '../../src/lib/crypto/index.ts';
import { buildWheel } from '../../src/lib/wheel/index.ts';
import { ROOT, launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';
import { diabetesCsv } from '../unit/fixtures/data.ts';
import { notebookJson } from './fixtures.ts';
import { axe } from './ui-checks.ts';

let browser: Browser;
let server: StaticServer;
let csv: Buffer;

beforeAll(async () => {
  csv = Buffer.from(diabetesCsv());
  browser = await launchBrowser();
  server = await startStaticServer();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const HONEST =
  'import airlock, readmit_stats, json\nt = airlock.table("encounters")\nr = readmit_stats.rate(t.column("readmitted"))\nprint(f"{len(t)} rows, readmission rate {r:.3f}")\nopen(airlock.OUTPUT_DIR + "/model.json", "w").write(json.dumps({"rate": round(r, 3)}))';
const LEAKY =
  'import airlock, json\nt = airlock.table("encounters")\nopen(airlock.OUTPUT_DIR + "/model.json", "w").write(json.dumps({"weights": list(t.column("patient_nbr"))[:50]}))';

let expertAge: { identity: string; recipient: string };

async function seal(recipient: string, signer = expert, version = '1.0.0', cell = HONEST) {
  const wheel = buildWheel({
    name: 'readmit_stats',
    version: '1.0',
    files: {
      'readmit_stats/__init__.py':
        'import json\n\ndef rate(labels):\n    return sum(1 for l in labels if l != "NO") / len(labels)\n\ndef predict(table, model_dir):\n    r = json.load(open(model_dir + "/model.json"))["rate"]\n    return [r] * len(table)\n',
    },
  });
  const nb = notebookJson([cell]);
  const { stream } = await sealBundle({
    recipient,
    signer: signer.key,
    name: 'readmission',
    version,
    notebook: { filename: 'train.ipynb', bytes: new TextEncoder().encode(nb) },
    wheels: [{ filename: wheel.filename, bytes: wheel.bytes }],
    outputs: ['model.json'],
    tables: ['encounters'],
    inference: { module: 'readmit_stats', function: 'predict' },
    replyTo: expertAge.recipient,
  });
  return Buffer.from(await new Response(stream).arrayBuffer());
}
const expert = generateSshKey('expert');
const PASSPHRASE = 'correct horse battery staple';
/** What the first test leaves for the second: the room's backup, the invitation the expert holds. */
let backupText = '';
let receiptFingerprint = '';
let invitation: { owner: string; recipient: string };

test('room key → table → invitation → bundle → run, and the refusals', async () => {
  expertAge = await (await import('../../src/lib/crypto/index.ts')).generateOwnerKey();
  const { page } = await openApp(browser, server);
  const nav = (name: string) => page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name }).click();

  await nav('Room');
  await page.getByTestId('room-name-input').fill('readmission study');
  await page.getByTestId('passphrase').fill('short');
  expect(await page.getByRole('button', { name: 'Create room and download its backup' }).isEnabled()).toBe(false);
  await page.getByTestId('passphrase').fill(PASSPHRASE);
  await page.getByTestId('passphrase-confirm').fill(PASSPHRASE);
  const backup = page.waitForEvent('download', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Create room and download its backup' }).click();
  const backupFile = await backup;
  expect(backupFile.suggestedFilename()).toBe('airlock-room-readmission-study.age');
  backupText = readFileSync((await backupFile.path())!, 'utf8');
  const recipient = (await page.getByTestId('recipient').textContent())!;
  expect(recipient).toMatch(/^age1/);
  receiptFingerprint = (await page.getByTestId('receipt-fingerprint').textContent())!;
  expect(receiptFingerprint).toMatch(/^SHA256:/);

  await nav('Tables');
  await page.getByTestId('table-file').setInputFiles({ name: 'diabetic_data.csv', mimeType: 'text/csv', buffer: csv });
  await page.getByTestId('table-name').fill('hospital_ehr');
  await page.getByRole('button', { name: 'Load table' }).click();
  await expect
    .poll(() => page.getByTestId('message').textContent(), { timeout: 60_000 })
    .toContain('Loaded hospital_ehr: 101,766 rows, 50 columns');
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect.poll(() => page.getByText('first rows; only you see this').count()).toBe(1);
  // The selected table is in the URL: a link to it (and Back) shows it again.
  expect(new URL(page.url()).hash).toMatch(/^#\/tables\/hospital_ehr/);

  await nav('Room');
  const inv = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download invitation' }).click();
  const invPath = await (await inv).path();
  invitation = JSON.parse(readFileSync(invPath!, 'utf8'));
  expect(invitation).toMatchObject({
    format: 'airlock-invitation',
    recipient,
    tables: [{ name: 'hospital_ehr', rows: 101_766 }],
  });

  await nav('Bundles');
  await page.getByTestId('bundle-file').setInputFiles({
    name: 'readmission.airlock',
    mimeType: 'application/octet-stream',
    buffer: await seal(recipient),
  });
  await expect.poll(() => page.getByRole('alertdialog').textContent()).toContain('SHA256:');
  await page.getByRole('button', { name: 'Trust this expert and import' }).click();
  await expect.poll(() => page.getByTestId('message').textContent()).toContain('Imported readmission 1.0.0');
  await page.locator('label.map select').selectOption('hospital_ehr');
  await page.getByRole('button', { name: 'Run in the sandbox' }).click();
  await expect
    .poll(() => page.getByTestId('run-status').textContent(), { timeout: 120_000 })
    .toContain('wrote 1 output file');
  expect(await page.getByTestId('run-logs').textContent()).toContain('101766 rows, readmission rate 0.461');
  expect(await page.getByTestId('gate').textContent()).toContain('The output gate passed');
  // Export: the outputs and a receipt signed by the owner's (non-extractable) key, which the expert
  // checks against the key in the invitation.
  const downloads: Array<import('playwright-core').Download> = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export with a signed receipt' }).click();
  await expect.poll(() => downloads.length).toBe(3);
  const byName = Object.fromEntries(
    await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)),
  );
  page.removeAllListeners('download');
  expect(Object.keys(byName).sort()).toEqual(['model.json', 'receipt.json', 'receipt.json.sig']);
  const { verifyReceipt } = await import('../../src/lib/receipt/index.ts');
  const receipt = verifyReceipt(byName['receipt.json']!, byName['receipt.json.sig']!.toString('utf8'), {
    owner: invitation.owner,
  });
  expect(receipt).toMatchObject({
    bundle: { name: 'readmission', version: '1.0.0' },
    tables: [{ name: 'hospital_ehr', as: 'encounters', rows: 101_766 }],
    gate: { pass: true, overridden: false },
  });
  expect(receipt.outputs[0]!.sha256).toBe(createHash('sha256').update(byName['model.json']!).digest('hex'));

  // Export again, encrypted to the expert's age recipient named in the bundle: only they can open it.
  const sealedOut: Array<import('playwright-core').Download> = [];
  page.on('download', (d) => sealedOut.push(d));
  await page.getByLabel(/Encrypt the outputs to the expert/).check();
  await page.getByRole('button', { name: 'Export with a signed receipt' }).click();
  await expect.poll(() => sealedOut.length).toBe(3);
  page.removeAllListeners('download');
  const ageFile = sealedOut.find((d) => d.suggestedFilename().endsWith('.zip.age'))!;
  expect(ageFile.suggestedFilename()).toBe('readmission-1.0.0-outputs.zip.age');
  const { Decrypter } = await import('age-encryption');
  const dec = new Decrypter();
  dec.addIdentity(expertAge.identity);
  const { unzipSync } = await import('fflate');
  const files = unzipSync(await dec.decrypt(new Uint8Array(readFileSync((await ageFile.path())!))));
  expect(createHash('sha256').update(files['model.json']!).digest('hex')).toBe(receipt.outputs[0]!.sha256);

  // The approved model scores a local table through the bundle's inference entry point. The table
  // chosen is kept across a tab switch.
  await page.getByTestId('score-table').selectOption('hospital_ehr');
  await nav('Log');
  await nav('Bundles');
  expect(await page.getByTestId('score-table').inputValue()).toBe('hospital_ehr');
  await page.getByRole('button', { name: 'Score', exact: true }).click();
  await expect
    .poll(() => page.getByTestId('run-logs').last().textContent(), { timeout: 120_000 })
    .toContain('scored 101766 rows');
  expect(await page.getByTestId('run-status').last().textContent()).toContain('wrote 1 output file');

  // The same version again, and a bundle from another key: refused, nothing changed.
  await page
    .getByTestId('bundle-file')
    .setInputFiles({ name: 'again.airlock', mimeType: 'application/octet-stream', buffer: await seal(recipient) });
  await expect.poll(() => page.getByTestId('message').textContent()).toContain('the version you already have');
  await page.getByTestId('bundle-file').setInputFiles({
    name: 'other.airlock',
    mimeType: 'application/octet-stream',
    buffer: await seal(recipient, generateSshKey('mallory'), '2.0.0'),
  });
  await expect
    .poll(() => page.getByTestId('message').textContent())
    .toContain('not by an expert "readmission study" trusts');
  expect(await page.getByTestId('bundle-row').count()).toBe(1);

  // A newer version that smuggles patient numbers into its "model": the gate blocks the download
  // until the owner explicitly overrides it.
  await page.getByTestId('bundle-file').setInputFiles({
    name: 'v2.airlock',
    mimeType: 'application/octet-stream',
    buffer: await seal(recipient, expert, '1.1.0', LEAKY),
  });
  await expect.poll(() => page.getByTestId('message').textContent()).toContain('Imported readmission 1.1.0');
  await page.locator('label.map select').selectOption('hospital_ehr');
  await page.getByRole('button', { name: 'Run in the sandbox' }).click();
  await expect
    .poll(() => page.getByTestId('gate').textContent(), { timeout: 120_000 })
    .toContain('The output gate blocked the export');
  // The gate's checks, one row each: the identifier check failed, naming the column and what it found.
  const ids = page.getByTestId('output').locator('[data-check="identifiers"]');
  expect(await ids.getAttribute('class')).toContain('failed');
  expect(await ids.textContent()).toMatch(/value\(s\) of encounters\.patient_nbr/);
  expect(await page.getByRole('button', { name: 'Export with a signed receipt' }).isEnabled()).toBe(false);
  await axe(page, 'the blocked gate');
  await page.getByLabel('I have reviewed these problems and export anyway').check();
  // An override needs the owner's reason, which the receipt records.
  expect(await page.getByRole('button', { name: 'Export with a signed receipt' }).isEnabled()).toBe(false);
  await page.getByTestId('override-reason').fill('synthetic ids in a test table, reviewed with the expert');
  expect(await page.getByRole('button', { name: 'Export with a signed receipt' }).isEnabled()).toBe(true);
  const overridden: Array<import('playwright-core').Download> = [];
  page.on('download', (d) => overridden.push(d));
  await page.getByRole('button', { name: 'Export with a signed receipt' }).click();
  await expect.poll(() => overridden.length).toBe(3);
  page.removeAllListeners('download');
  const signedOverride = Object.fromEntries(
    await Promise.all(overridden.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)),
  );
  expect(
    verifyReceipt(signedOverride['receipt.json']!, signedOverride['receipt.json.sig']!.toString('utf8'), {
      owner: invitation.owner,
    }).gate,
  ).toMatchObject({ pass: false, overridden: true, reason: 'synthetic ids in a test table, reviewed with the expert' });

  // The audit log saw it all, and notices an edit made behind its back.
  await nav('Log');
  await expect.poll(() => page.getByTestId('audit-check').textContent()).toContain('intact');
  const actions = await page.getByTestId('audit').locator('tbody tr td:nth-child(3)').allTextContents();
  for (const a of [
    'room.created',
    'table.loaded',
    'invitation.exported',
    'bundle.imported',
    'run.started',
    'run.ended',
    'output.exported',
  ])
    expect(actions).toContain(a);
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const r = indexedDB.open('airlock-audit');
        r.onsuccess = () => {
          const store = r.result.transaction('log', 'readwrite').objectStore('log');
          const g = store.get(2);
          g.onsuccess = () => {
            store.put({ ...g.result, detail: { ...g.result.detail, rows: 1 } }).onsuccess = () => resolve();
          };
        };
      }),
  );
  await page.getByRole('button', { name: 'Check again' }).click();
  await expect.poll(() => page.getByTestId('audit-check').textContent()).toContain('BROKEN at entry 2');

  // Runs are kept: after a reload both are listed with their outcome and the gate's verdict.
  await page.reload();
  await page.waitForFunction(() => 'airlock' in window);
  await nav('Bundles');
  await expect.poll(() => page.getByTestId('past-runs').locator('summary').textContent()).toBe('Past runs (2)');
  await page.getByTestId('past-runs').locator('summary').click();
  const gates = await page.getByTestId('past-runs').locator('tbody tr td:nth-child(5)').allTextContents();
  expect(gates).toEqual(['blocked', 'passed']);
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'test-results', 'owner-flow.png'), fullPage: true });
});

test('a room restored from its backup in a fresh browser signs receipts that verify against the original invitation', async () => {
  expect(backupText).toContain('BEGIN AGE ENCRYPTED FILE');
  const { page } = await openApp(browser, server);
  const nav = (name: string) => page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name }).click();
  await nav('Room');
  const file = { name: 'airlock-room-readmission-study.age', mimeType: 'text/plain', buffer: Buffer.from(backupText) };
  await page.getByTestId('restore-file').setInputFiles(file);
  await page.getByTestId('restore-passphrase').fill('not the passphrase');
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect
    .poll(() => page.getByTestId('message').textContent(), { timeout: 30_000 })
    .toContain('the passphrase does not open this backup');
  expect(await page.evaluate(() => (window as any).airlock.rooms.list())).toEqual([]);

  await page.getByTestId('restore-passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect
    .poll(() => page.getByTestId('receipt-fingerprint').textContent(), { timeout: 30_000 })
    .toBe(receiptFingerprint);
  expect(await page.getByTestId('recipient').textContent()).toBe(invitation.recipient);
  expect(await page.getByTestId('room-name').textContent()).toBe('readmission study');

  await nav('Tables');
  const small = 'patient_nbr,readmitted\n1001,NO\n1002,<30\n1003,>30\n1004,NO\n';
  await page
    .getByTestId('table-file')
    .setInputFiles({ name: 'small.csv', mimeType: 'text/csv', buffer: Buffer.from(small) });
  await page.getByTestId('table-name').fill('small');
  await page.getByRole('button', { name: 'Load table' }).click();
  await expect.poll(() => page.getByTestId('message').textContent()).toContain('Loaded small');
  await page
    .getByTestId('table-file')
    .setInputFiles({ name: 'other.csv', mimeType: 'text/csv', buffer: Buffer.from(small) });
  await page.getByTestId('table-name').fill('other');
  await page.getByRole('button', { name: 'Load table' }).click();
  await expect.poll(() => page.getByTestId('message').textContent()).toContain('Loaded other');

  await nav('Bundles');
  await page.getByTestId('bundle-file').setInputFiles({
    name: 'readmission.airlock',
    mimeType: 'application/octet-stream',
    buffer: await seal(invitation.recipient),
  });
  await page.getByRole('button', { name: 'Trust this expert and import' }).click();
  await expect.poll(() => page.getByTestId('message').textContent()).toContain('Imported readmission 1.0.0');
  // Two tables granted, neither named as the bundle's: the owner chooses, and the choice survives a tab switch.
  expect(await page.locator('label.map select').inputValue()).toBe('');
  await page.locator('label.map select').selectOption('small');
  await nav('Room');
  await nav('Bundles');
  expect(await page.locator('label.map select').inputValue()).toBe('small');
  await page.getByRole('button', { name: 'Run in the sandbox' }).click();
  await expect
    .poll(() => page.getByTestId('gate').textContent(), { timeout: 120_000 })
    .toContain('The output gate passed');
  const downloads: Array<import('playwright-core').Download> = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export with a signed receipt' }).click();
  await expect.poll(() => downloads.length).toBe(3);
  const byName = Object.fromEntries(
    await Promise.all(downloads.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)),
  );
  const { verifyReceipt } = await import('../../src/lib/receipt/index.ts');
  const receipt = verifyReceipt(byName['receipt.json']!, byName['receipt.json.sig']!.toString('utf8'), {
    owner: invitation.owner,
  });
  expect(receipt.owner.fingerprint).toBe(receiptFingerprint);
  expect(receipt.tables).toMatchObject([{ name: 'small', as: 'encounters', rows: 4 }]);

  // The table goes away behind the page's back (another tab): the run is refused with a sentence
  // naming it, and nothing runs (the app used to fail on a missing catalog entry mid-run).
  page.removeAllListeners('download');
  await page.evaluate(() => (window as any).airlock.data.remove('small'));
  await page.getByRole('button', { name: 'Run in the sandbox' }).click();
  await expect
    .poll(() => page.getByTestId('message').textContent())
    .toContain('the bundle reads a table "encounters", and there is no local table "small" to give it');
});

test('the expert reads the room’s whole policy, seals a bundle in the app with what airlock seal declares, and gets mock data', async () => {
  const { generateOwnerKey } = await import('../../src/lib/crypto/index.ts');
  const { buildInvitation } = await import('../../src/lib/data/index.ts');
  const { openBundle } = await import('../../src/lib/bundle/index.ts');
  const { unzipSync, strFromU8 } = await import('fflate');
  const owner = await generateOwnerKey();
  const { POLICY_FIELDS } = await import('../../src/lib/policy/index.ts');
  const invitation = buildInvitation({
    room: 'ward 7',
    recipient: owner.recipient,
    policy: { minCellCount: 20 },
    tables: [
      {
        name: 'encounters',
        rowCount: 3,
        columns: [
          { name: 'age', type: 'int', values: new Int32Array([40, 50, 60]) },
          { name: 'readmitted', type: 'string', values: new Int32Array([0, 1, 0]), dictionary: ['NO', '<30'] },
        ],
      },
    ],
  });
  const signer = generateSshKey('expert@lab');
  const wheel = buildWheel({ name: 'm', version: '1.0', files: { 'm/__init__.py': 'X = 1\n' } });
  const { page } = await openApp(browser, server);
  const nav = (name: string) => page.getByRole('navigation', { name: 'sections' }).getByRole('link', { name }).click();
  const invitationFile = (inv: object) => ({
    name: 'invitation.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(inv)),
  });
  const setting = (key: string) => page.getByTestId('invitation-policy').locator(`dd[data-key="${key}"]`);
  const value = (key: string) => setting(key).locator('strong').textContent();
  await nav('Expert');
  // An invitation of Airlock 0.2 (time limit and output cap only) still reads; the rest is said to be missing.
  await page
    .getByTestId('invitation-file')
    .setInputFiles(invitationFile({ ...invitation, policy: { timeLimitSeconds: 600, maxOutputBytes: 52428800 } }));
  await expect.poll(() => page.getByTestId('expert-message').textContent()).toContain('Invitation for "ward 7"');
  expect(await value('timeLimitSeconds')).toBe('600 s');
  expect(await value('minCellCount')).toBe('not stated');
  expect(await setting('minCellCount').textContent()).toContain('default is 10');
  // Today's: every setting of the room's policy, in words, before the expert writes a line.
  await page.getByTestId('invitation-file').setInputFiles(invitationFile(invitation));
  await expect.poll(() => value('minCellCount')).toBe('20');
  expect(await page.getByTestId('invitation-policy').locator('dd').count()).toBe(POLICY_FIELDS.length);
  for (const f of POLICY_FIELDS) expect(await value(f.key)).not.toBe('not stated');
  expect(await value('maxMembershipAuc')).toBe('0.6');
  const mock = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download mock data' }).click();
  const files = unzipSync(readFileSync((await (await mock).path())!));
  expect(Object.keys(files).sort()).toEqual(['encounters.csv', 'schema.json']);
  expect(JSON.parse(strFromU8(files['schema.json']!))).toEqual({ encounters: { age: 'int', readmitted: 'string' } });
  await page
    .getByTestId('key-file')
    .setInputFiles({ name: 'id_ed25519', mimeType: 'text/plain', buffer: Buffer.from(signer.privateKey) });
  await page.getByTestId('notebook-file').setInputFiles({
    name: 'train.ipynb',
    mimeType: 'application/json',
    buffer: Buffer.from(notebookJson(['print(1)'])),
  });
  await page
    .getByTestId('wheel-files')
    .setInputFiles({ name: wheel.filename, mimeType: 'application/octet-stream', buffer: Buffer.from(wheel.bytes) });
  // What `airlock seal --inference --label --aggregate` declares, each refusal naming the field to fix.
  const sealButton = page.getByRole('button', { name: 'Seal and download' });
  const refused = async (field: string, message: string) => {
    await sealButton.click();
    await expect.poll(() => page.getByTestId('expert-message').textContent()).toContain(message);
    expect(await page.getByTestId(field).getAttribute('aria-invalid')).toBe('true');
  };
  await page.getByTestId('inference-input').fill('predict');
  await refused('inference-input', 'Inference entry point "predict": write module:function');
  await page.getByTestId('inference-input').fill('m:predict');
  expect(await page.getByTestId('inference-input').getAttribute('aria-invalid')).toBeNull();
  await page.getByTestId('label-positive-input').fill('<30');
  await refused('label-column-input', 'name the label column');
  await page.getByTestId('label-column-input').fill('readmited');
  await refused('label-column-input', 'no table in the invitation has that column');
  await page.getByTestId('label-column-input').fill('readmitted');
  await page.getByTestId('aggregates-input').fill('counts.csv');
  await refused('aggregates-input', 'declare it among the outputs too');
  expect(await page.getByLabel('Declared outputs').getAttribute('aria-invalid')).toBe('true');
  await page.getByLabel('Declared outputs').fill('model.json, counts.csv');
  expect(await page.getByTestId('aggregates-input').getAttribute('aria-invalid')).toBeNull();
  // Kept across a tab switch, like the rest of the form.
  await nav('Demo');
  await nav('Expert');
  expect(await page.getByTestId('label-column-input').inputValue()).toBe('readmitted');
  const sealed = page.waitForEvent('download');
  await sealButton.click();
  const d = await sealed;
  expect(d.suggestedFilename()).toBe('model-0.1.0.airlock');
  const b = await openBundle(new Uint8Array(readFileSync((await d.path())!)), owner.identity, {
    expert: signer.publicKey,
  });
  expect(b.manifest).toMatchObject({
    formatVersion: 2,
    name: 'model',
    version: '0.1.0',
    outputs: ['model.json', 'counts.csv'],
    tables: ['encounters'],
    inference: { module: 'm', function: 'predict' },
    label: { column: 'readmitted', positive: '<30' },
    aggregates: ['counts.csv'],
  });
  expect(await page.getByTestId('expert-message').textContent()).toContain('audits the model for membership inference');
  expect(b.wheels[0]!.bytes).toEqual(wheel.bytes);
});
