/**
 * The owner's tables in IndexedDB, as column chunks (typed arrays; strings as dictionary codes:
 * kind `uint8` for a column of up to 256 words, missing ones 0 with a `valid` mask; `int32` with -1
 * for missing otherwise, and in tables stored before one-byte codes existed — both read back the same).
 *
 * Writes never show half a table, even with two tabs open or the tab closed mid-way: a table's
 * chunks are written under a fresh id, and one final transaction puts its catalog entry (replacing
 * an older table of the same name when asked). Chunks of a table that never got its entry are
 * collected later. A full disk (QuotaExceededError) removes what this save wrote and leaves
 * everything stored before as it was.
 *
 * Storage only: reading a picked file and storing it is load.ts.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction } from 'idb';
import { database } from '../storage/index.ts';
import type { ColumnType, SandboxTable } from '../sandbox/index.ts';
import type { BuiltColumn } from './columns/builder.ts';
import { IngestError } from './errors.ts';

/** Rows per stored chunk: large enough to write fast, small enough to read a preview cheaply. */
const CHUNK_ROWS = 262_144;
/** Unfinished saves older than this are another tab's crash, not its work in progress. */
const STALE_MS = 60 * 60 * 1000;

type Kind = 'int32' | 'float64' | 'uint8';

export interface StoredColumn {
  name: string;
  type: ColumnType;
  kind: Kind;
  hasValid: boolean;
}

export interface TableMeta {
  id: string;
  name: string;
  rowCount: number;
  columns: StoredColumn[];
  chunks: number;
  fingerprint: string;
  source: { file: string; bytes: number; format: string };
  warnings: string[];
  createdAt: number;
}

interface DataDB extends DBSchema {
  tables: { key: string; value: TableMeta; indexes: { name: string } };
  chunks: { key: [string, number, number]; value: { values: ArrayBuffer; valid?: ArrayBuffer } };
  dicts: { key: [string, number]; value: string[] };
  pending: { key: string; value: { id: string; startedAt: number } };
}

export const DB_NAME = 'airlock-data';
export const SCHEMA_VERSION = 1;

// One shared connection (lib/storage): closed when another tab upgrades or deletes the database,
// reopened on next use.
const db = database<DataDB>(DB_NAME, SCHEMA_VERSION, (d, old) => {
  // Numbered upgrade steps: each `if (old < N)` block brings version N-1 to N. Add new steps below;
  // never edit a released one.
  if (old < 1) {
    d.createObjectStore('tables', { keyPath: 'id' }).createIndex('name', 'name', { unique: true });
    d.createObjectStore('chunks');
    d.createObjectStore('dicts');
    d.createObjectStore('pending', { keyPath: 'id' });
  }
});

function withDb<T>(f: (d: IDBPDatabase<DataDB>) => Promise<T>): Promise<T> {
  return db.run(f);
}

function isQuota(e: unknown): boolean {
  return !!e && typeof e === 'object' && ((e as DOMException).name === 'QuotaExceededError' || /quota/i.test(String((e as Error).message)));
}

function kindOf(a: ArrayBufferView): Kind {
  return a instanceof Float64Array ? 'float64' : a instanceof Int32Array ? 'int32' : 'uint8';
}

function chunkOf(a: Int32Array | Float64Array | Uint8Array, k: number): ArrayBuffer {
  const part = a.subarray(k * CHUNK_ROWS, (k + 1) * CHUNK_ROWS);
  // A column that is one whole buffer goes as it is: put() copies what it is given at once.
  if (part.byteOffset === 0 && part.byteLength === part.buffer.byteLength) return part.buffer as ArrayBuffer;
  return part.slice().buffer as ArrayBuffer;
}

export interface SaveInput {
  name: string;
  rowCount: number;
  columns: BuiltColumn[];
  /**
   * Or its promise, or a function that computes it: only the catalog entry needs it, so its digests
   * can run while the chunks are written (a function is called once the first chunks are on their way).
   */
  fingerprint: string | Promise<string> | (() => Promise<string>);
  source: TableMeta['source'];
  warnings?: string[];
}

