/**
 * Names in a bundle's manifest are shown to the owner (app, terminal, gate report) and must be what
 * they look like: control, bidi and invisible characters are refused when the expert seals and again
 * when the owner opens, whatever tool made the bundle. Letters of every script still work.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { BundleError, openBundle, parseManifest, sealBundle, type SealInput } from '../../src/lib/bundle/index.ts';
import { generateOwnerKey, generateSshKey, type OwnerKey } from '../../src/lib/crypto/index.ts';
import { CRAFTED_NOTEBOOK, craftBundle, craftManifest } from './fixtures/craft-bundle.ts';

const expert = generateSshKey('expert');
let owner: OwnerKey;
beforeAll(async () => (owner = await generateOwnerKey()));

const HOSTILE: Array<[string, string]> = [
  ['OSC 52 (clipboard)', 'model\x1b]52;c;ZXZpbA==\x07.json'],
  ['CSI 8 m (concealed)', '\x1b[8mmodel.json'],
  ['a carriage return', 'model.json\rgate: passed'],
  ['a C1 CSI', 'model\u009b8m.json'],
  ['DEL', 'model\x7f.json'],
  ['a right-to-left override', 'model\u202Egnp.exe'],
  ['a first-strong isolate', 'model\u2068.json'],
  ['a zero-width space', 'mo\u200bdel.json'],
  ['a byte-order mark', '\ufeffmodel.json'],
  ['a newline', 'model\n.json'],
];

const seal = (over: Partial<SealInput>) =>
  sealBundle({
    recipient: owner.recipient,
    signer: expert.key,
    name: 'names',
    version: '1.0',
    notebook: { filename: 'n.ipynb', bytes: CRAFTED_NOTEBOOK },
    wheels: [],
    ...over,
  });

async function refusal(p: Promise<unknown>): Promise<BundleError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BundleError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('manifest names', () => {
  test.each(HOSTILE)(
    '%s is refused at seal in outputs, tables and inference, and in the notebook name',
    async (_l, bad) => {
      for (const over of [
        { outputs: [bad] },
        { tables: [bad] },
        { inference: { module: bad, function: 'predict' } },
        { inference: { module: 'm', function: bad } },
        { notebook: { filename: `${bad}.ipynb`, bytes: CRAFTED_NOTEBOOK } },
      ] as Array<Partial<SealInput>>) {
        const e = await refusal(seal(over));
        expect(e.code, JSON.stringify(over)).toBe('bad-input');
        // eslint-disable-next-line no-control-regex
        expect(e.message).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\ufeff]/);
      }
    },
  );

  test.each(HOSTILE)('%s is refused at open, in a bundle signed without sealBundle', async (_l, bad) => {
    for (const edit of [
      (m: Record<string, unknown>) => (m.outputs = [bad]),
      (m: Record<string, unknown>) => (m.tables = [bad]),
      (m: Record<string, unknown>) => (m.inference = { module: 'm', function: bad }),
      (m: Record<string, unknown>) => ((m.author as Record<string, string>).publicKey += ` ${bad}`),
    ]) {
      const bundle = await craftBundle({ recipient: owner.recipient, signer: expert.key, manifest: edit });
      const e = await refusal(openBundle(bundle, owner.identity));
      expect(e.code).toBe('bad-manifest');
    }
  });

  test('positive control: the crafted bundle opens when its names are plain', async () => {
    const bundle = await craftBundle({ recipient: owner.recipient, signer: expert.key });
    expect((await openBundle(bundle, owner.identity)).manifest.outputs).toEqual(['model.json']);
  });

  test('letters of every script: accents, CJK, Greek, Arabic in outputs, tables and Python identifiers', async () => {
    const { manifest } = await seal({
      outputs: ['modèle/模型.json', 'résultats.csv', 'نموذج.bin'],
      tables: ['données', '患者', 'Ελλάδα'],
      inference: { module: 'modèle.prédire', function: 'évaluer' },
    });
    const m = await manifest;
    expect(m.outputs).toEqual(['modèle/模型.json', 'résultats.csv', 'نموذج.bin']);
    const bundle = await craftBundle({
      recipient: owner.recipient,
      signer: expert.key,
      manifest: (x) => {
        x.outputs = m.outputs;
        x.tables = m.tables;
        x.inference = m.inference;
      },
    });
    expect((await openBundle(bundle, owner.identity)).manifest.tables).toEqual(['données', '患者', 'Ελλάδα']);
  });

  test('declared outputs must be names the owner can save: dot-files, the receipt, devices', async () => {
    for (const bad of ['.vscode/tasks.json', 'receipt.json', 'Receipt.json.sig', 'a/.git/config', 'CON.json'])
      expect((await refusal(seal({ outputs: [bad] }))).code, bad).toBe('bad-input');
  });

  test('other fields: created may not carry text (Date.parse skips parentheses), fingerprint and key are strict', () => {
    const bytes = (edit: (m: Record<string, unknown>) => void) => {
      const m = craftManifest(expert.key);
      edit(m);
      return new TextEncoder().encode(JSON.stringify(m));
    };
    expect(() => parseManifest(bytes(() => {}))).not.toThrow();
    for (const edit of [
      (m: Record<string, unknown>) => (m.created = 'Nov 24 2026 (\x1b]0;owned\x07)'),
      (m: Record<string, unknown>) => ((m.author as Record<string, string>).fingerprint = 'SHA256:\x1b[8m'),
      (m: Record<string, unknown>) => ((m.author as Record<string, string>).publicKey = 'ssh-rsa AAAA'),
      (m: Record<string, unknown>) => (m.inference = { module: 'os; import x', function: 'f' }),
    ]) {
      expect(() => parseManifest(bytes(edit))).toThrow(BundleError);
    }
    expect(Number.isNaN(Date.parse('Nov 24 2026 (\x1b]0;owned\x07)'))).toBe(false); // why the pattern is needed
  });
});
