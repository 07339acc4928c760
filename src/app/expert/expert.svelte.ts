/**
 * The expert's side of the app: read an invitation, make mock data from it, hold a signing key (in
 * memory, for this page only), seal a bundle, and check what comes back — a receipt, the outputs,
 * or the outputs encrypted to them. Nothing here is stored.
 */
import { zipSync, strToU8 } from 'fflate';
import {
  DeclarationError,
  readDeclarations,
  sealBundle,
  streamToBlob,
  type DeclarationField,
} from '../../lib/bundle/index.ts';
import { lanes } from '../lanes.ts';
import {
  fingerprint,
  generateOwnerKey,
  generateSshKey,
  parsePrivateKey,
  parsePublicKey,
  type SshPrivateKey,
} from '../../lib/crypto/index.ts';
import { generateMock, parseInvitation, type Invitation } from '../../lib/data/index.ts';
import {
  checkReceiptFiles,
  openSealedOutputs,
  verifyReceipt,
  RECEIPT_FILES,
  type Receipt,
  type ReceiptFilesCheck,
} from '../../lib/receipt/index.ts';
import { download } from '../state/download.ts';
import { errorText } from '../state/format.ts';

export interface SealForm {
  recipient: string;
  name: string;
  version: string;
  notebook: File | null;
  wheels: File[];
  /** The declared outputs as typed: names separated by commas. */
  outputs: string;
  replyTo?: string;
  /** For the disclosure checks, as `airlock seal` takes them: `module:function` (blank: none). */
  inference: string;
  /** The column the model predicts, and for a text column its positive value (blank: none). */
  labelColumn: string;
  labelPositive: string;
  /** Outputs that are tables of counts or aggregates, separated by commas. */
  aggregates: string;
}

/** The form's fields each declaration is typed in: a refusal marks them. */
const FIELDS: Record<DeclarationField, Array<keyof SealForm>> = {
  inference: ['inference'],
  label: ['labelColumn', 'labelPositive'],
  // Either field fixes a table of results that is not among the outputs.
  aggregates: ['aggregates', 'outputs'],
};

/** Names typed into one field, separated by commas. */
const names = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export interface ReceiptResult {
  receipt: Receipt;
  /** The owner key the receipt was checked against: the invitation's, or only the receipt's own. */
  against: 'invitation' | 'receipt';
  files: ReceiptFilesCheck;
  /** Outputs opened from `…-outputs.zip.age`, offered for download. */
  opened: Array<{ name: string; bytes: Uint8Array }>;
}

const BLANK_FORM: SealForm = {
  recipient: '',
  name: 'model',
  version: '0.1.0',
  notebook: null,
  wheels: [],
  outputs: 'model.json',
  inference: '',
  labelColumn: '',
  labelPositive: '',
  aggregates: '',
};

/**
 * An invitation as the expert reads it: with the owner's receipt-signing key and its fingerprint,
 * the one the owner reads out from their Room tab and every receipt must be signed by.
 */
export type InvitationView = Invitation & { owner?: string; ownerFingerprint?: string };

export class ExpertState {
  /** The bundle being prepared: kept here, so a tab switch loses nothing. */
  #form = $state.raw<SealForm>({ ...BLANK_FORM });
  #invitation = $state.raw<InvitationView | null>(null);
  #signer = $state.raw<{ key: SshPrivateKey; fingerprint: string } | null>(null);
  #reply = $state.raw<{ recipient: string } | null>(null);
  #message = $state.raw<{ text: string; kind: 'ok' | 'error' } | null>(null);
  #busy = $state.raw(false);
  #mocked = $state.raw(false);
  #sealed = $state.raw<string | null>(null);
  #result = $state.raw<ReceiptResult | null>(null);
  /** The declaration the last seal refused: its fields are marked until they change. */
  #invalid = $state.raw<DeclarationField | null>(null);

  get form(): SealForm {
    return this.#form;
  }

  setForm(patch: Partial<SealForm>): void {
    this.#form = { ...this.#form, ...patch };
    if (this.#invalid && FIELDS[this.#invalid].some((k) => k in patch)) this.#invalid = null;
  }

  /** Whether a field of the form holds what the last seal refused. */
  invalid(field: keyof SealForm): boolean {
    return !!this.#invalid && FIELDS[this.#invalid].includes(field);
  }

  get invitation(): InvitationView | null {
    return this.#invitation;
  }
  get signer(): { fingerprint: string } | null {
    return this.#signer;
  }
  /** The age recipient made in this page for outputs sent back (its identity was downloaded). */
  get reply(): { recipient: string } | null {
    return this.#reply;
  }
  get message(): { text: string; kind: 'ok' | 'error' } | null {
    return this.#message;
  }
  get busy(): boolean {
    return this.#busy;
  }
  get mocked(): boolean {
    return this.#mocked;
  }
  /** The file name of the last sealed bundle. */
  get sealed(): string | null {
    return this.#sealed;
  }
  get result(): ReceiptResult | null {
    return this.#result;
  }

  #say(text: string, kind: 'ok' | 'error' = 'ok'): void {
    this.#message = { text, kind };
  }

