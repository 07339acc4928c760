/**
 * The room invitation: what the owner gives the expert. Metadata only — names, types, row counts,
 * missing rates — unless the owner opts a column in to value statistics, which are then
 * k-anonymised (docs/INVITATION.md). Values never appear otherwise.
 */
import type { ColumnType } from '../sandbox/index.ts';
import type { BuiltColumn } from './columns/builder.ts';

export const INVITATION_FORMAT = 'airlock-invitation';
export const INVITATION_VERSION = 1;
export const DEFAULT_K = 10;

export interface ColumnStats {
  /** Numbers and dates: the k-th smallest and k-th largest value (never a value fewer than k rows reach). */
  range?: { low: number; high: number };
  /** Text: categories held by at least k rows, with counts; the rest is counted as `other`. */
  categories?: Array<{ value: string; count: number }>;
  other?: number;
  /** Numbers: counts in 10 equal-width bins between `range.low` and `range.high`, bins under k shown as 0. */
  histogram?: number[];
}

export interface InvitationColumn {
  name: string;
  type: ColumnType;
  /** Share of missing values, rounded to 3 decimals. */
  missing: number;
  stats?: ColumnStats;
}

export interface InvitationTable {
  name: string;
  rows: number;
  columns: InvitationColumn[];
}

export interface Invitation {
  format: typeof INVITATION_FORMAT;
  version: number;
  room: string;
  /** The owner's age recipient: seal bundles to it. */
  recipient: string;
  /** The expert's pinned key, if the owner set one. */
  expert?: string;
  policy: { timeLimitSeconds: number; maxOutputBytes: number };
  /** The k-anonymity threshold applied to any statistics below. */
  k: number;
  tables: InvitationTable[];
  created: string;
}

export interface InvitationInput {
  room: string;
  recipient: string;
  expert?: string;
  policy?: Partial<Invitation['policy']>;
  k?: number;
  tables: Array<{ name: string; rowCount: number; columns: BuiltColumn[] }>;
  /** Columns the owner opted in to statistics, per table: `{ encounters: ['age', 'race'] }`. */
  stats?: Record<string, string[]>;
  created?: Date;
}

function missingRate(c: BuiltColumn, rows: number): number {
  if (!rows) return 0;
  let missing = 0;
  if (c.valid) for (let i = 0; i < rows; i++) missing += c.valid[i] ? 0 : 1;
  else if (c.type === 'string') for (let i = 0; i < rows; i++) missing += c.values[i]! < 0 ? 1 : 0;
  return Math.round((missing / rows) * 1000) / 1000;
}

function stats(c: BuiltColumn, rows: number, k: number): ColumnStats {
  const present = (i: number) => (c.valid ? !!c.valid[i] : c.type !== 'string' || c.values[i]! >= 0);
  if (c.type === 'string' || c.type === 'bool') {
    const counts = new Map<string, number>();
    for (let i = 0; i < rows; i++) {
      if (!present(i)) continue;
      const v = c.type === 'bool' ? (c.values[i] ? 'true' : 'false') : c.dictionary![c.values[i]!]!;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const categories = [...counts].filter(([, n]) => n >= k).sort((a, b) => b[1] - a[1]).map(([value, count]) => ({ value, count }));
    const other = [...counts].filter(([, n]) => n < k).reduce((a, [, n]) => a + n, 0);
    return { categories, other };
  }
  const vals: number[] = [];
  for (let i = 0; i < rows; i++) if (present(i)) vals.push(c.values[i]!);
  if (vals.length < 2 * k) return {};
  vals.sort((a, b) => a - b);
  const low = vals[k - 1]!;
  const high = vals[vals.length - k]!;
  const bins = new Array<number>(10).fill(0);
  if (high > low) for (const v of vals) if (v >= low && v <= high) bins[Math.min(9, Math.floor(((v - low) / (high - low)) * 10))]!++;
  return { range: { low, high }, histogram: bins.map((n) => (n < k ? 0 : n)) };
}

/** Builds the invitation. Without `stats`, it holds no value of any cell. */
export function buildInvitation(input: InvitationInput): Invitation {
  const k = input.k ?? DEFAULT_K;
  if (!Number.isInteger(k) || k < 2) throw new Error('k must be a whole number of at least 2');
  return {
    format: INVITATION_FORMAT,
    version: INVITATION_VERSION,
    room: input.room,
    recipient: input.recipient,
    ...(input.expert ? { expert: input.expert } : {}),
    policy: { timeLimitSeconds: input.policy?.timeLimitSeconds ?? 600, maxOutputBytes: input.policy?.maxOutputBytes ?? 50 * 1024 * 1024 },
    k,
    tables: input.tables.map((t) => ({
      name: t.name,
      rows: t.rowCount,
      columns: t.columns.map((c) => {
        const out: InvitationColumn = { name: c.name, type: c.type, missing: missingRate(c, t.rowCount) };
        if (input.stats?.[t.name]?.includes(c.name)) out.stats = stats(c, t.rowCount, k);
        return out;
      }),
    })),
    created: (input.created ?? new Date()).toISOString(),
  };
}

/**
 * Reads an invitation file.
 * @throws Error naming what is wrong.
 */
export function parseInvitation(text: string): Invitation {
  let v: Partial<Invitation>;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('the invitation is not JSON');
  }
  if (v.format !== INVITATION_FORMAT) throw new Error(`not an Airlock invitation (format is not "${INVITATION_FORMAT}")`);
  if (typeof v.version !== 'number' || v.version > INVITATION_VERSION) throw new Error(`the invitation has version ${v.version}; this Airlock reads version ${INVITATION_VERSION}`);
  if (typeof v.recipient !== 'string' || !v.recipient.startsWith('age1')) throw new Error('the invitation has no recipient');
  if (!Array.isArray(v.tables)) throw new Error('the invitation lists no tables');
  for (const t of v.tables) {
    if (typeof t.name !== 'string' || !Number.isInteger(t.rows) || !Array.isArray(t.columns)) throw new Error('an invitation table is malformed');
    for (const c of t.columns) if (typeof c.name !== 'string' || !['int', 'float', 'bool', 'datetime', 'string'].includes(c.type)) throw new Error(`column ${String(c.name)} of ${t.name} has an unknown type`);
  }
  return v as Invitation;
}
