/**
 * Both roles as people use them, each in its own browser (two contexts): the owner makes a room,
 * loads a table (checking its columns first), sets the policy and invites; the expert reads the
 * invitation, gets mock data, makes keys and seals in the page; the owner trusts, runs, reviews and
 * exports encrypted; the expert verifies the receipt and opens the outputs in the page. Then the
 * failures a person meets. Every tab with data in it is checked for axe violations and sideways
 * scrolling at 360, 390 and 1280 px, light and dark, with screenshots kept in test-results/ui/.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser, Download, FileChooser, Page } from 'playwright-core';
import { DEFAULT_POLICY, POLICY_FIELDS } from '../../src/lib/policy/index.ts';
import { buildWheel } from '../../src/lib/wheel/index.ts';
import { launchBrowser, openApp, startStaticServer, type StaticServer } from './harness.ts';
import { notebookJson } from './fixtures.ts';
import { axe, everyWidth, focusRingVisible, shoot, tabTo } from './ui-checks.ts';

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

const PASSPHRASE = 'a passphrase for this test';
/** 300 encounters: ids, ages with some missing, a label, weights. */
function encountersCsv(): Buffer {
  const rows = ['patient_nbr,age,weight,readmitted'];
  for (let i = 0; i < 300; i++) {
    rows.push(
      `${200_000 + i * 7},${i % 17 === 0 ? '' : 20 + ((i * 13) % 70)},${(50 + ((i * 7) % 60)).toFixed(1)},${['NO', '<30', '>30'][i % 3]}`,
    );
  }
  return Buffer.from(rows.join('\n') + '\n');
}

const CELLS = [
  'import airlock, json\nt = airlock.table("encounters")\nprint(f"{len(t)} rows")',
  'for i in range(1, 11):\n    airlock.progress(i / 10, f"epoch {i} of 10", metrics={"loss": 1 / i, "auc": 0.5 + i / 40})',
  'json.dump({"weights": [0.1, 0.2], "metrics": {"auc": 0.75}}, open(airlock.OUTPUT_DIR + "/model.json", "w"))\njson.dump({"loss": 0.1, "accuracy": 0.8}, open(airlock.OUTPUT_DIR + "/metrics.json", "w"))\nopen(airlock.OUTPUT_DIR + "/summary.csv", "w").write("bucket,count\\nyoung,120\\nold,180\\n")\nprint("done")',
];

const tabs = (page: Page) => page.getByRole('navigation', { name: 'sections' });
/**
 * Opens the file picker of the input `testid` by keyboard (focus, then Space). The panel may still be
 * re-rendering when it is focused (a newly shown tab), which drops the focus; then it is tried again.
 */
