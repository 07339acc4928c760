/**
 * Past runs in IndexedDB: which bundle version ran on which tables, when, how it ended, its logs
 * (the owner's, never exported by default) and its outputs. Kept across reloads.
 */
import { openDB, type DBSchema } from 'idb';
import type { LogLine, RunStatus } from '../sandbox/index.ts';

export interface StoredRun {
  id: string;
  bundle: { key: string; name: string; version: string; signer: string };
  /** Bundle table name → local table name. */
  tables: Record<string, string>;
  started: string;
  ended: string;
  status: RunStatus;
  message: string;
  logs: LogLine[];
  outputs: Array<{ path: string; bytes: Uint8Array }>;
  gate?: { pass: boolean; problems: string[] };
  tripwires: string[];
}

interface RunsDB extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { started: string } };
}

function db() {
  return openDB<RunsDB>('airlock-runs', 1, {
    upgrade(d, old) {
      if (old < 1) d.createObjectStore('runs', { keyPath: 'id' }).createIndex('started', 'started');
    },
  });
}

export async function saveRun(run: Omit<StoredRun, 'id'>): Promise<StoredRun> {
  const stored = { ...run, id: crypto.randomUUID() };
  const d = await db();
  try {
    await d.put('runs', stored);
  } finally {
    d.close();
  }
  return stored;
}

/** Every run, newest first. */
export async function listRuns(): Promise<StoredRun[]> {
  const d = await db();
  try {
    return (await d.getAllFromIndex('runs', 'started')).reverse();
  } finally {
    d.close();
  }
}
