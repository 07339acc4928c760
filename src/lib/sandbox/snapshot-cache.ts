/**
 * Warm start: a Pyodide memory snapshot, made once in a sandbox where only start-up runs, kept in
 * the app's IndexedDB, and handed to later sandboxes so they skip interpreter initialisation
 * (≈3 s → ≈1 s here). The image depends on the Pyodide build and on the worker code that boots it,
 * so both are in its key; a stale or unreadable entry is simply made again. This is a cache: losing
 * it costs time, never data.
 */
import type { DBSchema } from 'idb';
import { database } from '../storage/index.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import workerSource from './worker.ts?iife';
import { Sandbox } from './host.ts';
import type { PyodideAssets } from './protocol.ts';
import { loadPyodideAssets } from './assets.ts';

interface CacheDB extends DBSchema {
  snapshots: { key: string; value: { key: string; image: ArrayBuffer; createdAt: number } };
}

const DB_NAME = 'airlock-cache';
let key: string | undefined;
let memory: ArrayBuffer | undefined;
let making: Promise<ArrayBuffer | undefined> | undefined;

function snapshotKey(): string {
  key ??= `${__PYODIDE_VERSION__}:${bytesToHex(sha256(new TextEncoder().encode(workerSource))).slice(0, 32)}`;
  return key;
}

// The shared helper closes this connection when another tab needs the database (the old code here
// opened a second connection and closed that one, leaving the first in the other tab's way).
const db = database<CacheDB>(DB_NAME, 1, (d, oldVersion) => {
  if (oldVersion < 1) d.createObjectStore('snapshots', { keyPath: 'key' });
});

/** The snapshot if one is ready (in memory or stored); never makes one. */
export async function storedSnapshot(): Promise<ArrayBuffer | undefined> {
  if (memory) return memory;
  try {
    const entry = await db.run((d) => d.get('snapshots', snapshotKey()));
    if (entry) memory = entry.image;
  } catch {
    // No IndexedDB (private mode, quota): run without a snapshot.
  }
  return memory;
}

/**
 * Makes and stores a snapshot unless there is one. Call when the app is idle: it costs one full
 * Python start-up. Resolves to undefined when it cannot be made; the app then boots the slow way.
 */
export function ensureSnapshot(assets: PyodideAssets): Promise<ArrayBuffer | undefined> {
  making ??= (async () => {
    const have = await storedSnapshot();
    if (have) return have;
    try {
      const image = await Sandbox.makeSnapshot({ assets });
      memory = image;
      try {
        await db.run(async (d) => {
          const tx = d.transaction('snapshots', 'readwrite');
          await tx.store.clear(); // older keys are images of other builds
          await tx.store.put({ key: snapshotKey(), image, createdAt: Date.now() });
          await tx.done;
        });
      } catch {
        // Full disk or no IndexedDB: keep it for this page only.
      }
      return image;
    } catch {
      return undefined;
    } finally {
      making = undefined;
    }
  })();
  return making;
}

/** Forgets the snapshot (tests, and a manual "clear cache"). */
export async function clearSnapshot(): Promise<void> {
  memory = undefined;
  await db.run((d) => d.clear('snapshots'));
}

/** The runtime files every sandbox boots from, with the warm-start snapshot when one is stored. */
export async function runtimeAssets(): Promise<PyodideAssets> {
  const [assets, snapshot] = await Promise.all([loadPyodideAssets(), storedSnapshot()]);
  return snapshot ? { ...assets, snapshot } : assets;
}
