/** Receipts (signed by the owner, checked by Airlock and by ssh-keygen) and the audit chain. */
import { describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateSshKey } from '../../src/lib/crypto/index.ts';
import { signReceipt, signReceiptWith, verifyReceipt, type ReceiptBody } from '../../src/lib/receipt/index.ts';
import { nextEntry, verifyChain, type AuditEntry } from '../../src/lib/audit/index.ts';

const body: ReceiptBody = {
  bundle: { name: 'readmission', version: '1.2.0', manifestSha256: 'a'.repeat(64), signer: 'SHA256:expert' },
  tables: [{ name: 'hospital_ehr', as: 'encounters', fingerprint: 'b'.repeat(64), rows: 101766 }],
  software: { airlock: '0.1.0', pyodide: '314.0.7' },
  policy: { timeLimitSeconds: 600, maxOutputBytes: 52428800 },
  started: '2026-11-24T10:00:00.000Z',
  ended: '2026-11-24T10:01:00.000Z',
  outputs: [{ path: 'model.json', sha256: 'c'.repeat(64), size: 711 }],
  gate: { pass: true, overridden: false, problems: [], tripwires: [] },
};
const owner = generateSshKey('owner@hospital');

describe('receipts', () => {
  test('signed by the owner, checked by Airlock and by ssh-keygen -Y verify', () => {
    const { bytes, signature, receipt } = signReceipt(body, owner.key);
    expect(verifyReceipt(bytes, signature, { owner: owner.publicKey })).toEqual(receipt);
    const dir = mkdtempSync(join(tmpdir(), 'airlock-receipt-'));
    writeFileSync(join(dir, 'receipt.json'), bytes);
    writeFileSync(join(dir, 'receipt.json.sig'), signature);
    writeFileSync(join(dir, 'allowed'), `owner ${owner.publicKey}`);
    const v = execFileSync(
      'ssh-keygen',
      [
        '-Y',
        'verify',
        '-f',
        join(dir, 'allowed'),
        '-I',
        'owner',
        '-n',
        'airlock-receipt',
        '-s',
        join(dir, 'receipt.json.sig'),
      ],
      { input: bytes },
    ).toString();
    expect(v).toContain('Good "airlock-receipt" signature');
    const cli = spawnSync(
      process.execPath,
      [
        resolve(import.meta.dirname, '../../bin/airlock.mjs'),
        'verify-receipt',
        join(dir, 'receipt.json'),
        '--owner',
        join(dir, 'allowed'),
      ],
      { encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0); // an allowed_signers line names the key as well as a .pub file
    writeFileSync(join(dir, 'owner.pub'), owner.publicKey);
    const ok = spawnSync(
      process.execPath,
      [
        resolve(import.meta.dirname, '../../bin/airlock.mjs'),
        'verify-receipt',
        join(dir, 'receipt.json'),
        '--owner',
        join(dir, 'owner.pub'),
      ],
      { encoding: 'utf8' },
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('readmission 1.2.0');
    expect(ok.stdout).toContain('(the owner you expect)');
  });

  test('a receipt signed with a non-extractable WebCrypto Ed25519 key verifies the same way', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    const { bytes, signature } = await signReceiptWith(
      body,
      pub,
      async (data) =>
        new Uint8Array(await crypto.subtle.sign('Ed25519', pair.privateKey, data as Uint8Array<ArrayBuffer>)),
    );
    expect(verifyReceipt(bytes, signature).bundle.name).toBe('readmission');
  });

  test('any change, another owner, or a wrong signature is refused', () => {
    const { bytes, signature } = signReceipt(body, owner.key);
    const changed = new TextEncoder().encode(new TextDecoder().decode(bytes).replace('"pass": true', '"pass": false'));
    expect(() => verifyReceipt(changed, signature)).toThrow('signature is invalid');
    const other = generateSshKey('x');
    expect(() => verifyReceipt(bytes, signature, { owner: other.publicKey })).toThrow('not by the owner you expect');
    const forged = signReceipt(body, other.key);
    const claims = new TextEncoder().encode(
      new TextDecoder()
        .decode(forged.bytes)
        .replaceAll(forged.receipt.owner.fingerprint, signReceipt(body, owner.key).receipt.owner.fingerprint),
    );
    expect(() => verifyReceipt(claims, forged.signature)).toThrow(/signature is invalid|names owner/);
    expect(() => verifyReceipt(new TextEncoder().encode('{}'), signature)).toThrow('not an Airlock receipt');
  });
});

describe('audit chain', () => {
  function log(n: number): AuditEntry[] {
    const out: AuditEntry[] = [];
    for (let i = 0; i < n; i++)
      out.push(
        nextEntry(
          out.at(-1),
          i % 2 ? 'run.started' : 'table.loaded',
          { name: `t${i}`, rows: i * 10 },
          new Date(Date.UTC(2026, 10, 24, 10, i)),
        ),
      );
    return out;
  }

  test('an untouched log verifies', () => {
    expect(verifyChain(log(20))).toEqual({ ok: true });
  });

  test('editing any past entry, removing one or reordering is detected at that entry', () => {
    for (const k of [0, 7, 19]) {
      const l = log(20);
      l[k] = { ...l[k]!, detail: { ...l[k]!.detail, rows: 999 } };
      expect(verifyChain(l)).toMatchObject({
        ok: false,
        brokenAt: k + 1,
        reason: `entry ${k + 1} was changed after it was written`,
      });
    }
    const removed = log(20);
    removed.splice(5, 1);
    expect(verifyChain(removed)).toMatchObject({ ok: false, brokenAt: 7 });
    const swapped = log(20);
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(verifyChain(swapped)).toMatchObject({ ok: false, brokenAt: 5 });
    // Recomputing the edited entry's own hash does not help: the next entry no longer follows it.
    const rehashed = log(20);
    const e = { ...rehashed[7]!, action: 'output.exported' };
    const { hash: _h, ...rest } = e;
    void _h;
    rehashed[7] = nextEntry(rehashed[6], e.action, rest.detail, new Date(rest.at));
    expect(verifyChain(rehashed)).toMatchObject({ ok: false, brokenAt: 9, reason: 'entry 9 does not follow entry 8' });
  });
});