  async readInvitation(file: File): Promise<void> {
    try {
      const text = await file.text();
      const inv = parseInvitation(text);
      let owner: string | undefined;
      try {
        const raw = JSON.parse(text) as { owner?: unknown };
        if (typeof raw.owner === 'string') owner = raw.owner;
      } catch {
        /* parseInvitation accepted it: it is JSON */
      }
      let ownerFingerprint: string | undefined;
      if (owner) {
        try {
          ownerFingerprint = fingerprint(parsePublicKey(owner).key);
        } catch {
          return this.#say(
            `${file.name}: its receipt-signing key is not an SSH Ed25519 public key; ask the owner for a new invitation.`,
            'error',
          );
        }
      }
      this.#invitation = { ...inv, ...(owner ? { owner, ownerFingerprint } : {}) };
      this.#form = { ...this.#form, recipient: inv.recipient };
      this.#say(
        `Invitation for "${inv.room}": ${inv.tables.map((t) => `${t.name} (${t.rows.toLocaleString()} rows)`).join(', ')}.`,
      );
    } catch (e) {
      this.#say(`${file.name}: ${errorText(e)}`, 'error');
    }
  }

  mockZip(rows?: number): void {
    const inv = this.#invitation;
    if (!inv) return;
    const tables = generateMock(inv, { rows });
    const files: Record<string, Uint8Array> = {
      'schema.json': strToU8(JSON.stringify(Object.fromEntries(tables.map((t) => [t.name, t.types])), null, 2) + '\n'),
    };
    for (const t of tables) files[`${t.name}.csv`] = strToU8(t.csv);
    download('mock.zip', zipSync(files), 'application/zip');
    this.#mocked = true;
    this.#say(
      'Mock data downloaded: unzip it into mock/ and develop with the local airlock module (docs/INVITATION.md).',
    );
  }

  async readKey(file: File): Promise<void> {
    try {
      const key = parsePrivateKey(await file.text());
      this.#signer = { key, fingerprint: fingerprint(key.publicKey) };
      this.#say(`Signing with ${this.#signer.fingerprint}.`);
    } catch (e) {
      this.#say(`${file.name}: ${errorText(e)}`, 'error');
    }
  }

  createKey(): void {
    const k = generateSshKey('airlock-expert');
    this.#signer = { key: k.key, fingerprint: fingerprint(k.key.publicKey) };
    // octet-stream: the browser keeps the name as it is (no ".txt" on an SSH key file).
    download('airlock_ed25519', k.privateKey, 'application/octet-stream');
    download('airlock_ed25519.pub', k.publicKey, 'application/octet-stream');
    this.#say(
      `New signing key ${this.#signer.fingerprint}; both halves were downloaded. Tell the owner this fingerprint.`,
    );
  }

  /** Makes an age key for outputs sent back encrypted: the identity is downloaded, the recipient goes in the bundle. */
  async createReplyKey(): Promise<void> {
    const k = await generateOwnerKey();
    download(
      'airlock-expert-age.key',
      `# Airlock: outputs sent back to you open with this key\n# public key: ${k.recipient}\n${k.identity}\n`,
      'application/octet-stream',
    );
    this.#reply = { recipient: k.recipient };
    this.#form = { ...this.#form, replyTo: k.recipient };
    this.#say(
      `New age key ${k.recipient.slice(0, 16)}…; its identity file was downloaded. It goes in the bundle, so the owner can encrypt your outputs to it.`,
    );
  }

  async seal(): Promise<void> {
    const form = this.#form;
    if (!this.#signer) return this.#say('Choose or create a signing key first.', 'error');
    if (!form.notebook) return this.#say('Choose the notebook (.ipynb).', 'error');
    if (!form.recipient.trim())
      return this.#say("Give the owner's recipient (age1…): it is in their invitation.", 'error');
    const outputs = names(form.outputs);
    let declared: ReturnType<typeof readDeclarations>;
    try {
      // Read as `airlock seal --inference --label --aggregate` reads them (lib/bundle/declare.ts).
      declared = readDeclarations({
        ...(form.inference.trim() ? { inference: form.inference } : {}),
        ...(form.labelColumn.trim() || form.labelPositive.trim()
          ? { label: { column: form.labelColumn, positive: form.labelPositive } }
          : {}),
        aggregates: names(form.aggregates),
        outputs,
      });
    } catch (e) {
      if (!(e instanceof DeclarationError)) throw e;
      this.#invalid = e.field;
      return this.#say(`${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`, 'error');
    }
    // A label the tables do not have would only fail at the owner's, after a round trip.
    const columns = this.#invitation?.tables.flatMap((t) => t.columns.map((c) => c.name));
    if (declared.label && columns && !columns.includes(declared.label.column)) {
      this.#invalid = 'label';
      return this.#say(
        `Label "${declared.label.column}": no table in the invitation has that column; choose one of its columns.`,
        'error',
      );
    }
    this.#invalid = null;
    this.#busy = true;
    try {
      const bytes = async (f: File) => ({ filename: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
      const { manifest: signed, stream } = await sealBundle(
        {
          recipient: form.recipient.trim(),
          signer: this.#signer.key,
          name: form.name,
          version: form.version,
          notebook: await bytes(form.notebook),
          wheels: await Promise.all(form.wheels.map(bytes)),
          outputs,
          tables: this.#invitation?.tables.map((t) => t.name) ?? [],
          ...(form.replyTo?.trim() ? { replyTo: form.replyTo.trim() } : {}),
          ...declared,
        },
        { lanes },
      );
      const sealed = await streamToBlob(stream);
      const manifest = await signed;
      const name = `${manifest.name}-${manifest.version}.airlock`;
      download(name, sealed);
      this.#sealed = name;
      this.#say(
        `Sealed ${manifest.name} ${manifest.version} for ${form.recipient.trim().slice(0, 16)}…, signed by ${manifest.author.fingerprint}. Send the .airlock file to the owner.${manifest.inference && manifest.label ? ' With its inference entry point and label, the owner’s run audits the model for membership inference.' : ''}`,
      );
    } catch (e) {
      this.#say(errorText(e), 'error');
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Checks what the owner sent back: the receipt's signature (against the invitation's owner key
   * when the invitation is loaded), and the outputs against the receipt's hashes — plain files, or
   * the encrypted zip opened with the expert's age identity.
   */
  async checkReceipt(files: File[], identity?: File): Promise<void> {
    this.#result = null;
    try {
      const byName = new Map(files.map((f) => [f.name.replace(/ \(\d+\)(?=\.|$)/, ''), f]));
      const receiptFile = byName.get(RECEIPT_FILES[0]);
      const sigFile = byName.get(RECEIPT_FILES[1]);
      if (!receiptFile || !sigFile) {
        return this.#say(
          `Choose ${RECEIPT_FILES[0]} and ${RECEIPT_FILES[1]} together (and the outputs, to check them too).`,
          'error',
        );
      }
      const owner = this.#invitation?.owner;
      const receipt = verifyReceipt(
        new Uint8Array(await receiptFile.arrayBuffer()),
        await sigFile.text(),
        owner ? { owner } : {},
      );
      const given: Array<{ name: string; bytes: Uint8Array }> = [];
      const opened: Array<{ name: string; bytes: Uint8Array }> = [];
      for (const [name, f] of byName) {
        if ((RECEIPT_FILES as readonly string[]).includes(name)) continue;
        const bytes = new Uint8Array(await f.arrayBuffer());
        if (name.endsWith('.zip.age')) {
          if (!identity) return this.#say(`${name} is encrypted to you: choose your age identity file too.`, 'error');
          const inner = await openSealedOutputs(bytes, await identity.text());
          opened.push(...inner);
          given.push(...inner);
        } else given.push({ name, bytes });
      }
      const check = await checkReceiptFiles(receipt, given);
      this.#result = { receipt, against: owner ? 'invitation' : 'receipt', files: check, opened };
      const matched = check.outputs.filter((o) => o.status === 'match').length;
      this.#say(
        `The receipt is signed by ${receipt.owner.fingerprint}${owner ? ', the key in your invitation' : ' (load the invitation to check it is your owner’s key)'}; ${matched} of ${check.outputs.length} output(s) match it.`,
        check.ok || !given.length ? 'ok' : 'error',
      );
    } catch (e) {
      this.#say(errorText(e), 'error');
    }
  }

  saveOpened(name: string): void {
    const f = this.#result?.opened.find((o) => o.name === name);
    if (f) download(f.name, f.bytes);
  }
}
