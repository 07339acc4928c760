/**
 * The room backup: both of the owner's keys in one passphrase-sealed age file. Round trips, every
 * refusal, and interop with the real `age` (the passphrase typed on a terminal) and `ssh-keygen`.
 */
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encrypter, armor } from 'age-encryption';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fingerprint, formatIdentityFile, generateOwnerKey, verifySsh } from '../../src/lib/crypto/index.ts';
import { BackupError, openBackup, sealBackup, type RoomIdentity } from '../../src/lib/rooms/index.ts';
import { receiptKeyFile } from '../../src/lib/rooms/backup.ts';

const PASS = 'a long passphrase';
const dir = mkdtempSync(join(tmpdir(), 'airlock-backup-'));

async function room(name = 'readmission study'): Promise<RoomIdentity> {
  const age = await generateOwnerKey();
  const seed = ed25519.utils.randomSecretKey();
  return {
    name,
    created: new Date().toISOString(),
    identity: age.identity,
    recipient: age.recipient,
    receiptKey: receiptKeyFile({ seed, publicKey: ed25519.getPublicKey(seed), comment: 'airlock-receipt' }),
  };
}

/** Runs a command whose passphrase prompt reads /dev/tty, answering it through a pseudo-terminal. */
function withTty(cmd: string, answers: string[]): void {
  execFileSync('script', ['-qec', cmd, '/dev/null'], { input: answers.map((a) => a + '\n').join(''), cwd: dir });
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BackupError);
    return (e as BackupError).code;
  }
  return 'opened';
}

describe('room backup', () => {
  test('round trip: both keys come back, checked', async () => {
    const r = await room();
    const text = await sealBackup([r], PASS, { workFactor: 10 });
    expect(text.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')).toBe(true);
    for (const secret of [r.identity, r.receiptKey.split('\n')[1]!]) expect(text).not.toContain(secret);
    const { rooms } = await openBackup(text, PASS);
    expect(rooms).toHaveLength(1);
    expect(rooms[0]).toMatchObject({ name: r.name, identity: r.identity, recipient: r.recipient });
    expect(rooms[0]!.receiptFingerprint).toMatch(/^SHA256:/);
  });

  test('refusals: weak passphrase, wrong passphrase, not a backup, damaged, newer, mismatched keys', async () => {
    const r = await room();
    expect(await code(sealBackup([r], 'short'))).toBe('weak-passphrase');
    const text = await sealBackup([r], PASS, { workFactor: 10 });
    expect(await code(openBackup(text, 'another passphrase'))).toBe('wrong-passphrase');
    expect(await code(openBackup(formatIdentityFile(r), PASS))).toBe('not-a-backup');
    // An age file to a recipient, not a passphrase: not a backup.
    const e = new Encrypter();
    e.addRecipient(r.recipient);
    expect(await code(openBackup(armor.encode(await e.encrypt('{}')), PASS))).toBe('not-a-backup');
    // A flipped character in the armored body.
    const lines = text.split('\n');
    lines[3] = lines[3]!.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(['damaged', 'wrong-passphrase']).toContain(await code(openBackup(lines.join('\n'), PASS)));
    // Valid age, but what is inside is not a backup, or is newer, or its keys disagree.
    const sealRaw = async (body: unknown) => {
      const x = new Encrypter();
      x.setPassphrase(PASS);
      x.setScryptWorkFactor(10);
      return armor.encode(await x.encrypt(JSON.stringify(body)));
    };
    expect(await code(openBackup(await sealRaw({ hello: 1 }), PASS))).toBe('not-a-backup');
    expect(
      await code(openBackup(await sealRaw({ format: 'airlock-room-backup', version: 99, rooms: [r] }), PASS)),
    ).toBe('newer-version');
    const other = await room();
    expect(
      await code(
        openBackup(
          await sealRaw({ format: 'airlock-room-backup', version: 1, rooms: [{ ...r, recipient: other.recipient }] }),
          PASS,
        ),
      ),
    ).toBe('damaged');
    expect(
      await code(
        openBackup(
          await sealRaw({ format: 'airlock-room-backup', version: 1, rooms: [{ ...r, receiptKey: 'nope' }] }),
          PASS,
        ),
      ),
    ).toBe('damaged');
  });

  test('the age program opens it with the passphrase; its keys work with age and ssh-keygen', async () => {
    const r = await room();
    writeFileSync(join(dir, 'room.age'), await sealBackup([r], PASS));
    withTty('age -d -o backup.json room.age', [PASS]);
    const inside = JSON.parse(readFileSync(join(dir, 'backup.json'), 'utf8'));
    expect(inside).toMatchObject({ format: 'airlock-room-backup', version: 1, rooms: [{ recipient: r.recipient }] });

    // The room key decrypts what is sealed to the room.
    writeFileSync(
      join(dir, 'owner.key'),
      formatIdentityFile({ identity: inside.rooms[0].identity, recipient: r.recipient }),
    );
    writeFileSync(join(dir, 'msg.txt'), 'sealed to the room');
    execFileSync('age', ['-r', r.recipient, '-o', 'msg.age', 'msg.txt'], { cwd: dir });
    expect(execFileSync('age', ['-d', '-i', 'owner.key', 'msg.age'], { cwd: dir }).toString()).toBe(
      'sealed to the room',
    );

    // The receipt key signs as the owner: ssh-keygen signs with it, and Airlock verifies that signature.
    writeFileSync(join(dir, 'receipt_ed25519'), inside.rooms[0].receiptKey, { mode: 0o600 });
    execFileSync('ssh-keygen', ['-Y', 'sign', '-f', 'receipt_ed25519', '-n', 'airlock-receipt', 'msg.txt'], {
      cwd: dir,
      stdio: 'pipe',
    });
    const signer = verifySsh(
      readFileSync(join(dir, 'msg.txt')),
      readFileSync(join(dir, 'msg.txt.sig'), 'utf8'),
      'airlock-receipt',
    );
    const { rooms } = await openBackup(readFileSync(join(dir, 'room.age'), 'utf8'), PASS);
    expect(fingerprint(signer)).toBe(rooms[0]!.receiptFingerprint);
  });

  test('a backup written by the age program (age -p -a) opens in Airlock', async () => {
    const r = await room('from age');
    writeFileSync(join(dir, 'plain.json'), JSON.stringify({ format: 'airlock-room-backup', version: 1, rooms: [r] }));
    withTty('age -p -a -o byage.age plain.json', [PASS, PASS]);
    const { rooms } = await openBackup(readFileSync(join(dir, 'byage.age'), 'utf8'), PASS);
    expect(rooms[0]).toMatchObject({ name: 'from age', recipient: r.recipient });
  });
});
