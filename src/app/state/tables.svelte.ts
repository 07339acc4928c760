/**
 * The owner's tables: the list, a file being checked before it loads (its columns, their types and
 * a profile of its first rows), the load itself with progress and cancel, and renames and deletes —
 * each a call of lib/rooms or lib/data.
 */
import { IngestError, ingest, inferColumns, listTables, previewTable, type TableMeta } from '../../lib/data/index.ts';
import { profileColumn, type ColumnProfile } from '../../lib/preview/index.ts';
import { addTable, deleteOwnerTable, renameOwnerTable } from '../../lib/rooms/index.ts';
import type { ColumnType } from '../../lib/sandbox/index.ts';
import type { Context } from './context.ts';
import { lanes } from '../lanes.ts';

export const COLUMN_TYPES: ColumnType[] = ['int', 'float', 'bool', 'datetime', 'string'];

export interface DraftColumn {
  name: string;
  type: ColumnType;
  inferred: ColumnType;
  profile?: ColumnProfile;
}

/** A picked file, checked but not loaded yet. */
export interface Draft {
  file: File;
  name: string;
  columns: DraftColumn[];
  warnings: string[];
  /** Rows the profile was made from (the file's first rows). */
  sampleRows: number;
  /** Pad rows with fewer fields than the header with missing values, instead of refusing the file. */
  pad: boolean;
}

/** Bytes of a text file read for the profile: its first rows, cut at a line end. */
const PROFILE_BYTES = 1024 * 1024;

/** What kind of file a dropped file is, by its name: where it belongs in the app. */
export function fileKind(name: string): 'table' | 'bundle' | 'backup' | 'invitation' | 'notebook' | 'wheel' | 'other' {
  const n = name.toLowerCase();
  if (/\.(csv|tsv|tab|txt|jsonl|ndjson|parquet)$/.test(n)) return 'table';
  if (n.endsWith('.airlock')) return 'bundle';
  if (n.endsWith('.age') || n.endsWith('.key')) return 'backup';
  if (n.endsWith('.ipynb')) return 'notebook';
  if (n.endsWith('.whl')) return 'wheel';
  if (n.endsWith('.json')) return 'invitation';
  return 'other';
}

export class TablesState {
  #tables = $state.raw<TableMeta[]>([]);
  #draft = $state.raw<Draft | null>(null);
  #loading = $state.raw<{ name: string; done: number; total: number } | null>(null);
  #preview = $state.raw<{ name: string; columns: string[]; rows: string[][] } | null>(null);
  #abort: AbortController | null = null;
  readonly #ctx: Context;
  /**
   * How the owner is looking at the draft's columns: the search, the columns ticked for a bulk
   * change, the list opened. Kept here, not in the component, so a tab switch keeps them; a new
   * file starts afresh.
   */
  editor = $state({ filter: '', chosen: [] as string[], open: false });

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  get list(): TableMeta[] {
    return this.#tables;
  }
  get draft(): Draft | null {
    return this.#draft;
  }
  get loading(): { name: string; done: number; total: number } | null {
    return this.#loading;
  }
  get preview(): { name: string; columns: string[]; rows: string[][] } | null {
    return this.#preview;
  }
  /** The table the URL selects on the Tables tab. */
  get selected(): TableMeta | null {
    const nav = this.#ctx.nav;
    return nav.tab === 'tables' && nav.item ? (this.#tables.find((t) => t.name === nav.item) ?? null) : null;
  }

  async load(): Promise<void> {
    this.#tables = await listTables();
    const sel = this.selected;
    if (sel && this.#preview?.name !== sel.name) await this.showPreview(sel.name);
  }

  /**
   * Reads the start of a file: the column types the load will infer (the same rows, the same code),
   * and a profile of its first rows. A file that is not a table is refused with where it belongs.
   */
  async pick(file: File): Promise<void> {
    const kind = fileKind(file.name);
    if (kind === 'bundle')
      return this.#ctx.notices.say(`${file.name} is a bundle: import it in the Bundles tab.`, 'error');
    if (kind === 'backup')
      return this.#ctx.notices.say(`${file.name} looks like a room backup: restore it in the Room tab.`, 'error');
    if (kind === 'notebook' || kind === 'wheel')
      return this.#ctx.notices.say(
        `${file.name} is the expert's code: they seal it into a bundle (Expert tab).`,
        'error',
      );
    try {
      const source = {
        name: file.name,
        size: file.size,
        stream: () => file.stream(),
        slice: (s: number, e?: number) => file.slice(s, e),
      };
      const sample = await inferColumns(source);
      const columns: DraftColumn[] = sample.columns.map((c) => ({ name: c.name, type: c.type, inferred: c.type }));
      let sampleRows = 0;
      try {
        const profiled = await this.#profile(
          file,
          sample.columns.map((c) => c.name),
        );
        sampleRows = profiled.rows;
        for (const c of columns) {
          const p = profiled.profiles.get(c.name);
          if (p) c.profile = p;
        }
      } catch {
        // The profile is a help, not a gate: a file whose first rows do not parse alone loads without it.
      }
      this.#draft = { file, name: sample.name, columns, warnings: sample.warnings, sampleRows, pad: false };
      this.editor = { filter: '', chosen: [], open: columns.length <= 12 };
    } catch (e) {
      this.#draft = null;
      this.#ctx.notices.fail(e, e instanceof IngestError ? `${file.name}: ` : '');
    }
  }

