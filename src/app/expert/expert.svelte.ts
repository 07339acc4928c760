/**
 * The expert's side of the app: read an invitation, make mock data from it, seal a bundle. The
 * signing key is held in memory for this page only; nothing here is stored.
 */
import { zipSync, strToU8 } from 'fflate';
import { sealBundle, streamToBlob } from '../../lib/bundle/index.ts';
import { lanes } from '../lanes.ts';
import { fingerprint, generateSshKey, parsePrivateKey, type SshPrivateKey } from '../../lib/crypto/index.ts';
import { generateMock, parseInvitation, type Invitation } from '../../lib/data/index.ts';
import { download } from '../owner/owner.svelte.ts';

export class Expert {
  invitation = $state<Invitation | null>(null);
  signer = $state<{ key: SshPrivateKey; fingerprint: string } | null>(null);
  message = $state<{ text: string; kind: 'ok' | 'error' } | null>(null);
  busy = $state(false);

  private say(text: string, kind: 'ok' | 'error' = 'ok') {
    this.message = { text, kind };
  }

  async readInvitation(file: File): Promise<void> {
    try {
      this.invitation = parseInvitation(await file.text());
      this.say(
        `Invitation for "${this.invitation.room}": ${this.invitation.tables.map((t) => `${t.name} (${t.rows.toLocaleString()} rows)`).join(', ')}.`,
      );
    } catch (e) {
      this.say(`${file.name}: ${(e as Error).message}`, 'error');
    }
  }

  mockZip(rows?: number): void {
    if (!this.invitation) return;
    const tables = generateMock(this.invitation, { rows });
    const files: Record<string, Uint8Array> = {
      'schema.json': strToU8(JSON.stringify(Object.fromEntries(tables.map((t) => [t.name, t.types])), null, 2) + '\n'),
    };
    for (const t of tables) files[`${t.name}.csv`] = strToU8(t.csv);
    download('mock.zip', zipSync(files), 'application/zip');
    this.say(
      'Mock data downloaded: unzip it into mock/ and develop with the local airlock module (docs/INVITATION.md).',
    );
  }

  async readKey(file: File): Promise<void> {
    try {
      const key = parsePrivateKey(await file.text());
      this.signer = { key, fingerprint: fingerprint(key.publicKey) };
      this.say(`Signing with ${this.signer.fingerprint}.`);
    } catch (e) {
      this.say(`${file.name}: ${(e as Error).message}`, 'error');
    }
  }

  createKey(): void {
    const k = generateSshKey('airlock-expert');
    this.signer = { key: k.key, fingerprint: fingerprint(k.key.publicKey) };
    download('airlock_ed25519', k.privateKey, 'text/plain');
    download('airlock_ed25519.pub', k.publicKey, 'text/plain');
    this.say(
      `New signing key ${this.signer.fingerprint}; both halves were downloaded. Tell the owner this fingerprint.`,
    );
  }

  async seal(input: {
    recipient: string;
    name: string;
    version: string;
    notebook: File;
    wheels: File[];
    outputs: string[];
    tables: string[];
    replyTo?: string;
  }): Promise<void> {
    if (!this.signer) return this.say('Choose or create a signing key first.', 'error');
    this.busy = true;
    try {
      const bytes = async (f: File) => ({ filename: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
      const { manifest: signed, stream } = await sealBundle(
        {
          recipient: input.recipient,
          signer: this.signer.key,
          name: input.name,
          version: input.version,
          notebook: await bytes(input.notebook),
          wheels: await Promise.all(input.wheels.map(bytes)),
          outputs: input.outputs,
          tables: input.tables,
          ...(input.replyTo ? { replyTo: input.replyTo } : {}),
        },
        { lanes },
      );
      const sealed = await streamToBlob(stream);
      const manifest = await signed;
      download(`${manifest.name}-${manifest.version}.airlock`, sealed);
      this.say(
        `Sealed ${manifest.name} ${manifest.version} for ${input.recipient.slice(0, 16)}…, signed by ${manifest.author.fingerprint}. Send the .airlock file to the owner.`,
      );
    } catch (e) {
      this.say((e as Error).message, 'error');
    } finally {
      this.busy = false;
    }
  }
}
