import { describe, expect, test } from 'vitest';
import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { zipSync } from 'fflate';
import { checkReceiptFiles, openSealedOutputs, SealedOutputsError } from '../../src/lib/receipt/index.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const model = enc('{"w":[1,2]}');
const receipt = {
  outputs: [
    { path: 'model.json', size: model.byteLength, sha256: '' },
    { path: 'eval/metrics.json', size: 2, sha256: '' },
  ],
};

async function hex(b: Uint8Array) {
  return Buffer.from(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)).toString('hex');
}

describe('checkReceiptFiles', () => {
  test('matches by hash, names what differs, is missing or extra', async () => {
    receipt.outputs[0]!.sha256 = await hex(model);
    receipt.outputs[1]!.sha256 = await hex(enc('{}'));
    const ok = await checkReceiptFiles(receipt, [
      { name: 'model.json', bytes: model },
      { name: 'eval_metrics.json', bytes: enc('{}') },
      { name: 'receipt.json', bytes: enc('{}') },
    ]);
    expect(ok).toEqual({
      outputs: [
        { path: 'model.json', status: 'match' },
        { path: 'eval/metrics.json', status: 'match' },
      ],
      extra: [],
      ok: true,
    });
    const bad = await checkReceiptFiles(receipt, [
      { name: 'model.json', bytes: enc('{"w":[1,3]}') },
      { name: 'notes.txt', bytes: enc('x') },
    ]);
    expect(bad).toEqual({
      outputs: [
        { path: 'model.json', status: 'differs' },
        { path: 'eval/metrics.json', status: 'missing' },
      ],
      extra: ['notes.txt'],
      ok: false,
    });
  });
});

describe('openSealedOutputs', () => {
  test('decrypts and unzips with the right identity; refuses the wrong one and non-age files', async () => {
    const identity = await generateIdentity();
    const e = new Encrypter();
    e.addRecipient(await identityToRecipient(identity));
    const sealed = await e.encrypt(zipSync({ 'model.json': model, 'eval/metrics.json': enc('{}') }));
    const files = await openSealedOutputs(sealed, `# created: now\n${identity}\n`);
    expect(files.map((f) => f.name).sort()).toEqual(['eval/metrics.json', 'model.json']);
    expect(files.find((f) => f.name === 'model.json')!.bytes).toEqual(model);

    const other = await generateIdentity();
    await expect(openSealedOutputs(sealed, other)).rejects.toMatchObject({ code: 'wrong-identity' });
    await expect(openSealedOutputs(enc('{"not":"age"}'), identity)).rejects.toMatchObject({ code: 'not-age' });
    await expect(openSealedOutputs(sealed, 'not a key')).rejects.toBeInstanceOf(SealedOutputsError);
  });
});