  async #profile(file: File, names: string[]): Promise<{ rows: number; profiles: Map<string, ColumnProfile> }> {
    let blob: Blob = file;
    const parquet = file.name.toLowerCase().endsWith('.parquet');
    if (!parquet && file.size > PROFILE_BYTES) {
      const head = new Uint8Array(await file.slice(0, PROFILE_BYTES).arrayBuffer());
      const end = head.lastIndexOf(0x0a);
      blob = file.slice(0, end > 0 ? end + 1 : PROFILE_BYTES);
    } else if (parquet && file.size > 64 * PROFILE_BYTES) {
      return { rows: 0, profiles: new Map() };
    }
    const t = await ingest(
      { name: file.name, size: blob.size, stream: () => blob.stream(), slice: (s, e) => blob.slice(s, e) },
      { fingerprint: false, ragged: 'pad', fixHeader: true },
    );
    const profiles = new Map<string, ColumnProfile>();
    for (const c of t.columns) if (names.includes(c.name)) profiles.set(c.name, profileColumn(c, t.rowCount));
    return { rows: t.rowCount, profiles };
  }

  setDraftName(name: string): void {
    if (this.#draft) this.#draft = { ...this.#draft, name };
  }

  setPad(pad: boolean): void {
    if (this.#draft) this.#draft = { ...this.#draft, pad };
  }

  /** Sets the type of these columns (one, or many at once). */
  setTypes(names: string[], type: ColumnType | 'inferred'): void {
    const d = this.#draft;
    if (!d) return;
    const set = new Set(names);
    this.#draft = {
      ...d,
      columns: d.columns.map((c) => (set.has(c.name) ? { ...c, type: type === 'inferred' ? c.inferred : type } : c)),
    };
  }

  discard(): void {
    this.#draft = null;
  }

  /** Loads the checked file; it is granted to the current room (other rooms see it once granted there). */
  async commit(room: string | null): Promise<void> {
    const d = this.#draft;
    if (!d) return;
    const replace = this.#tables.some((t) => t.name === d.name);
    const columns: Record<string, { type: ColumnType }> = {};
    for (const c of d.columns) if (c.type !== c.inferred) columns[c.name] = { type: c.type };
    const abort = (this.#abort = new AbortController());
    this.#loading = { name: d.name, done: 0, total: d.file.size };
    try {
      const { meta, report } = await addTable(d.file, {
        name: d.name,
        columns,
        replace,
        ...(d.pad ? { ragged: 'pad' as const } : {}),
        signal: abort.signal,
        onProgress: (done, total) => (this.#loading = { name: d.name, done, total: total ?? d.file.size }),
        ...(room ? { grantTo: room } : {}),
        lanes,
      });
      this.#draft = null;
      this.#ctx.notices.say(
        `Loaded ${meta.name}: ${meta.rowCount.toLocaleString()} rows, ${meta.columns.length} columns.${report.warnings.length ? ' ' + report.warnings.join('; ') + '.' : ''}`,
      );
      await this.#ctx.refresh();
    } catch (e) {
      // The draft stays: the owner can change an option (pad short rows) and load again.
      this.#ctx.notices.fail(e);
    } finally {
      this.#loading = null;
      this.#abort = null;
    }
  }

  cancelLoad(): void {
    this.#abort?.abort();
  }

  async showPreview(name: string): Promise<void> {
    try {
      this.#preview = { name, ...(await previewTable(name, 10)) };
    } catch (e) {
      this.#ctx.notices.fail(e);
    }
  }

  select(name: string | null): void {
    this.#ctx.nav.go('tables', name);
    if (name) void this.showPreview(name);
  }

  async rename(from: string, to: string): Promise<boolean> {
    try {
      await renameOwnerTable(from, to);
      if (this.selected?.name === from) this.#ctx.nav.go('tables', to);
      await this.#ctx.refresh();
      this.#ctx.notices.say(`Renamed ${from} to ${to}; every room's grant follows.`);
      return true;
    } catch (e) {
      this.#ctx.notices.fail(e);
      return false;
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await deleteOwnerTable(name);
      if (this.#preview?.name === name) this.#preview = null;
      if (this.selected?.name === name) this.#ctx.nav.go('tables');
      await this.#ctx.refresh();
      this.#ctx.notices.say(`Deleted ${name}.`);
    } catch (e) {
      this.#ctx.notices.fail(e);
    }
  }
}
