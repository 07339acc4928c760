/**
 * Past runs in IndexedDB: which bundle version ran on which tables, when, how it ended, its logs
 * (the owner's, never exported by default) and its outputs. Kept across reloads.
 *
 * A run is stored in two parts so that listing stays cheap however long the history grows: a
 * summary (`runs`, what the list shows) and its details (`details`: logs and output bytes, read by
 * id only when the owner opens one run).
 */
import type { DBSchema } from 'idb';
import { database, MIGRATED_ROOM } from '../storage/index.ts';
import type { LogLine, RunStatus } from '../sandbox/index.ts';

/** What the list of runs shows: no logs, no output bytes. */
export interface RunSummary {
  id: string;
  /** The room it ran in. */
  room: string;
  bundle: { key: string; name: string; version: string; signer: string };
  /** Bundle table name → local table name. */
  tables: Record<string, string>;
  started: string;
  ended: string;
  status: RunStatus;
  message: string;
  /** Each output's name and size (the bytes are in the run's details). */
  outputs: Array<{ path: string; size: number }>;
  gate?: { pass: boolean; problems: string[] };
  tripwires: string[];
}

export interface RunDetails {
  id: string;
  logs: LogLine[];
  outputs: Array<{ path: string; bytes: Uint8Array }>;
}

/** A whole run: its summary and its details. */
export type StoredRun = Omit<RunSummary, 'outputs'> & Omit<RunDetails, 'id'>;

interface RunsDB extends DBSchema {
  runs: { key: string; value: RunSummary; indexes: { started: string; room: string } };
  details: { key: string; value: RunDetails };
}

export const RUNS_DB = 'airlock-runs';

const db = database<RunsDB>(RUNS_DB, 3, async (d, old, _new, tx) => {
  if (old < 1) d.createObjectStore('runs', { keyPath: 'id' }).createIndex('started', 'started');
  if (old < 2) {
    // Version 1 kept logs and output bytes in each run: move them into `details`.
    const details = d.createObjectStore('details', { keyPath: 'id' });
    if (old >= 1) {
      for (let c = await tx.objectStore('runs').openCursor(); c; c = await c.continue()) {
        const run = c.value as unknown as StoredRun;
        await details.put({ id: run.id, logs: run.logs ?? [], outputs: run.outputs ?? [] });
        await c.update(summarize(run));
      }
    }
  }
  if (old < 3) {
    // Rooms: every run of a one-room browser ran in the room it becomes.
    const runs = tx.objectStore('runs');
    runs.createIndex('room', 'room');
    if (old >= 1) {
      for (let c = await runs.openCursor(); c; c = await c.continue()) {
        if (!c.value.room) await c.update({ ...c.value, room: MIGRATED_ROOM });
      }
    }
  }
});

function summarize(run: StoredRun): RunSummary {
  const { logs: _logs, outputs, ...rest } = run;
  return { ...rest, outputs: (outputs ?? []).map((o) => ({ path: o.path, size: o.bytes.byteLength })) };
}

export async function saveRun(run: Omit<StoredRun, 'id'>): Promise<RunSummary> {
  const stored: StoredRun = { ...run, id: crypto.randomUUID() };
  const summary = summarize(stored);
  await db.run(async (d) => {
    const tx = d.transaction(['runs', 'details'], 'readwrite');
    await Promise.all([
      tx.objectStore('runs').put(summary),
      tx.objectStore('details').put({ id: stored.id, logs: stored.logs, outputs: stored.outputs }),
      tx.done,
    ]);
  });
  return summary;
}

/** Every run's summary (of one room, or all), newest first. */
export async function listRuns(room?: string): Promise<RunSummary[]> {
  const all = await db.run((d) => d.getAllFromIndex('runs', 'started'));
  return (room === undefined ? all : all.filter((r) => r.room === room)).reverse();
}

/** Deletes every run of a room, with its logs and outputs (when the room is deleted). */
export async function deleteRoomRuns(room: string): Promise<number> {
  return db.run(async (d) => {
    const tx = d.transaction(['runs', 'details'], 'readwrite');
    const keys = await tx.objectStore('runs').index('room').getAllKeys(room);
    await Promise.all([
      ...keys.flatMap((k) => [tx.objectStore('runs').delete(k), tx.objectStore('details').delete(k)]),
      tx.done,
    ]);
    return keys.length;
  });
}

/** One run's logs and outputs. */
export async function runDetails(id: string): Promise<RunDetails | undefined> {
  return db.run((d) => d.get('details', id));
}