async function pickByKeyboard(page: Page, testid: string): Promise<FileChooser> {
  for (let attempt = 1; ; attempt++) {
    await page.getByTestId(testid).focus();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe(testid);
    const chooser = page.waitForEvent('filechooser', { timeout: 10_000 });
    await page.keyboard.press('Space');
    try {
      return await chooser;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}
const go = (page: Page, name: string) => tabs(page).getByRole('link', { name }).click();
async function downloads(page: Page, n: number, act: () => Promise<void>): Promise<Map<string, Buffer>> {
  const got: Download[] = [];
  const on = (d: Download) => got.push(d);
  page.on('download', on);
  await act();
  await expect.poll(() => got.length, { timeout: 30_000 }).toBe(n);
  page.off('download', on);
  return new Map(
    await Promise.all(got.map(async (d) => [d.suggestedFilename(), readFileSync((await d.path())!)] as const)),
  );
}
const asFile = (name: string, buffer: Buffer | Uint8Array) => ({
  name,
  mimeType: 'application/octet-stream',
  buffer: Buffer.from(buffer),
});

test('owner and expert, each in their own browser, from invitation to a verified receipt — and the failures on the way', async () => {
  const owner = await openApp(browser, server);
  const expert = await openApp(browser, server);
  const O = owner.page;
  const E = expert.page;

  // Owner: a room, made with the keyboard only.
  await go(O, 'Room');
  await O.getByTestId('room-name-input').focus();
  await O.keyboard.press('ControlOrMeta+a');
  await O.keyboard.type('ward 7 study');
  await tabTo(O, '[data-testid=passphrase]');
  await O.keyboard.type(PASSPHRASE);
  await tabTo(O, '[data-testid=passphrase-confirm]');
  await O.keyboard.type(PASSPHRASE);
  const backup = await downloads(O, 1, async () => {
    await tabTo(O, 'button[type=submit]');
    await O.keyboard.press('Enter');
  });
  expect([...backup.keys()]).toEqual(['airlock-room-ward-7-study.age']);
  await expect.poll(() => O.getByTestId('room-name').textContent(), { timeout: 30_000 }).toBe('ward 7 study');
  const recipient = (await O.getByTestId('recipient').textContent())!;
  const receiptFp = (await O.getByTestId('receipt-fingerprint').textContent())!;
  // The room key as a QR code that decodes to the recipient.
  const { decodeQR } = await import('@paulmillr/qr/decode.js');
  const qr = O.getByTestId('qr');
  const png = await qr.screenshot();
  const image = await O.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = new OffscreenCanvas(img.width, img.height);
    const g = c.getContext('2d')!;
    g.drawImage(img, 0, 0);
    return { width: img.width, height: img.height, data: [...g.getImageData(0, 0, img.width, img.height).data] };
  }, png.toString('base64'));
  expect(decodeQR({ width: image.width, height: image.height, data: new Uint8Array(image.data) })).toBe(recipient);

  // Owner: a table, its columns checked before it loads (type, missing share, distinct values, histogram).
  // By keyboard: the picker, then focus goes on to the table's name (the picker it was on is gone).
  await go(O, 'Tables');
  await (
    await pickByKeyboard(O, 'table-file')
  ).setFiles({ name: 'encounters.csv', mimeType: 'text/csv', buffer: encountersCsv() });
  await O.getByTestId('columns').waitFor();
  await expect.poll(() => O.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('table-name');
  const ageRow = O.getByTestId('columns').locator('li', { hasText: 'age' }).first();
  expect(await ageRow.textContent()).toMatch(/6\.0%\s*missing/);
  expect(await ageRow.locator('svg[role=img]').getAttribute('aria-label')).toMatch(/^Distribution of age: /);
  expect(await O.getByTestId('columns').locator('li', { hasText: 'readmitted' }).textContent()).toMatch(/3\s*distinct/);
  // Bulk: every column to text, and back to the inferred types.
  await O.getByRole('checkbox', { name: /Select all/ }).check();
  await O.getByTestId('bulk-type').selectOption('string');
  expect(await O.getByLabel('Type of age').inputValue()).toBe('string');
  await O.getByTestId('bulk-type').selectOption('inferred');
  expect(await O.getByLabel('Type of age').inputValue()).toBe('int');
  // The search, the ticked columns and the opened list survive a tab switch (TablesState keeps them).
  await O.getByRole('checkbox', { name: 'Select weight' }).uncheck();
  await O.getByPlaceholder('Find a column…').fill('ei');
  await go(O, 'Log');
  await go(O, 'Tables');
  expect(await O.getByPlaceholder('Find a column…').inputValue()).toBe('ei');
  expect(await O.getByTestId('columns').locator('li').count()).toBe(1); // weight
  expect(await O.getByRole('checkbox', { name: 'Select weight' }).isChecked()).toBe(false);
  await O.getByPlaceholder('Find a column…').fill('');
  expect(await O.getByRole('checkbox', { name: 'Select age' }).isChecked()).toBe(true);
  await O.getByRole('checkbox', { name: 'Select weight' }).check();
  await everyWidth(O, 'tables-type-editor', { dark: false });
  // The load button is one Tab from the name, not past every column.
  await O.getByTestId('table-name').fill('encounters');
  await O.getByTestId('table-name').focus();
  expect(await tabTo(O, 'button.primary', 1)).toBe(1);
  await O.keyboard.press('Enter');
  await expect
    .poll(() => O.getByTestId('message').textContent(), { timeout: 30_000 })
    .toContain('Loaded encounters: 300 rows, 4 columns');
  // and, once stored, to the list it joined.
  await expect.poll(() => O.evaluate(() => document.activeElement?.id)).toBe('list-h');

  // Owner: the policy (from POLICY_FIELDS), then the invitation carries it. What is typed and chosen
  // in the Room tab (an unsaved setting, a column opted in to statistics) survives a tab switch.
  await go(O, 'Room');
  await O.getByTestId('policy-timeLimitSeconds').fill('300');
  const statistics = O.locator('#room-invite details');
  const shareReadmitted = statistics.getByRole('checkbox', { name: 'readmitted', exact: true });
  await statistics.locator('summary').click();
  await shareReadmitted.check();
  await go(O, 'Tables');
  await go(O, 'Room');
  expect(await O.getByTestId('policy-timeLimitSeconds').inputValue()).toBe('300');
  await statistics.locator('summary').click();
  expect(await shareReadmitted.isChecked()).toBe(true);
  await O.getByRole('button', { name: 'Save policy' }).click();
  await expect.poll(() => O.getByTestId('message').textContent()).toContain('policy');
  const inv = await downloads(O, 1, () => O.getByRole('button', { name: 'Download invitation' }).click());
  const invitation = JSON.parse(inv.get('invitation.json')!.toString('utf8'));
  expect(invitation).toMatchObject({
    recipient,
    policy: { ...DEFAULT_POLICY, timeLimitSeconds: 300 },
    tables: [{ name: 'encounters', rows: 300 }],
  });
  expect(Object.keys(invitation.policy).sort()).toEqual(POLICY_FIELDS.map((f) => f.key).sort());
  const readmitted = invitation.tables[0].columns.find((c: { name: string }) => c.name === 'readmitted');
  expect(readmitted.stats.categories).toHaveLength(3);
  await everyWidth(O, 'room');

  // Expert, in another browser: the invitation as a schema table, mock data, keys made in the page.
  await go(E, 'Expert');
  // The expert is told the next step at each stage, as the owner is.
  const expertNext = () => E.getByTestId('expert-next-step').textContent();
  expect(await expertNext()).toContain('Load the invitation the owner sent you');
  await E.getByTestId('invitation-file').setInputFiles(asFile('invitation.json', inv.get('invitation.json')!));
  await expect.poll(() => E.getByTestId('schema-encounters').locator('tbody tr').count()).toBe(4);
  expect(await expertNext()).toContain('Download mock data');
  // The fingerprint the owner reads out from their Room tab is the one the expert's page shows.
  expect(await E.getByTestId('invitation-owner-fp').textContent()).toBe(receiptFp);
  // Every setting of the room's policy, the disclosure thresholds in words, before any code is written.
  const policyRows = E.getByTestId('invitation-policy');
  expect(await policyRows.locator('dt').allTextContents()).toEqual(POLICY_FIELDS.map((f) => f.label));
  expect(await policyRows.locator('dd strong').allTextContents()).toEqual([
    '300 s',
    '50.0 MiB',
    '5.0%',
    '10',
    '90%',
    '10%',
    '0.6',
    '1',
  ]);
  const mock = await downloads(E, 1, () => E.getByRole('button', { name: 'Download mock data' }).click());
  expect([...mock.keys()]).toEqual(['mock.zip']);
  expect(await expertNext()).toContain('seal your notebook and wheels');
  // The expert's side by keyboard: a key made, files picked and the bundle sealed without a mouse.
  await E.getByTestId('invitation-file').focus();
  const keys = await downloads(E, 2, async () => {
    await tabTo(E, '[data-testid=create-key]');
    await E.keyboard.press('Enter');
  });
  // The signing key downloads under its own name, with no ".txt" added.
  expect([...keys.keys()].sort()).toEqual(['airlock_ed25519', 'airlock_ed25519.pub']);
  const age = await downloads(E, 1, () => E.getByRole('button', { name: 'Make one' }).click());
  const identity = age.get('airlock-expert-age.key')!;
  const wheel = buildWheel({ name: 'm', version: '1.0', files: { 'm/__init__.py': 'X = 1\n' } });
  await E.getByLabel('Declared outputs').fill('model.json, metrics.json, summary.csv');
  await E.getByLabel('Declared outputs').focus();
  for (const [id, file] of [
    ['notebook-file', asFile('train.ipynb', Buffer.from(notebookJson(CELLS)))],
    ['wheel-files', asFile(wheel.filename, wheel.bytes)],
  ] as const) {
    const chooser = E.waitForEvent('filechooser');
    await tabTo(E, `[data-testid=${id}]`);
    await E.keyboard.press('Space');
    await (await chooser).setFiles(file);
  }
  // The form is kept across tab switches.
  await go(E, 'Demo');
  await go(E, 'Expert');
  expect(await E.getByLabel('Declared outputs').inputValue()).toBe('model.json, metrics.json, summary.csv');
  await E.getByLabel('Declared outputs').focus();
  const sealed = await downloads(E, 1, async () => {
    await tabTo(E, '[data-testid=seal]');
    await E.keyboard.press('Enter');
  });
  const bundle = sealed.get('model-0.1.0.airlock')!;
  expect(await expertNext()).toContain('Send the .airlock file to the owner');
  await everyWidth(E, 'expert-sealed');

  // Owner, by keyboard: import — the trust prompt (checked for accessibility), trust, run.
  await go(O, 'Bundles');
  await (await pickByKeyboard(O, 'bundle-file')).setFiles(asFile('model-0.1.0.airlock', bundle));
  await O.getByRole('alertdialog').waitFor();
  await axe(O, 'the trust prompt');
  await shoot(O, 'bundles-trust-prompt-1280-light');
  // The prompt takes focus (a screen reader reads the fingerprint); trusting is one Tab on.
  await expect.poll(() => O.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('alertdialog');
  await tabTo(O, '[role=alertdialog] button.primary', 1);
  await O.keyboard.press('Enter');
  await expect.poll(() => O.getByTestId('message').textContent()).toContain('Imported model 0.1.0');
  // and the imported bundle takes it next.
  await expect.poll(() => O.evaluate(() => document.activeElement?.id)).toBe('chosen-h');
  // The selected bundle is addressable.
  expect(decodeURIComponent(new URL(O.url()).hash)).toContain('#/bundles/');
  await tabTo(O, '[data-testid=run-bundle]');
  await O.keyboard.press('Enter');
  await expect
    .poll(() => O.getByTestId('run-stage').textContent(), { timeout: 30_000 })
    .toMatch(/Starting Python|Preparing|Running cell/);
  await expect.poll(() => O.getByTestId('gate').count(), { timeout: 120_000 }).toBe(1);
  expect(await O.getByTestId('gate').textContent()).toContain('The output gate passed');
  // The run has ended: focus is on its result, where a screen reader starts reading.
  expect(await O.evaluate(() => document.activeElement?.id)).toBe('result-h');
  expect(await O.getByTestId('cell').locator('.badge').allTextContents()).toEqual(['done', 'done', 'done']);
  expect(await O.getByTestId('training-curve').locator('svg').getAttribute('aria-label')).toBe(
    'Training curve: loss from 1 to 0.1; auc from 0.525 to 0.75 over 10 reports',
  );
  expect(await O.getByTestId('metric-card').allTextContents()).toEqual([
    expect.stringMatching(/^0\.75\s*auc\s*model\.json$/),
    expect.stringMatching(/^0\.1\s*loss\s*metrics\.json$/),
    expect.stringMatching(/^0\.8\s*accuracy\s*metrics\.json$/),
  ]);
  // Inside each output before it leaves: a JSON tree, a table head.
  expect((await O.getByTestId('output-path').allTextContents()).sort()).toEqual([
    'metrics.json',
    'model.json',
    'summary.csv',
  ]);
  const summary = O.getByTestId('output').filter({
    has: O.getByTestId('output-path').getByText('summary.csv', { exact: true }),
  });
  await summary.locator('details.preview > summary').click();
  expect(await summary.locator('table thead').textContent()).toBe('bucketcount');
  await everyWidth(O, 'bundles-gate-passed');

  // Export, encrypted to the expert's age key; the expert verifies it in their page.
  // On from the preview just opened, by keyboard: encrypt to the expert, export.
  await tabTo(O, '.result input[type=checkbox]');
  await O.keyboard.press('Space');
  expect(await O.getByLabel(/Encrypt the outputs to the expert/).isChecked()).toBe(true);
  const out = await downloads(O, 3, async () => {
    await tabTo(O, '.result button.primary', 1);
    await O.keyboard.press('Enter');
  });
  expect([...out.keys()].sort()).toEqual(['model-0.1.0-outputs.zip.age', 'receipt.json', 'receipt.json.sig']);
  await E.getByTestId('receipt-files').setInputFiles([...out].map(([n, b]) => asFile(n, b)));
  await E.getByTestId('identity-file').setInputFiles(asFile('airlock-expert-age.key', identity));
  await E.getByRole('button', { name: 'Verify' }).click();
  await expect.poll(() => E.getByTestId('receipt-result').textContent()).toContain('Verified.');
  expect(await E.getByTestId('expert-next-step').count()).toBe(0);
  expect(await E.getByTestId('receipt-result').textContent()).toContain(`${receiptFp}, the key in your invitation`);
  expect(await E.locator('.matches li .badge').allTextContents()).toEqual(['matches', 'matches', 'matches']);
  const opened = await downloads(E, 1, () =>
    E.locator('.matches li', { hasText: 'model.json' }).getByRole('button', { name: 'Save' }).click(),
  );
  expect(JSON.parse(opened.get('model.json')!.toString('utf8'))).toEqual({
    weights: [0.1, 0.2],
    metrics: { auc: 0.75 },
  });
  await everyWidth(E, 'expert-verified');

  // The log, with everything in it.
  await go(O, 'Log');
  await expect.poll(() => O.getByTestId('audit-check').textContent()).toContain('intact');
  await everyWidth(O, 'log');
  // The room shown is kept across a tab switch.
  await O.getByTestId('audit-room').selectOption({ index: 1 });
  const shownRoom = await O.getByTestId('audit-room').inputValue();
  expect(shownRoom).not.toBe('all');
  await go(O, 'Tables');
  await go(O, 'Log');
  expect(await O.getByTestId('audit-room').inputValue()).toBe(shownRoom);
  await O.getByTestId('audit-room').selectOption('all');
  await go(O, 'Tables');
  await everyWidth(O, 'tables', { dark: false });

  // Failures a person meets. A bundle dropped where tables go: told where it belongs, nothing loaded.
  await O.getByTestId('table-file').setInputFiles(asFile('model-0.1.0.airlock', bundle));
  await expect
    .poll(() => O.getByTestId('message').textContent())
    .toContain('is a bundle: import it in the Bundles tab');
  // A bundle sealed to another of the owner's rooms: named.
  await go(O, 'Room');
  await O.getByRole('button', { name: 'New room…' }).click();
  await O.getByTestId('room-name-input').fill('second room');
  // The form, open with its name typed, survives a tab switch.
  await go(O, 'Log');
  await go(O, 'Room');
  expect(await O.getByTestId('room-name-input').inputValue()).toBe('second room');
  await O.getByTestId('passphrase').fill(PASSPHRASE);
  await O.getByTestId('passphrase-confirm').fill(PASSPHRASE);
  await downloads(O, 1, () => O.getByRole('button', { name: 'Create room and download its backup' }).click());
  await expect.poll(() => O.getByTestId('current-room').locator('option:checked').textContent()).toBe('second room');
  await go(O, 'Bundles');
  await O.getByTestId('bundle-file').setInputFiles(asFile('model-0.1.0.airlock', bundle));
  await expect
    .poll(() => O.getByTestId('message').textContent())
    .toContain('sealed to your room "ward 7 study", not to "second room"');
  // Back (the browser's) returns to the first room; a run cancelled while Python starts ends as cancelled.
  await O.goBack();
  await O.goBack();
  await expect.poll(() => O.getByTestId('current-room').locator('option:checked').textContent()).toBe('ward 7 study');
  await go(O, 'Bundles');
  await O.getByRole('button', { name: 'Run in the sandbox' }).click();
  await O.getByRole('button', { name: 'Cancel run' }).click();
  await expect.poll(() => O.getByTestId('run-status').textContent(), { timeout: 30_000 }).toMatch(/cancel/i);
  await shoot(O, 'bundles-cancelled-1280-light');
  // A destructive action asks first, in the page: the dialog opens on Cancel, passes axe, and Escape
  // leaves everything as it was, with focus back on the button that asked.
  await O.getByRole('button', { name: 'Delete model 0.1.0' }).focus();
  await O.keyboard.press('Enter');
  await O.getByRole('dialog', { name: 'Delete this bundle version?' }).waitFor();
  expect(await O.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Cancel');
  await axe(O, 'the delete dialog');
  await O.keyboard.press('Escape');
  await expect.poll(() => O.getByRole('dialog').count()).toBe(0);
  expect(await O.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Delete model 0.1.0');
  expect(await O.getByTestId('bundle-row').count()).toBe(1);

  // Keyboard: every stop on every tab shows its focus ring.
  for (const tab of ['Demo', 'Room', 'Tables', 'Bundles', 'Log', 'Expert']) {
    await go(O, tab);
    await O.locator('body').focus();
    for (let i = 0; i < 25; i++) {
      await O.keyboard.press('Tab');
      const ring = await focusRingVisible(O);
      if (ring.what === 'body') break;
      expect(ring.visible, `focus ring on ${ring.what} (${tab})`).toBe(true);
    }
  }
  // Nothing the person did left an error unhandled (an uncaught exception or promise rejection).
  const uncaught = (lines: string[]) => lines.filter((l) => /^pageerror|Uncaught/.test(l));
  expect(uncaught(owner.console)).toEqual([]);
  expect(uncaught(expert.console)).toEqual([]);
  await owner.context.close();
  await expert.context.close();
});
