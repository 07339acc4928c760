/**
 * The owner's bundles in IndexedDB: every version kept (sealed bytes as received, so it can be
 * re-verified any time), which one is active per name, and the expert key pinned for the room.
 * Each version is a summary (`bundles`: what the list shows) and its sealed bytes (`sealed`, read
 * by key only when the bundle is opened), so listing stays cheap however many versions arrive.
 */
import type { DBSchema } from 'idb';
import { database } from '../storage/index.ts';
import { fingerprint, parsePublicKey } from '../crypto/index.ts';
import { BundleError } from './errors.ts';
import type { Manifest } from './manifest.ts';
import { openBundle, type OpenedBundle, type PreparedBundle } from './seal.ts';
import { decideImport } from './versions.ts';

export interface StoredBundle {
  key: string; // `${name}@${version}`
  name: string;
  version: string;
  signer: string;
  manifest: Manifest;
  /** Size of the sealed file in bytes (the bytes themselves are read by key when opened). */
  size: number;
  importedAt: number;
  active: boolean;
  note?: string;
}

interface BundleDB extends DBSchema {
  bundles: { key: string; value: StoredBundle; indexes: { name: string } };
  sealed: { key: string; value: Uint8Array };
  settings: { key: string; value: { key: string; value: string } };
}

const PINNED = 'pinned-expert';

const db = database<BundleDB>('airlock-bundles', 2, async (d, old, _new, tx) => {
  if (old < 1) {
    d.createObjectStore('bundles', { keyPath: 'key' }).createIndex('name', 'name');
    d.createObjectStore('settings', { keyPath: 'key' });
  }
  if (old < 2) {
    // Version 1 kept the sealed bytes in each summary: move them into `sealed`.
    const sealed = d.createObjectStore('sealed');
    if (old >= 1) {
      for (let c = await tx.objectStore('bundles').openCursor(); c; c = await c.continue()) {
        const { sealed: bytes, ...summary } = c.value as StoredBundle & { sealed: Uint8Array };
        await sealed.put(bytes, summary.key);
        await c.update({ ...summary, size: bytes.byteLength });
      }
    }
  }
});

/** The pinned expert (`SHA256:` fingerprint), if any. */
export async function pinnedExpert(): Promise<string | undefined> {
  return db.run(async (d) => (await d.get('settings', PINNED))?.value);
}

/** Pins the expert's key: an `ssh-ed25519 …` line or a `SHA256:` fingerprint. */
export async function pinExpert(key: string): Promise<string> {
  const fp = key.trim().startsWith('SHA256:') ? key.trim() : fingerprint(parsePublicKey(key).key);
  await db.run((d) => d.put('settings', { key: PINNED, value: fp }));
  return fp;
}

export interface ImportResult {
  bundle: StoredBundle;
  opened: OpenedBundle;
  replaced?: string;
}

/**
 * Opens, checks and stores a bundle. A bundle signed by another key than the pinned one, or not
 * newer than the active version, is refused (unless `force`); nothing is changed then. When no
 * expert is pinned yet, the caller must have shown the signer's fingerprint and `pinSigner` pins it.
 * @throws {BundleError} `needs-trust` (with the signer) when no expert is pinned and `pinSigner` is not set
 */
export async function importBundle(
  sealed: Uint8Array,
  identity: string | CryptoKey,
  options: { force?: boolean; pinSigner?: boolean } = {},
): Promise<ImportResult> {
  const pinned = await pinnedExpert();
  const opened = await openBundle(sealed, identity, pinned ? { expert: pinned } : {});
  if (!pinned && !options.pinSigner) {
    throw new BundleError(
      'needs-trust',
      `no expert is trusted in this room yet: confirm that ${opened.signer} is your expert's key to import this bundle`,
      opened.signer,
    );
  }
  return db.run(async (d) => {
    // The versions known, the decision and the writes in one transaction: two tabs importing at
    // once cannot both make their version the active one.
    const tx = d.transaction(['bundles', 'sealed', 'settings'], 'readwrite');
    const bundles = tx.objectStore('bundles');
    const existing = await bundles.index('name').getAll(opened.manifest.name);
    const decision = decideImport(
      existing,
      { name: opened.manifest.name, version: opened.manifest.version, signer: opened.signer },
      { pinned: pinned ?? opened.signer, force: options.force },
    );
    if (!decision.accept) {
      tx.abort();
      await tx.done.catch(() => {});
      throw new BundleError(
        decision.reason === 'unknown-signer' ? 'unknown-signer' : 'bad-input',
        decision.message,
        opened.signer,
      );
    }
    const bundle: StoredBundle = {
      key: `${opened.manifest.name}@${opened.manifest.version}`,
      name: opened.manifest.name,
      version: opened.manifest.version,
      signer: opened.signer,
      manifest: opened.manifest,
      size: sealed.byteLength,
      importedAt: Date.now(),
      active: true,
      ...(decision.note ? { note: decision.note } : {}),
    };
    for (const e of existing) if (e.active) await bundles.put({ ...e, active: false });
    await bundles.put(bundle);
    await tx.objectStore('sealed').put(sealed, bundle.key);
    if (!pinned) await tx.objectStore('settings').put({ key: PINNED, value: opened.signer });
    await tx.done;
    return { bundle, opened, ...(decision.replaces ? { replaced: decision.replaces } : {}) };
  });
}

/** Every stored version's summary, newest import first. */
export async function listBundles(): Promise<StoredBundle[]> {
  return (await db.run((d) => d.getAll('bundles'))).sort((a, b) => b.importedAt - a.importedAt);
}

/** Re-opens a stored bundle (signature and hashes are checked again). */
export async function openStoredBundle(key: string, identity: string | CryptoKey): Promise<OpenedBundle>;
export async function openStoredBundle<P>(
  key: string,
  identity: string | CryptoKey,
  prepareWheels: (wheels: OpenedBundle['wheels']) => Promise<P>,
): Promise<PreparedBundle<P>>;
export async function openStoredBundle<P>(
  key: string,
  identity: string | CryptoKey,
  prepareWheels?: (wheels: OpenedBundle['wheels']) => Promise<P>,
): Promise<OpenedBundle | PreparedBundle<P>> {
  const [b, sealed] = await db.run((d) => Promise.all([d.get('bundles', key), d.get('sealed', key)]));
  if (!b || !sealed) throw new BundleError('missing-file', `there is no stored bundle ${key}`);
  return prepareWheels
    ? openBundle(sealed, identity, { expert: b.signer, prepareWheels })
    : openBundle(sealed, identity, { expert: b.signer });
}
