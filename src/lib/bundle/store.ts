/**
 * The owner's bundles in IndexedDB (storage only; which experts a room trusts is lib/rooms'): every
 * version kept, as received, so it can be re-verified any time, and which one is active per name in
 * each room. Each version is a summary (`bundles`: what the list shows) and its sealed bytes
 * (`sealed`, read by key only when the bundle is opened), so listing stays cheap however many
 * versions arrive.
 */
import type { DBSchema } from 'idb';
import { database, MIGRATED_ROOM } from '../storage/index.ts';
import { BundleError } from './errors.ts';
import type { Manifest } from './manifest.ts';
import { openBundle, type LaneOptions, type OpenedBundle, type PreparedBundle } from './seal.ts';
import { decideImport } from './versions.ts';

export interface StoredBundle {
  /** `${room}/${name}@${version}` */
  key: string;
  /** The room it was sealed to and imported into. */
  room: string;
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
  bundles: { key: string; value: StoredBundle; indexes: { name: string; room: string } };
  sealed: { key: string; value: Uint8Array };
  settings: { key: string; value: { key: string; value: string } };
}

export const BUNDLES_DB = 'airlock-bundles';

/** The pinned expert of version 1 (one room), read once when that room moves into lib/rooms. */
const LEGACY_PINNED = 'pinned-expert';

const db = database<BundleDB>(BUNDLES_DB, 3, async (d, old, _new, tx) => {
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
  if (old < 3) {
    // Rooms: every bundle of a one-room browser belongs to the room it becomes; keys gain the room.
    const bundles = tx.objectStore('bundles');
    bundles.createIndex('room', 'room');
    if (old >= 1) {
      const sealed = tx.objectStore('sealed');
      for (const b of await bundles.getAll()) {
        if (b.room) continue;
        const key = `${MIGRATED_ROOM}/${b.key}`;
        const bytes = await sealed.get(b.key);
        await bundles.delete(b.key);
        await bundles.put({ ...b, key, room: MIGRATED_ROOM });
        if (bytes) {
          await sealed.delete(b.key);
          await sealed.put(bytes, key);
        }
      }
    }
  }
});

/** The expert version 1 pinned for its one room, if any (see lib/rooms' migration). */
export async function legacyPinnedExpert(): Promise<string | undefined> {
  return db.run(async (d) => (await d.get('settings', LEGACY_PINNED))?.value);
}

export async function forgetLegacyPinnedExpert(): Promise<void> {
  await db.run((d) => d.delete('settings', LEGACY_PINNED));
}

export interface StoreResult {
  bundle: StoredBundle;
  /** The version it replaced as the active one. */
  replaced?: string;
}

/**
 * Stores an opened bundle as its room's active version of its name. A version not newer than the
 * active one is refused unless `force`; nothing changes then.
 * @throws {BundleError} `bad-input` for a version that is not newer
 */
export async function storeBundle(
  room: string,
  opened: OpenedBundle,
  sealed: Uint8Array,
  options: { force?: boolean } = {},
): Promise<StoreResult> {
  return db.run(async (d) => {
    // The versions known, the decision and the writes in one transaction: two tabs importing at
    // once cannot both make their version the active one.
    const tx = d.transaction(['bundles', 'sealed'], 'readwrite');
    const bundles = tx.objectStore('bundles');
    const existing = (await bundles.index('room').getAll(room)).filter((b) => b.name === opened.manifest.name);
    const decision = decideImport(
      existing,
      { name: opened.manifest.name, version: opened.manifest.version, signer: opened.signer },
      { force: options.force },
    );
    if (!decision.accept) {
      tx.abort();
      await tx.done.catch(() => {});
      throw new BundleError('bad-input', decision.message, opened.signer);
    }
    const bundle: StoredBundle = {
      key: `${room}/${opened.manifest.name}@${opened.manifest.version}`,
      room,
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
    await tx.done;
    return { bundle, ...(decision.replaces ? { replaced: decision.replaces } : {}) };
  });
}

/** Every stored version's summary (of one room, or all), newest import first. */
export async function listBundles(room?: string): Promise<StoredBundle[]> {
  const all = await db.run((d) =>
    room === undefined ? d.getAll('bundles') : d.getAllFromIndex('bundles', 'room', room),
  );
  return all.sort((a, b) => b.importedAt - a.importedAt);
}

export async function getBundle(key: string): Promise<StoredBundle | undefined> {
  return db.run((d) => d.get('bundles', key));
}

/**
 * Deletes one version. If it was the active one, the newest remaining version of that name becomes
 * active (the owner is told which, by the returned value).
 * @returns the version that became active, if any
 */
export async function deleteBundleVersion(key: string): Promise<StoredBundle | undefined> {
  return db.run(async (d) => {
    const tx = d.transaction(['bundles', 'sealed'], 'readwrite');
    const bundles = tx.objectStore('bundles');
    const b = await bundles.get(key);
    if (!b) {
      await tx.done;
      throw new BundleError('missing-file', `there is no stored bundle ${key}`);
    }
    await Promise.all([bundles.delete(key), tx.objectStore('sealed').delete(key)]);
    let promoted: StoredBundle | undefined;
    if (b.active) {
      const rest = (await bundles.index('room').getAll(b.room)).filter((x) => x.name === b.name);
      promoted = rest.sort((x, y) => y.importedAt - x.importedAt)[0];
      if (promoted) await bundles.put((promoted = { ...promoted, active: true }));
    }
    await tx.done;
    return promoted;
  });
}

/** Deletes every version of every bundle of a room (when the room is deleted). */
export async function deleteRoomBundles(room: string): Promise<number> {
  return db.run(async (d) => {
    const tx = d.transaction(['bundles', 'sealed'], 'readwrite');
    const keys = await tx.objectStore('bundles').index('room').getAllKeys(room);
    await Promise.all([
      ...keys.flatMap((k) => [tx.objectStore('bundles').delete(k), tx.objectStore('sealed').delete(k)]),
      tx.done,
    ]);
    return keys.length;
  });
}

/** Re-opens a stored bundle (signature and hashes are checked again), on `lanes` if given. */
export async function openStoredBundle(
  key: string,
  identity: string | CryptoKey,
  options?: LaneOptions,
): Promise<OpenedBundle>;
export async function openStoredBundle<P>(
  key: string,
  identity: string | CryptoKey,
  options: LaneOptions & { prepareWheels: (wheels: OpenedBundle['wheels']) => Promise<P> },
): Promise<PreparedBundle<P>>;
export async function openStoredBundle<P>(
  key: string,
  identity: string | CryptoKey,
  options: LaneOptions & { prepareWheels?: (wheels: OpenedBundle['wheels']) => Promise<P> } = {},
): Promise<OpenedBundle | PreparedBundle<P>> {
  const [b, sealed] = await db.run((d) => Promise.all([d.get('bundles', key), d.get('sealed', key)]));
  if (!b || !sealed) throw new BundleError('missing-file', `there is no stored bundle ${key}`);
  const { prepareWheels, lanes } = options;
  return prepareWheels
    ? openBundle(sealed, identity, { expert: b.signer, prepareWheels, lanes })
    : openBundle(sealed, identity, { expert: b.signer, lanes });
}