/** Bytes of column chunks per write transaction. */
const TX_BYTES = 64 * 1024 * 1024;

/**
 * The database opened for a save to come: a caller that first reads the file (load.ts) opens it
 * while the file is read, not after. `save` stores a loaded table; with `replace`, an existing table
 * of that name is swapped out in the same transaction that makes the new one visible. If a newer
 * version of the app, opened in another tab meanwhile, closed the connection, it saves on a fresh
 * one (lib/storage's `run`). `close` is kept for callers; the connection itself is shared.
 * `save` throws {IngestError} `quota` when the disk is full, `bad-options` when the name is taken,
 * `cancelled` when `signal` was aborted before the catalog flip.
 */
export function openForSave(): { save(t: SaveInput, options?: SaveOptions): Promise<TableMeta>; close(): void } {
  db.open().catch(() => {}); // opened now, awaited by save
  return {
    // (What a first try closed under us wrote, if anything, is an unfinished save that collectGarbage removes.)
    save: (t, options = {}) => db.run((d) => save(d, t, options)),
    close() {},
  };
}

export interface SaveOptions {
  replace?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Checked before the catalog flip: a cancel until then stores nothing. */
  signal?: AbortSignal;
}

async function save(d: IDBPDatabase<DataDB>, t: SaveInput, options: SaveOptions): Promise<TableMeta> {
  const id = crypto.randomUUID();
  const chunks = Math.max(1, Math.ceil(t.rowCount / CHUNK_ROWS));
  const meta: TableMeta = {
    id,
    name: t.name,
    rowCount: t.rowCount,
    columns: t.columns.map((c) => ({ name: c.name, type: c.type, kind: kindOf(c.values), hasValid: !!c.valid })),
    chunks,
    fingerprint: '',
    source: t.source,
    warnings: t.warnings ?? [],
    createdAt: Date.now(),
  };
  if (!options.replace && (await d.getFromIndex('tables', 'name', t.name))) {
    throw new IngestError('bad-options', `a table named "${t.name}" exists; choose another name or replace it`);
  }
  try {
    // Column chunks, written whole (never row by row), in transactions of up to 64 MB: one for most
    // tables (each commit is a round trip to the browser; three of 4 MB cost the real data ~10 ms
    // more than one). Relaxed durability: these rows are invisible until the catalog flip below,
    // whose transaction keeps the default. The first one also marks the save as pending, so chunks
    // never exist unmarked.
    const writing = () => d.transaction(['chunks', 'dicts', 'pending'], 'readwrite', { durability: 'relaxed' });
    let wtx = writing();
    // Each request's own promise is awaited with the transaction: a request that fails (quota,
    // in some browsers) is then the error reported, not the transaction's abort that follows.
    let requests: Promise<unknown>[] = [wtx.objectStore('pending').put({ id, startedAt: Date.now() })];
    let held = 0;
    let fingerprint = typeof t.fingerprint === 'function' ? undefined : t.fingerprint;
    for (let c = 0; c < t.columns.length; c++) {
      const col = t.columns[c]!;
      for (let k = 0; k < chunks; k++) {
        requests.push(wtx.objectStore('chunks').put({ values: chunkOf(col.values, k), ...(col.valid ? { valid: chunkOf(col.valid, k) } : {}) }, [id, c, k]));
      }
      if (col.dictionary) requests.push(wtx.objectStore('dicts').put(col.dictionary, [id, c]));
      held += col.values.byteLength + (col.valid?.byteLength ?? 0);
      if (held >= TX_BYTES || c === t.columns.length - 1) {
        // The digests start once the browser has the first chunks to write, not before: until
        // they yield, nothing would reach IndexedDB.
        if (fingerprint === undefined) {
          fingerprint = (t.fingerprint as () => Promise<string>)();
          fingerprint.catch(() => {}); // awaited below
        }
        await Promise.all([...requests, wtx.done]);
        requests = [];
        options.onProgress?.(c + 1, t.columns.length);
        if (c < t.columns.length - 1) wtx = writing();
        held = 0;
      }
    }
    meta.fingerprint = await (fingerprint ?? (t.fingerprint as () => Promise<string>)());
    if (options.signal?.aborted) throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
    // The flip: the new table appears and a replaced one disappears, its chunks with it, at
    // once or not at all.
    const tx = d.transaction(['tables', 'pending', 'chunks', 'dicts'], 'readwrite');
    const old = await tx.objectStore('tables').index('name').get(t.name);
    if (old && !options.replace) throw new IngestError('bad-options', `a table named "${t.name}" was just saved in another tab; choose another name or replace it`);
    const flip: Promise<unknown>[] = [];
    if (old) flip.push(tx.objectStore('tables').delete(old.id), ...deleteData(tx, old.id, old.columns.length, old.chunks));
    flip.push(tx.objectStore('tables').put(meta), tx.objectStore('pending').delete(id));
    await Promise.all([...flip, tx.done]);
    return meta;
  } catch (e) {
    // This save's chunks and its pending mark go together: if this fails, the mark stays and
    // collectGarbage removes them later.
    await dropChunks(d, id, t.columns.length, chunks).catch(() => {});
    if (isQuota(e)) {
      throw new IngestError('quota', `the browser's storage is full: "${t.name}" could not be saved. Delete tables you no longer need or free disk space; nothing stored before was changed`);
    }
    throw e;
  }
}

