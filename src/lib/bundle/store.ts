/**
 * The owner's bundles in IndexedDB: every version kept (sealed bytes as received, so it can be
 * re-verified any time), which one is active per name, and the expert key pinned for the room.
 */
import { openDB, type DBSchema } from 'idb';
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
  sealed: Uint8Array;
  importedAt: number;
  active: boolean;
  note?: string;
}

interface BundleDB extends DBSchema {
  bundles: { key: string; value: StoredBundle; indexes: { name: string } };
  settings: { key: string; value: { key: string; value: string } };
}

const PINNED = 'pinned-expert';

function db() {
  return openDB<BundleDB>('airlock-bundles', 1, {
    upgrade(d, old) {
      if (old < 1) {
        d.createObjectStore('bundles', { keyPath: 'key' }).createIndex('name', 'name');
        d.createObjectStore('settings', { keyPath: 'key' });
      }
    },
  });
}

/** The pinned expert (`SHA256:` fingerprint), if any. */
export async function pinnedExpert(): Promise<string | undefined> {
  const d = await db();
  try {
    return (await d.get('settings', PINNED))?.value;
  } finally {
    d.close();
  }
}

/** Pins the expert's key: an `ssh-ed25519 …` line or a `SHA256:` fingerprint. */
export async function pinExpert(key: string): Promise<string> {
  const fp = key.trim().startsWith('SHA256:') ? key.trim() : fingerprint(parsePublicKey(key).key);
  const d = await db();
  try {
    await d.put('settings', { key: PINNED, value: fp });
  } finally {
    d.close();
  }
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
 * @throws {BundleError}
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
      'unknown-signer',
      `no expert is pinned yet: confirm that ${opened.signer} is your expert's key to import this bundle`,
    );
  }
  const d = await db();
  try {
    const existing = await d.getAllFromIndex('bundles', 'name', opened.manifest.name);
    const decision = decideImport(
      existing,
      { name: opened.manifest.name, version: opened.manifest.version, signer: opened.signer },
      { pinned: pinned ?? opened.signer, force: options.force },
    );
    if (!decision.accept)
      throw new BundleError(decision.reason === 'unknown-signer' ? 'unknown-signer' : 'bad-input', decision.message);
    const bundle: StoredBundle = {
      key: `${opened.manifest.name}@${opened.manifest.version}`,
      name: opened.manifest.name,
      version: opened.manifest.version,
      signer: opened.signer,
      manifest: opened.manifest,
      sealed,
      importedAt: Date.now(),
      active: true,
      ...(decision.note ? { note: decision.note } : {}),
    };
    const tx = d.transaction(['bundles', 'settings'], 'readwrite');
    for (const e of existing) if (e.active) await tx.objectStore('bundles').put({ ...e, active: false });
    await tx.objectStore('bundles').put(bundle);
    if (!pinned) await tx.objectStore('settings').put({ key: PINNED, value: opened.signer });
    await tx.done;
    return { bundle, opened, ...(decision.replaces ? { replaced: decision.replaces } : {}) };
  } finally {
    d.close();
  }
}

/** Every stored version, newest import first. */
export async function listBundles(): Promise<StoredBundle[]> {
  const d = await db();
  try {
    return (await d.getAll('bundles')).sort((a, b) => b.importedAt - a.importedAt);
  } finally {
    d.close();
  }
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
  const d = await db();
  let b: StoredBundle | undefined;
  try {
    b = await d.get('bundles', key);
  } finally {
    d.close();
  }
  if (!b) throw new BundleError('missing-file', `there is no stored bundle ${key}`);
  return prepareWheels
    ? openBundle(b.sealed, identity, { expert: b.signer, prepareWheels })
    : openBundle(b.sealed, identity, { expert: b.signer });
}