/** The requests that delete a table's chunks and dictionaries, in a transaction over both stores. */
function deleteData(tx: IDBPTransaction<DataDB, ('chunks' | 'dicts' | 'tables' | 'pending')[], 'readwrite'>, id: string, columns: number, chunks: number): Promise<unknown>[] {
  return [tx.objectStore('chunks').delete(IDBKeyRange.bound([id, 0, 0], [id, columns, chunks])), tx.objectStore('dicts').delete(IDBKeyRange.bound([id, 0], [id, columns]))];
}

/** Deletes a save's chunks, dictionaries and pending mark in one transaction. */
async function dropChunks(d: IDBPDatabase<DataDB>, id: string, columns: number, chunks: number): Promise<void> {
  const tx = d.transaction(['chunks', 'dicts', 'pending'], 'readwrite');
  await Promise.all([...deleteData(tx, id, columns, chunks), tx.objectStore('pending').delete(id), tx.done]);
}

/** Every stored table's catalog entry, by name. */
export async function listTables(): Promise<TableMeta[]> {
  return withDb(async (d) => (await d.getAll('tables')).sort((a, b) => a.name.localeCompare(b.name)));
}

async function metaByName(d: IDBPDatabase<DataDB>, name: string): Promise<TableMeta> {
  const m = await d.getFromIndex('tables', 'name', name);
  if (!m) throw new IngestError('not-found', `there is no table named "${name}"`);
  return m;
}

/** Reads a whole table back, columns concatenated, in the sandbox's wire format. */
export async function loadTable(name: string, as = name): Promise<SandboxTable> {
  return withDb(async (d) => {
    // The catalog entry and its chunks in one transaction: another tab replacing the table cannot
    // slip in between.
    const tx = d.transaction(['tables', 'chunks', 'dicts'], 'readonly');
    const m = await tx.objectStore('tables').index('name').get(name);
    if (!m) throw new IngestError('not-found', `there is no table named "${name}"`);
    const columns = await Promise.all(
      m.columns.map(async (c, ci) => {
        const parts = await tx.objectStore('chunks').getAll(IDBKeyRange.bound([m.id, ci, 0], [m.id, ci, m.chunks]));
        const Ctor = c.kind === 'float64' ? Float64Array : c.kind === 'int32' ? Int32Array : Uint8Array;
        // Text is stored with one-byte codes when it has few words; the wire format is Int32Array
        // with -1 for missing (protocol.ts), so it is widened here.
        const values = c.type === 'string' ? new Int32Array(m.rowCount) : new Ctor(m.rowCount);
        const valid = c.hasValid ? new Uint8Array(m.rowCount) : undefined;
        let o = 0;
        for (const p of parts) {
          const v = new Ctor(p.values);
          values.set(v, o);
          if (valid && p.valid) valid.set(new Uint8Array(p.valid), o);
          o += v.length;
        }
        if (o !== m.rowCount) throw new IngestError('not-found', `the stored table "${name}" is incomplete (column ${c.name} has ${o} of ${m.rowCount} rows); load its file again`);
        if (c.type === 'string' && valid && c.kind !== 'int32') for (let i = 0; i < m.rowCount; i++) if (!valid[i]) values[i] = -1;
        const dictionary = c.type === 'string' ? await tx.objectStore('dicts').get([m.id, ci]) : undefined;
        return { name: c.name, type: c.type, values, ...(valid ? { valid } : {}), ...(dictionary ? { dictionary } : {}) };
      }),
    );
    await tx.done;
    return { name: as, rowCount: m.rowCount, columns };
  });
}

/** The first `n` rows as display text (owner-only; never sent anywhere). */
export async function previewTable(name: string, n = 20): Promise<{ columns: string[]; rows: string[][] }> {
  return withDb(async (d) => {
    const m = await metaByName(d, name);
    const rows = Math.min(n, m.rowCount, CHUNK_ROWS);
    const cols = await Promise.all(
      m.columns.map(async (c, ci) => {
        const p = await d.get('chunks', [m.id, ci, 0]);
        if (!p) return new Array<string>(rows).fill('');
        const Ctor = c.kind === 'float64' ? Float64Array : c.kind === 'int32' ? Int32Array : Uint8Array;
        const v = new Ctor(p.values);
        const valid = p.valid ? new Uint8Array(p.valid) : undefined;
        const dict = c.type === 'string' ? await d.get('dicts', [m.id, ci]) : undefined;
        return Array.from({ length: rows }, (_, i) => {
          if (valid && !valid[i]) return '';
          const x = v[i]!;
          if (c.type === 'string') return x < 0 ? '' : (dict?.[x] ?? '');
          if (c.type === 'bool') return x ? 'true' : 'false';
          if (c.type === 'datetime') return new Date(x).toISOString();
          return String(x);
        });
      }),
    );
    return { columns: m.columns.map((c) => c.name), rows: Array.from({ length: rows }, (_, i) => cols.map((c) => c[i]!)) };
  });
}

export async function renameTable(from: string, to: string): Promise<void> {
  if (!to.trim()) throw new IngestError('bad-options', 'a table needs a name');
  await withDb(async (d) => {
    const tx = d.transaction('tables', 'readwrite');
    const m = await tx.store.index('name').get(from);
    if (!m) throw new IngestError('not-found', `there is no table named "${from}"`);
    if (await tx.store.index('name').get(to)) throw new IngestError('bad-options', `a table named "${to}" exists`);
    await tx.store.put({ ...m, name: to });
    await tx.done;
  });
}

export async function deleteTable(name: string): Promise<void> {
  await withDb(async (d) => {
    const m = await metaByName(d, name);
    // The catalog entry and its chunks together: a failure leaves the table whole, never half.
    const tx = d.transaction(['tables', 'chunks', 'dicts'], 'readwrite');
    await Promise.all([tx.objectStore('tables').delete(m.id), ...deleteData(tx, m.id, m.columns.length, m.chunks), tx.done]);
  });
}

/** Removes chunks of saves that never finished (a tab closed mid-write). Safe to call any time; the app calls it at start. */
export async function collectGarbage(now = Date.now()): Promise<number> {
  return withDb(async (d) => {
    let n = 0;
    for (const p of await d.getAll('pending')) {
      if (now - p.startedAt < STALE_MS) continue;
      await dropChunks(d, p.id, 1e6, 1e9);
      n++;
    }
    return n;
  });
}
